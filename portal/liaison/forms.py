from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
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
    pupils_see = BooleanField(_l("The pupils read the note too"))

    def offer(self, groups) -> None:
        self.groups.choices = [SelectChoice(*group_choice(group)) for group in groups]

    def answer_until_utc(self):
        return local_to_utc(self.answer_until.data)

    def choice_lines(self) -> list[str]:
        return (self.choices.data or "").splitlines()


class ReplyForm(FlaskForm):
    comment = StringField(_l("Comment (optional)"))
