"""What comes back from the provider: delivery reports, replies (matched to the SMS they answer)
and STOP; and a guardian's consent to SMS, as the staff record it.

Every function flushes and never commits."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from flask_babel import gettext as _
from sqlalchemy import select, update

from portal.accounts.contact import normalise_mobile
from portal.accounts.models import Guardianship, User
from portal.core import clock
from portal.core.audit import AuditTag
from portal.core.audit import record as audit
from portal.core.db import insert_new
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups.audience import GROUP_KINDS
from portal.groups.models import Group, GroupMember
from portal.sms.models import (
    RANK,
    Sms,
    SmsOptOut,
    SmsProvider,
    SmsReply,
    SmsState,
)
from portal.sms.permissions import can_send_sms
from portal.sms.providers import Inbound, Report

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


def recent_replies(school_id: int, days: int = 14, limit: int = 50) -> list[SmsReply]:
    """The texts families sent the school lately, newest first."""
    return list(
        db.session.scalars(
            select(SmsReply)
            .where(
                SmsReply.school_id == school_id,
                SmsReply.received_at >= clock.now() - dt.timedelta(days=days),
            )
            .order_by(SmsReply.received_at.desc())
            .limit(limit)
        )
    )
