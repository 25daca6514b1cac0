"""What an absence, a late arrival or an alert sends to families by SMS: the texts, the SMS put
in 'SMS to send' for a mark, what happens to them when the mark changes, the correcting SMS,
an alert rule's automatic SMS, and the staff told when nobody answered.

SMS is a channel (portal.sms: recipients, consent, the queue, providers); this module decides
what attendance sends through it, and tells it two things it can't know: an SMS about a session
to come waits for its start, and an SMS action an alert rule sends can't be switched off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts.models import Profile, School, User
from portal.attendance.models import Alert, AlertRule, AttendanceMark, ClassSession, MarkKind
from portal.core import clock
from portal.core.db import among
from portal.core.errors import ValidationError
from portal.core.i18n import deferred, deferred_date
from portal.extensions import db
from portal.notifications import services as notifications
from portal.sms import services, setup
from portal.sms.labels import recipient_label
from portal.sms.models import Recipient, Sms, SmsAction, SmsKind, SmsReply, SmsState
from portal.sms.permissions import can_send_sms
from portal.sms.recipients import Candidate, candidates
from portal.sms.services import automatic_time, hand_over, held_back, new_sms, values_on

#: The marks an SMS may be about.
TOLD = (MarkKind.ABSENT, MarkKind.LATE)


def _values(session: ClassSession, pupil: User, minutes: int) -> dict[str, str]:
    school = session.group.school
    local = ZoneInfo(school.timezone)
    return {
        **values_on(session.starts_at.astimezone(local).date(), pupil, school),
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


def queue_for_mark(
    actor: User, mark: AttendanceMark, action: SmsAction | None, recipients: list[str]
) -> list[Sms]:
    """SMS for an absence or a late arrival, one per chosen recipient who may receive one,
    put in 'SMS to send' (queued, not sent). Raises ValidationError when the action or the
    recipients will not do; a recipient already queued for this mark is not queued twice."""
    if not can_send_sms(actor) or mark.school_id != actor.school_id:
        raise PermissionError("only the direction and the staff of the school queue SMS")
    chosen = [c for c in candidates(mark.person) if c.recipient in recipients]
    if errors := _refusals(actor, mark, action, chosen):
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
            new_sms(
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


def _refusals(
    actor: User, mark: AttendanceMark, action: SmsAction | None, chosen: list[Candidate]
) -> dict[str, str]:
    """Why SMS can't be queued for ``mark`` with this action to the chosen recipients, by field."""
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
    if not chosen:
        errors["recipients"] = _("Choose at least one recipient.")
    elif refused := [c for c in chosen if not c.reachable]:
        errors["recipients"] = " ".join(
            _("%(who)s: %(why)s", who=_recipient_words(c), why=c.refusal) for c in refused
        )
    return errors


def _recipient_words(candidate: Candidate) -> str:
    name = f" ({candidate.person.display_name})" if candidate.person else ""
    return recipient_label(candidate.recipient) + name


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
        if (sms.state == SmsState.QUEUED or held_back(sms, now)) and kind != sms.mark_kind:
            sms.state, sms.finished_at, sms.error = SmsState.WITHDRAWN, now, reason
        elif sms.state in (SmsState.SENDING, SmsState.SENT, SmsState.DELIVERED):
            if kind == sms.mark_kind:
                sms.outdated_at = sms.outdated_reason = None
            elif _correction_of(sms) is None:
                sms.outdated_at, sms.outdated_reason = now, reason
    db.session.flush()


def _correction_of(sms: Sms) -> Sms | None:
    return db.session.scalar(select(Sms).where(Sms.corrects_id == sms.id).limit(1))


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
    correction = new_sms(
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
    hand_over([correction])
    return correction


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
        **values_on(clock.today(school.timezone), pupil, school),
        "alert": alert.rule_name,
        "count": count,
    }
    chosen = [
        new_sms(
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
        leaving.setdefault(automatic_time(sms.person_id, school), []).append(sms)
    for at, group in leaving.items():
        hand_over(group, at)
    return chosen


#: Other ways a family answers an absence, declared by the domains above this one (the carnet
#: de liaison's justifications): each tells whether the mark was answered since a moment.
ANSWERED_ELSEWHERE: list[Callable[[AttendanceMark, dt.datetime], bool]] = []


def also_answered_by(check: Callable[[AttendanceMark, dt.datetime], bool]) -> None:
    """Count ``check`` as a family's answer to an absence SMS."""
    if check not in ANSWERED_ELSEWHERE:
        ANSWERED_ELSEWHERE.append(check)


def unanswered(sms: Sms) -> bool:
    """The absence its SMS was about is still there, unjustified, without a reason, and nobody
    answered since the SMS left: by SMS, or in a way another domain declared."""
    mark = db.session.get(AttendanceMark, sms.mark_id) if sms.mark_id else None
    if mark is None or mark.kind not in TOLD or mark.justified or mark.reason:
        return False
    if any(check(mark, sms.sent_at) for check in ANSWERED_ELSEWHERE):
        return False
    answered = db.session.scalar(
        select(func.count())
        .select_from(SmsReply)
        .where(SmsReply.mark_id == mark.id, SmsReply.received_at >= sms.sent_at)
    )
    return not answered


def check_answer(sms_id: int) -> None:
    """No answer and no reason for the absence once the delay is over: the staff are told."""
    sms = db.session.get(Sms, sms_id)
    if sms is None or not unanswered(sms):
        return
    staff = db.session.scalars(
        select(User.id).where(
            User.school_id == sms.school_id, User.profile.in_((Profile.ADMIN, Profile.STAFF))
        )
    ).all()
    pupil = sms.pupil
    notifications.notify(
        "sms_unanswered",
        staff,
        f"sms_unanswered:{sms.mark_id}",
        {
            "pupil": pupil.display_name if pupil else "",
            "text": deferred(
                "no answer to the SMS of %(day)s about: %(event)s",
                day=deferred_date(sms.sent_at.date()),
                event=sms.event,
            ),
            "url": f"/sms/marks/{sms.mark_id}",
        },
    )


def _rule_sending(action_id: int) -> str | None:
    """The name of an alert rule that sends this action's text, if any."""
    return db.session.scalar(
        select(AlertRule.name).where(AlertRule.sms_action_id == action_id).order_by(AlertRule.id)
    )


def _session_starts(sms_list: list[Sms]) -> dict[int, dt.datetime]:
    """An SMS about a session that has not started leaves at its start (sms id -> start)."""
    ids = sorted({sms.session_id for sms in sms_list if sms.session_id is not None})
    if not ids:
        return {}
    starts = dict(
        db.session.execute(
            select(ClassSession.id, ClassSession.starts_at).where(
                among(ClassSession.id, ids), ClassSession.starts_at > clock.now()
            )
        ).all()
    )
    return {sms.id: starts[sms.session_id] for sms in sms_list if sms.session_id in starts}


setup.SENDERS.append(_rule_sending)
services.HOLDS.append(_session_starts)
