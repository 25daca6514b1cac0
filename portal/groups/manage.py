"""Groups the direction makes (SPEC §13, seed 003): manual and teaching groups and broadcast
lists, created, renamed, filled, archived with the school year and deleted, each change audited
with what it was before and after.

A manual group has no communication rule when it is made (seed 003): the direction opens its
rules in the rules console, where it appears at once. Deleting a group takes its rules and its
members with it, after a preview of who loses the right to write to whom; the group's row stays,
out of every screen, so that the messages which named it keep showing its name.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from portal.accounts.models import UNREACHABLE, Guardianship, Profile, School, User
from portal.core import clock
from portal.core.audit import AuditTag, record
from portal.core.db import among
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups import impact, lists, services
from portal.groups.defaults import Changes
from portal.groups.models import CommunicationRule, Group, GroupKind, GroupMember

#: The kinds of group made on these screens.
MADE_KINDS = (GroupKind.MANUAL, GroupKind.TEACHING, GroupKind.BROADCAST_LIST)
DESCRIPTION_MAX = 500
#: How many logins or national identifiers one paste may hold.
PASTE_MAX = 3000
_SEPARATORS = re.compile(r"[\s,;]+")


def _description(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise ValidationError("description", _("At most %(n)d characters.", n=DESCRIPTION_MAX))
    return text


def facts(group: Group) -> dict:
    """What the audit log keeps of a group, before and after a change."""
    return {"name": group.name, "description": group.description}


def create(
    actor: User,
    school: School,
    kind: GroupKind,
    name: str,
    description: str = "",
    profile: Profile | None = None,
) -> Group:
    """A manual or teaching group, or a broadcast list (``profile=``); raises ValidationError
    for an empty, too long or already used name, or a list without a profile."""
    if kind not in MADE_KINDS:
        raise ValueError(kind)
    description = _description(description)
    # Only a list has a profile; a group's is left aside, whatever the form said.
    group = services.create_group(
        school, kind, name, profile if kind == GroupKind.BROADCAST_LIST else None
    )
    group.description = description
    db.session.flush()
    record(
        actor,
        AuditTag.GROUP_CREATED,
        school.id,
        group_id=group.id,
        kind=group.kind,
        profile=group.profile,
        **facts(group),
    )
    return group


def change(actor: User, group: Group, name: str, description: str) -> None:
    """Rename the group and change its description; nothing changed, nothing written."""
    errors: dict[str, str] = {}
    try:
        name = services.clean_name(name)
    except ValidationError as error:
        errors.update(error.errors)
    try:
        description = _description(description)
    except ValidationError as error:
        errors.update(error.errors)
    if not errors and name.lower() != group.name.lower() and services.name_taken(group, name):
        errors["name"] = _("This school already has a group with this name.")
    if errors:
        raise ValidationError.of(errors)
    before = facts(group)
    group.name, group.description = name, description
    after = facts(group)
    if before != after:
        db.session.flush()
        record(
            actor,
            AuditTag.GROUP_CHANGED,
            group.school_id,
            group_id=group.id,
            before=before,
            after=after,
        )


def _picked_by_hand(group: Group) -> None:
    """A list that follows its rule takes no member by hand (ValidationError)."""
    if group.kind == GroupKind.BROADCAST_LIST and group.list_defined:
        raise ValidationError("user", _("This list follows its rule: change the rule instead."))


def add_people(actor: User, group: Group, people: list[User]) -> int:
    """Add these people (each allowed in this kind of group: ValidationError otherwise, nothing
    added); returns how many were not members yet."""
    _picked_by_hand(group)
    for person in people:
        services.check_member(group, person)
    present = set(services.member_ids(group))
    new = sorted({person.id for person in people} - present)
    if not new:
        return 0
    services.change_members(group, add=set(new))
    record(actor, AuditTag.GROUP_MEMBERS_CHANGED, group.school_id, group_id=group.id, added=new)
    return len(new)


def remove_people(actor: User, group: Group, user_ids: list[int]) -> int:
    _picked_by_hand(group)
    gone = sorted(set(user_ids) & set(services.member_ids(group)))
    if gone:
        services.change_members(group, remove=set(gone))
        record(
            actor, AuditTag.GROUP_MEMBERS_CHANGED, group.school_id, group_id=group.id, removed=gone
        )
    return len(gone)


def people_of(school_id: int, profile: Profile, group_id: int | None) -> list[User]:
    """The people of this profile in a class or teaching group (parents: the guardians of its
    pupils), or in the whole school; blocked and deleted people left out."""
    if group_id is None:
        query = select(User).where(User.school_id == school_id, User.profile == profile)
    else:
        pupils_and_teachers = select(GroupMember.user_id).where(GroupMember.group_id == group_id)
        if profile == Profile.PARENT:
            ids = select(Guardianship.parent_id).where(
                Guardianship.pupil_id.in_(pupils_and_teachers)
            )
        else:
            ids = pupils_and_teachers
        query = select(User).where(User.id.in_(ids), User.profile == profile)
    query = query.where(User.state.not_in(UNREACHABLE))
    return list(db.session.scalars(query.order_by(User.last_name, User.first_name)))


@dataclass
class Pasted:
    """What a pasted list of logins or national identifiers names."""

    found: list[User] = field(default_factory=list)
    #: Words that name nobody of the school.
    unknown: list[str] = field(default_factory=list)
    #: People found who can't be members of this group, with the reason.
    refused: list[tuple[User, str]] = field(default_factory=list)


def read_pasted(group: Group, text: str) -> Pasted:
    """Logins or national identifiers (INE), one per line or separated by commas, semicolons
    or spaces, looked up among the school's people."""
    words = list(dict.fromkeys(w for w in _SEPARATORS.split(text or "") if w))
    if not words:
        raise ValidationError("text", _("Paste at least one login or national identifier."))
    if len(words) > PASTE_MAX:
        raise ValidationError("text", _("At most %(n)d people at a time.", n=PASTE_MAX))
    lowered = [w.lower() for w in words]
    people = db.session.scalars(
        select(User).where(
            User.school_id == group.school_id,
            User.state != "deleted",
            or_(
                func.lower(User.login).in_(lowered),
                func.upper(User.national_id).in_([w.upper() for w in words]),
            ),
        )
    ).all()
    by_word: dict[str, User] = {}
    for person in people:
        by_word[person.login.lower()] = person
        if person.national_id:
            by_word[person.national_id.lower()] = person
    result = Pasted()
    seen: set[int] = set()
    for word in words:
        person = by_word.get(word.lower())
        if person is None:
            result.unknown.append(word)
        elif person.id not in seen:
            seen.add(person.id)
            try:
                services.check_member(group, person)
            except ValidationError as error:
                result.refused.append((person, error.errors["user"]))
            else:
                result.found.append(person)
    return result


