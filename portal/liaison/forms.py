from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from portal.core.forms import MultiCheckboxField, local_to_utc
from portal.groups.forms import group_choice
from portal.liaison.models import Asks


class NoteForm(FlaskForm):
    #: The services check the title, the body, the choices and the pupils, so that each
    #: message is the same whichever screen it comes from.
    title = StringField(_l("Title"))
    body = TextAreaField(_l("Text of the note"))
    asks = RadioField(
        _l("The families"),
        choices=[
            SelectChoice(Asks.CONFIRMATION.value, _l("confirm they have read it")),
            SelectChoice(Asks.ANSWER.value, _l("answer by choosing one of your answers")),
            SelectChoice(Asks.NOTHING.value, _l("just read it")),
        ],
        default=Asks.CONFIRMATION.value,
        validate_choice=True,
    )
    choices = TextAreaField(
        _l("Answers to choose from"),
        description=_l("One per line, e.g. “I allow” and “I do not allow”."),
    )
    answer_until = DateTimeLocalField(
        _l("Answers until"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l("Optional. The school's time."),
    )
    groups = MultiCheckboxField(_l("For the pupils of"), coerce=int)
    #: Offered a group at a time on the page; the services check each one.
    pupils = MultiCheckboxField(_l("Or for some pupils"), coerce=int, validate_choice=False)
    pupils_see = BooleanField(_l("The pupils read the note too"))
    files = MultipleFileField(
        _l("Attachments"), description=_l("Optional. PDF, pictures, office documents.")
    )

    def offer(self, groups) -> None:
        self.groups.choices = [SelectChoice(*group_choice(group)) for group in groups]

    def answer_until_utc(self):
        return local_to_utc(self.answer_until.data)

    def choice_lines(self) -> list[str]:
        return (self.choices.data or "").splitlines()


class ReplyForm(FlaskForm):
    comment = StringField(_l("Comment (optional)"))


class JustifyForm(FlaskForm):
    #: Checked by the services: the reason among those families choose, the days, the file.
    reason = RadioField(_l("Reason"), coerce=int, validate_choice=False)
    comment = TextAreaField(_l("Comment (optional)"), render_kw={"maxlength": 500, "rows": 3})
    first_day = DateField(_l("First day of the absence"), validators=[Optional()])
    last_day = DateField(
        _l("Last day"), validators=[Optional()], description=_l("Leave empty for one day.")
    )
    document = FileField(
        _l("Document (optional)"),
        description=_l("A medical certificate, a summons… PDF or picture."),
    )

    def offer(self, reasons) -> None:
        self.reason.choices = [SelectChoice(reason.id, reason.label) for reason in reasons]


class DocumentForm(FlaskForm):
    document = FileField(_l("Document"))


class DecideForm(FlaskForm):
    outcome = RadioField(
        _l("Your answer"),
        choices=[
            SelectChoice("accepted", _l("Accept: the absence is justified")),
            SelectChoice("document_asked", _l("Ask for a document")),
            SelectChoice("refused", _l("Refuse")),
        ],
        validate_choice=False,
    )
    answer = TextAreaField(
        _l("Words to the family"),
        description=_l("Needed to refuse; the family reads them."),
        render_kw={"maxlength": 500, "rows": 3},
    )
