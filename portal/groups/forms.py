from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SearchField, SelectField
from wtforms.validators import DataRequired, Length, Optional

from portal.accounts.forms import PROFILE_CHOICES
from portal.accounts.models import Profile, User
from portal.core.forms import MultiCheckboxField
from portal.groups.audience import GROUP_PROFILES, groups_for_author
from portal.groups.models import Group, GroupKind


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
    #: Set by the preview's 'Confirm' button, as for a new rule.
    confirmed = HiddenField(default="")


class WhyForm(FlaskForm):
    class Meta:
        csrf = False

    a = IntegerField(_l("Person who writes"), validators=[DataRequired(_l("Choose a person."))])
    b = IntegerField(_l("Person written to"), validators=[DataRequired(_l("Choose a person."))])


def audience_profiles() -> list[tuple[str, object]]:
    return [
        (Profile.PARENT.value, _l("Parents")),
        (Profile.PUPIL.value, _l("Pupils")),
        (Profile.TEACHER.value, _l("Teachers")),
        (Profile.STAFF.value, _l("Staff")),
        (Profile.ADMIN.value, _l("Direction")),
    ]


def group_choice(group: Group) -> tuple[int, str]:
    """A class or teaching group offered by a form, named in the reader's language."""
    if group.kind == GroupKind.TEACHING:
        return group.id, _("%(name)s (teaching group)", name=group.name)
    return group.id, group.name


class AudienceFields:
    """Profiles and groups; no group chosen means the whole school (not for a teacher)."""

    profiles = MultiCheckboxField(_l("For"))
    groups = MultiCheckboxField(
        _l("In these classes and groups"),
        coerce=int,
        description=_l("Choose none to address the whole school."),
    )

    def offer_audience(self, author: User) -> None:
        """The choices this author has: a teacher addresses the classes and groups they teach."""
        profiles = audience_profiles()
        if author.profile == Profile.TEACHER:
            profiles = [choice for choice in profiles if choice[0] in GROUP_PROFILES]
            self.groups.description = _l("The classes and groups you teach.")
        self.profiles.choices = profiles
        self.groups.choices = [group_choice(g) for g in groups_for_author(author)]
