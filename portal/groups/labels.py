"""Group names on screen, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.accounts.models import Profile
from portal.groups.models import Group, GroupKind


def label(group: Group) -> str:
    """The group's name on screen, in the reader's language."""
    if group.kind == GroupKind.SCHOOL_PROFILE:
        return {
            Profile.ADMIN: _("Direction"),
            Profile.TEACHER: _("All teachers"),
            Profile.STAFF: _("All staff"),
            Profile.PARENT: _("All parents"),
            Profile.PUPIL: _("All pupils"),
        }[group.profile]
    if group.kind == GroupKind.CLASS_PROFILE:
        name = group.school_class.name
        return {
            Profile.PUPIL: _("Pupils of %(name)s", name=name),
            Profile.PARENT: _("Parents of %(name)s", name=name),
            Profile.TEACHER: _("Teachers of %(name)s", name=name),
        }[group.profile]
    return group.name
