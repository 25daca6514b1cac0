from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
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


def group_kind_choices(actor: User) -> list[tuple[str, object]]:
    """The kinds of group this person may make: lists are the direction's."""
    choices = [
        SelectChoice(GroupKind.MANUAL.value, _l("Manual group")),
        SelectChoice(GroupKind.TEACHING.value, _l("Teaching group")),
    ]
    if actor.profile == Profile.ADMIN:
        choices.append(SelectChoice(GroupKind.BROADCAST_LIST.value, _l("Broadcast list")))
    return choices


class GroupDetailsForm(FlaskForm):
    #: The services check the name and the description, so that the message is the same
    #: whichever screen it comes from.
    name = StringField(_l("Name"))
    description = TextAreaField(_l("Description"), description=_l("Optional: what it is for."))


class NewGroupForm(GroupDetailsForm):
    kind = SelectField(_l("Kind"), validate_choice=True)
    profile = SelectField(
        _l("Profile of the list"),
        validate_choice=True,
        default="",
        description=_l("A broadcast list is for one profile."),
    )

    def offer(self, actor: User) -> None:
        self.kind.choices = group_kind_choices(actor)
        self.profile.choices = [
            SelectChoice("", "—"),
            *(SelectChoice(value, name) for value, name in audience_profiles()),
        ]


class PersonPickForm(FlaskForm):
    user_id = IntegerField(validators=[DataRequired()])


class AddFromForm(FlaskForm):
    source = SelectField(_l("From"), validate_choice=True, default="")
    profile = SelectField(_l("Who"), validate_choice=True)


class PasteForm(FlaskForm):
    text = TextAreaField(
        _l("Logins or national identifiers"),
        description=_l("One per line, or separated by commas, semicolons or spaces."),
    )
    upload = FileField(_l("Or a text or CSV file"))
    confirmed = HiddenField(default="")


class ListRuleForm(FlaskForm):
    mode = RadioField(
        _l("Members"),
        choices=[
            SelectChoice("defined", _l("Kept up to date from classes and groups")),
            SelectChoice("fixed", _l("Picked by hand")),
        ],
        validate_choice=True,
    )
    sources = MultiCheckboxField(
        _l("Classes and teaching groups"),
        coerce=int,
        description=_l("Choose none for the whole school."),
    )
    rank = SelectField(
        _l("Guardians"),
        choices=[
            SelectChoice("", _l("Every guardian")),
            SelectChoice("1", _l("Guardian 1 only")),
            SelectChoice("2", _l("Guardian 2 only")),
        ],
        validate_choice=True,
        default="",
    )


class SavedListForm(FlaskForm):
    list_name = StringField(_l("Name of the list"))
    #: A member to take out of the list (its entry's id), or the list to delete.
    remove = IntegerField(validators=[Optional()])
    delete = HiddenField(default="")
