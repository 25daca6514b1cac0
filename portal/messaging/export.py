"""The direction's justified export of a conversation (SPEC §3).

Nobody reads a conversation they did not take part in, admins included. The one exception is
this export: an admin of the school names a person and gives the reason; the list of that
person's conversations and each conversation exported are written to the audit log with the
reason, in the same transaction as the answer is made.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from sqlalchemy import func, or_, select

from portal.accounts.models import User
from portal.core.audit import AuditTag, record
from portal.extensions import db
from portal.messaging.models import InboxEntry, Message, MessageState

#: What the direction must write before seeing anything.
JUSTIFICATION_MIN, JUSTIFICATION_MAX = 20, 2000


@dataclass(frozen=True)
class Conversation:
    thread_id: int
    subject: str
    first_at: object
    last_at: object
    messages: int


def _involving(person: User):
    """The messages ``person`` sent or received."""
    received = select(InboxEntry.message_id).where(InboxEntry.recipient_id == person.id)
    return or_(Message.sender_id == person.id, Message.id.in_(received))


def conversations_of(admin: User, person: User, justification: str) -> list[Conversation]:
    """The conversations ``person`` took part in, newest first; the listing is audited."""
    rows = db.session.execute(
        select(
            Message.thread_id,
            func.min(Message.sent_at),
            func.max(Message.sent_at),
            func.count(Message.id),
        )
        .where(Message.state == MessageState.SENT, _involving(person))
        .group_by(Message.thread_id)
        .order_by(func.max(Message.sent_at).desc())
        .limit(500)
    ).all()
    subjects = dict(
        db.session.execute(
            select(Message.id, Message.subject).where(Message.id.in_([r[0] for r in rows]))
        ).all()
    )
    record(
        admin,
        AuditTag.CONVERSATIONS_LISTED,
        admin.school_id,
        person_id=person.id,
        person=person.display_name,
        justification=justification,
        conversations=len(rows),
    )
    return [
        Conversation(thread_id, subjects.get(thread_id, ""), first, last, count)
        for thread_id, first, last, count in rows
    ]


def thread_messages(person: User, thread_id: int) -> list[Message]:
    """The sent messages of the conversation that ``person`` wrote or received: not the other
    answers in it (a Bcc recipient's conversation holds only their own exchange)."""
    return list(
        db.session.scalars(
            select(Message)
            .where(
                Message.thread_id == thread_id,
                Message.state == MessageState.SENT,
                _involving(person),
            )
            .order_by(Message.sent_at, Message.id)
        )
    )


def export(admin: User, person: User, messages: list[Message], justification: str) -> str:
    """The conversation as a standalone HTML document, every address shown (Bcc included), each
    recipient with when they read it; the export is audited."""
    readers = {
        message.id: db.session.execute(
            select(User, InboxEntry.read_at)
            .join(InboxEntry, InboxEntry.recipient_id == User.id)
            .where(InboxEntry.message_id == message.id)
            .order_by(User.last_name, User.first_name)
        ).all()
        for message in messages
    }
    entry = record(
        admin,
        AuditTag.CONVERSATION_EXPORTED,
        admin.school_id,
        person_id=person.id,
        person=person.display_name,
        thread_id=messages[0].thread_id,
        subject=messages[0].subject,
        messages=len(messages),
        justification=justification,
    )
    return render_template(
        "messaging/export.html",
        messages=messages,
        readers=readers,
        person=person,
        admin=admin,
        justification=justification,
        audit=entry,
    )
