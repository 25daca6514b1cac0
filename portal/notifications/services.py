"""notify(), the one entry point of every producer, and the person's choices (SPEC §4).

notify() decides whom to tell and opens or updates their pending notification, in the
producer's transaction. Delivery happens later, in a worker (portal.notifications.jobs).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Row, func, literal, select, text, update

from portal.accounts.models import UNREACHABLE, Profile, School, User
from portal.core import clock
from portal.core.db import among, insert_new
from portal.extensions import db
from portal.notifications import schedule, types
from portal.notifications.models import (
    Notification,
    NotificationState,
    NotificationTiming,
    Subscription,
)
from portal.notifications.timing import due_at
from portal.notifications.types import Channel, Grouping

#: Who may force an e-mail to families: the direction, and the staff for flash messages.
MAY_FORCE = frozenset({Profile.ADMIN, Profile.STAFF})
#: A listing notification keeps this many of its latest events (it counts them all).
LIST_KEEP = 20
#: The unique index on open windows (models.Notification), as ON CONFLICT names it: naming it
#: spares the database a check of the primary key for every row inserted.
_OPEN_WINDOW = {
    "index_elements": ["recipient_id", "type", "subject_key"],
    "index_where": text("state = 'open'"),
}


@dataclass(frozen=True)
class Author:
    """Who caused an event, as notify() needs it: a producer that commits between calls passes
    this rather than a User, which each commit would make it load again."""

    id: int
    profile: str

    @classmethod
    def of(cls, user: User) -> Author:
        return cls(user.id, user.profile)


def _recipient_ids(recipients: Iterable[User | int]) -> list[int]:
    return sorted({r if isinstance(r, int) else r.id for r in recipients})


def admin_ids(school_id: int, active_only: bool = False) -> list[int]:
    """The ids of a school's direction (its administrators); with ``active_only``, those who
    can log in and read (activated, not blocked)."""
    query = select(User.id).where(User.school_id == school_id, User.profile == Profile.ADMIN)
    if active_only:
        query = query.where(User.state == "active")
    return list(db.session.scalars(query))


def tell_admins(type_key: str, school_id: int, subject_key: str, payload: dict, author=None):
    """Notify the school's direction (the author, when one of them, is left out by notify())."""
    return notify(type_key, admin_ids(school_id), subject_key, payload, author=author)


def notify(
    type_key: str,
    recipients: Iterable[User | int],
    subject_key: str,
    payload: dict,
    *,
    author: User | Author | None = None,
    discreet: bool = False,
    visible_from: dt.datetime | None = None,
    forced: bool = False,
) -> int:
    """Tell ``recipients`` about an event on ``subject_key``; returns how many will be told.

    Discreet mode tells nobody. The author is never told of their own action, blocked people
    and people the type does not concern are left out, and so is anyone whose choice is
    'none' unless the direction forces an e-mail (which never overrides a refusal of all
    e-mail, SPEC §4). Batched types fold the event into the recipient's open window on the same
    subject. Raises ValueError when the producer asks for what the type does not allow.

    A handful of statements whatever the number of recipients: each takes the ids in one
    parameter (among()). A producer with very many passes them in batches, as the delivery of
    a message does (MESSAGE_DELIVERY_BATCH)."""
    kind = types.get(type_key)
    if discreet and not kind.discreet:
        raise ValueError(f"{type_key} has no discreet mode")
    if forced and not (kind.forcible and author is not None and author.profile in MAY_FORCE):
        raise ValueError(f"{type_key} can't be forced by this author")
    if visible_from is not None and not kind.waits_for_visibility:
        raise ValueError(f"{type_key} does not wait for visibility")
    missing = [key for key in kind.needs if key not in payload]
    if missing:
        raise ValueError(f"{type_key} needs {missing} in its payload")
    if discreet:
        return 0
    ids = [i for i in _recipient_ids(recipients) if author is None or i != author.id]
    people = _people(kind, ids, forced) if ids else {}
    if not people:
        return 0
    pending = people
    for _attempt in range(3):
        pending = _fold_events(kind, pending, subject_key, payload, author, visible_from, forced)
        if not pending:
            return len(people)
    raise RuntimeError("could not open notification windows")


