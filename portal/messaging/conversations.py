"""Reading messages: who may open one, whom each reader sees, whom a reply may reach, and the
folders (SPEC §3).

A message is readable only by its sender and its recipients: nobody else, admins included.
Recipients in To and CC see the sender and the To and CC recipients; a recipient in BCC or
reached through a broadcast list sees the sender and themselves only, and may answer the sender
alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.core import clock
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.messaging import services
from portal.messaging.models import Field, InboxEntry, Message, MessageAddress, MessageState
from portal.messaging.services import Addressee

PAGE_SIZE = 25
FOLDERS = ("inbox", "sent", "scheduled", "drafts", "trash")


def entry_of(user: User, message: Message) -> InboxEntry | None:
    return entries_of(user, [message]).get(message.id)


def lock_for_reading(message: Message) -> None:
    """Read the message's state again under a shared lock (PostgreSQL), held until the reading
    is committed: a recall waits for it, and a reading waits for a recall (services.recall)."""
    db.session.refresh(message, with_for_update={"read": True})


def was_recalled_from(user: User, message: Message) -> bool:
    """``message`` reached ``user`` and was recalled by its sender since."""
    return (
        message.state == MessageState.RECALLED
        and message.sender_id != user.id
        and entry_of(user, message) is not None
    )


def addressees_seen_by(
    message: Message, viewer: User, entries: dict[int, InboxEntry] | None = None
) -> list[Addressee]:
    """The To, CC and BCC recipients as ``viewer`` may see them (the sender sees all).
    ``entries``: the viewer's inbox rows by message, when a whole thread is shown."""
    if message.sender_id != viewer.id:
        entry = entries.get(message.id) if entries is not None else entry_of(viewer, message)
        if entry is None or entry.hidden:
            return [Addressee(entry.field if entry else Field.BCC, user=viewer)]
    shown = []
    for address in message.addresses:
        if address.field == Field.BCC and message.sender_id != viewer.id:
            continue
        shown.append(Addressee.of(address))
    return shown


def recipients_line(message: Message) -> str:
    """Whom the sender addressed, for their Sent folder."""
    return ", ".join(Addressee.of(address).name for address in message.addresses)


@dataclass
class ReplyDraft:
    """What the compose form starts from when answering a message."""

    to: list[Addressee]
    cc: list[Addressee]
    subject: str
    left_out: list[str]  # visible recipients the replier may not reach, named


def reply_draft(message: Message, replier: User, *, everyone: bool) -> ReplyDraft:
    """Answer the sender (``everyone=False``) or every visible recipient the replier may reach.
    ValidationError when the message takes no answer or the replier may not answer everyone."""
    if message.no_reply and message.sender_id != replier.id:
        raise ValidationError("reply", _("This message does not accept replies."))
    subject = message.subject
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"[: services.SUBJECT_MAX]
    sender = Addressee(Field.TO, user=message.sender)
    if not everyone:
        to = [sender] if message.sender_id != replier.id else []
        return ReplyDraft(to=to, cc=[], subject=subject, left_out=[])
    entry = entry_of(replier, message)
    if entry is not None and entry.hidden:
        raise ValidationError(
            "reply", _("You received this message in Bcc: you can only answer its sender.")
        )
    candidates = [a for a in addressees_seen_by(message, replier) if a.user != replier]
    if message.sender_id != replier.id:
        candidates.insert(0, sender)
    refused = services.out_of_reach(replier, candidates, reply_to=message)
    to, cc, left_out = [], [], []
    for addressee in candidates:
        if addressee in refused:
            left_out.append(addressee.name)
        elif addressee.field == Field.CC:
            cc.append(addressee)
        else:
            to.append(replace(addressee, field=Field.TO))
    return ReplyDraft(to=to, cc=cc, subject=subject, left_out=left_out)


# --- folders -----------------------------------------------------------------------------------


def _inbox(user: User, *, trash: bool = False) -> Select:
    where = InboxEntry.trashed_at.is_not(None) if trash else InboxEntry.trashed_at.is_(None)
    return (
        select(InboxEntry, Message)
        .join(Message, Message.id == InboxEntry.message_id)
        .where(
            InboxEntry.recipient_id == user.id,
            InboxEntry.deleted.is_(False),
            Message.state == MessageState.SENT,
            where,
        )
    )


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(InboxEntry)
        .join(Message, Message.id == InboxEntry.message_id)
        .where(
            InboxEntry.recipient_id == user.id,
            InboxEntry.read_at.is_(None),
            InboxEntry.trashed_at.is_(None),
            InboxEntry.deleted.is_(False),
            Message.state == MessageState.SENT,
        )
    )


def _matching(query: Select, words: str) -> Select:
    """Messages whose subject, sender's name or body contain every word of ``words``."""
    for word in words.split()[:8]:
        pattern = f"%{word.lower()}%"
        query = query.where(
            or_(
                func.lower(Message.subject).like(pattern),
                func.lower(Message.body_text).like(pattern),
                Message.sender_id.in_(
                    select(User.id).where(
                        func.lower(User.first_name + " " + User.last_name).like(pattern)
                    )
                ),
            )
        )
    return query


@dataclass
class FolderPage:
    rows: list  # (InboxEntry | None, Message)
    page: int
    has_next: bool


def _sent(user: User, *, state: MessageState | None = None, trash: bool = False) -> Select:
    states = [state] if state else [MessageState.SENT, MessageState.RECALLED]
    where = Message.sender_trashed_at.is_not(None) if trash else Message.sender_trashed_at.is_(None)
    return select(Message).where(
        Message.sender_id == user.id,
        Message.state.in_(states),
        Message.sender_deleted.is_(False),
        where,
    )


