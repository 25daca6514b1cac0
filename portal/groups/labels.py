"""Group names on screen, in the reader's language."""

from __future__ import annotations

from portal.accounts.models import Profile
from portal.core.i18n import deferred, translate
from portal.groups.models import Group, GroupKind


def label_words(group: Group) -> str | dict:
    """The group's name, kept to be read later in any language (a notification's text)."""
    if group.kind == GroupKind.SCHOOL_PROFILE:
        return {
            Profile.ADMIN: deferred("Direction"),
            Profile.TEACHER: deferred("All teachers"),
            Profile.STAFF: deferred("All staff"),
            Profile.PARENT: deferred("All parents"),
            Profile.PUPIL: deferred("All pupils"),
        }[group.profile]
    if group.kind == GroupKind.CLASS_PROFILE:
        name = _with_year(group.school_class)
        return {
            Profile.PUPIL: deferred("Pupils of %(name)s", name=name),
            Profile.PARENT: deferred("Parents of %(name)s", name=name),
            Profile.TEACHER: deferred("Teachers of %(name)s", name=name),
        }[group.profile]
    return _with_year(group)


def _with_year(group: Group) -> str:
    """A group of a closed school year carries it: '5B (2025-2026)'."""
    return f"{group.name} ({group.school_year})" if group.school_year else group.name


def label(group: Group) -> str:
    """The group's name on screen, in the reader's language."""
    return translate(label_words(group))
