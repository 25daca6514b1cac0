"""Who may write to whom: the one authority (SPEC §2). The directory, the recipient picker,
the server-side send check and reply rights all ask here.

A person S may write to R when a group of S has a rule to a group of R, or S and R share a group
with internal communication on. Blocked accounts are never reachable; inactive ones are.
Besides the rules, whoever received a message may always answer its sender: that right comes
only through the ``reply_to`` argument, the message being answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Select, exists, or_, select, union
from sqlalchemy.orm import joinedload

from portal.accounts.models import UNREACHABLE, User
from portal.accounts.services import name_filter
from portal.extensions import db
from portal.groups.models import CommunicationRule, Group, GroupKind, GroupMember

PAGE_SIZE = 20


class Answerable(Protocol):
    """A message being answered, as far as the reply right is concerned."""

    sender_id: int

    def was_received_by(self, user_id: int) -> bool: ...


def writable_groups_query(sender_id: int) -> Select:
    """Ids of the groups whose members ``sender_id`` may write to, as one subquery."""
    mine = select(GroupMember.group_id).where(GroupMember.user_id == sender_id)
    by_rule = select(CommunicationRule.target_group_id.label("group_id")).where(
        CommunicationRule.source_group_id.in_(mine)
    )
    internal = select(Group.id.label("group_id")).where(
        Group.id.in_(mine), Group.internal.is_(True)
    )
    return union(by_rule, internal)


def writable_group_ids(sender: User) -> set[int]:
    return set(db.session.scalars(writable_groups_query(sender.id)))


def may_write(sender: User, recipient: User, reply_to: Answerable | None = None) -> bool:
    """May ``sender`` start a conversation with ``recipient`` (or answer ``reply_to``)?"""
    if recipient.id == sender.id or recipient.state in UNREACHABLE:
        return False
    if sender.state in UNREACHABLE:
        return False
    if (
        reply_to is not None
        and reply_to.sender_id == recipient.id
        and reply_to.was_received_by(sender.id)
    ):
        return True
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    GroupMember.user_id == recipient.id,
                    GroupMember.group_id.in_(writable_groups_query(sender.id)),
                )
            )
        )
    )


def may_write_to_group(sender: User, group: Group) -> bool:
    """A group (or broadcast list) as a recipient: some rule of the sender's targets it, or it is
    one of the sender's groups with internal communication on."""
    if sender.state in UNREACHABLE:
        return False
    return bool(
        db.session.scalar(
            select(
                exists().where(Group.id == group.id, Group.id.in_(writable_groups_query(sender.id)))
            )
        )
    )


def refused_recipients(sender: User, user_ids: list[int], reply_to: Answerable | None = None):
    """The ids among ``user_ids`` that ``sender`` may not write to, in one query (plus the
    reply right), for the server-side check of a whole send."""
    if sender.state in UNREACHABLE:
        return list(user_ids)
    allowed = set(
        db.session.scalars(
            select(GroupMember.user_id)
            .join(User, User.id == GroupMember.user_id)
            .where(
                GroupMember.user_id.in_(user_ids),
                GroupMember.group_id.in_(writable_groups_query(sender.id)),
                User.state.not_in(UNREACHABLE),
                User.id != sender.id,
            )
        )
    )
    if reply_to is not None and reply_to.was_received_by(sender.id):
        allowed.add(reply_to.sender_id)
    return [user_id for user_id in user_ids if user_id not in allowed]


@dataclass
class DirectoryPage:
    people: list[User]
    groups: list[Group]
    page: int
    has_next: bool


def reachable(
    sender: User,
    text: str = "",
    *,
    class_id: int | None = None,
    profile: str | None = None,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> DirectoryPage:
    """One page of the people the sender may write to, by name, class and profile, with the
    groups they may write to on the first page. Three queries, whatever the groups' sizes."""
    from portal.groups.labels import label

    targets = writable_group_ids(sender)
    members = select(GroupMember.user_id).where(GroupMember.group_id.in_(targets))
    query = select(User).where(
        User.id.in_(members),
        User.state.not_in(UNREACHABLE),
        User.id != sender.id,
        *name_filter(text),
    )
    if profile:
        query = query.where(User.profile == profile)
    if class_id is not None:
        in_class = select(GroupMember.user_id).where(
            GroupMember.group_id.in_(
                select(Group.id).where(or_(Group.id == class_id, Group.class_id == class_id))
            )
        )
        query = query.where(User.id.in_(in_class))
    page = max(page, 1)
    people = db.session.scalars(
        query.order_by(User.last_name, User.first_name, User.id)
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    groups: list[Group] = []
    if page == 1 and targets and not profile:
        candidates = db.session.scalars(
            select(Group).where(Group.id.in_(targets)).options(joinedload(Group.school_class))
        ).all()
        words = text.lower().split()
        groups = sorted(
            (
                group
                for group in candidates
                if (class_id is None or class_id in (group.id, group.class_id))
                and all(word in label(group).lower() for word in words)
            ),
            key=lambda group: (group.kind != GroupKind.CLASS_PROFILE, label(group).lower()),
        )
    return DirectoryPage(list(people[:per_page]), groups, page, len(people) > per_page)
