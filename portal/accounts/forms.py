"""Forms of the accounts pages. Length limits are checked here and again by the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from portal.accounts.credentials import PASSWORD_MAX, PASSWORD_MIN

REQUIRED = _l("This field is required.")

#: The profile filter of the people lists and of the directory.
PROFILE_CHOICES = [
    SelectChoice("", _l("All profiles")),
    SelectChoice("admin", _l("Direction")),
    SelectChoice("teacher", _l("Teachers")),
    SelectChoice("staff", _l("Staff")),
    SelectChoice("parent", _l("Parents")),
    SelectChoice("pupil", _l("Pupils")),
]


def _password(label):
    return PasswordField(
        label,
        validators=[
            DataRequired(REQUIRED),
            Length(PASSWORD_MIN, PASSWORD_MAX, _l("Between %(min)d and %(max)d characters.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def _confirm(field_name: str):
    return PasswordField(
        _l("Type the password again"),
        validators=[DataRequired(REQUIRED), EqualTo(field_name, _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(FlaskForm):
    login = StringField(
        _l("Login"),
        validators=[DataRequired(REQUIRED), Length(max=120)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(REQUIRED), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Stay logged in on this device"))


class ActivationForm(FlaskForm):
    code = StringField(
        _l("Activation code"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        description=_l("The code on the letter from your school, for example K7QPD-3MWX9."),
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters"},
    )
    password = _password(_l("Choose a password"))
    confirm = _confirm("password")


class ForgotPasswordForm(FlaskForm):
    login = StringField(
        _l("Login"),
        validators=[DataRequired(REQUIRED), Length(max=120)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )


class ResetPasswordForm(FlaskForm):
    password = _password(_l("New password"))
    confirm = _confirm("password")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(REQUIRED), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _password(_l("New password"))
    confirm = _confirm("new_password")


class ContactForm(FlaskForm):
    email = StringField(
        _l("E-mail address"),
        validators=[Optional(), Length(max=254)],
        render_kw={"autocomplete": "email", "type": "email"},
    )
    mobile = StringField(
        _l("Mobile number"),
        validators=[Optional(), Length(max=30)],
        description=_l("For example 06 12 34 56 78 or +44 7700 900123."),
        render_kw={"autocomplete": "tel", "type": "tel"},
    )


class LanguageForm(FlaskForm):
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice("fr", "Français"), SelectChoice("en", "English")],
        validate_choice=True,
    )


class CodeForm(FlaskForm):
    """A login's second step, or the first code of a new authenticator app."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        description=_l("The 6 digits your authenticator app shows, or one of your recovery codes."),
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "none"},
    )
    #: Its label says for how many days (SECOND_FACTOR_TRUST_DAYS): the view sets it.
    trust = BooleanField(_l("Don't ask again on this device"))


class TurnOffForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(REQUIRED), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )


class LinkAccountForm(FlaskForm):
    """Proving the Carnet account an identity provider's identifier is to be linked to: its
    login and password, or the activation code the school gave."""

    login = StringField(
        _l("Login"),
        validators=[Optional(), Length(max=120)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )
    code = StringField(
        _l("Or the activation code from your school"),
        validators=[Optional(), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
