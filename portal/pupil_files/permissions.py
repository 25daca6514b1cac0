"""Who may see a pupil's file and record, change or delete its events."""

from __future__ import annotations

from portal.accounts.models import Profile, User
from portal.groups.permissions import can_view_user
from portal.pupil_files.models import FileEvent


def _of_school(user: User, pupil: User) -> bool:
    return pupil.profile == Profile.PUPIL and user.school_id == pupil.school_id


def can_view_file(user: User, pupil: User) -> bool:
    """The direction and staff, the pupil's teachers; the family (guardians and the pupil) only
    where the school lets families see the file."""
    if not _of_school(user, pupil):
        return False
    if user.profile in (Profile.PARENT, Profile.PUPIL) and not pupil.school.families_see_file:
        return False
    return can_view_user(user, pupil)


def can_record_event(user: User, pupil: User) -> bool:
    """The direction and the staff of the pupil's school."""
    return _of_school(user, pupil) and user.profile in (Profile.ADMIN, Profile.STAFF)


def can_change_event(user: User, event: FileEvent) -> bool:
    """The direction changes or deletes any event; a member of staff, the ones they entered."""
    if user.school_id != event.school_id:
        return False
    if user.profile == Profile.ADMIN:
        return True
    return user.profile == Profile.STAFF and event.author_id == user.id


def can_manage_event_types(user: User) -> bool:
    return user.profile == Profile.ADMIN


def template_globals() -> dict:
    return {
        "can_view_file": can_view_file,
        "can_record_event": can_record_event,
        "can_change_event": can_change_event,
    }
