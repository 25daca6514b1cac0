"""Forms of a person's account as the direction runs it. Lengths are checked here; everything
else by portal.admin.lifecycle, which answers next to each field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from portal.core.forms import MultiCheckboxField

PROFILE_CHOICES = [
    SelectChoice("", _l("Choose…")),
    SelectChoice("pupil", _l("Pupil")),
    SelectChoice("parent", _l("Parent")),
    SelectChoice("teacher", _l("Teacher")),
    SelectChoice("staff", _l("Staff")),
    SelectChoice("admin", _l("Direction")),
]


class PersonDetailsForm(FlaskForm):
    """What an edit changes; the class lists are filled with this year's classes by the view."""

    first_name = StringField(
        _l("First name"), validators=[Length(max=100)], render_kw={"autocomplete": "off"}
    )
    last_name = StringField(
        _l("Last name"), validators=[Length(max=100)], render_kw={"autocomplete": "off"}
    )
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    national_id = StringField(
        _l("National identifier"),
        validators=[Length(max=60)],
        description=_l("The INE for a pupil; how an import finds the person again."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    class_id = SelectField(_l("Class"), validate_choice=False, default="")
    taught_class_ids = MultiCheckboxField(_l("Classes taught"), validate_choice=False)


class NewPersonForm(PersonDetailsForm):
    profile = SelectField(_l("Profile"), choices=PROFILE_CHOICES, validate_choice=False)
    email = StringField(
        _l("E-mail address"),
        validators=[Length(max=254)],
        render_kw={"type": "email", "autocomplete": "off"},
    )
    mobile = StringField(
        _l("Mobile number"),
        validators=[Length(max=30)],
        render_kw={"type": "tel", "autocomplete": "off"},
    )
    login = StringField(
        _l("Login"),
        validators=[Length(max=120)],
        description=_l("Leave empty to make it from the name (first.last)."),
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )


class BlockForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional)"),
        validators=[Length(max=500)],
        description=_l("Kept in the journal of sensitive actions and shown on the record."),
    )


class ConfirmForm(FlaskForm):
    """A confirmation: the CSRF token alone."""


WHO_CHOICES = [
    SelectChoice("pupils", _l("Pupils")),
    SelectChoice("guardians", _l("Guardians")),
    SelectChoice("both", _l("Pupils and guardians")),
]
DELIVERY_CHOICES = [
    SelectChoice("print", _l("Print a sheet of codes")),
    SelectChoice("email", _l("E-mail each person their code")),
]


class ClassCodesChoiceForm(FlaskForm):
    class Meta:
        csrf = False  # choosing shows what would happen; nothing changes yet

    who = RadioField(_l("Codes for"), choices=WHO_CHOICES, default="both")
    delivery = RadioField(_l("How"), choices=DELIVERY_CHOICES, default="print")


class IssueClassCodesForm(FlaskForm):
    who = HiddenField()
    delivery = HiddenField()
    #: The second step of an e-mailing: print the codes of those no e-mail reaches.
    without_email = BooleanField(default=False)


class IssuePersonCodeForm(FlaskForm):
    delivery = HiddenField()
    confirmed = HiddenField(default="")
