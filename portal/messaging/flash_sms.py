"""A flash message by SMS: at its start, to the guardians among its readers who accept SMS, one
short text each; withdrawn if the message ends before it starts."""

from __future__ import annotations

from sqlalchemy import select, update

from portal.accounts.models import Guardianship, Profile, School, User
from portal.core import bodies, clock
from portal.core.db import among
from portal.extensions import db
from portal.sms import segments, setup
from portal.sms.models import Recipient, Sms, SmsKind, SmsState
from portal.sms.recipients import usable_mobile
from portal.sms.services import hand_over, new_sms, not_gone

#: A flash message by SMS is cut to this many parts.
FLASH_PARTS = 3


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
        phone, refusal = usable_mobile(parent.mobile)
        if refusal is None:
            chosen.append(
                new_sms(
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
    hand_over(chosen, at=flash.starts_at)
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
        .where(Sms.flash_id == flash.id, not_gone(now))
        .values(state=SmsState.WITHDRAWN, finished_at=now)
    )
