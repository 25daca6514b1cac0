"""Who may see and do what with announcements and homework: one named predicate per action.

Views load objects with get_or_404 (another school's is not found), then ask these."""

from __future__ import annotations

from sqlalchemy import exists, select

from portal.accounts.models import Profile, User
from portal.content.models import Announcement, Homework
from portal.core import clock
from portal.extensions import db
from portal.groups.audience import GROUP_KINDS, Reach, reach_of
from portal.groups.models import Group, GroupMember

#: Who may write announcements; teachers for the classes and groups they teach.
WRITERS = (Profile.ADMIN, Profile.STAFF, Profile.TEACHER)


def can_write_announcements(user: User) -> bool:
    return user.profile in WRITERS


def can_manage_every_announcement(user: User) -> bool:
    """The direction manages every announcement of its school, sends one to every family
    (forced) and sees them all in its list; the others, their own."""
    return user.profile == Profile.ADMIN


def can_write_homework(user: User) -> bool:
    """Teachers set homework, for the classes and groups they teach (can_set_homework)."""
    return user.profile == Profile.TEACHER


def can_edit_announcement(user: User, announcement: Announcement) -> bool:
    """Its author, or the direction of its school; they also moderate its comments."""
    if user.school_id != announcement.school_id:
        return False
    return announcement.author_id == user.id or can_manage_every_announcement(user)


def can_read_announcement(user: User, announcement: Announcement) -> bool:
    if can_edit_announcement(user, announcement):
        return True
    return announcement.is_live(clock.now()) and reach_of(user).reached_by(
        announcement.audience, announcement.school_id
    )


def can_comment(user: User, announcement: Announcement) -> bool:
    return announcement.comments_allowed and can_read_announcement(user, announcement)


def teaches(user: User, group: Group) -> bool:
    """The person is a teacher of this class or teaching group."""
    if user.profile != Profile.TEACHER or group.kind not in GROUP_KINDS:
        return False
    return bool(
        db.session.scalar(
            select(exists().where(GroupMember.group_id == group.id, GroupMember.user_id == user.id))
        )
    )


def can_set_homework(user: User, group: Group) -> bool:
    return user.school_id == group.school_id and teaches(user, group)


def can_edit_homework(user: User, homework: Homework) -> bool:
    """A teacher of its group (co-teachers share a group's homework)."""
    return can_set_homework(user, homework.group)


def can_view_homework(user: User, homework: Homework, reach: Reach | None = None) -> bool:
    """Its group's teachers and the direction and staff always; its pupils and their guardians
    from its visible-from date."""
    if user.school_id == homework.school_id and user.profile in (Profile.ADMIN, Profile.STAFF):
        return True
    if can_edit_homework(user, homework):
        return True
    if user.profile not in (Profile.PUPIL, Profile.PARENT) or homework.visible_at > clock.now():
        return False
    return homework.group_id in (reach or reach_of(user)).group_ids


def template_globals() -> dict:
    return {
        "can_write_announcements": can_write_announcements,
        "can_manage_every_announcement": can_manage_every_announcement,
        "can_write_homework": can_write_homework,
        "can_edit_announcement": can_edit_announcement,
        "can_comment": can_comment,
        "can_edit_homework": can_edit_homework,
    }
