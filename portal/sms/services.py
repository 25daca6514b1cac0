"""SMS to families (SPEC §8, seed 004), a channel: a new SMS, the queue the staff send from,
what holds an SMS back, and reading the SMS of a school. Who may receive one is recipients',
what comes back from the provider is inbound's; what an absence, an alert or a flash message
sends is decided by attendance and messaging.

Every function flushes and never commits; what leaves goes through the outbox."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from portal.accounts.models import School, User
from portal.core import clock, outbox
from portal.core.db import among
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups.models import Group, GroupKind, GroupMember
from portal.notifications.models import NotificationTiming
from portal.notifications.timing import quiet_until
from portal.sms import segments, setup
from portal.sms.models import (
    Sms,
    SmsKind,
    SmsState,
)
from portal.sms.permissions import can_send_sms

# --- what every SMS action may say, and a new SMS ---------------------------------------------


def _class_name(pupil_id: int) -> str:
    return (
        db.session.scalar(
            select(Group.name)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(GroupMember.user_id == pupil_id, Group.kind == GroupKind.CLASS)
            .order_by(Group.name)
            .limit(1)
        )
        or ""
    )


def values_on(day: dt.date, pupil: User, school: School) -> dict[str, str]:
    """What any SMS action's text may say (setup.COMMON): the pupil, their class, the day."""
    with force_locale(school.default_language):
        date = format_date(day, "short")
    return {
        "pupil": pupil.display_name,
        "first_name": pupil.first_name,
        "class": _class_name(pupil.id),
        "date": date,
        "school": school.name,
    }


def new_sms(**fields) -> Sms:
    body = fields["body"]
    counted = segments.count(body)
    sms = Sms(
        encoding=counted.encoding,
        parts=counted.parts,
        idempotency_key=f"carnet-sms-{secrets.token_hex(12)}",
        **fields,
    )
    db.session.add(sms)
    return sms


# --- the queue: send or delete -----------------------------------------------------------------


def _queued(actor: User, ids: list[int]):
    return select(Sms).where(
        Sms.school_id == actor.school_id, Sms.state == SmsState.QUEUED, among(Sms.id, ids)
    )


def hand_over(sms_list: list[Sms], at: dt.datetime | None = None) -> None:
    """To the worker, after the commit (at ``at`` when given): one job per SMS."""
    now = clock.now()
    for sms in sms_list:
        sms.state, sms.submitted_at = SmsState.SENDING, at or now
    db.session.flush()
    if sms_list:
        outbox.add("sms", {"ids": [sms.id for sms in sms_list]}, available_at=at)


class Sent(NamedTuple):
    """What sending from the queue did: SMS handed to the provider now, and SMS about a
    session to come, held for its start."""

    now: int
    later: int


def send(actor: User, ids: list[int]) -> Sent:
    """Send the chosen SMS of the queue; says how many left it. An SMS held back (HOLDS: one
    about a session to come waits for its start, since nothing about a session reaches its
    families before it starts) is handed over for the time it may leave."""
    if not can_send_sms(actor):
        raise PermissionError("only the direction and the staff send SMS")
    if not setup.is_ready(actor.school_id):
        raise ValidationError("sms", _("The direction must set up the SMS provider first."))
    chosen = list(db.session.scalars(_queued(actor, ids).with_for_update()))
    held = _holds(chosen)
    leaving: dict[dt.datetime | None, list[Sms]] = {}
    for sms in chosen:
        leaving.setdefault(held.get(sms.id), []).append(sms)
    for at, group in leaving.items():
        hand_over(group, at)
    later = len(chosen) - len(leaving.get(None, []))
    return Sent(len(chosen) - later, later)


#: What holds an SMS of the queue back however early it is sent: each answers, for some SMS,
#: the time each may leave (sms id -> time). Domains above this one add theirs: an absence's SMS
#: waits for its session's start (portal.attendance.absence_sms).
HOLDS: list[Callable[[list[Sms]], dict[int, dt.datetime]]] = []


def _holds(sms_list: list[Sms]) -> dict[int, dt.datetime]:
    found: dict[int, dt.datetime] = {}
    for hold in HOLDS if sms_list else ():
        found.update(hold(sms_list))
    return found


def leaving_times(sms_list: list[Sms]) -> dict[int, dt.datetime]:
    """When each of these SMS that has not left will leave, if later than now: an SMS handed
    over for later (the session's start, the end of quiet hours), or one in 'SMS to send'
    about a session to come, which leaves at its start however early it is sent."""
    now = clock.now()
    found = _holds([sms for sms in sms_list if sms.state == SmsState.QUEUED])
    for sms in sms_list:
        if sms.id in found:
            continue
        if held_back(sms, now):
            found[sms.id] = sms.submitted_at
    return found


def delete(actor: User, ids: list[int]) -> int:
    if not can_send_sms(actor):
        raise PermissionError("only the direction and the staff delete SMS")
    chosen = list(db.session.scalars(_queued(actor, ids)))
    for sms in chosen:
        db.session.delete(sms)
    db.session.flush()
    return len(chosen)


