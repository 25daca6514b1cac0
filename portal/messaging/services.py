"""Writing, checking and delivering messages (SPEC §3).

send() checks every recipient against the communication rules, stores the message with its
delivery work in the outbox, in the sender's transaction, and returns. The delivery job expands
groups and broadcast lists to their members of the moment and writes the inbox rows in batches;
a row per (message, recipient) is unique, so running the job again delivers nobody twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update

from portal.accounts.models import User
from portal.core import bodies, clock, outbox
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups import reachability, saved
from portal.groups.labels import label
from portal.groups.models import Group, SavedList
from portal.messaging import attachments
from portal.messaging.models import (
    FIELDS,
    Attachment,
    Field,
    InboxEntry,
    Message,
    MessageAddress,
    MessageState,
    ThreadMute,
)

SUBJECT_MAX = 200
RECALL_WINDOW = dt.timedelta(minutes=30)
SCHEDULE_HORIZON = dt.timedelta(days=366)


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


@dataclass(frozen=True)
class Withheld:
    """A recipient the sender may not write to, or an id that names nobody, as the compose form
    shows it again: without a name (SPEC §2). Whether the id is someone of another school, a
    blocked account, someone out of the rules or no one at all, the sender is told the same."""

    field: Field
    token: str

    @property
    def name(self) -> str:
        return str(WITHHELD)


@dataclass(frozen=True)
class SavedChip:
    """One of the sender's saved lists, picked in a field: its members are put in its place,
    and checked, when the message is sent."""

    field: Field
    saved_list: SavedList

    @property
    def token(self) -> str:
        return f"saved:{self.saved_list.id}"

    @property
    def name(self) -> str:
        return _("%(name)s (saved list)", name=self.saved_list.name)


#: What a recipient the sender can't write to is called, whoever is behind the id.
WITHHELD = _l("A recipient you cannot write to")


@dataclass
class Resolved:
    """The recipients picker tokens name: the people and groups found, an error per field for
    a token that can't be read, and the tokens whose id names nobody."""

    addressed: list[Addressee]
    unreadable: dict[str, str]
    unknown: list[Withheld]


def resolve(tokens: dict[Field, Iterable[str]]) -> Resolved:
    """The people and groups that picker tokens ('user:12', 'group:3') name."""
    wanted: list[tuple[Field, str, int, str]] = []
    unreadable: dict[str, str] = {}
    for field in FIELDS:
        for token in dict.fromkeys(t.strip() for t in tokens.get(field, ()) if t.strip()):
            parsed = saved.parse_token(token)
            if parsed is None or parsed[0] == "saved":  # a saved list is expanded before
                unreadable[field.value] = _("A recipient could not be read. Pick it again.")
                continue
            wanted.append((field, *parsed, token))
    user_ids = [i for _f, kind, i, _t in wanted if kind == "user"]
    group_ids = [i for _f, kind, i, _t in wanted if kind == "group"]
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
    found_groups = db.session.scalars(select(Group).where(Group.id.in_(group_ids)))
    groups = {g.id: g for g in found_groups}
    resolved = Resolved([], unreadable, [])
    for field, kind, number, token in wanted:
        target = (users if kind == "user" else groups).get(number)
        if target is None:
            resolved.unknown.append(Withheld(field, token))
        else:
            resolved.addressed.append(Addressee(field, **{kind: target}))
    return resolved


def expand_saved(
    sender: User, tokens: dict[str, list[str]]
) -> tuple[dict[str, list[str]], list[str]]:
    """The picker tokens with each of the sender's saved lists replaced, in its field, by the
    members the sender may write to now; and the names of the members left out (seed 003's
    'favoris' grant nothing: the rules decide at every send). Another's list stays as it is,
    and resolve() reads it as nobody."""
    expanded: dict[str, list[str]] = {}
    left_out: list[str] = []
    for field_name, field_tokens in tokens.items():
        expanded[field_name] = []
        for token in field_tokens:
            found = saved.owned(sender, token)
            if found is None:
                expanded[field_name].append(token)
                continue
            members = saved.expand(sender, found)
            expanded[field_name] += [f"user:{u.id}" for u in members.users]
            expanded[field_name] += [f"group:{g.id}" for g in members.groups]
            left_out += [name for name in members.left_out if name not in left_out]
    return expanded, left_out


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