def _people(kind: types.NotificationType, ids: list[int], forced: bool) -> dict[int, dict]:
    """The recipients to tell, with their choice, time zone and digest hour."""
    rows = db.session.execute(
        select(
            User.id,
            User.profile,
            User.refuses_email,
            School.timezone,
            Subscription.channel,
            NotificationTiming.digest_hour,
        )
        .outerjoin(School, School.id == User.school_id)
        .outerjoin(
            Subscription, (Subscription.user_id == User.id) & (Subscription.type == kind.key)
        )
        .outerjoin(NotificationTiming, NotificationTiming.user_id == User.id)
        .where(among(User.id, ids), User.state.not_in(UNREACHABLE))
    ).all()
    people = {}
    #: the choice is the same for everyone with the same profile, saved choice and refusal
    decided: dict[tuple[str, str | None, bool], Channel | None] = {}
    for user_id, profile, refuses, zone, chosen, digest_hour in rows:
        alike = (profile, chosen, refuses)
        if alike not in decided:
            decided[alike] = _channel_for(kind, profile, chosen, refuses, forced)
        choice = decided[alike]
        if choice is None:
            continue
        people[user_id] = {
            "choice": choice,
            "zone": zone or "UTC",
            "digest_hour": 18 if digest_hour is None else digest_hour,
        }
    return people


def _channel_for(
    kind, profile: str, chosen: str | None, refuses: bool, forced: bool
) -> Channel | None:
    """How a person is told, or None when they are not: the type must concern their profile,
    and 'none' tells nobody unless the direction forces an e-mail they have not refused."""
    if not kind.concerns(profile):
        return None
    choice = Channel(chosen) if chosen in kind.choices() else kind.default_for(profile)
    if choice == Channel.NONE and not (forced and not refuses):
        return None
    return choice


def _fold_events(kind, people, subject_key, payload, author, visible_from, forced) -> dict:
    """Fold the event into each person's open window, or open one; returns the people whose
    window another transaction opened meanwhile (to fold into it on a second pass)."""
    now = clock.now()
    window = dt.timedelta(seconds=current_app.config["NOTIFICATION_WINDOW"])
    waiting = _open_windows(kind, list(people), subject_key) if kind.batched else {}
    #: the windows to open, grouped by channel and due time: one INSERT per group
    opening: dict[tuple[Channel, dt.datetime], list[int]] = defaultdict(list)
    #: the windows that absorb this event, grouped by what they become: one UPDATE per group
    absorbing: dict[tuple[str, dt.datetime | None], list[int]] = defaultdict(list)
    #: people with the same digest hour and time zone have the same due time
    due_for: dict[tuple[int | None, str], dt.datetime] = {}
    for user_id, person in people.items():
        window_row = waiting.get(user_id)
        if window_row is not None:
            absorbing[_absorbed(kind, window_row, payload, window, visible_from, person)].append(
                window_row.id
            )
            continue
        daily_hour = person["digest_hour"] if person["choice"] == Channel.DAILY else None
        alike = (daily_hour, person["zone"])
        if alike not in due_for:
            due_for[alike] = due_at(
                now,
                batched=kind.batched,
                window=window,
                daily_hour=daily_hour,
                zone=person["zone"],
                visible_from=visible_from,
            )
        opening[person["choice"], due_for[alike]].append(user_id)
    for (_chosen, due), ids in opening.items():
        _remember_flushes(due, ids)
    _absorb(absorbing, forced, now)
    window_values = {
        "type": kind.key,
        "subject_key": subject_key,
        "author_id": author.id if author else None,
        "state": NotificationState.OPEN if kind.batched else NotificationState.QUEUED,
        "forced": forced,
        "payload": {"items": [payload]} if kind.grouping == Grouping.LIST else payload,
        "events": 1,
        "opened_at": now,
        "updated_at": now,
    }
    return {user_id: people[user_id] for user_id in _open(opening, window_values)}


