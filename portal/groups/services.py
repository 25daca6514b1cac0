"""Group membership, and keeping the derived groups in step with classes and guardianship.

Every function flushes and never commits; the request (or the CLI command) commits once.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select

from portal.accounts.models import SCHOOL_PROFILES, UNREACHABLE, Guardianship, Profile, School, User
from portal.core import clock
from portal.core.db import among
from portal.core.errors import ValidationError
from portal.core.text import one_line
from portal.extensions import db
from portal.groups import lists, rules
from portal.groups.models import CLASS_SUB_PROFILES, DERIVED_KINDS, Group, GroupKind, GroupMember

#: Who may be a direct member of each kind of group a person manages.
MEMBER_PROFILES = {
    GroupKind.CLASS: {Profile.PUPIL, Profile.TEACHER},
    GroupKind.TEACHING: {Profile.PUPIL, Profile.TEACHER},
    GroupKind.MANUAL: set(SCHOOL_PROFILES),
}
NAME_MAX = 120


def create_school_groups(school: School) -> None:
    """One group per profile, with the school's default communication rules (SPEC §2)."""
    profile_groups = {
        profile: Group(school_id=school.id, kind=GroupKind.SCHOOL_PROFILE, profile=profile)
        for profile in SCHOOL_PROFILES
    }
    db.session.add_all(profile_groups.values())
    db.session.flush()
    rules.apply_school_defaults(profile_groups)


def school_profile_group(school_id: int, profile: Profile) -> Group:
    return db.session.scalars(
        select(Group).where(
            Group.school_id == school_id,
            Group.kind == GroupKind.SCHOOL_PROFILE,
            Group.profile == profile,
        )
    ).one()


def enrol_in_school(user: User) -> None:
    """Put a new user into their school's profile group ('all parents', 'direction'...)."""
    if user.school_id is not None:
        _set_members(school_profile_group(user.school_id, user.profile), add={user.id})
        lists.refresh(user.school_id)


def clean_name(name: str) -> str:
    return one_line("name", name, NAME_MAX, _("Give the group a name."))


def create_group(
    school: School, kind: GroupKind, name: str, profile: Profile | None = None
) -> Group:
    """A class (with its pupils / parents / teachers sub-groups), teaching or manual group, or
    broadcast list. Raises ValidationError for an empty, too long or already used name."""
    if kind in DERIVED_KINDS:
        raise ValueError("profile groups are made with the school")
    name = clean_name(name)
    if kind == GroupKind.BROADCAST_LIST and profile not in SCHOOL_PROFILES:
        raise ValidationError("profile", _("A broadcast list is for one profile."))
    group = Group(school_id=school.id, kind=kind, name=name, profile=profile)
    if name_taken(group, name):
        raise ValidationError("name", _("This school already has a group with this name."))
    db.session.add(group)
    db.session.flush()
    if kind == GroupKind.CLASS:
        subs = {
            sub_profile: Group(
                school_id=school.id,
                kind=GroupKind.CLASS_PROFILE,
                profile=sub_profile,
                class_id=group.id,
            )
            for sub_profile in CLASS_SUB_PROFILES
        }
        db.session.add_all(subs.values())
        db.session.flush()
        rules.apply_class_defaults(subs)
    return group


def name_taken(group: Group, name: str) -> bool:
    """Another current group of the same kind in the school has this name (in any case)."""
    same = [
        Group.school_id == group.school_id,
        Group.kind == group.kind,
        func.lower(Group.name) == name.lower(),
        Group.archived_at.is_(None),
    ]
    if group.id is not None:
        same.append(Group.id != group.id)
    return bool(db.session.scalar(select(func.count()).where(*same)))


def add_member(group: Group, user: User) -> None:
    """Raises ValidationError when the person can't belong to this kind of group."""
    check_member(group, user)
    change_members(group, add={user.id})


def _follow(group: Group) -> None:
    """What follows a change of a group's direct members: a class's profile groups, and the
    broadcast lists defined over the school's classes and teaching groups."""
    if group.kind == GroupKind.CLASS:
        sync_class(group)
    elif group.kind == GroupKind.TEACHING:
        lists.refresh(group.school_id)


def remove_member(group: Group, user: User) -> None:
    if group.kind in DERIVED_KINDS:
        raise ValidationError("user", _("This group's members follow the classes and profiles."))
    change_members(group, remove={user.id})


def check_member(group: Group, user: User) -> None:
    if group.kind in DERIVED_KINDS:
        raise ValidationError("user", _("This group's members follow the classes and profiles."))
    if user.school_id != group.school_id:
        raise ValidationError("user", _("This person belongs to another school."))
    if user.profile not in allowed_profiles(group):
        raise ValidationError("user", _("This profile can't be a member of this group."))


def change_members(group: Group, add: set[int] = frozenset(), remove: set[int] = frozenset()):
    """Add and remove direct members (checked by the caller); what follows them follows."""
    _set_members(group, add, remove)
    _follow(group)


def member_ids(group: Group) -> list[int]:
    return list(
        db.session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == group.id))
    )


def allowed_profiles(group: Group) -> set[str]:
    """Who may be a direct member of the group: a list's profile, or its kind's profiles."""
    if group.kind == GroupKind.BROADCAST_LIST:
        return {group.profile}
    return set(MEMBER_PROFILES.get(group.kind, ()))


