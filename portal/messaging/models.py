"""Messages, what their sender addressed, and each recipient's copy (SPEC §3)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    exists,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.core import clock
from portal.extensions import db
from portal.groups.audience import AudienceRow, HasAudience
from portal.groups.models import Group


class MessageState(StrEnum):
    DRAFT = "draft"
    #: To be sent at ``scheduled_for``; its delivery work waits in the outbox until then.
    SCHEDULED = "scheduled"
    #: Accepted; its delivery work is in the outbox.
    SENT = "sent"
    #: Taken back by its sender before anyone read it.
    RECALLED = "recalled"


class Field(StrEnum):
    """Where the sender put a recipient. The order is the precedence when one person is reached
    through several fields: a person both in To and in BCC sees the message as a To recipient."""

    TO = "to"
    CC = "cc"
    BCC = "bcc"


FIELDS = (Field.TO, Field.CC, Field.BCC)


class Message(db.Model):
    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(
        ForeignKey("school.id", ondelete="CASCADE"), index=True
    )
    sender_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(200))
    #: HTML cleaned on the server (portal.core.bodies): what every reader sees.
    body: Mapped[str] = mapped_column(Text, default="")
    #: The body's words, for search and the text part of e-mails.
    body_text: Mapped[str] = mapped_column(Text, default="")
    #: The first message of the conversation (its own id for the first one).
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL"), index=True
    )
    #: The message this one answers.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    state: Mapped[MessageState] = mapped_column(String(10), default=MessageState.DRAFT)
    #: The sender asked for no answer: nobody may reply.
    no_reply: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    sent_at: Mapped[dt.datetime | None]
    #: When a scheduled message leaves.
    scheduled_for: Mapped[dt.datetime | None]
    #: The outbox row of its delivery (to cancel a scheduled message).
    delivery_item_id: Mapped[int | None]
    #: The sender's own copy in their trash, then emptied from it.
    sender_trashed_at: Mapped[dt.datetime | None]
    sender_deleted: Mapped[bool] = mapped_column(default=False)

    sender: Mapped[User] = relationship(foreign_keys=[sender_id])
    addresses: Mapped[list[MessageAddress]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="MessageAddress.id"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="Attachment.id"
    )

    __table_args__ = (Index("ix_message_sender_state", "sender_id", "state", "sent_at"),)

    def was_received_by(self, user_id: int) -> bool:
        """Did ``user_id`` receive this message? (The reply right of the reachability rules.)"""
        return bool(
            db.session.scalar(
                select(
                    exists().where(
                        InboxEntry.message_id == self.id, InboxEntry.recipient_id == user_id
                    )
                )
            )
        )

    def was_received_with_files(self, user_id: int) -> bool:
        """Did ``user_id`` receive this message with its attachments?"""
        return bool(
            db.session.scalar(
                select(
                    exists().where(
                        InboxEntry.message_id == self.id,
                        InboxEntry.recipient_id == user_id,
                        InboxEntry.attachments_withheld.is_(False),
                    )
                )
            )
        )

    def __repr__(self) -> str:
        return f"<Message {self.id} {self.state}>"


class MessageAddress(db.Model):
    """One person or group the sender put in To, CC or BCC. Groups and broadcast lists are
    expanded to their members when the message is delivered."""

    __tablename__ = "message_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[Field] = mapped_column(String(3))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("school_group.id", ondelete="CASCADE"))

    message: Mapped[Message] = relationship(back_populates="addresses")
    user: Mapped[User | None] = relationship()
    group: Mapped[Group | None] = relationship()

    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_recipient"),
    )


class InboxEntry(db.Model):
    """One recipient's copy of a message: written once by the delivery job (the unique
    constraint makes a second delivery harmless)."""

    __tablename__ = "inbox_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    field: Mapped[Field] = mapped_column(String(3))
    #: Reached in BCC or through a broadcast list: sees only the sender and themselves.
    hidden: Mapped[bool] = mapped_column(default=False)
    delivered_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    read_at: Mapped[dt.datetime | None]
    trashed_at: Mapped[dt.datetime | None]
    #: Emptied from the trash: gone from every folder (the message itself is kept).
    deleted: Mapped[bool] = mapped_column(default=False)
    #: The account was not activated at delivery: the message came without its attachments.
    attachments_withheld: Mapped[bool] = mapped_column(default=False)

    message: Mapped[Message] = relationship()
    recipient: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("message_id", "recipient_id"),
        Index("ix_inbox_entry_folder", "recipient_id", "deleted", "trashed_at", "read_at"),
    )


class Attachment(db.Model):
    """A file joined to a message. Uploaded while composing (``message_id`` still empty), it
    belongs to the message once sent. The content lives in the attachment folder, outside the
    static files, under its SHA-256: the same file sent twice is stored once."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    #: Who uploaded it: their storage quota counts it.
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    #: The name the uploader gave it, shown to readers (never used as a path).
    filename: Mapped[str] = mapped_column(String(200))
    #: Found from the content, not from the name.
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    digest: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: When it was joined to what it belongs to: a message, or a liaison note or an absence's
    #: justification (which hold it by its id). Files never joined are forgotten (purge()).
    attached_at: Mapped[dt.datetime | None]

    message: Mapped[Message | None] = relationship(back_populates="attachments")


class ThreadMute(db.Model):
    """A reader who muted a conversation: its new messages still arrive in their inbox, but
    they are not notified of them."""

    __tablename__ = "thread_mute"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class FlashMessage(HasAudience, db.Model):
    """An urgent message (a teacher absent, a strike, a bus problem: SPEC §3, seed 003), shown as
    a banner at the top of every page of its audience from its start to its end, until each
    reader acknowledges it."""

    __tablename__ = "flash_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(200))
    #: HTML cleaned on the server (portal.core.bodies).
    body: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[dt.datetime]
    #: Set to the moment it was ended when its author ends it early.
    ends_at: Mapped[dt.datetime]
    #: Also e-mailed at its start to everyone of its audience who has not refused all e-mail.
    emailed: Mapped[bool] = mapped_column(default=False)
    #: Also sent by SMS at its start to the guardians of its audience who accept SMS.
    texted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    author: Mapped[User | None] = relationship()
    audience_rows: Mapped[list[FlashAudience]] = relationship(
        cascade="all, delete-orphan", order_by="FlashAudience.id"
    )

    __table_args__ = (Index("ix_flash_message_showing", "school_id", "ends_at"),)

    def is_showing(self, at: dt.datetime) -> bool:
        return self.starts_at <= at < self.ends_at


class FlashAudience(AudienceRow, db.Model):
    """One target of a flash message: a profile, in one group or in the whole school."""

    __tablename__ = "flash_audience"

    flash_message_id: Mapped[int] = mapped_column(
        ForeignKey("flash_message.id", ondelete="CASCADE"), index=True
    )

    __table_args__ = (UniqueConstraint("flash_message_id", "profile", "group_id"),)


class FlashAcknowledgement(db.Model):
    """A reader said they have read a flash message: its banner no longer shows for them."""

    __tablename__ = "flash_acknowledgement"

    flash_message_id: Mapped[int] = mapped_column(
        ForeignKey("flash_message.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    acknowledged_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