def withheld(sender: User, resolved: Resolved, reply_to: Message | None = None) -> list[Withheld]:
    """Every recipient of ``resolved`` the sender may not write to, or that is nobody."""
    refused = out_of_reach(sender, resolved.addressed, reply_to)
    return [Withheld(a.field, a.token) for a in refused] + resolved.unknown


def refusals(sender: User, resolved: Resolved, reply_to: Message | None = None) -> dict[str, str]:
    """For each field, how many of its recipients ``sender`` may not write to, never who: the
    same answer for someone out of the rules, blocked, of another school, or no one at all."""
    counts: dict[Field, int] = {}
    for recipient in withheld(sender, resolved, reply_to):
        counts[recipient.field] = counts.get(recipient.field, 0) + 1
    return {
        field.value: _("You cannot write to one of these recipients: remove it.")
        if count == 1
        else _("You cannot write to %(num)d of these recipients: remove them.", num=count)
        for field, count in counts.items()
    }


def _checked_content(subject: str, body: str, errors: dict[str, str]) -> tuple[str, str]:
    """The subject on one line and the cleaned body; what is wrong with them goes in ``errors``."""
    subject = " ".join(subject.split())
    if not subject:
        errors["subject"] = _("Give the message a subject.")
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = _(
            "The subject is too long (%(max)d characters at most).", max=SUBJECT_MAX
        )
    if len(body) > bodies.MAX_LENGTH:
        errors["body"] = _("The message is too long.")
        return subject, ""
    cleaned = bodies.clean(body)
    if bodies.is_empty(cleaned):
        errors["body"] = _("Write something in the message.")
    return subject, cleaned


def _checked_time(send_at: dt.datetime | None, errors: dict[str, str]) -> dt.datetime | None:
    if send_at is None:
        return None
    now = clock.now()
    if send_at <= now + dt.timedelta(minutes=1):
        errors["send_at"] = _("Choose a time in the future, or send the message now.")
    elif send_at > now + SCHEDULE_HORIZON:
        errors["send_at"] = _("A message can be scheduled up to one year ahead.")
    return send_at


def _fill(
    message: Message,
    sender: User,
    addressed: list[Addressee],
    reply_to: Message | None,
    files: list[Attachment],
) -> None:
    message.school_id = sender.school_id
    message.updated_at = clock.now()
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
    attachments.join(message, files)
    db.session.add(message)
    db.session.flush()
    if message.thread_id is None:
        message.thread_id = message.id


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
    files: Iterable[int] = (),
    send_at: dt.datetime | None = None,
) -> Message:
    """Check everything, then store the message and its delivery work (now, or at ``send_at``);
    nothing is stored when anything is refused (ValidationError with a message per field)."""
    errors: dict[str, str] = {}
    subject, cleaned = _checked_content(subject, body, errors)
    send_at = _checked_time(send_at, errors)
    resolved = resolve({Field.TO: to, Field.CC: cc, Field.BCC: bcc})
    addressed = resolved.addressed
    errors.update(resolved.unreadable)
    if not addressed and not resolved.unreadable and not resolved.unknown:
        errors["to"] = _("Add at least one recipient, in To, Cc or Bcc.")
    if reply_to is not None and reply_to.no_reply and reply_to.sender_id != sender.id:
        errors["to"] = _("This message does not accept replies.")
    for field, message in refusals(sender, resolved, reply_to).items():
        errors.setdefault(field, message)
    try:
        joined = attachments.pending(sender, list(files), draft)
    except ValidationError as error:
        errors.update(error.errors)
    if errors:
        raise ValidationError.of(errors)
    now = clock.now()
    message = draft or Message(sender_id=sender.id, created_at=now)
    message.subject, message.body = subject, cleaned
    message.body_text = bodies.plain_text(cleaned)
    message.no_reply = no_reply
    if send_at is None:
        message.state, message.sent_at, message.scheduled_for = MessageState.SENT, now, None
    else:
        message.state, message.scheduled_for = MessageState.SCHEDULED, send_at
    _fill(message, sender, addressed, reply_to, joined)
    item = outbox.add("message_delivery", {"message_id": message.id}, available_at=send_at)
    message.delivery_item_id = item.id
    return message


