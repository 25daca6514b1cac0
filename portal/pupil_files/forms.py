"""The forms of event types (the direction) and of a file's events."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from portal.core.forms import MultiCheckboxField
from portal.pupil_files.event_types import NAME_MAX
from portal.pupil_files.services import COMMENT_MAX, REASON_MAX, VALUE_MAX


class EventTypeForm(FlaskForm):
    """Choices are checked by the service, which says what is wrong with each."""

    name = StringField(_l("Name"), render_kw={"maxlength": NAME_MAX})
    sets_status = SelectField(_l("Status it sets"), validate_choice=False)
    reason_required = BooleanField(_l("A reason is mandatory"))
    fields = MultiCheckboxField(_l("Extra fields it asks for"), validate_choice=False)
    custom_fields = TextAreaField(
        _l("Fields of your own (one name a line, at most three)"), render_kw={"rows": 3}
    )
    notify = MultiCheckboxField(_l("Whom it notifies"), validate_choice=False)


class EventForm(FlaskForm):
    type_id = SelectField(_l("Type of event"), coerce=int, validate_choice=False)
    day = DateField(_l("Date"), validators=[Optional()])
    reason = StringField(_l("Reason"), render_kw={"maxlength": REASON_MAX})
    comment = TextAreaField(_l("Comment"), render_kw={"maxlength": COMMENT_MAX, "rows": 3})
    phase_from = StringField(_l("Previous phase"), render_kw={"maxlength": VALUE_MAX})
    phase_to = StringField(_l("New phase"), render_kw={"maxlength": VALUE_MAX})
    status = SelectField(_l("New status"), validate_choice=False)
    funder = StringField(_l("New funder"), render_kw={"maxlength": VALUE_MAX})
