from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SearchField, SelectField
from wtforms.validators import DataRequired, Length, Optional

from portal.accounts.forms import PROFILE_CHOICES


class DirectorySearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing

    q = SearchField(_l("Name"), validators=[Optional(), Length(max=100)])
    class_id = SelectField(_l("Class"), coerce=str, validate_choice=True, default="")
    profile = SelectField(_l("Profile"), choices=PROFILE_CHOICES, validate_choice=True, default="")


class AddRuleForm(FlaskForm):
    target_id = SelectField(_l("May write to"), coerce=int, validate_choice=True)
    #: Set by the preview's 'Confirm' button: the admin has seen what the change does.
    confirmed = HiddenField(default="")


class ConfirmForm(FlaskForm):
    confirmed = HiddenField(default="")


class InternalForm(FlaskForm):
    internal = BooleanField(_l("Members may write to each other (internal communication)"))


class WhyForm(FlaskForm):
    class Meta:
        csrf = False

    a = IntegerField(_l("Person who writes"), validators=[DataRequired(_l("Choose a person."))])
    b = IntegerField(_l("Person written to"), validators=[DataRequired(_l("Choose a person."))])