def save_draft(
    sender: User,
    *,
    to: Iterable[str] = (),
    cc: Iterable[str] = (),
    bcc: Iterable[str] = (),
    subject: str = "",
    text: str = "",
    reply_to: Message | None = None,
    no_reply: bool = False,
    draft: Message | None = None,
    files: Iterable[int] = (),
) -> Message:
    """Keep what is being written, as it is: recipients the rules refuse are dropped (the send
    would refuse them), nothing else is checked. ``text`` is kept as typed, to be edited again."""
    if len(text) > bodies.MAX_LENGTH:
        raise ValidationError("body", _("The message is too long."))
    addressed = resolve({Field.TO: to, Field.CC: cc, Field.BCC: bcc}).addressed
    refused = out_of_reach(sender, addressed, reply_to)
    message = draft or Message(sender_id=sender.id, state=MessageState.DRAFT)
    message.subject = " ".join(subject.split())[:SUBJECT_MAX]
    message.body = bodies.clean(bodies.from_text(text))
    message.body_text = text
    message.no_reply = no_reply
    _fill(
        message,
        sender,
        [a for a in addressed if a not in refused],
        reply_to,
        attachments.pending(sender, list(files), draft),
    )
    return message


def draft_of(user: User, message_id: int, *, lock: bool = False) -> Message | None:
    """``user``'s own draft with this id. With ``lock``, the row stays locked until the commit
    (PostgreSQL): a save and a send of the same draft run one after the other, and the second
    finds the draft sent."""
    query = select(Message).where(
        Message.id == message_id,
        Message.sender_id == user.id,
        Message.state == MessageState.DRAFT,
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def discard(draft: Message) -> None:
    """Delete a draft, with the files uploaded for it."""
    db.session.delete(draft)


def unschedule(sender: User, message: Message) -> None:
    """Take a scheduled message back: it becomes a draft again, its delivery is called off."""
    back = db.session.execute(
        update(Message)
        .where(
            Message.id == message.id,
            Message.sender_id == sender.id,
            Message.state == MessageState.SCHEDULED,
        )
        .values(state=MessageState.DRAFT, scheduled_for=None, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not back:
        raise ValidationError("message", _("This message has already been sent."))
    if message.delivery_item_id is not None:
        outbox.cancel(message.delivery_item_id)
    db.session.refresh(message)


def may_recall(message: Message) -> bool:
    """Sent less than RECALL_WINDOW ago (whether nobody read it is checked when recalling)."""
    return (
        message.state == MessageState.SENT
        and message.sent_at is not None
        and clock.now() - message.sent_at <= RECALL_WINDOW
    )


def recall(sender: User, message: Message) -> None:
    """Take a sent message back from every inbox, if it was sent less than 30 minutes ago and
    nobody has read it yet.

    The message row is locked first (FOR UPDATE on PostgreSQL; SQLite has one writer at a
    time), and a reader locks it too (FOR SHARE, conversations.lock_for_reading) before marking
    it read: so either the reader sees it recalled, or the recall sees it read."""
    db.session.refresh(message, with_for_update=True)
    if message.sender_id != sender.id or not may_recall(message):
        raise ValidationError(
            "message", _("A message can only be recalled in the 30 minutes after it was sent.")
        )
    read = exists().where(InboxEntry.message_id == message.id, InboxEntry.read_at.is_not(None))
    if db.session.scalar(select(read)):
        raise ValidationError(
            "message", _("A recipient has already read this message: it can't be recalled.")
        )
    message.state, message.updated_at = MessageState.RECALLED, clock.now()
    db.session.flush()


def is_muted(user: User, message: Message) -> bool:
    return db.session.get(ThreadMute, (user.id, message.thread_id)) is not None


def set_muted(user: User, message: Message, muted: bool) -> None:
    """Mute or unmute the conversation of ``message`` for ``user``, who may read it."""
    mute = db.session.get(ThreadMute, (user.id, message.thread_id))
    if muted and mute is None:
        db.session.add(ThreadMute(user_id=user.id, thread_id=message.thread_id))
    elif not muted and mute is not None:
        db.session.delete(mute)
    db.session.flush()
