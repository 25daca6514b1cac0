from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SearchField, SelectChoice, SelectField

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
