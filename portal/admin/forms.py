from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional

from portal.accounts.forms import PROFILE_CHOICES
from portal.accounts.models import EmailPriority


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField(_l("Name or login"), render_kw={"maxlength": 100})
    profile = SelectField(
        _l("Profile"),
        choices=PROFILE_CHOICES,
        validate_choice=True,
        default="",
    )
    #: Deleted people ('former users') are listed only when asked for.
    state = SelectField(
        _l("Account"),
        choices=[
            SelectChoice("", _l("Current accounts")),
            SelectChoice("inactive", _l("Not activated")),
            SelectChoice("active", _l("Active")),
            SelectChoice("blocked", _l("Blocked")),
            SelectChoice("deleted", _l("Former users")),
        ],
        validate_choice=True,
        default="",
    )


class SchoolSettingsForm(FlaskForm):
    email_priority = RadioField(
        _l("When an import brings another e-mail address than the one a person entered"),
        choices=[
            SelectChoice(EmailPriority.USER.value, _l("keep the address the person entered")),
            SelectChoice(
                EmailPriority.ADMIN.value,
                _l("use the imported address; people can't change addresses set by the school"),
            ),
        ],
    )
    families_see_file = BooleanField(
        _l("Guardians and pupils may read the pupil's file and its events")
    )
    # Checked by attendance.opening.set_opens_minutes(), next to the field.
    register_opens_minutes = IntegerField(
        _l("Registers open this many minutes before their session"),
        validators=[Optional()],
        description=_l(
            "From 0 to 240. Teachers take the register from then on; the staff record an "
            "absence announced in advance at any time, and families hear of it when the session "
            "starts."
        ),
        render_kw={"min": 0, "max": 240, "inputmode": "numeric"},
    )


class MailSettingsForm(FlaskForm):
    notification_email = BooleanField(
        _l("Send notifications by e-mail"),
        description=_l(
            "Switch it off on a test server restored from real data: notifications then stay "
            "on the home page. Activation and password recovery e-mail still leave."
        ),
    )
    bounce_address = StringField(
        _l("Bounce address"),
        validators=[Optional(), Length(max=254)],
        description=_l("Envelope sender of every e-mail: refusals and bounces come back to it."),
        render_kw={"type": "email"},
    )


class TestMailForm(FlaskForm):
    to = StringField(
        _l("Send a test e-mail to"),
        validators=[DataRequired(_l("This field is required.")), Length(max=254)],
        render_kw={"type": "email", "autocomplete": "email"},
    )


class NewSchoolForm(FlaskForm):
    """A school and its first direction account (checked again by admin.platform)."""

    name = StringField(
        _l("Name of the school"),
        validators=[DataRequired(_l("This field is required.")), Length(max=200)],
    )
    code = StringField(
        _l("School code (UAI)"),
        validators=[DataRequired(_l("This field is required.")), Length(max=20)],
        description=_l("The national identifier, for example 0751234A."),
        render_kw={"autocapitalize": "characters", "autocomplete": "off"},
    )
    timezone = StringField(
        _l("Time zone"),
        validators=[DataRequired(_l("This field is required.")), Length(max=64)],
        default="Europe/Paris",
        description=_l("For example Europe/Paris, America/Cayenne or Indian/Reunion."),
        render_kw={"list": "time-zones", "autocomplete": "off"},
    )
    language = SelectField(
        _l("Default language"),
        choices=[SelectChoice("fr", "Français"), SelectChoice("en", "English")],
        default="fr",
        validate_choice=False,  # the service says which languages there are, next to the field
    )
    first_name = StringField(
        _l("First name"),
        validators=[DataRequired(_l("This field is required.")), Length(max=100)],
        render_kw={"autocomplete": "off"},
    )
    last_name = StringField(
        _l("Last name"),
        validators=[DataRequired(_l("This field is required.")), Length(max=100)],
        render_kw={"autocomplete": "off"},
    )
    email = StringField(
        _l("E-mail address"),
        validators=[Optional(), Length(max=254)],
        description=_l("If given, the activation code is also sent there."),
        render_kw={"type": "email", "autocomplete": "off"},
    )


class TutorForm(FlaskForm):
    # Checked by attendance.services.add_tutor(), both fields at once.
    name = StringField(_l("Tutor's name"), render_kw={"maxlength": 200, "autocomplete": "off"})
    email = StringField(
        _l("Tutor's e-mail address"),
        description=_l("Told by the alerts that e-mail the pupil's guardians."),
        render_kw={"type": "email", "maxlength": 254, "autocomplete": "off"},
    )