def _absorb(
    absorbing: dict[tuple[str, dt.datetime | None], list[int]], forced: bool, now: dt.datetime
) -> None:
    """Open windows take in the event: one UPDATE per (content, due time) they become."""
    for (content, due), ids in absorbing.items():
        values = {
            "payload": json.loads(content),
            "events": Notification.events + 1,
            "updated_at": now,
        }
        if forced:
            values["forced"] = True
        if due is not None:
            values["due_at"] = due
        db.session.execute(
            update(Notification)
            .where(among(Notification.id, ids))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _remember_flushes(due: dt.datetime, recipient_ids: list[int]) -> None:
    """A flush job serves a whole shard: one note per shard that has someone due then."""
    noted: dict[int, int] = {}
    every_shard = current_app.config["NOTIFICATION_SHARDS"]
    for user_id in recipient_ids:
        noted.setdefault(schedule.shard_of(user_id), user_id)
        if len(noted) == every_shard:
            break  # the other people add nothing
    for user_id in noted.values():
        schedule.remember(due, user_id)


def _open(opening: dict[tuple[Channel, dt.datetime], list[int]], values: dict) -> list[int]:
    """Insert the new windows, ``values`` in each: one INSERT … SELECT per (channel, due time)
    group, its ids in one parameter (among()) rather than a row each. Returns the people whose
    window a concurrent transaction opened first (the unique index on open windows): nothing
    is inserted for them."""
    table = Notification.__table__
    opened: set[int] = set()
    for (channel, due), ids in opening.items():
        constants = {**values, "channel": channel, "due_at": due}
        rows = select(
            User.school_id,
            User.id,
            *(literal(value, table.c[name].type) for name, value in constants.items()),
        ).where(among(User.id, ids))
        statement = (
            insert_new(table)
            .from_select(["school_id", "recipient_id", *constants], rows)
            .on_conflict_do_nothing(**_OPEN_WINDOW)
            .returning(table.c.recipient_id)
        )
        opened.update(db.session.execute(statement).scalars())
    return [user_id for ids in opening.values() for user_id in ids if user_id not in opened]


def _open_windows(kind, recipient_ids: list[int], subject_key: str) -> dict[int, Row]:
    """The recipients' open windows on this subject, locked until the producer commits."""
    rows = db.session.execute(
        select(
            Notification.id,
            Notification.recipient_id,
            Notification.payload,
            Notification.channel,
            Notification.opened_at,
            Notification.due_at,
        )
        .where(
            among(Notification.recipient_id, recipient_ids),
            Notification.type == kind.key,
            Notification.subject_key == subject_key,
            Notification.state == NotificationState.OPEN,
        )
        .with_for_update()
    )
    return {row.recipient_id: row for row in rows}


def _absorbed(kind, window_row, payload, window, visible_from, person):
    """What an open window becomes with one more event: its content (as JSON text, so that
    windows which become the same are updated together) and its new due time, if it moved."""
    if kind.grouping == Grouping.LIST:
        content = {"items": [*window_row.payload.get("items", []), payload][-LIST_KEEP:]}
    else:
        content = payload
    moved = None
    if visible_from is not None:
        # The content's visible-from date moved: the window waits for the new one.
        due = due_at(
            window_row.opened_at,
            batched=True,
            window=window,
            daily_hour=person["digest_hour"] if window_row.channel == Channel.DAILY else None,
            zone=person["zone"],
            visible_from=visible_from,
        )
        if due != window_row.due_at:
            moved = due
            schedule.remember(due, window_row.recipient_id)
    return json.dumps(content, sort_keys=True), moved


def _pending_on(type_key: str, subject_key: str):
    return (
        Notification.type == type_key,
        Notification.subject_key == subject_key,
        Notification.state.in_([NotificationState.OPEN, NotificationState.QUEUED]),
    )


def withdraw(
    type_key: str,
    subject_key: str,
    *,
    keep: Iterable[int] = (),
    due_from: dt.datetime | None = None,
) -> int:
    """Content deleted, or people left out of its audience, before their notifications left:
    nobody (but the people in ``keep``) is told about it any more. With ``due_from``, only
    what would leave from then on is withdrawn (content that will have expired by then)."""
    query = update(Notification).where(*_pending_on(type_key, subject_key))
    kept = sorted(set(keep))
    if kept:
        query = query.where(~among(Notification.recipient_id, kept))
    if due_from is not None:
        query = query.where(Notification.due_at >= due_from)
    return db.session.execute(
        query.values(state=NotificationState.CANCELLED, updated_at=clock.now()).execution_options(
            synchronize_session=False
        )
    ).rowcount


def postpone(type_key: str, subject_key: str, visible_from: dt.datetime) -> int:
    """The content's visible-from date moved without anyone being told of the change
    (discreet mode): what is still pending about it waits for the new date all the same."""
    kind = types.get(type_key)
    if not kind.waits_for_visibility:
        raise ValueError(f"{type_key} does not wait for visibility")
    window = dt.timedelta(seconds=current_app.config["NOTIFICATION_WINDOW"])
    rows = db.session.execute(
        select(
            Notification.id,
            Notification.recipient_id,
            Notification.opened_at,
            Notification.due_at,
            Notification.channel,
            School.timezone,
            NotificationTiming.digest_hour,
        )
        .join(User, User.id == Notification.recipient_id)
        .outerjoin(School, School.id == User.school_id)
        .outerjoin(NotificationTiming, NotificationTiming.user_id == User.id)
        .where(*_pending_on(type_key, subject_key))
        .with_for_update(of=Notification)
    ).all()
    moved: dict[dt.datetime, list[int]] = defaultdict(list)
    for row in rows:
        daily = row.channel == Channel.DAILY
        due = due_at(
            row.opened_at,
            batched=kind.batched,
            window=window,
            daily_hour=(18 if row.digest_hour is None else row.digest_hour) if daily else None,
            zone=row.timezone or "UTC",
            visible_from=visible_from,
        )
        if due != row.due_at:
            moved[due].append(row.id)
            schedule.remember(due, row.recipient_id)
    for due, ids in moved.items():
        db.session.execute(
            update(Notification)
            .where(among(Notification.id, ids))
            .values(due_at=due, updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )
    return sum(len(ids) for ids in moved.values())


# --- reading ----------------------------------------------------------------------------------


def unread_count(user: User) -> int:
    """The home-page counter: delivered to the home page and not consulted yet."""
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.recipient_id == user.id,
            Notification.state == NotificationState.DELIVERED,
            Notification.channel == Channel.HOMEPAGE,
            Notification.read_at.is_(None),
        )
    )


def received(user: User, page: int = 1, per_page: int = 20) -> tuple[list[Notification], bool]:
    """'Notifications received': every delivered notification, unread first, newest first;
    returns the page and whether there is another."""
    rows = list(
        db.session.scalars(
            select(Notification)
            .where(
                Notification.recipient_id == user.id,
                Notification.state == NotificationState.DELIVERED,
            )
            .order_by(
                Notification.read_at.is_not(None),
                Notification.delivered_at.desc(),
                Notification.id.desc(),
            )
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page


def mark_read(user: User, notification: Notification | None = None) -> int:
    """Mark one notification, or all of the person's, as consulted."""
    query = update(Notification).where(
        Notification.recipient_id == user.id,
        Notification.state == NotificationState.DELIVERED,
        Notification.read_at.is_(None),
    )
    if notification is not None:
        query = query.where(Notification.id == notification.id)
    return db.session.execute(
        query.values(read_at=clock.now()).execution_options(synchronize_session="fetch")
    ).rowcount
