"""Reading the audit log back: the direction reads its school's entries, the webmaster every
entry of the platform; filtered by actor, kind and dates, newest first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import or_, select

from portal.accounts.models import AccountState, School, User
from portal.accounts.services import name_filter
from portal.core.audit import AuditEntry
from portal.extensions import db
from portal.groups.models import Group

PAGE_SIZE = 50
#: Rows read at a time when the whole log is exported.
EXPORT_CHUNK = 500
#: In the webmaster's school filter: entries of the platform itself (no school).
PLATFORM = "platform"
#: Keys of details that name a person, and a group, by id.
PERSON_KEYS = frozenset({"person_id", "pupil_id", "guardian_id", "user_id", "direction_id"})
PERSON_LISTS = frozenset({"user_ids", "added", "removed"})
GROUP_KEYS = frozenset({"group_id", "source_group_id", "target_group_id"})
#: Names listed in full before 'and N others'.
NAMES_SHOWN = 10
#: Keys whose value maps group ids to internal communication on or off.
GROUP_MAPS = frozenset({"internal_before", "internal_after"})


@dataclass(frozen=True)
class Search:
    """Which entries to read. ``school`` is a school's id, ``PLATFORM`` for the platform's own
    entries, or None for every entry (the webmaster only); ``since`` and ``until`` are UTC,
    ``until`` excluded."""

    school: int | str | None
    actor: str = ""
    tag: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    #: Only entries written before this one (an export leaves itself out).
    before_id: int | None = None


@dataclass(frozen=True)
class Line:
    """An entry with its actor (None for the platform) and its school's name."""

    entry: AuditEntry
    actor: User | None
    school_name: str | None


def _query(search: Search):
    query = (
        select(AuditEntry, User, School.name)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .outerjoin(School, School.id == AuditEntry.school_id)
    )
    if search.school == PLATFORM:
        query = query.where(AuditEntry.school_id.is_(None))
    elif search.school is not None:
        query = query.where(AuditEntry.school_id == search.school)
    words = search.actor.split()[:5]
    if words:
        # A former user's name is not searched: the log shows them as 'Former user'.
        query = query.where(User.state != AccountState.DELETED)
    for word in words:
        query = query.where(or_(*name_filter(word), User.login.like(f"%{word.lower()}%")))
    if search.tag:
        query = query.where(AuditEntry.tag == search.tag)
    if search.since is not None:
        query = query.where(AuditEntry.created_at >= search.since)
    if search.until is not None:
        query = query.where(AuditEntry.created_at < search.until)
    if search.before_id is not None:
        query = query.where(AuditEntry.id < search.before_id)
    return query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


def page_of(search: Search, page: int = 1) -> tuple[list[Line], bool]:
    """One page of entries, newest first, as (lines, has_next)."""
    rows = db.session.execute(
        _query(search).offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    ).all()
    return [Line(*row) for row in rows[:PAGE_SIZE]], len(rows) > PAGE_SIZE


def every_line(search: Search) -> Iterator[Line]:
    """Every entry the search finds, newest first, read a chunk at a time (an export)."""
    result = db.session.execute(_query(search).execution_options(yield_per=EXPORT_CHUNK))
    for row in result:
        yield Line(*row)


def names_of(lines: list[Line], school_id: int | None) -> tuple[dict[int, User], dict[int, Group]]:
    """The people and groups the entries' details name by id, in two queries; with a
    ``school_id``, only that school's (an admin never learns another school's names)."""
    people: set[int] = set()
    groups: set[int] = set()
    for line in lines:
        for key, value in (line.entry.details or {}).items():
            if key in PERSON_KEYS and isinstance(value, int):
                people.add(value)
            elif key in PERSON_LISTS and isinstance(value, list):
                people.update(i for i in value[: NAMES_SHOWN + 1] if isinstance(i, int))
            elif key in GROUP_KEYS and isinstance(value, int):
                groups.add(value)
            elif key in GROUP_MAPS and isinstance(value, dict):
                groups.update(int(k) for k in value if str(k).isdigit())
    found_people = select(User).where(User.id.in_(people))
    found_groups = select(Group).where(Group.id.in_(groups))
    if school_id is not None:
        found_people = found_people.where(User.school_id == school_id)
        found_groups = found_groups.where(Group.school_id == school_id)
    return (
        {user.id: user for user in db.session.scalars(found_people)} if people else {},
        {group.id: group for group in db.session.scalars(found_groups)} if groups else {},
    )
