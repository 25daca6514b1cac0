"""The webmaster's forms: a new school, the platform's mail settings and a test e-mail."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional


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
    """A school and its first direction account (checked again by portal.platform.services)."""

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
