"""The school's SMS provider, its SMS actions, each SMS and what came back (SPEC §8, seed 004).

An SMS is one text to one number. It waits in 'SMS to send' until the staff send it (queued),
is handed to a worker (sending), is accepted by the provider (sent, in transit), and ends
delivered or failed as the provider's delivery reports say; or it is withdrawn before it left.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.core import clock
from portal.core.db import CreatedAtMixin
from portal.extensions import db


class SmsProvider(db.Model):
    """A school's account with an SMS provider: one per school, set by the direction."""

    __tablename__ = "sms_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), unique=True)
    #: The adapter's code (providers.ADAPTERS).
    kind: Mapped[str] = mapped_column(String(20))
    #: The account identifier the provider gave the school (clé d'identification).
    account_key: Mapped[str] = mapped_column(String(200), default="")
    #: The password or token, sealed by core.vault; never shown back in full.
    secret: Mapped[str | None] = mapped_column(String(800))
    #: The last characters of the secret, to recognise it on the settings page.
    secret_hint: Mapped[str] = mapped_column(String(8), default="")
    #: The default sender: a phone number or an alphanumeric name.
    sender: Mapped[str] = mapped_column(String(20), default="")
    #: The adapter's own options (API address, field names).
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class SmsAction(CreatedAtMixin, db.Model):
    """What the staff pick when recording an absence or lateness: the text it sends."""

    __tablename__ = "sms_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    short_label: Mapped[str] = mapped_column(String(20))
    long_label: Mapped[str] = mapped_column(String(80))
    #: The text, with placeholders such as {pupil} and {date} (actions.PLACEHOLDERS).
    template: Mapped[str] = mapped_column(String(1000))
    #: Days after which an absence whose SMS got no answer raises an alert to the staff; 0: none.
    response_days: Mapped[int] = mapped_column(default=0)
    #: The sender for this action; empty: the provider's.
    sender: Mapped[str] = mapped_column(String(20), default="")
    #: The provider's code for this kind of SMS (code fournisseur de service), usually '0'.
    provider_code: Mapped[str] = mapped_column(String(20), default="0")
    enabled: Mapped[bool] = mapped_column(default=True)


class SmsState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    #: Taken off the queue before it left: its absence was cancelled or changed.
    WITHDRAWN = "withdrawn"


#: How far along each state is: a delivery report only ever moves an SMS forward.
RANK = {
    SmsState.QUEUED: 0,
    SmsState.SENDING: 1,
    SmsState.SENT: 2,
    SmsState.DELIVERED: 3,
    SmsState.FAILED: 3,
    SmsState.WITHDRAWN: 4,
}
#: Gone to the provider (or trying to): what 'in transit' lists.
IN_TRANSIT = (SmsState.SENDING, SmsState.SENT)


class SmsKind(StrEnum):
    #: About an absence or a late arrival, through an SMS action.
    ATTENDANCE = "attendance"
    #: Correcting an attendance SMS whose absence changed after it left.
    CORRECTION = "correction"
    FLASH = "flash"
    #: Sent to a pupil's guardians when an alert rule fires, through the rule's SMS action.
    ALERT = "alert"


class Recipient(StrEnum):
    GUARDIAN_1 = "guardian1"
    GUARDIAN_2 = "guardian2"
    PUPIL = "pupil"
    #: A guardian reached by a flash message, whatever their rank.
    GUARDIAN = "guardian"


class Sms(db.Model):
    __tablename__ = "sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("sms_action.id", ondelete="SET NULL"))
    #: The action's short label when queued (kept if the action changes or goes).
    action_label: Mapped[str] = mapped_column(String(20), default="")
    #: The absence or lateness it is about: the mark while it exists, its session and pupil
    #: for ever (a cancelled absence still has its SMS history).
    mark_id: Mapped[int | None] = mapped_column(
        ForeignKey("attendance_mark.id", ondelete="SET NULL"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("class_session.id", ondelete="SET NULL")
    )
    pupil_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    #: The mark's kind when queued: an SMS is outdated once the mark is no longer this.
    mark_kind: Mapped[str | None] = mapped_column(String(12))
    #: The pupil's class when queued.
    class_name: Mapped[str] = mapped_column(String(80), default="")
    #: What the event was, in the school's words when queued ('Absence on 15/02 08:30–10:25').
    event: Mapped[str] = mapped_column(String(200), default="")
    flash_id: Mapped[int | None] = mapped_column(
        ForeignKey("flash_message.id", ondelete="SET NULL")
    )
    #: The alert whose rule sent it.
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alert.id", ondelete="SET NULL"))
    #: The SMS this one corrects.
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("sms.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(10))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    #: E.164, as it was when queued.
    phone: Mapped[str] = mapped_column(String(20), index=True)
    sender: Mapped[str] = mapped_column(String(20), default="")
    body: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(6))
    parts: Mapped[int]
    state: Mapped[str] = mapped_column(String(10), default=SmsState.QUEUED)
    #: Sent with every call for this SMS: a provider that sees it twice sends once.
    idempotency_key: Mapped[str] = mapped_column(String(40), unique=True)
    #: The provider's id of the message, once accepted.
    provider_ref: Mapped[str | None] = mapped_column(String(80), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    #: The provider's refusal or the last failure, as the staff read it.
    error: Mapped[str | None] = mapped_column(String(500))
    queued_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    queued_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: When the staff sent it (it left the queue).
    submitted_at: Mapped[dt.datetime | None]
    #: When the provider accepted it.
    sent_at: Mapped[dt.datetime | None]
    #: When it was delivered, failed or withdrawn.
    finished_at: Mapped[dt.datetime | None]
    #: Its absence changed after it left: the staff are offered a correcting SMS.
    outdated_at: Mapped[dt.datetime | None]
    outdated_reason: Mapped[str | None] = mapped_column(String(200))

    person: Mapped[User | None] = relationship(foreign_keys=[person_id])
    pupil: Mapped[User | None] = relationship(foreign_keys=[pupil_id])
    action: Mapped[SmsAction | None] = relationship()

    __table_args__ = (
        Index("ix_sms_school_state", "school_id", "state", "queued_at"),
        Index("ix_sms_school_submitted", "school_id", "submitted_at"),
    )


class SmsReply(db.Model):
    """A text received from a family: shown with the absence it answers, for the staff."""

    __tablename__ = "sms_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(String(1600))
    received_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: The SMS it answers: the latest one sent to that number.
    sms_id: Mapped[int | None] = mapped_column(ForeignKey("sms.id", ondelete="SET NULL"))
    mark_id: Mapped[int | None] = mapped_column(
        ForeignKey("attendance_mark.id", ondelete="SET NULL"), index=True
    )
    pupil_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    #: The provider's id of the inbound message: a replayed one is kept once.
    provider_ref: Mapped[str | None] = mapped_column(String(80), unique=True)

    person: Mapped[User | None] = relationship(foreign_keys=[person_id])


class SmsOptOut(db.Model):
    """A person answered STOP: when, from which number, in which words."""

    __tablename__ = "sms_opt_out"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    phone: Mapped[str] = mapped_column(String(20))
    words: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
