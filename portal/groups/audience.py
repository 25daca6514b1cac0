"""Whom a piece of content is for: profiles, across the whole school or within some classes and
teaching groups (SPEC §3 flash messages, §5 announcements).

An audience is a set of targets, each a profile with a group (a class or a teaching group) or
with none for the whole school. Pupils and teachers of a group are its members; parents of a
group are the guardians of its pupils; staff and the direction are reached school-wide only. A
parent whose child is in another school is reached by that school's school-wide targets for
parents as well as by their own school's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import ForeignKey, String, and_, exists, or_, select, union
from sqlalchemy.orm import Mapped, aliased, mapped_column

from portal.accounts.models import SCHOOL_PROFILES, UNREACHABLE, Guardianship, Profile, User
from portal.core.db import among
from portal.extensions import db
from portal.groups.models import Group, GroupKind, GroupMember

#: The profiles a group narrows down; the others are reached school-wide.
GROUP_PROFILES = (Profile.PUPIL, Profile.PARENT, Profile.TEACHER)
#: The groups an audience may name.
GROUP_KINDS = (GroupKind.CLASS, GroupKind.TEACHING)


@dataclass(frozen=True, order=True)
class Target:
    profile: Profile
    #: A class or teaching group; None for the whole school.
    group_id: int | None


class AudienceRow:
    """A table of targets, one row each, of a piece of content (an announcement, a flash
    message): the content's table has an ``audience_rows`` relationship to it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    profile: Mapped[str] = mapped_column(String(10))
    #: A class or teaching group; None for the whole school.
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("school_group.id", ondelete="CASCADE"), index=True
    )


class HasAudience:
    """Content whose ``audience_rows`` say whom it is for."""

    audience_rows: list

    @property
    def audience(self) -> frozenset[Target]:
        return frozenset(Target(row.profile, row.group_id) for row in self.audience_rows)

    def rows_for(self, audience: Iterable[Target], row_type) -> list:
        """The rows for ``audience``, keeping the existing ones that stay."""
        kept = {Target(row.profile, row.group_id): row for row in self.audience_rows}
        return [
            kept.get(target) or row_type(profile=target.profile, group_id=target.group_id)
            for target in sorted(audience, key=lambda t: (t.profile, t.group_id or 0))
        ]


def targets(profiles: Iterable[str], group_ids: Iterable[int]) -> frozenset[Target]:
    """The targets for these profiles: within each group for pupils, parents and teachers when
    groups are named, else school-wide (staff and the direction always are)."""
    groups = sorted(set(group_ids))
    result = set()
    for profile in map(Profile, profiles):
        if profile in GROUP_PROFILES and groups:
            result.update(Target(profile, group_id) for group_id in groups)
        else:
            result.add(Target(profile, None))
    return frozenset(result)


def checked_targets(
    author: User, profiles: Iterable[str], group_ids: Iterable[int], errors: dict[str, str]
) -> frozenset[Target]:
    """The audience an author asks for, checked: at least one profile; only groups the author
    may address (groups_for_author); a teacher addresses the classes and groups they teach,
    never the whole school. What is wrong goes in ``errors`` under 'profiles' or 'groups'."""
    profiles = [p for p in profiles if p in SCHOOL_PROFILES]
    group_ids = set(group_ids)
    if not profiles:
        errors["profiles"] = _("Choose at least one profile.")
    allowed = {group.id for group in groups_for_author(author)}
    if group_ids - allowed:
        errors["groups"] = _("You can't address one of these groups.")
    if author.profile == Profile.TEACHER:
        if not group_ids:
            errors["groups"] = _("Choose the classes or groups you address.")
        if set(profiles) - set(GROUP_PROFILES):
            errors["profiles"] = _("You can address pupils, parents and teachers of your classes.")
    return targets(profiles, group_ids & allowed)


def _not_blocked(user_id_column):
    return user_id_column.in_(select(User.id).where(User.state.not_in(UNREACHABLE)))


def _pupils_of(group_ids: list[int]):
    return (
        select(GroupMember.user_id)
        .join(User, User.id == GroupMember.user_id)
        .where(GroupMember.group_id.in_(group_ids), User.profile == Profile.PUPIL)
    )