#: What a folder's rows show, loaded with the page in a few queries rather than one per row:
#: a received message's sender, a sent one's recipients, and whether each has attachments.
_RECEIVED = (selectinload(Message.sender), selectinload(Message.attachments))
_SENT = (
    selectinload(Message.attachments),
    selectinload(Message.addresses).selectinload(MessageAddress.user),
    selectinload(Message.addresses).selectinload(MessageAddress.group),
)


def folder(user: User, name: str, *, words: str = "", page: int = 1) -> FolderPage:
    """One page of a folder, newest first: rows of (the reader's inbox row or None, message).
    The trash holds both received and sent messages."""
    page = max(page, 1)
    wanted = page * PAGE_SIZE + 1
    queries = {
        "inbox": [(_inbox(user).options(*_RECEIVED), InboxEntry.delivered_at)],
        "sent": [(_sent(user).options(*_SENT), Message.sent_at)],
        "scheduled": [
            (_sent(user, state=MessageState.SCHEDULED).options(*_SENT), Message.scheduled_for)
        ],
        "drafts": [(_sent(user, state=MessageState.DRAFT).options(*_SENT), Message.updated_at)],
        "trash": [
            (_inbox(user, trash=True).options(*_RECEIVED), InboxEntry.trashed_at),
            (_sent(user, trash=True).options(*_SENT), Message.sender_trashed_at),
        ],
    }[name]
    rows = []
    for query, newest in queries:
        if words.strip():
            query = _matching(query, words)
        query = query.add_columns(newest).order_by(newest.desc(), Message.id.desc())
        for *found, when in db.session.execute(query.limit(wanted)):
            entry = found[0] if len(found) == 2 else None
            rows.append((when, found[-1].id, entry, found[-1]))
    rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
    shown = [
        (entry, message) for _when, _id, entry, message in rows[(page - 1) * PAGE_SIZE : wanted]
    ]
    return FolderPage(rows=shown[:PAGE_SIZE], page=page, has_next=len(shown) > PAGE_SIZE)


def thread_of(message: Message, reader: User, *, lock: bool = False) -> list[Message]:
    """The messages of the conversation ``reader`` may read, oldest first. With ``lock``, they
    stay locked for sharing until the commit, so none is recalled while it is being read."""
    query = (
        select(Message)
        .where(Message.thread_id == message.thread_id, Message.state == MessageState.SENT)
        .order_by(Message.sent_at, Message.id)
    )
    if lock:
        query = query.with_for_update(read=True)
    candidates = list(db.session.scalars(query))
    # messaging.permissions.can_read_message() of each, in one query: the reader wrote it, or
    # has it in their inbox.
    received = entries_of(reader, [m for m in candidates if m.sender_id != reader.id])
    return [m for m in candidates if m.sender_id == reader.id or m.id in received]


def entries_of(user: User, messages: list[Message]) -> dict[int, InboxEntry]:
    """``user``'s inbox rows of ``messages`` that are not deleted, by message id."""
    if not messages:
        return {}
    found = db.session.scalars(
        select(InboxEntry).where(
            InboxEntry.message_id.in_([m.id for m in messages]),
            InboxEntry.recipient_id == user.id,
            InboxEntry.deleted.is_(False),
        )
    )
    return {entry.message_id: entry for entry in found}


def load_thread(message_ids: list[int]) -> None:
    """Load what the page of a thread shows of each message (its sender, recipients and
    attachments) in a few queries, rather than several for each message."""
    db.session.scalars(
        select(Message)
        .where(Message.id.in_(message_ids))
        .options(selectinload(Message.sender), *_SENT)
        .execution_options(populate_existing=True)
    ).all()


def mark_read(user: User, *messages: Message) -> None:
    """``user`` has read ``messages`` (one UPDATE however many)."""
    db.session.execute(
        update(InboxEntry)
        .where(
            InboxEntry.message_id.in_([message.id for message in messages]),
            InboxEntry.recipient_id == user.id,
            InboxEntry.read_at.is_(None),
        )
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )


def trash(user: User, message: Message) -> None:
    """Move a sent or received message to the trash; a scheduled one must be called off first
    (it would leave unseen), a draft is deleted instead."""
    if message.state in (MessageState.SCHEDULED, MessageState.DRAFT):
        raise ValidationError(
            "message", _("Call off the sending of this message before putting it in the trash.")
        )
    now = clock.now()
    if message.sender_id == user.id:
        message.sender_trashed_at = message.sender_trashed_at or now
    entry = entry_of(user, message)
    if entry is not None:
        entry.trashed_at = entry.trashed_at or now


def restore(user: User, message: Message) -> None:
    if message.sender_id == user.id:
        message.sender_trashed_at = None
    entry = entry_of(user, message)
    if entry is not None:
        entry.trashed_at = None


def empty_trash(user: User) -> int:
    """Remove what the trash holds from every folder of ``user``; the messages are kept."""
    emptied = db.session.execute(
        update(InboxEntry)
        .where(InboxEntry.recipient_id == user.id, InboxEntry.trashed_at.is_not(None))
        .values(deleted=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    emptied += db.session.execute(
        update(Message)
        .where(Message.sender_id == user.id, Message.sender_trashed_at.is_not(None))
        .values(sender_deleted=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    return emptied
