"""Who may see people and groups where what they share decides it (a teacher sees the pupils of
their classes and teaching groups): one named predicate per action.

Views call them through require()/visible_or_404(); templates see them under the same names.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from portal.accounts.models import Profile, User
from portal.accounts.permissions import is_guardian_of, is_webmaster, school_staff
from portal.extensions import db
from portal.groups.models import Group, GroupKind, GroupMember


def _teaches(teacher: User, pupil: User) -> bool:
    """The teacher and the pupil share a class or a teaching group."""
    mine = select(GroupMember.group_id).where(GroupMember.user_id == teacher.id)
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    GroupMember.user_id == pupil.id,
                    GroupMember.group_id.in_(mine),
                    GroupMember.group_id.in_(
                        select(Group.id).where(
                            Group.kind.in_((GroupKind.CLASS, GroupKind.TEACHING))
                        )
                    ),
                )
            )
        )
    )


def can_view_user(viewer: User, user: User) -> bool:
    if viewer.id == user.id or is_webmaster(viewer) or school_staff(viewer, user.school_id):
        return True
    if user.profile == Profile.PUPIL:
        if viewer.profile == Profile.PARENT:
            return is_guardian_of(viewer, user)
        if viewer.profile == Profile.TEACHER and viewer.school_id == user.school_id:
            return _teaches(viewer, user)
    return False


def can_view_group(viewer: User, group: Group) -> bool:
    if is_webmaster(viewer) or school_staff(viewer, group.school_id):
        return True
    if viewer.school_id != group.school_id or group.kind == GroupKind.BROADCAST_LIST:
        return False  # a broadcast list's members are never shown
    if viewer.profile != Profile.TEACHER:
        return False
    target = group.class_id or group.id
    return bool(
        db.session.scalar(
            select(exists().where(GroupMember.group_id == target, GroupMember.user_id == viewer.id))
        )
    )


def template_globals() -> dict:
    return {
        "can_view_user": can_view_user,
        "can_view_group": can_view_group,
        "can_manage_groups": can_manage_groups,
        "can_manage_group": can_manage_group,
    }


def can_manage_rules(actor: User, source: Group, target: Group) -> bool:
    """The direction manages its school's communication rules; rules across schools are the
    webmaster's."""
    if is_webmaster(actor):
        return True
    return (
        actor.profile == Profile.ADMIN
        and source.school_id == actor.school_id
        and target.school_id == actor.school_id
    )


def can_manage_groups(actor: User) -> bool:
    """Making and filling manual and teaching groups: the direction, and staff when their school
    lets them."""
    if actor.profile == Profile.ADMIN:
        return True
    return (
        actor.profile == Profile.STAFF
        and actor.school is not None
        and actor.school.staff_manage_groups
    )


def can_manage_group(actor: User, group: Group) -> bool:
    """One of the school's manual or teaching groups, or for the direction a broadcast list
    (seed 003: lists are set up for the school, not by whoever writes)."""
    if group.school_id != actor.school_id or group.deleted_at is not None:
        return False
    if group.kind == GroupKind.BROADCAST_LIST:
        return actor.profile == Profile.ADMIN
    return group.kind in (GroupKind.MANUAL, GroupKind.TEACHING) and can_manage_groups(actor)