# --- what has not left yet -----------------------------------------------------------------------


def held_back(sms: Sms, now: dt.datetime) -> bool:
    """Handed over for later and not left yet (what not_gone() asks of the database)."""
    return sms.state == SmsState.SENDING and sms.sent_at is None and sms.submitted_at > now


def not_gone(now: dt.datetime):
    """SMS that have not left: in 'SMS to send', or handed over for later (a flash message's
    start, the end of someone's quiet hours, an absence's session start)."""
    return or_(
        Sms.state == SmsState.QUEUED,
        (Sms.state == SmsState.SENDING) & Sms.sent_at.is_(None) & (Sms.submitted_at > now),
    )


def withdraw_for(person_id: int, reason: str) -> int:
    """SMS that have not left yet, to or about a person who was blocked or deleted, are
    withdrawn with ``reason``; returns how many."""
    now = clock.now()
    return db.session.execute(
        update(Sms)
        .where(or_(Sms.person_id == person_id, Sms.pupil_id == person_id), not_gone(now))
        .values(state=SmsState.WITHDRAWN, finished_at=now, error=reason[:500])
    ).rowcount


def to_correct(school_id: int) -> list[Sms]:
    """SMS whose absence changed after they left, not corrected yet."""
    return list(
        db.session.scalars(
            select(Sms)
            .where(Sms.school_id == school_id, Sms.outdated_at.is_not(None))
            .order_by(Sms.outdated_at)
        )
    )


# --- automatic SMS (an alert's) ----------------------------------------------------------------


def automatic_time(person_id: int, school: School) -> dt.datetime | None:
    """When an SMS nobody sent by hand may leave: None for now."""
    now = clock.now()
    first, last = current_app.config["SMS_AUTOMATIC_HOURS"]
    at = quiet_until(now, last, first, school.timezone)
    timing = db.session.get(NotificationTiming, person_id)
    if timing is not None:
        at = quiet_until(at or now, timing.quiet_from, timing.quiet_until, school.timezone) or at
    return at


# --- reading -----------------------------------------------------------------------------------


def of_state(school_id: int, states, page: int = 1, per_page: int = 50):
    rows = list(
        db.session.scalars(
            select(Sms)
            .where(Sms.school_id == school_id, Sms.state.in_([str(s) for s in states]))
            .order_by(Sms.queued_at.desc(), Sms.id.desc())
            .offset((max(page, 1) - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page


def count_of_state(school_id: int, states) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Sms)
        .where(Sms.school_id == school_id, Sms.state.in_([str(s) for s in states]))
    )


def held(school_id: int) -> list[Sms]:
    """SMS sent that wait to leave (a session's start, the end of quiet hours), the soonest
    first."""
    return list(
        db.session.scalars(
            select(Sms)
            .where(
                Sms.school_id == school_id,
                Sms.state == SmsState.SENDING,
                Sms.sent_at.is_(None),
                Sms.submitted_at > clock.now(),
            )
            .order_by(Sms.submitted_at, Sms.id)
        )
    )


def of_mark(mark_id: int) -> list[Sms]:
    return list(
        db.session.scalars(select(Sms).where(Sms.mark_id == mark_id).order_by(Sms.queued_at))
    )


def of_alerts(alert_ids: list[int]) -> dict[int, list[Sms]]:
    """The SMS each alert sent to the guardians."""
    found: dict[int, list[Sms]] = {}
    if alert_ids:
        for sms in db.session.scalars(
            select(Sms).where(among(Sms.alert_id, alert_ids)).order_by(Sms.recipient)
        ):
            found.setdefault(sms.alert_id, []).append(sms)
    return found


@dataclass
class MonthLine:
    month: dt.date
    action: str
    sent: int
    delivered: int


def summary(school_id: int, timezone: str) -> list[MonthLine]:
    """Per month (of sending, in the school's time zone) and per action: SMS sent and
    delivered, the latest month first."""
    local = ZoneInfo(timezone)
    counts: dict[tuple[dt.date, str], list[int]] = {}
    rows = db.session.execute(
        select(Sms.submitted_at, Sms.action_label, Sms.kind, Sms.state).where(
            Sms.school_id == school_id,
            Sms.submitted_at.is_not(None),
            Sms.state != SmsState.WITHDRAWN,
        )
    )
    for submitted_at, label, kind, state in rows:
        month = submitted_at.astimezone(local).date().replace(day=1)
        name = label if kind != SmsKind.FLASH else str(_("Flash message"))
        line = counts.setdefault((month, name), [0, 0])
        line[0] += 1
        line[1] += state == SmsState.DELIVERED
    return [
        MonthLine(month, action, sent, delivered)
        for (month, action), (sent, delivered) in sorted(
            counts.items(), key=lambda item: (item[0][0], item[0][1]), reverse=True
        )
    ]
