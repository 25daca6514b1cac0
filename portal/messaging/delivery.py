"""Delivering a message (in a worker, SPEC §3): each recipient's copy written in batches, the
recipients a message reaches, and the outbox handler 'message_delivery'."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import Select, func, literal, select, update

from portal.accounts.models import UNREACHABLE, AccountState, User
from portal.core import clock
from portal.core.db import UTCDateTime, among, insert_new
from portal.extensions import db
from portal.groups.models import Group, GroupKind, GroupMember
from portal.messaging.models import (
    FIELDS,
    Field,
    InboxEntry,
    Message,
    MessageAddress,
    MessageState,
    ThreadMute,
)
from portal.notifications import services as notifications


def _recipient_rows(message: Message, *where) -> Select:
    """(field, user id, through a broadcast list) for each way a person is reached: directly
    or as a current member of an addressed group; blocked people and the sender left out."""
    direct = (
        select(MessageAddress.field, User.id, literal(False))
        .join(User, User.id == MessageAddress.user_id)
        .where(MessageAddress.message_id == message.id)
    )
    through_groups = (
        select(MessageAddress.field, GroupMember.user_id, Group.kind == GroupKind.BROADCAST_LIST)
        .join(Group, Group.id == MessageAddress.group_id)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .join(User, User.id == GroupMember.user_id)
        .where(MessageAddress.message_id == message.id)
    )
    keep = (User.state.not_in(UNREACHABLE), User.id != message.sender_id, *where)
    return direct.where(*keep).union_all(through_groups.where(*keep))


def recipients_of(message: Message) -> dict[int, tuple[Field, bool]]:
    """Who receives ``message`` now, each with the field they see it in and whether they are
    hidden (BCC or broadcast list: they see only the sender and themselves)."""
    best: dict[int, tuple[int, bool]] = {}
    for field, user_id, through_list in db.session.execute(_recipient_rows(message)):
        rank = FIELDS.index(Field(field))
        seen = (rank, bool(through_list) or field == Field.BCC)
        if user_id not in best or seen < best[user_id]:
            best[user_id] = seen
    return {user_id: (FIELDS[rank], hidden) for user_id, (rank, hidden) in best.items()}


def inactive_recipients(message: Message) -> int:
    """How many recipients have not activated their account: they get no attachments."""
    rows = _recipient_rows(message, User.state == AccountState.INACTIVE).subquery()
    return db.session.scalar(select(func.count(func.distinct(rows.c.id))))


def _write_entries(
    message: Message, field: Field, hidden: bool, user_ids: list[int], with_files: bool
) -> list[int]:
    """Insert the inbox rows that don't exist yet, in one statement; returns whose were new.
    People who have not activated their account get the message without its attachments."""
    rows = select(
        literal(message.id),
        User.id,
        literal(field.value),
        literal(hidden),
        literal(clock.now(), UTCDateTime()),
        literal(False),
        (User.state == AccountState.INACTIVE) if with_files else literal(False),
    ).where(among(User.id, user_ids))
    columns = [
        "message_id",
        "recipient_id",
        "field",
        "hidden",
        "delivered_at",
        "deleted",
        "attachments_withheld",
    ]
    statement = (
        insert_new(InboxEntry.__table__)
        .from_select(columns, rows)
        .on_conflict_do_nothing(index_elements=["message_id", "recipient_id"])
        .returning(InboxEntry.recipient_id)
    )
    return list(db.session.execute(statement).scalars())


def deliver(message_id: int) -> int:
    """Write the inbox rows of a sent message, MESSAGE_DELIVERY_BATCH people per transaction,
    and tell the new recipients; returns how many were new. Safe to run again after a crash."""
    message = db.session.get(Message, message_id)
    if message is not None and message.state == MessageState.SCHEDULED:
        _release(message)
    if message is None or message.state != MessageState.SENT:
        return 0  # recalled, taken back to the drafts, or scheduled later since
    recipients = recipients_of(message)
    with_files = bool(message.attachments)
    muted = set(
        db.session.scalars(
            select(ThreadMute.user_id).where(ThreadMute.thread_id == message.thread_id)
        )
    )
    # The sender's id and profile only: the sender itself would be loaded again after each commit.
    sender = notifications.Author.of(message.sender)
    notice = {
        "sender": message.sender.display_name,
        "subject": message.subject,
        "url": f"/messages/{message.id}",
    }
    delivered = 0
    ordered = sorted(recipients)
    size = current_app.config["MESSAGE_DELIVERY_BATCH"]
    for start in range(0, len(ordered), size):
        # Recalled meanwhile: the rest is not delivered (a recall waits for this batch).
        db.session.refresh(message, with_for_update={"read": True})
        if message.state != MessageState.SENT:
            break
        batch: dict[tuple[Field, bool], list[int]] = {}
        for user_id in ordered[start : start + size]:
            batch.setdefault(recipients[user_id], []).append(user_id)
        new = []
        for (field, hidden), user_ids in batch.items():
            new += _write_entries(message, field, hidden, user_ids, with_files)
        told = [user_id for user_id in new if user_id not in muted]
        notifications.notify("message", told, "inbox", notice, author=sender)
        db.session.commit()
        delivered += len(new)
    return delivered


def _release(message: Message) -> None:
    """A scheduled message whose time has come is sent (once, whoever gets here first)."""
    if message.scheduled_for > clock.now():
        return
    db.session.execute(
        update(Message)
        .where(Message.id == message.id, Message.state == MessageState.SCHEDULED)
        .values(state=MessageState.SENT, sent_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(message)
