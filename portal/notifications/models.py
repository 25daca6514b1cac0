"""Notifications: one row per recipient and window, subscriptions and timing choices (SPEC §4)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.extensions import db


class NotificationState(StrEnum):
    #: Collecting events until ``due_at`` (the end of the window, or the visible-from date).
    OPEN = "open"
    #: An immediate type waiting for its worker (or for the content's visible-from date).
    QUEUED = "queued"
    DELIVERED = "delivered"
    #: Withdrawn before delivery (content deleted), or the recipient was blocked meanwhile.
    CANCELLED = "cancelled"


class Notification(db.Model):
    """What one person is told about one subject: pending while its window is open, then kept
    in their 'Notifications received' until two months after they consulted it."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The recipient's school: the direction's delivery audit is scoped by it.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    #: A key of portal.notifications.types.TYPES.
    type: Mapped[str] = mapped_column(String(30))
    #: What the events are about ('homework:12', 'inbox'): events on one subject share a window.
    subject_key: Mapped[str] = mapped_column(String(120))
    #: Who caused the first event (never a recipient of it).
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    state: Mapped[NotificationState] = mapped_column(String(10), default=NotificationState.OPEN)
    #: While open, the person's choice; once delivered, the channel actually used
    #: (an e-mail choice falls back to homepage without an address, for instance).
    channel: Mapped[str] = mapped_column(String(10))
    #: The direction forced an e-mail for this content.
    forced: Mapped[bool] = mapped_column(default=False)
    #: The latest event's values, or {'items': [...]} for types that list their events.
    payload: Mapped[dict] = mapped_column(JSON)
    #: How many events the window absorbed.
    events: Mapped[int] = mapped_column(default=1)
    opened_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: When it is delivered: end of the window, or the content's visible-from date.
    due_at: Mapped[dt.datetime]
    delivered_at: Mapped[dt.datetime | None]
    #: When the SMTP server accepted its e-mail, or what it answered when it refused it.
    emailed_at: Mapped[dt.datetime | None]
    email_error: Mapped[str | None] = mapped_column(String(300))
    #: When the person consulted it; consulted notifications go two months later.
    read_at: Mapped[dt.datetime | None]

    __table_args__ = (
        # One open window per (recipient, type, subject): concurrent events can't open two.
        Index(
            "uq_notification_open_window",
            "recipient_id",
            "type",
            "subject_key",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
        Index("ix_notification_due", "state", "due_at"),
        Index("ix_notification_inbox", "recipient_id", "state", "read_at"),
        Index("ix_notification_subject", "school_id", "type", "subject_key"),
    )


class Subscription(db.Model):
    """A person's choice for one type; without a row, the profile's default applies."""

    __tablename__ = "subscription"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    type: Mapped[str] = mapped_column(String(30), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))


class NotificationTiming(db.Model):
    """When a person wants their e-mail: the daily digest hour and quiet hours, in the school's
    time zone (SPEC §12). Without a row: digest at 18:00, no quiet hours."""

    __tablename__ = "notification_timing"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    digest_hour: Mapped[int] = mapped_column(default=18)
    #: From this hour to ``quiet_until`` only mandatory types and flash messages are e-mailed;
    #: the rest waits for the end of the quiet hours. Both None: no quiet hours.
    quiet_from: Mapped[int | None]
    quiet_until: Mapped[int | None]
