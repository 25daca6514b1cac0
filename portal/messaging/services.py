"""Writing, checking and delivering messages (SPEC §3).

send() checks every recipient against the communication rules, stores the message with its
delivery work in the outbox, in the sender's transaction, and returns. The delivery job expands
groups and broadcast lists to their members of the moment and writes the inbox rows in batches;
a row per (message, recipient) is unique, so running the job again delivers nobody twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import literal, select

from portal.accounts.models import AccountState, User
from portal.core import clock, outbox
from portal.core.db import UTCDateTime, among, insert_new
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups import reachability
from portal.groups.labels import label
from portal.groups.models import Group, GroupKind, GroupMember
from portal.messaging import bodies
from portal.messaging.models import (
    FIELDS,
    Field,
    InboxEntry,
    Message,
    MessageAddress,
    MessageState,
)
from portal.notifications import services as notifications

SUBJECT_MAX = 200
_TOKEN = re.compile(r"^(user|group):([0-9]{1,12})$")


@dataclass(frozen=True)
class Addressee:
    """A person or a group as the sender put it in To, CC or BCC."""

    field: Field
    user: User | None = None
    group: Group | None = None

    @classmethod
    def of(cls, address: MessageAddress, field: Field | None = None) -> Addressee:
        """A stored address, in its own field or moved to ``field`` (a reply's To or Cc)."""
        return cls(field or Field(address.field), user=address.user, group=address.group)

    @property
    def token(self) -> str:
        return f"user:{self.user.id}" if self.user else f"group:{self.group.id}"

    @property
    def name(self) -> str:
        return self.user.display_name if self.user else label(self.group)


def resolve(tokens: dict[Field, Iterable[str]]) -> tuple[list[Addressee], dict[str, str]]:
    """The people and groups that picker tokens ('user:12', 'group:3') name, and an error per
    field naming a token that is malformed or names nobody."""
    wanted: list[tuple[Field, str, int]] = []
    errors: dict[str, str] = {}
    for field in FIELDS:
        for token in dict.fromkeys(t.strip() for t in tokens.get(field, ()) if t.strip()):
            match = _TOKEN.match(token)
            if match is None:
                errors[field.value] = _("A recipient could not be read. Pick it again.")
                continue
            wanted.append((field, match[1], int(match[2])))
    user_ids = [i for _f, kind, i in wanted if kind == "user"]
    group_ids = [i for _f, kind, i in wanted if kind == "group"]
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
    found_groups = db.session.scalars(select(Group).where(Group.id.in_(group_ids)))
    groups = {g.id: g for g in found_groups}
    addressed = []
    for field, kind, number in wanted:
        target = (users if kind == "user" else groups).get(number)
        if target is None:
            errors[field.value] = _("A recipient could not be found. Pick it again.")
            continue
        addressed.append(Addressee(field, **{kind: target}))
    return addressed, errors


def out_of_reach(
    sender: User, addressed: list[Addressee], reply_to: Message | None = None
) -> list[Addressee]:
    """The addressees the rules don't let ``sender`` write to (one query for the people)."""
    refused_users = set(
        reachability.refused_recipients(
            sender, [a.user.id for a in addressed if a.user], reply_to=reply_to
        )
    )
    return [
        a
        for a in addressed
        if (
            a.user.id in refused_users
            if a.user
            else not reachability.may_write_to_group(sender, a.group)
        )
    ]


def refusals(
    sender: User, addressed: list[Addressee], reply_to: Message | None = None
) -> dict[str, str]:
    """For each field, the recipients the rules don't let ``sender`` write to, named."""
    refused: dict[Field, list[str]] = {}
    for addressee in out_of_reach(sender, addressed, reply_to):
        refused.setdefault(addressee.field, []).append(addressee.name)
    return {
        field.value: _("You may not write to: %(names)s.", names=", ".join(names))
        for field, names in refused.items()
    }


def send(
    sender: User,
    *,
    to: Iterable[str] = (),
    cc: Iterable[str] = (),
    bcc: Iterable[str] = (),
    subject: str,
    body: str,
    reply_to: Message | None = None,
    no_reply: bool = False,
    draft: Message | None = None,
) -> Message:
    """Check everything, then store the message and its delivery work; nothing is stored when
    anything is refused (ValidationError with a message per field)."""
    errors: dict[str, str] = {}
    subject = " ".join(subject.split())
    if not subject:
        errors["subject"] = _("Give the message a subject.")
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = _(
            "The subject is too long (%(max)d characters at most).", max=SUBJECT_MAX
        )
    if len(body) > bodies.MAX_LENGTH:
        errors["body"] = _("The message is too long.")
        cleaned = ""
    else:
        cleaned = bodies.clean(body)
        if bodies.is_empty(cleaned):
            errors["body"] = _("Write something in the message.")
    addressed, unreadable = resolve({Field.TO: to, Field.CC: cc, Field.BCC: bcc})
    errors.update(unreadable)
    if not addressed and not unreadable:
        errors["to"] = _("Add at least one recipient, in To, Cc or Bcc.")
    if reply_to is not None and reply_to.no_reply and reply_to.sender_id != sender.id:
        errors["to"] = _("This message does not accept replies.")
    for field, message in refusals(sender, addressed, reply_to).items():
        errors.setdefault(field, message)
    if errors:
        raise ValidationError.of(errors)
    now = clock.now()
    message = draft or Message(sender_id=sender.id, created_at=now)
    message.school_id = sender.school_id
    message.subject, message.body = subject, cleaned
    message.body_text = bodies.plain_text(cleaned)
    message.no_reply = no_reply
    message.state, message.sent_at, message.updated_at = MessageState.SENT, now, now
    if reply_to is not None:
        message.parent_id, message.thread_id = reply_to.id, reply_to.thread_id or reply_to.id
    message.addresses = [
        MessageAddress(
            field=a.field,
            user_id=a.user.id if a.user else None,
            group_id=a.group.id if a.group else None,
        )
        for a in addressed
    ]
    db.session.add(message)
    db.session.flush()
    if message.thread_id is None:
        message.thread_id = message.id
    outbox.add("message_delivery", {"message_id": message.id})
    return message


# --- delivery (in a worker) --------------------------------------------------------------------


def recipients_of(message: Message) -> dict[int, tuple[Field, bool]]:
    """Who receives ``message`` now, each with the field they see it in and whether they are
    hidden (BCC or broadcast list: they see only the sender and themselves). Groups count with
    their current members; blocked people and the sender are left out."""
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
    keep = (User.state != AccountState.BLOCKED, User.id != message.sender_id)
    rows = db.session.execute(direct.where(*keep).union_all(through_groups.where(*keep)))
    best: dict[int, tuple[int, bool]] = {}
    for field, user_id, through_list in rows:
        rank = FIELDS.index(Field(field))
        seen = (rank, bool(through_list) or field == Field.BCC)
        if user_id not in best or seen < best[user_id]:
            best[user_id] = seen
    return {user_id: (FIELDS[rank], hidden) for user_id, (rank, hidden) in best.items()}


def _write_entries(message: Message, field: Field, hidden: bool, user_ids: list[int]) -> list[int]:
    """Insert the inbox rows that don't exist yet, in one statement; returns whose were new."""
    rows = select(
        literal(message.id),
        User.id,
        literal(field.value),
        literal(hidden),
        literal(clock.now(), UTCDateTime()),
        literal(False),
    ).where(among(User.id, user_ids))
    columns = ["message_id", "recipient_id", "field", "hidden", "delivered_at", "deleted"]
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
    if message is None or message.state != MessageState.SENT:
        return 0
    recipients = recipients_of(message)
    notice = {
        "sender": message.sender.display_name,
        "subject": message.subject,
        "url": f"/messages/{message.id}",
    }
    delivered = 0
    ordered = sorted(recipients)
    size = current_app.config["MESSAGE_DELIVERY_BATCH"]
    for start in range(0, len(ordered), size):
        batch: dict[tuple[Field, bool], list[int]] = {}
        for user_id in ordered[start : start + size]:
            batch.setdefault(recipients[user_id], []).append(user_id)
        new = []
        for (field, hidden), user_ids in batch.items():
            new += _write_entries(message, field, hidden, user_ids)
        notifications.notify("message", new, "inbox", notice, author=message.sender)
        db.session.commit()
        delivered += len(new)
    return delivered


@outbox.handler("message_delivery")
def _deliver(payload: dict) -> None:
    deliver(payload["message_id"])
