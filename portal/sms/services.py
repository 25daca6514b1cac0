"""SMS to families (SPEC §8, seed 004): who may receive one, the queue the staff send from,
what happens when an absence changes, flash messages by SMS, delivery reports, replies and
STOP. Every function flushes and never commits; what leaves goes through the outbox."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from portal.accounts.models import UNREACHABLE, Guardianship, Profile, School, User
from portal.accounts.services import normalise_mobile
from portal.attendance.models import Alert, AttendanceMark, ClassSession, MarkKind
from portal.audit.models import AuditTag
from portal.audit.services import record as audit
from portal.core import clock, outbox, phones
from portal.core.db import among, insert_new
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups.audience import GROUP_KINDS
from portal.groups.models import Group, GroupKind, GroupMember
from portal.messaging import bodies
from portal.notifications.models import NotificationTiming
from portal.notifications.timing import quiet_until
from portal.sms import segments, setup
from portal.sms.labels import recipient_label
from portal.sms.models import (
    RANK,
    Recipient,
    Sms,
    SmsAction,
    SmsKind,
    SmsOptOut,
    SmsProvider,
    SmsReply,
    SmsState,
)
from portal.sms.permissions import can_send_sms
from portal.sms.providers import Inbound, Report

#: The marks an SMS may be about.
TOLD = (MarkKind.ABSENT, MarkKind.LATE)
#: A flash message by SMS is cut to this many parts.
FLASH_PARTS = 3
#: A reply is matched to an SMS sent to its number at most this long before.
REPLY_WINDOW = dt.timedelta(days=30)
#: What people answer to stop SMS, accents and case aside, optionally followed by a code.
STOP_WORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "STOP SMS",
        "ARRET",
        "ARRETER",
        "ARRET SMS",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "DESABONNER",
        "DESINSCRIRE",
        "DESINSCRIPTION",
        "STOP MERCI",
    }
)


# --- who may receive an SMS --------------------------------------------------------------------


@dataclass
class Candidate:
    recipient: Recipient
    person: User | None
    phone: str | None
    #: Why no SMS goes to them; None: it goes.
    refusal: str | None

    @property
    def reachable(self) -> bool:
        return self.refusal is None


def _usable_mobile(number: str | None) -> tuple[str | None, str | None]:
    if not number:
        return None, _("No mobile number.")
    try:
        return phones.e164(number), None
    except phones.PhoneRefused as refused:
        why = phones.refusal_text(refused.number, refused.reason)
        not_valid = _("The mobile number is not valid.")
        return None, f"{not_valid} {why}"


def _stopped(person: User, phone: str) -> SmsOptOut | None:
    return db.session.scalar(
        select(SmsOptOut)
        .where(SmsOptOut.person_id == person.id, SmsOptOut.phone == phone)
        .order_by(SmsOptOut.received_at.desc())
        .limit(1)
    )


def _guardian(recipient: Recipient, link: Guardianship | None) -> Candidate:
    if link is None:
        return Candidate(recipient, None, None, _("No guardian of this rank."))
    parent = link.parent
    phone, refusal = _usable_mobile(parent.mobile)
    if not link.accepts_sms:
        stop = _stopped(parent, parent.mobile) if parent.mobile else None
        refusal = (
            _("Answered STOP on %(day)s.", day=format_date(stop.received_at.date(), "short"))
            if stop is not None
            else _("Does not accept SMS.")
        )
    return Candidate(recipient, parent, phone, _closed(parent) or refusal)


def _closed(person: User) -> str | None:
    """A blocked or deleted account receives nothing new."""
    if person.state in UNREACHABLE:
        return _("The account is blocked or deleted.")
    return None


def candidates(pupil: User) -> list[Candidate]:
    """Guardian 1, guardian 2 and the pupil, each with why they will not get an SMS, if so: the
    guardian must accept SMS and have a valid mobile; the pupil must have a valid mobile and
    not have answered STOP from it."""
    links = {
        link.rank: link
        for link in db.session.scalars(
            select(Guardianship).where(Guardianship.pupil_id == pupil.id)
        )
    }
    found = [
        _guardian(Recipient.GUARDIAN_1, links.get(1)),
        _guardian(Recipient.GUARDIAN_2, links.get(2)),
    ]
    phone, refusal = _usable_mobile(pupil.mobile)
    if refusal is None and (stop := _stopped(pupil, phone)) is not None:
        refusal = _("Answered STOP on %(day)s.", day=format_date(stop.received_at.date(), "short"))
    found.append(Candidate(Recipient.PUPIL, pupil, phone, _closed(pupil) or refusal))
    return found


# --- what an attendance SMS says ---------------------------------------------------------------


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


def _values_on(day: dt.date, pupil: User, school: School) -> dict[str, str]:
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


def _values(session: ClassSession, pupil: User, minutes: int) -> dict[str, str]:
    school = session.group.school
    local = ZoneInfo(school.timezone)
    return {
        **_values_on(session.starts_at.astimezone(local).date(), pupil, school),
        "start": session.starts_at.astimezone(local).strftime("%H:%M"),
        "end": session.ends_at.astimezone(local).strftime("%H:%M"),
        "minutes": str(minutes),
    }


def values_for_mark(mark: AttendanceMark) -> dict[str, str]:
    return _values(mark.session, mark.person, mark.minutes)


def _event(kind: str, values: dict[str, str], language: str) -> str:
    with force_locale(language):
        if kind == MarkKind.ABSENT:
            return _("Absence on %(date)s, %(start)s–%(end)s", **values)
        return _("%(minutes)s minutes late on %(date)s (%(start)s)", **values)


def _new_sms(**fields) -> Sms:
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


def queue_for_mark(
    actor: User, mark: AttendanceMark, action: SmsAction | None, recipients: list[str]
) -> list[Sms]:
    """SMS for an absence or a late arrival, one per chosen recipient who may receive one,
    put in 'SMS to send' (queued, not sent). Raises ValidationError when the action or the
    recipients will not do; a recipient already queued for this mark is not queued twice."""
    if not can_send_sms(actor) or mark.school_id != actor.school_id:
        raise PermissionError("only the direction and the staff of the school queue SMS")
    errors: dict[str, str] = {}
    if mark.kind not in TOLD or mark.person.profile != Profile.PUPIL:
        errors["action"] = _("SMS are sent for a pupil's absence or late arrival.")
    elif not setup.is_ready(actor.school_id):
        errors["action"] = _("The direction must set up the SMS provider first.")
    elif (
        action is None
        or action.school_id != actor.school_id
        or not action.enabled
        or not setup.for_marks(action.template)
    ):
        errors["action"] = _("Choose an SMS action.")
    chosen = [c for c in candidates(mark.person) if c.recipient in recipients]
    if not chosen:
        errors["recipients"] = _("Choose at least one recipient.")
    elif refused := [c for c in chosen if not c.reachable]:
        errors["recipients"] = " ".join(
            _("%(who)s: %(why)s", who=_recipient_words(c), why=c.refusal) for c in refused
        )
    if errors:
        raise ValidationError.of(errors)
    session = mark.session
    school = session.group.school
    values = values_for_mark(mark)
    waiting = set(
        db.session.scalars(
            select(Sms.recipient).where(
                Sms.mark_id == mark.id, Sms.action_id == action.id, Sms.state == SmsState.QUEUED
            )
        )
    )
    provider = setup.provider_of(actor.school_id)
    queued = []
    for candidate in chosen:
        if candidate.recipient in waiting:
            continue
        queued.append(
            _new_sms(
                school_id=actor.school_id,
                kind=SmsKind.ATTENDANCE,
                action_id=action.id,
                action_label=action.short_label,
                mark_id=mark.id,
                mark_kind=mark.kind,
                session_id=session.id,
                pupil_id=mark.person_id,
                event=_event(mark.kind, values, school.default_language),
                class_name=values["class"],
                recipient=candidate.recipient,
                person_id=candidate.person.id,
                phone=candidate.phone,
                sender=action.sender or provider.sender,
                body=setup.fill(action.template, values),
                queued_by_id=actor.id,
            )
        )
    db.session.flush()
    return queued


def _recipient_words(candidate: Candidate) -> str:
    name = f" ({candidate.person.display_name})" if candidate.person else ""
    return recipient_label(candidate.recipient) + name


# --- the queue: send or delete -----------------------------------------------------------------


def _queued(actor: User, ids: list[int]):
    return select(Sms).where(
        Sms.school_id == actor.school_id, Sms.state == SmsState.QUEUED, among(Sms.id, ids)
    )


def _hand_over(sms_list: list[Sms], at: dt.datetime | None = None) -> None:
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
    """Send the chosen SMS of the queue; says how many left it. An SMS about a session to
    come (an absence announced in advance) is handed over for the session's start: nothing
    about a session reaches its families before it starts."""
    if not can_send_sms(actor):
        raise PermissionError("only the direction and the staff send SMS")
    if not setup.is_ready(actor.school_id):
        raise ValidationError("sms", _("The direction must set up the SMS provider first."))
    chosen = list(db.session.scalars(_queued(actor, ids).with_for_update()))
    starts = _session_starts(chosen)
    leaving: dict[dt.datetime | None, list[Sms]] = {}
    for sms in chosen:
        leaving.setdefault(starts.get(sms.session_id), []).append(sms)
    for at, group in leaving.items():
        _hand_over(group, at)
    later = len(chosen) - len(leaving.get(None, []))
    return Sent(len(chosen) - later, later)


def _session_starts(sms_list: list[Sms]) -> dict[int, dt.datetime]:
    """The start of each session these SMS are about that has not started yet."""
    ids = sorted({sms.session_id for sms in sms_list if sms.session_id is not None})
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(ClassSession.id, ClassSession.starts_at).where(
                among(ClassSession.id, ids), ClassSession.starts_at > clock.now()
            )
        ).all()
    )


def leaving_times(sms_list: list[Sms]) -> dict[int, dt.datetime]:
    """When each of these SMS that has not left will leave, if later than now: an SMS handed
    over for later (the session's start, the end of quiet hours), or one in 'SMS to send'
    about a session to come, which leaves at its start however early it is sent."""
    now = clock.now()
    starts = _session_starts([sms for sms in sms_list if sms.state == SmsState.QUEUED])
    found = {}
    for sms in sms_list:
        if sms.state == SmsState.QUEUED and sms.session_id in starts:
            found[sms.id] = starts[sms.session_id]
        elif _held(sms, now):
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


# --- an absence that changes -------------------------------------------------------------------


def mark_changed(session_id: int, pupil_id: int, kind: MarkKind | None) -> None:
    """Called by attendance when a pupil's mark on a session changes kind or goes: SMS that have
    not left for it — queued, or sent and waiting for the session's start — are withdrawn;
    those that already left are outdated, and the staff are offered a correcting SMS (unless
    the mark came back to what they said)."""
    now = clock.now()
    rows = db.session.scalars(
        select(Sms)
        .where(
            Sms.session_id == session_id,
            Sms.pupil_id == pupil_id,
            Sms.kind == SmsKind.ATTENDANCE,
        )
        .with_for_update()
    )
    reason = {
        None: _("The absence was cancelled."),
        MarkKind.LATE: _("It became a late arrival."),
        MarkKind.ABSENT: _("It became an absence."),
        MarkKind.LEFT_EARLY: _("It became an early departure."),
    }[kind]
    for sms in rows:
        # Sent from the queue but held for the session's start: it has not left either.
        if (sms.state == SmsState.QUEUED or _held(sms, now)) and kind != sms.mark_kind:
            sms.state, sms.finished_at, sms.error = SmsState.WITHDRAWN, now, reason
        elif sms.state in (SmsState.SENDING, SmsState.SENT, SmsState.DELIVERED):
            if kind == sms.mark_kind:
                sms.outdated_at = sms.outdated_reason = None
            elif _correction_of(sms) is None:
                sms.outdated_at, sms.outdated_reason = now, reason
    db.session.flush()


def _held(sms: Sms, now: dt.datetime) -> bool:
    """Handed over for later and not left yet (what _not_gone() asks of the database)."""
    return sms.state == SmsState.SENDING and sms.sent_at is None and sms.submitted_at > now


def _not_gone(now: dt.datetime):
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
        .where(or_(Sms.person_id == person_id, Sms.pupil_id == person_id), _not_gone(now))
        .values(state=SmsState.WITHDRAWN, finished_at=now, error=reason[:500])
    ).rowcount


def _correction_of(sms: Sms) -> Sms | None:
    return db.session.scalar(select(Sms).where(Sms.corrects_id == sms.id).limit(1))


def to_correct(school_id: int) -> list[Sms]:
    """SMS whose absence changed after they left, not corrected yet."""
    return list(
        db.session.scalars(
            select(Sms)
            .where(Sms.school_id == school_id, Sms.outdated_at.is_not(None))
            .order_by(Sms.outdated_at)
        )
    )


def correct(actor: User, sms: Sms) -> Sms:
    """A correcting SMS to the same number, sent at once, saying what the mark now is."""
    if not can_send_sms(actor) or sms.school_id != actor.school_id:
        raise PermissionError("only the direction and the staff of the school correct SMS")
    if sms.outdated_at is None:
        raise ValidationError("sms", _("This SMS needs no correction."))
    if not setup.is_ready(actor.school_id):
        raise ValidationError("sms", _("The direction must set up the SMS provider first."))
    session, pupil = db.session.get(ClassSession, sms.session_id), sms.pupil
    mark = db.session.scalar(
        select(AttendanceMark).where(
            AttendanceMark.session_id == sms.session_id, AttendanceMark.person_id == sms.pupil_id
        )
    )
    school = actor.school
    values = _values(session, pupil, mark.minutes if mark else 0)
    with force_locale(school.default_language):
        if mark is None:
            body = _(
                "%(school)s – correction: %(pupil)s was present on %(date)s, %(start)s–%(end)s. "
                "Please disregard our previous SMS.",
                **values,
            )
        elif mark.kind == MarkKind.LATE:
            body = _(
                "%(school)s – correction: %(pupil)s was not absent on %(date)s but arrived "
                "%(minutes)s minutes late.",
                **values,
            )
        else:
            body = _(
                "%(school)s – correction about %(pupil)s on %(date)s: %(event)s.",
                event=_event(mark.kind, values, school.default_language),
                **values,
            )
    correction = _new_sms(
        school_id=sms.school_id,
        kind=SmsKind.CORRECTION,
        action_id=sms.action_id,
        action_label=sms.action_label,
        mark_id=mark.id if mark else None,
        session_id=sms.session_id,
        pupil_id=sms.pupil_id,
        event=sms.event,
        class_name=sms.class_name,
        corrects_id=sms.id,
        recipient=sms.recipient,
        person_id=sms.person_id,
        phone=sms.phone,
        sender=sms.sender,
        body=body,
        queued_by_id=actor.id,
    )
    sms.outdated_at = sms.outdated_reason = None
    db.session.flush()
    _hand_over([correction])
    return correction


# --- flash messages by SMS ---------------------------------------------------------------------


def for_flash(flash, people: list[int]) -> int:
    """The flash message by SMS at its start, bypassing the queue, to the guardians among
    ``people`` who accept SMS for at least one child and have a valid mobile: one SMS each.
    Returns how many."""
    school = db.session.get(School, flash.school_id)
    provider = setup.provider_of(flash.school_id)
    parents = db.session.scalars(
        select(User)
        .where(among(User.id, people), User.profile == Profile.PARENT)
        .where(
            User.id.in_(select(Guardianship.parent_id).where(Guardianship.accepts_sms.is_(True)))
        )
        .order_by(User.id)
    ).all()
    text = _flash_text(school.name, flash.title, bodies.excerpt(flash.body, 600))
    chosen = []
    for parent in parents:
        phone, refusal = _usable_mobile(parent.mobile)
        if refusal is None:
            chosen.append(
                _new_sms(
                    school_id=flash.school_id,
                    kind=SmsKind.FLASH,
                    flash_id=flash.id,
                    event=flash.title[:200],
                    recipient=Recipient.GUARDIAN,
                    person_id=parent.id,
                    phone=phone,
                    sender=provider.sender if provider else "",
                    body=text,
                    queued_by_id=flash.author_id,
                )
            )
    db.session.flush()
    _hand_over(chosen, at=flash.starts_at)
    return len(chosen)


def _flash_text(school: str, title: str, words: str) -> str:
    """'School: title. words', cut at a word so that it fits FLASH_PARTS parts."""
    text = f"{school}: {title}. {words}".strip() if words else f"{school}: {title}"
    while segments.count(text).parts > FLASH_PARTS:
        text = text[: int(len(text) * 0.9)].rsplit(" ", 1)[0] + "…"
    return text


def flash_ended(flash) -> None:
    """A flash message ended before its start: its SMS do not go."""
    now = clock.now()
    db.session.execute(
        update(Sms)
        .where(Sms.flash_id == flash.id, _not_gone(now))
        .values(state=SmsState.WITHDRAWN, finished_at=now)
    )


# --- alerts by SMS -----------------------------------------------------------------------------


def for_alert(alert: Alert, action_id: int, pupil: User, event: str, count: str) -> list[Sms]:
    """An alert rule's SMS action, at once, to the pupil's guardians who may receive an SMS:
    one each. No one else asked, so it waits for the school's hours for automatic SMS
    (SMS_AUTOMATIC_HOURS) and then for the end of the guardian's own quiet hours. Nothing goes
    when the provider is not set up or the action is switched off. Returns the SMS."""
    action = db.session.get(SmsAction, action_id)
    if (
        action is None
        or not action.enabled
        or not setup.for_alerts(action.template)
        or not setup.is_ready(alert.school_id)
    ):
        return []
    guardians = [c for c in candidates(pupil) if c.recipient != Recipient.PUPIL and c.reachable]
    school = db.session.get(School, alert.school_id)
    provider = setup.provider_of(school.id)
    values = {
        **_values_on(clock.today(school.timezone), pupil, school),
        "alert": alert.rule_name,
        "count": count,
    }
    chosen = [
        _new_sms(
            school_id=school.id,
            kind=SmsKind.ALERT,
            action_id=action.id,
            action_label=action.short_label,
            alert_id=alert.id,
            pupil_id=pupil.id,
            class_name=values["class"],
            event=event[:200],
            recipient=candidate.recipient,
            person_id=candidate.person.id,
            phone=candidate.phone,
            sender=action.sender or provider.sender,
            body=setup.fill(action.template, values),
        )
        for candidate in guardians
    ]
    db.session.flush()
    leaving: dict[dt.datetime | None, list[Sms]] = {}
    for sms in chosen:
        leaving.setdefault(_automatic_time(sms.person_id, school), []).append(sms)
    for at, group in leaving.items():
        _hand_over(group, at)
    return chosen


def _automatic_time(person_id: int, school: School) -> dt.datetime | None:
    """When an SMS nobody sent by hand may leave: None for now."""
    now = clock.now()
    first, last = current_app.config["SMS_AUTOMATIC_HOURS"]
    at = quiet_until(now, last, first, school.timezone)
    timing = db.session.get(NotificationTiming, person_id)
    if timing is not None:
        at = quiet_until(at or now, timing.quiet_from, timing.quiet_until, school.timezone) or at
    return at


# --- what the provider tells us ----------------------------------------------------------------


def apply_report(provider: SmsProvider, report: Report, sms_id: int | None = None) -> bool:
    """A delivery report moves its SMS forward, never back: a report replayed, or one older
    than what is known, changes nothing. Returns whether the SMS was found."""
    query = select(Sms).where(Sms.school_id == provider.school_id)
    if sms_id is not None:
        query = query.where(Sms.id == sms_id)
    elif report.ref:
        query = query.where(Sms.provider_ref == report.ref)
    elif report.key:
        query = query.where(Sms.idempotency_key == report.key)
    else:
        return False
    sms = db.session.scalar(query.with_for_update())
    if sms is None or (report.ref and sms.provider_ref and report.ref != sms.provider_ref):
        return False
    if sms.provider_ref is None and report.ref:
        sms.provider_ref = report.ref[:80]
    if RANK[report.state] > RANK[SmsState(sms.state)] and sms.state != SmsState.WITHDRAWN:
        now = clock.now()
        sms.state = report.state
        sms.sent_at = sms.sent_at or now
        if report.state in (SmsState.DELIVERED, SmsState.FAILED):
            sms.finished_at = now
        if report.state == SmsState.FAILED:
            sms.error = (report.error or _("The provider could not deliver it."))[:500]
    db.session.flush()
    return True


def _folded(words: str) -> str:
    plain = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^A-Za-z0-9 ]+", " ", plain).upper().split())


def is_stop(words: str) -> bool:
    """'STOP', 'Stop.', 'stop sms', 'Arrêt', 'STOP 36180' and the like."""
    folded = _folded(words)
    without_code = re.sub(r"( \d{3,6})$", "", folded)
    return folded in STOP_WORDS or without_code in STOP_WORDS


def receive(provider: SmsProvider, inbound: Inbound) -> str:
    """An inbound text: STOP withdraws the consent of everyone of the school with that number
    (recorded, with when and from which number); anything else is a reply, kept with the
    absence whose SMS it answers. Returns 'stop', 'reply' or 'seen' (replayed)."""
    try:
        phone = normalise_mobile(inbound.phone)
    except ValidationError:
        phone = inbound.phone.strip()[:20]
    school_id = provider.school_id
    if is_stop(inbound.body):
        _stop(school_id, phone, inbound.body)
        return "stop"
    latest = db.session.scalar(
        select(Sms)
        .where(
            Sms.school_id == school_id,
            Sms.phone == phone,
            Sms.sent_at >= clock.now() - REPLY_WINDOW,
        )
        .order_by(Sms.sent_at.desc(), Sms.id.desc())
        .limit(1)
    )
    if latest is not None:
        person_id = latest.person_id
    else:
        person_id = next(iter(_people_with(school_id, phone)), None)
    inserted = db.session.execute(
        insert_new(SmsReply.__table__)
        .values(
            school_id=school_id,
            phone=phone,
            body=inbound.body[:1600],
            received_at=clock.now(),
            sms_id=latest.id if latest else None,
            mark_id=latest.mark_id if latest else None,
            pupil_id=latest.pupil_id if latest else None,
            person_id=person_id,
            provider_ref=inbound.ref,
        )
        .on_conflict_do_nothing()
    ).rowcount
    return "reply" if inserted else "seen"


def _people_with(school_id: int, phone: str) -> list[int]:
    """The school's people with this mobile, and the guardians of its pupils who have it."""
    pupils = (
        select(GroupMember.user_id)
        .join(Group)
        .where(Group.school_id == school_id, Group.kind.in_(GROUP_KINDS))
    )
    guardians = select(Guardianship.parent_id).where(Guardianship.pupil_id.in_(pupils))
    return list(
        db.session.scalars(
            select(User.id).where(
                User.mobile == phone, (User.school_id == school_id) | User.id.in_(guardians)
            )
        )
    )


def _stop(school_id: int, phone: str, words: str) -> None:
    people = _people_with(school_id, phone) or [None]
    now = clock.now()
    for person_id in people:
        db.session.add(
            SmsOptOut(
                school_id=school_id,
                person_id=person_id,
                phone=phone,
                words=" ".join(words.split())[:40],
                received_at=now,
            )
        )
    if people != [None]:
        db.session.execute(
            update(Guardianship).where(Guardianship.parent_id.in_(people)).values(accepts_sms=False)
        )
    db.session.flush()


def set_consent(actor: User, link: Guardianship, accepts: bool) -> None:
    """The school records a guardian's consent to SMS (given again after a STOP, or taken
    back at their request); written to the audit log."""
    if not can_send_sms(actor) or link.pupil.school_id != actor.school_id:
        raise PermissionError("only the direction and the staff of the pupil's school")
    if link.accepts_sms != accepts:
        link.accepts_sms = accepts
        audit(
            actor,
            AuditTag.SMS_CONSENT_CHANGED,
            actor.school_id,
            guardian_id=link.parent_id,
            pupil_id=link.pupil_id,
            accepts_sms=accepts,
        )
    db.session.flush()


def opt_outs_of(person: User) -> list[SmsOptOut]:
    return list(
        db.session.scalars(
            select(SmsOptOut)
            .where(SmsOptOut.person_id == person.id)
            .order_by(SmsOptOut.received_at.desc())
        )
    )


def replies_for_pupil(pupil_id: int) -> list[SmsReply]:
    return list(
        db.session.scalars(
            select(SmsReply)
            .where(SmsReply.pupil_id == pupil_id)
            .order_by(SmsReply.received_at.desc())
        )
    )


def unanswered(sms: Sms) -> bool:
    """The absence its SMS was about is still there, unjustified, without a reason, and nobody
    answered since the SMS left."""
    mark = db.session.get(AttendanceMark, sms.mark_id) if sms.mark_id else None
    if mark is None or mark.kind not in TOLD or mark.justified or mark.reason:
        return False
    answered = db.session.scalar(
        select(func.count())
        .select_from(SmsReply)
        .where(SmsReply.mark_id == mark.id, SmsReply.received_at >= sms.sent_at)
    )
    return not answered


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