def people(school_id: int, audience: Iterable[Target]) -> list[int]:
    """The ids of everyone the audience reaches now (blocked accounts left out), in one query."""
    by_profile: dict[Profile, list[int | None]] = defaultdict(list)
    for target in audience:
        by_profile[target.profile].append(target.group_id)
    parts = []
    for profile, group_ids in by_profile.items():
        named = [g for g in group_ids if g is not None]
        if None in group_ids:
            parts.append(
                select(User.id).where(User.school_id == school_id, User.profile == profile)
            )
            if profile == Profile.PARENT:
                pupil = aliased(User)
                parts.append(
                    select(Guardianship.parent_id)
                    .join(pupil, pupil.id == Guardianship.pupil_id)
                    .where(pupil.school_id == school_id)
                )
        if named and profile == Profile.PARENT:
            parts.append(
                select(Guardianship.parent_id).where(Guardianship.pupil_id.in_(_pupils_of(named)))
            )
        elif named:
            parts.append(
                select(GroupMember.user_id)
                .join(User, User.id == GroupMember.user_id)
                .where(GroupMember.group_id.in_(named), User.profile == profile)
            )
    if not parts:
        return []
    reached = union(*parts).subquery()
    column = reached.c[reached.c.keys()[0]]
    return sorted(db.session.scalars(select(column).where(_not_blocked(column))))


@dataclass(frozen=True)
class Reach:
    """What reaches one person: the targets they answer to, and, for a parent, the children
    through whom each group and each school reaches them (to label content by child)."""

    profile: Profile
    group_ids: frozenset[int]
    school_ids: frozenset[int]
    children_by_group: dict[int, list[User]] = field(default_factory=dict)
    children_by_school: dict[int, list[User]] = field(default_factory=dict)

    def reached_by(self, audience: Iterable[Target], school_id: int) -> bool:
        return any(
            target.profile == self.profile
            and (
                target.group_id in self.group_ids
                if target.group_id is not None
                else school_id in self.school_ids
            )
            for target in audience
        )

    def children_for(self, audience: Iterable[Target], school_id: int) -> list[User]:
        """The parent's children through whom this audience reaches them, by first name."""
        found: dict[int, User] = {}
        for target in audience:
            if target.profile != self.profile:
                continue
            if target.group_id is None:
                children = self.children_by_school.get(school_id, [])
            else:
                children = self.children_by_group.get(target.group_id, [])
            found.update((child.id, child) for child in children)
        return sorted(found.values(), key=lambda child: (child.first_name, child.id))


def _audience_groups_of(user_ids: list[int]) -> list[tuple[int, int]]:
    """(user id, group id) for the classes and teaching groups these people belong to."""
    return db.session.execute(
        select(GroupMember.user_id, GroupMember.group_id)
        .join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.user_id.in_(user_ids), Group.kind.in_(GROUP_KINDS))
    ).all()


def group_ids_of(user_ids: list[int]) -> dict[int, set[int]]:
    """The classes and teaching groups of each of these people."""
    found: dict[int, set[int]] = defaultdict(set)
    for user_id, group_id in _audience_groups_of(user_ids) if user_ids else []:
        found[user_id].add(group_id)
    return dict(found)


def reach_of(user: User) -> Reach:
    profile = Profile(user.profile)
    schools = {user.school_id} if user.school_id is not None else set()
    if profile == Profile.PARENT:
        children = list(
            db.session.scalars(
                select(User)
                .join(Guardianship, Guardianship.pupil_id == User.id)
                .where(Guardianship.parent_id == user.id)
            )
        )
        by_id = {child.id: child for child in children}
        by_group: dict[int, list[User]] = defaultdict(list)
        for child_id, group_id in _audience_groups_of(list(by_id)) if by_id else []:
            by_group[group_id].append(by_id[child_id])
        by_school: dict[int, list[User]] = defaultdict(list)
        for child in children:
            by_school[child.school_id].append(child)
        return Reach(
            profile,
            frozenset(by_group),
            frozenset(schools | set(by_school)),
            dict(by_group),
            dict(by_school),
        )
    if profile in GROUP_PROFILES:
        groups = frozenset(group_id for _uid, group_id in _audience_groups_of([user.id]))
        return Reach(profile, groups, frozenset(schools))
    return Reach(profile, frozenset(), frozenset(schools))


