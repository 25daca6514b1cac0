"""A person's life as the groups follow it: a new person joins their school's profile group, a
guardian joins the parents' groups of their child's classes, a former user leaves every group.

Each function makes the account's change (portal.accounts.services) and brings the derived
groups in step; callers outside accounts use these. They flush and never commit.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select

from portal.accounts import guardianship
from portal.accounts import services as accounts
from portal.accounts.models import Guardianship, User
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import Group, GroupKind, GroupMember


def create_user(*args, **details) -> User:
    """A new account (accounts.new_account, same arguments), in its school's profile group."""
    user = accounts.new_account(*args, **details)
    groups.enrol_in_school(user)
    return user


def link_guardian(parent: User, pupil: User, rank: int, **terms) -> Guardianship:
    """``parent`` becomes guardian ``rank`` of ``pupil`` (guardianship.add_guardian, same terms);
    the parents' groups of the pupil's classes follow."""
    link = guardianship.add_guardian(parent, pupil, rank, **terms)
    groups.sync_pupil(pupil)
    return link


def unlink_guardian(link: Guardianship) -> None:
    pupil = link.pupil
    guardianship.remove_guardian(link)
    groups.sync_pupil(pupil)


def delete_account(user: User) -> None:
    """The person becomes a former user (accounts.erase_account) and leaves every group; the
    parents' groups of their classes, and of their children's, follow."""
    children = select(Guardianship.pupil_id).where(Guardianship.parent_id == user.id)
    classes = db.session.scalars(
        select(Group.id)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(
            or_(GroupMember.user_id == user.id, GroupMember.user_id.in_(children)),
            Group.kind == GroupKind.CLASS,
            Group.archived_at.is_(None),
        )
        .distinct()
    ).all()
    accounts.erase_account(user)
    db.session.execute(delete(GroupMember).where(GroupMember.user_id == user.id))
    db.session.flush()
    groups.sync_classes(list(classes))
