"""Forms of the timetable, the staff's reasons and teachers' absences. The register itself is
not a WTForms form: each pupil's row sends 'state-<id>' and 'minutes-<id>'."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.validators import Optional

from portal.attendance.services import REASON_MAX


class SessionForm(FlaskForm):
    # Every field is checked by services.schedule(), all at once.
    group = SelectField(_l("Class or group"), coerce=int)
    teacher = SelectField(_l("Teacher"), coerce=int)
    day = DateField(_l("Day"), validators=[Optional()])
    start = TimeField(_l("Starts at"), validators=[Optional()])
    end = TimeField(_l("Ends at"), validators=[Optional()])
    repeat_until = DateField(
        _l("Every week until"),
        validators=[Optional()],
        description=_l("Leave empty for one session."),
    )


class ExplainForm(FlaskForm):
    reason = StringField(_l("Reason"), render_kw={"maxlength": REASON_MAX})
    justified = BooleanField(_l("Justified"))


class TeacherAbsenceForm(FlaskForm):
    teacher = SelectField(_l("Teacher"), coerce=int)
    start = DateTimeLocalField(_l("From"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    end = DateTimeLocalField(_l("Until"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    reason = StringField(_l("Reason"), render_kw={"maxlength": REASON_MAX})
