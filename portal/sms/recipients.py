"""Who may receive an SMS about a pupil: their guardians and themselves, each with the mobile
used, or the reason none may go (no valid mobile, STOP answered, consent refused, account
closed)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import UNREACHABLE, Guardianship, User
from portal.core import phones
from portal.extensions import db
from portal.sms.models import (
    Recipient,
    SmsOptOut,
)


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


def usable_mobile(number: str | None) -> tuple[str | None, str | None]:
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
    phone, refusal = usable_mobile(parent.mobile)
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
    phone, refusal = usable_mobile(pupil.mobile)
    if refusal is None and (stop := _stopped(pupil, phone)) is not None:
        refusal = _("Answered STOP on %(day)s.", day=format_date(stop.received_at.date(), "short"))
    found.append(Candidate(Recipient.PUPIL, pupil, phone, _closed(pupil) or refusal))
    return found
