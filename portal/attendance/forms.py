"""Forms of the timetable, the staff's reasons and teachers' absences. The register itself is
not a WTForms form: each pupil's row sends 'state-<id>' and 'minutes-<id>'."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.validators import Optional

from portal.attendance.reasons import REASON_MAX
from portal.core.forms import MultiCheckboxField


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


class AlertRuleForm(FlaskForm):
    # Every field is checked by alert_rules.save(), all at once; choices are set by the view.
    name = StringField(_l("Name"))
    colour = SelectField(_l("Colour"))
    population = SelectField(_l("Who is watched"))
    metric = SelectField(_l("What is counted"))
    counted = SelectField(_l("Which absences"))
    trigger = SelectField(_l("The alert fires when the count is"))
    low = IntegerField(_l("N"), validators=[Optional()])
    high = IntegerField(_l("M (for 'between')"), validators=[Optional()])
    period_amount = IntegerField(_l("Over the last"), validators=[Optional()])
    period_unit = SelectField(_l("Unit"))
    cycle_days = IntegerField(
        _l("Recurring cycle, in days"),
        validators=[Optional()],
        description=_l("Each cycle ignores what came before it (365 from 1 September: a year)."),
    )
    cycle_first = DateField(_l("First cycle starts on"), validators=[Optional()])
    scope = SelectField(_l("Applies to"))
    scope_group = SelectField(_l("Group"), coerce=int)
    email_person = BooleanField(_l("E-mail the person"))
    email_guardians = BooleanField(_l("E-mail the pupil's guardians and tutor"))
    email_admins = MultiCheckboxField(_l("E-mail these administrators"), coerce=int)
    # The school's own webhooks only: checked by alert_rules.save(), like the group.
    webhook = SelectField(_l("Call this webhook"), coerce=int, default=0, validate_choice=False)
    # The school's SMS actions an alert can send: checked by alert_rules.save() too.
    sms_action = SelectField(
        _l("Send this SMS to the pupil's guardians"),
        coerce=int,
        default=0,
        validate_choice=False,
    )


class ReasonForm(FlaskForm):
    #: Checked by attendance.reasons (the name, once in the school).
    label = StringField(_l("Reason"), render_kw={"maxlength": 100})
    families_choose = BooleanField(_l("Families may choose it when they justify online"))