def reaching(reach: Reach, owner_column, audience_model, content_id, content_school_id):
    """A clause true for content whose audience reaches the person: ``owner_column`` is the
    audience table's column naming the content, ``content_id`` and ``content_school_id`` the
    content's own columns."""
    return exists().where(
        owner_column == content_id,
        audience_model.profile == reach.profile,
        or_(
            audience_model.group_id.in_(sorted(reach.group_ids)),
            and_(
                audience_model.group_id.is_(None),
                content_school_id.in_(sorted(reach.school_ids)),
            ),
        ),
    )


def sections(school_id: int, audience: Iterable[Target]) -> dict[int | None, set[int]]:
    """The people of the audience by class or teaching group, for a list per class: a group
    target puts its people under that group; a school-wide target under their classes (a
    parent under their children's), or under None for people in no class (staff, the
    direction). A person may be under several groups. One query per profile."""
    result: dict[int | None, set[int]] = defaultdict(set)
    named: dict[Profile, list[int]] = defaultdict(list)
    for target in audience:
        if target.group_id is None:
            _by_class(school_id, people(school_id, [target]), target.profile, result)
        else:
            named[target.profile].append(target.group_id)
    for profile, group_ids in named.items():
        for group_id, user_id in _members_by_group(profile, group_ids):
            result[group_id].add(user_id)
    return dict(result)


def _members_by_group(profile: Profile, group_ids: list[int]) -> list[tuple[int, int]]:
    """(group id, user id) for the people of this profile in these groups, blocked accounts
    left out: members, or for parents the guardians of the pupils who are members."""
    if profile == Profile.PARENT:
        query = (
            select(GroupMember.group_id, Guardianship.parent_id)
            .join(Guardianship, Guardianship.pupil_id == GroupMember.user_id)
            .join(User, User.id == GroupMember.user_id)
            .where(User.profile == Profile.PUPIL, _not_blocked(Guardianship.parent_id))
        )
    else:
        query = (
            select(GroupMember.group_id, GroupMember.user_id)
            .join(User, User.id == GroupMember.user_id)
            .where(User.profile == profile, User.state.not_in(UNREACHABLE))
        )
    return db.session.execute(query.where(among(GroupMember.group_id, group_ids))).all()


def _by_class(school_id: int, user_ids: list[int], profile: Profile, into: dict) -> None:
    """Add these people to ``into`` under their classes in this school (parents under their
    children's), or under None."""
    if not user_ids:
        return
    placed: set[int] = set()
    if profile == Profile.PARENT:
        rows = db.session.execute(
            select(Guardianship.parent_id, GroupMember.group_id)
            .join(GroupMember, GroupMember.user_id == Guardianship.pupil_id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(among(Guardianship.parent_id, user_ids), Group.kind == GroupKind.CLASS)
            .where(Group.school_id == school_id)
        ).all()
    else:
        rows = db.session.execute(
            select(GroupMember.user_id, GroupMember.group_id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(among(GroupMember.user_id, user_ids), Group.kind == GroupKind.CLASS)
            .where(Group.school_id == school_id)
        ).all()
    for user_id, group_id in rows:
        into.setdefault(group_id, set()).add(user_id)
        placed.add(user_id)
    rest = set(user_ids) - placed
    if rest:
        into.setdefault(None, set()).update(rest)


def groups_for_author(user: User) -> list[Group]:
    """The classes and teaching groups an author may address: all of the school's for the
    direction and staff, the ones they teach for a teacher, none for anyone else."""
    query = select(Group).where(
        Group.school_id == user.school_id,
        Group.kind.in_(GROUP_KINDS),
        Group.archived_at.is_(None),
    )
    if user.profile == Profile.TEACHER:
        query = query.where(
            Group.id.in_(select(GroupMember.group_id).where(GroupMember.user_id == user.id))
        )
    elif user.profile not in (Profile.ADMIN, Profile.STAFF):
        return []
    return list(db.session.scalars(query.order_by(Group.kind, Group.name)))
