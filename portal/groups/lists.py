"""Broadcast lists defined by a rule keep their members true by themselves (seed 003: lists are
'made and kept up to date automatically').

A rule-defined list names a profile, the classes and teaching groups whose people it takes (none:
the whole school) and, for parents, optionally one guardian rank: "parents of the pupils of 6A,
6B", "teachers of 3A", "all staff", "guardians rank 1 of ULIS". ``refresh`` brings the stored
members in line with the definition. It is called by whatever changes what a definition reads,
in the same transaction: places in classes and teaching groups (services.sync_classes and
add/remove_member), guardianship (through sync_classes), new and deleted accounts, imports and
the rollover. There is no nightly job that could miss a change. Blocked people stay members and
are left out where members are read, as for every group.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from portal.accounts.models import AccountState, Guardianship, Profile, User
from portal.core import clock
from portal.core.db import among
from portal.extensions import db
from portal.groups.models import Group, GroupKind, GroupMember, ListSource

#: Profiles a source group narrows down; the others are taken school-wide.
NARROWED = (Profile.PUPIL, Profile.PARENT, Profile.TEACHER)


def sources(group: Group) -> list[Group]:
    return list(
        db.session.scalars(
            select(Group)
            .join(ListSource, ListSource.group_id == Group.id)
            .where(ListSource.list_id == group.id)
            .order_by(Group.name)
        )
    )


def defined_members(group: Group) -> set[int]:
    """The ids of the people the list's definition names now (deleted accounts left out)."""
    profile = Profile(group.profile)
    source_ids = [] if profile not in NARROWED else [g.id for g in sources(group)]
    if not source_ids:
        if group.list_rank and profile == Profile.PARENT:
            pupil = select(User.id).where(User.school_id == group.school_id)
            query = select(Guardianship.parent_id).where(
                Guardianship.pupil_id.in_(pupil), Guardianship.rank == group.list_rank
            )
        else:
            query = select(User.id).where(
                User.school_id == group.school_id, User.profile == profile
            )
    else:
        placed = select(GroupMember.user_id).join(User, User.id == GroupMember.user_id)
        if profile == Profile.PARENT:
            pupils = placed.where(among(GroupMember.group_id, source_ids), User.profile == "pupil")
            query = select(Guardianship.parent_id).where(Guardianship.pupil_id.in_(pupils))
            if group.list_rank:
                query = query.where(Guardianship.rank == group.list_rank)
        else:
            query = placed.where(among(GroupMember.group_id, source_ids), User.profile == profile)
    found = set(db.session.scalars(query))
    if not found:
        return found
    gone = db.session.scalars(
        select(User.id).where(among(User.id, list(found)), User.state == AccountState.DELETED)
    )
    return found - set(gone)


def refresh(school_id: int | None) -> None:
    """Bring every current rule-defined list of the school in line with its definition."""
    if school_id is None:
        return
    for group in db.session.scalars(
        select(Group).where(
            Group.school_id == school_id,
            Group.kind == GroupKind.BROADCAST_LIST,
            Group.list_defined.is_(True),
            Group.archived_at.is_(None),
        )
    ):
        refresh_list(group)


def refresh_list(group: Group) -> bool:
    """Bring one list in line; says whether its members changed."""
    wanted = defined_members(group)
    current = set(
        db.session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == group.id))
    )
    if wanted == current:
        return False
    gone = current - wanted
    if gone:
        db.session.execute(
            delete(GroupMember).where(
                GroupMember.group_id == group.id, among(GroupMember.user_id, list(gone))
            )
        )
    added = [{"group_id": group.id, "user_id": user_id} for user_id in sorted(wanted - current)]
    for start in range(0, len(added), 5000):
        db.session.execute(insert(GroupMember), added[start : start + 5000])
    group.members_changed_at = clock.now()
    db.session.flush()
    return True


def define(group: Group, source_ids: list[int], rank: int | None) -> None:
    """Make ``group`` a rule-defined list over these classes and teaching groups (checked by
    the caller) and fill it."""
    db.session.execute(delete(ListSource).where(ListSource.list_id == group.id))
    db.session.add_all(ListSource(list_id=group.id, group_id=g) for g in sorted(set(source_ids)))
    group.list_defined = True
    group.list_rank = rank if group.profile == Profile.PARENT else None
    db.session.flush()
    refresh_list(group)


def make_fixed(group: Group) -> None:
    """The list stops following a rule: its members of the moment stay, picked by hand."""
    db.session.execute(delete(ListSource).where(ListSource.list_id == group.id))
    group.list_defined, group.list_rank = False, None
    db.session.flush()