def school_year(day: dt.date) -> str:
    """The school year ``day`` falls in: in December 2026 or June 2027, '2026-2027'."""
    start = day.year - 1 if day.month < 9 else day.year
    return f"{start}-{start + 1}"


def end_groups(group_ids: list[int], **values) -> None:
    """What archiving or deleting does to groups: their rules and members go, internal
    communication is off; ``values`` are written on them (archived_at is set)."""
    db.session.execute(
        delete(CommunicationRule).where(
            or_(
                among(CommunicationRule.source_group_id, group_ids),
                among(CommunicationRule.target_group_id, group_ids),
            )
        )
    )
    db.session.execute(delete(GroupMember).where(among(GroupMember.group_id, group_ids)))
    db.session.execute(
        update(Group)
        .where(among(Group.id, group_ids))
        .values(archived_at=clock.now(), internal=False, **values)
    )
    db.session.flush()
    db.session.expire_all()


def _rule_pairs(group: Group) -> frozenset[tuple[int, int]]:
    return frozenset(
        (source, target)
        for source, target in db.session.execute(
            select(CommunicationRule.source_group_id, CommunicationRule.target_group_id).where(
                or_(
                    CommunicationRule.source_group_id == group.id,
                    CommunicationRule.target_group_id == group.id,
                )
            )
        ).all()
    )


def ending_impact(group: Group) -> impact.Impact:
    """Who loses the right to write to whom when the group ends (archived or deleted): every
    rule from or to it, and its internal communication."""
    internal = frozenset({group.id}) if group.internal else frozenset()
    return impact.of(Changes(removed=_rule_pairs(group), internal_off=internal))


def _ending(actor: User, group: Group, tag: AuditTag, **values) -> None:
    """End the group (end_groups, writing ``values``), audited with what it had."""
    details = {
        "group_id": group.id,
        "kind": group.kind,
        "name": group.name,
        "members": len(services.member_ids(group)),
        "rules": len(_rule_pairs(group)),
        "internal": group.internal,
    }
    school_id = group.school_id
    end_groups([group.id], **values)
    record(actor, tag, school_id, **details, school_year=values.get("school_year"))
    lists.refresh(school_id)


def archive(actor: User, group: Group) -> None:
    """Archive the group with the school year under way; it stays readable where it was used."""
    if group.archived_at is not None:
        raise ValidationError("group", _("This group is archived already."))
    _ending(
        actor,
        group,
        AuditTag.GROUP_ARCHIVED,
        school_year=school_year(clock.today(group.school.timezone)),
    )


def delete_group(actor: User, group: Group) -> None:
    """Delete the group: its rules and members go; the messages that named it keep its name."""
    _ending(actor, group, AuditTag.GROUP_DELETED, deleted_at=clock.now())


def _list_terms(group: Group) -> dict:
    """A list's rule as the audit log keeps it."""
    return {
        "defined": group.list_defined,
        "sources": [g.name for g in lists.sources(group)] if group.list_defined else [],
        "rank": group.list_rank,
    }


def set_list_rule(
    actor: User, group: Group, *, defined: bool, source_ids: list[int], rank: int | None
) -> None:
    """Make a broadcast list follow a rule (its profile in these classes and teaching groups,
    or in the whole school; for parents, guardians of one rank if given) or be fixed. Raises
    ValidationError for a class or group that is not one of the school's current ones, or a
    rank that is neither 1 nor 2."""
    if group.kind != GroupKind.BROADCAST_LIST:
        raise ValueError("only broadcast lists follow a rule")
    if rank not in (None, 1, 2):
        raise ValidationError("rank", _("Choose guardian 1, guardian 2 or both."))
    if source_ids:
        current = set(
            db.session.scalars(
                select(Group.id).where(
                    among(Group.id, source_ids),
                    Group.school_id == group.school_id,
                    Group.kind.in_((GroupKind.CLASS, GroupKind.TEACHING)),
                    Group.archived_at.is_(None),
                )
            )
        )
        if set(source_ids) - current:
            raise ValidationError("sources", _("Choose among the school's classes and groups."))
    before = _list_terms(group)
    if defined:
        lists.define(group, source_ids, rank)
    else:
        lists.make_fixed(group)
    after = _list_terms(group)
    if before != after:
        record(
            actor,
            AuditTag.LIST_RULE_CHANGED,
            group.school_id,
            group_id=group.id,
            before=before,
            after=after,
        )