def _set_members(group: Group, add: set[int] = frozenset(), remove: set[int] = frozenset()):
    present = set(
        db.session.scalars(
            select(GroupMember.user_id).where(
                GroupMember.group_id == group.id, GroupMember.user_id.in_(add | remove)
            )
        )
    )
    for user_id in add - present:
        db.session.add(GroupMember(group_id=group.id, user_id=user_id))
    gone = remove & present
    if gone:
        db.session.execute(
            delete(GroupMember).where(
                GroupMember.group_id == group.id, GroupMember.user_id.in_(gone)
            )
        )
    if gone or add - present:
        group.members_changed_at = clock.now()
    db.session.flush()


def members(group: Group, *, reachable_only: bool = False) -> list[User]:
    """The group's members; ``reachable_only`` leaves out blocked and deleted people, as every
    list of people shown to the school does (SPEC §1: blocked people are invisible)."""
    query = (
        select(User)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id)
    )
    if reachable_only:
        query = query.where(User.state.not_in(UNREACHABLE))
    return list(db.session.scalars(query.order_by(User.last_name, User.first_name)))


def sub_groups(class_group: Group) -> dict[Profile, Group]:
    rows = db.session.scalars(select(Group).where(Group.class_id == class_group.id))
    return {group.profile: group for group in rows}


def sync_class(class_group: Group) -> None:
    """Pupils, teachers and parents of a class follow its direct members and their guardians."""
    sync_classes([class_group.id])


def sync_classes(class_ids: list[int]) -> None:
    """sync_class() for many classes at once, in a handful of statements whatever their number
    (an import or a rollover touches every class of a school)."""
    if not class_ids:
        return
    direct = db.session.execute(
        select(GroupMember.group_id, User.id, User.profile)
        .join(User, User.id == GroupMember.user_id)
        .where(among(GroupMember.group_id, class_ids))
    ).all()
    pupils_of: dict[int, set[int]] = {}
    wanted: dict[tuple[int, str], set[int]] = {}
    for class_id, user_id, profile in direct:
        if profile in (Profile.PUPIL, Profile.TEACHER):
            wanted.setdefault((class_id, profile), set()).add(user_id)
        if profile == Profile.PUPIL:
            pupils_of.setdefault(user_id, set()).add(class_id)
    if pupils_of:
        for pupil_id, parent_id in db.session.execute(
            select(Guardianship.pupil_id, Guardianship.parent_id).where(
                among(Guardianship.pupil_id, list(pupils_of))
            )
        ):
            for class_id in pupils_of[pupil_id]:
                wanted.setdefault((class_id, Profile.PARENT), set()).add(parent_id)
    subs = {
        group_id: (class_id, profile)
        for group_id, class_id, profile in db.session.execute(
            select(Group.id, Group.class_id, Group.profile).where(among(Group.class_id, class_ids))
        )
    }
    current: dict[int, set[int]] = {group_id: set() for group_id in subs}
    if subs:
        for group_id, user_id in db.session.execute(
            select(GroupMember.group_id, GroupMember.user_id).where(
                among(GroupMember.group_id, list(subs))
            )
        ):
            current[group_id].add(user_id)
    added = []
    for group_id, key in subs.items():
        members = wanted.get(key, set())
        added += [{"group_id": group_id, "user_id": u} for u in members - current[group_id]]
        gone = current[group_id] - members
        if gone:
            db.session.execute(
                delete(GroupMember).where(
                    GroupMember.group_id == group_id, among(GroupMember.user_id, list(gone))
                )
            )
    for start in range(0, len(added), 5000):
        db.session.execute(insert(GroupMember), added[start : start + 5000])
    db.session.flush()
    for school_id in set(
        db.session.scalars(select(Group.school_id).where(among(Group.id, class_ids)))
    ):
        lists.refresh(school_id)


def classes_of(user: User) -> list[Group]:
    return groups_of(user, GroupKind.CLASS)


def groups_of(user: User, kind: GroupKind) -> list[Group]:
    return list(
        db.session.scalars(
            select(Group)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(GroupMember.user_id == user.id, Group.kind == kind)
            .order_by(Group.name)
        )
    )


def sync_pupil(pupil: User) -> None:
    """After a pupil's guardians change: the parents' groups of each of their classes."""
    sync_classes([class_group.id for class_group in classes_of(pupil)])


def school_groups(school_id: int, kind: GroupKind) -> list[Group]:
    """The school's groups of this kind for the current year (archived ones are left out)."""
    return list(
        db.session.scalars(
            select(Group)
            .where(Group.school_id == school_id, Group.kind == kind, Group.archived_at.is_(None))
            .order_by(Group.name, Group.profile)
        )
    )


def member_counts(group_ids: list[int]) -> dict[int, int]:
    """How many people each group has, blocked accounts not counted, in one query."""
    rows = db.session.execute(
        select(GroupMember.group_id, func.count())
        .join(User, User.id == GroupMember.user_id)
        .where(GroupMember.group_id.in_(group_ids), User.state.not_in(UNREACHABLE))
        .group_by(GroupMember.group_id)
    )
    return dict(rows.all())
