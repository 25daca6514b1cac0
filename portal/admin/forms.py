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
from wtforms.validators import Optional

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
    staff_manage_groups = BooleanField(_l("Staff may make and fill manual and teaching groups"))
    second_factor_required = BooleanField(
        _l("The direction and the staff confirm each login with a code from their phone"),
        description=_l("Each of them sets up an authenticator app at their next login."),
    )
    liaison_both_guardians = BooleanField(
        _l("A liaison note is done for a pupil once both guardians have replied"),
        description=_l("Otherwise one guardian’s confirmation or answer is enough."),
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


class TutorForm(FlaskForm):
    # Checked by attendance.services.add_tutor(), both fields at once.
    name = StringField(_l("Tutor's name"), render_kw={"maxlength": 200, "autocomplete": "off"})
    email = StringField(
        _l("Tutor's e-mail address"),
        description=_l("Told by the alerts that e-mail the pupil's guardians."),
        render_kw={"type": "email", "maxlength": 254, "autocomplete": "off"},
    )
