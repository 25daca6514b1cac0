"""The worked cases of SPEC §3 and seed 003, through the services and a real RQ worker."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.accounts.models import Profile
from portal.core.errors import ValidationError
from portal.core.outbox import OutboxItem
from portal.extensions import db
from portal.groups import people, rules
from portal.groups import services as groups
from portal.groups.models import GroupKind
from portal.messaging import conversations, delivery, services
from portal.messaging.models import Field, InboxEntry, Message
from portal.messaging.permissions import can_read_message
from portal.notifications.models import Notification
from tests import factories as make

pytestmark = pytest.mark.usefixtures("db_ctx")


def _parents_group(class_group):
    return groups.sub_groups(class_group)[Profile.PARENT]


def _inbox(user) -> list[InboxEntry]:
    return list(db.session.scalars(select(InboxEntry).where(InboxEntry.recipient_id == user.id)))


def _send(sender, **kwargs):
    kwargs.setdefault("subject", "Outing on Friday")
    kwargs.setdefault("body", "<p>Bring a coat.</p>")
    message = services.send(sender, **kwargs)
    db.session.commit()
    return message


def test_a_teacher_writes_to_the_class_parents_in_bcc_with_an_empty_to(school, worker):
    message = _send(school["teacher"], bcc=[f"group:{_parents_group(school['5B']).id}"])
    worker()
    for parent in school["parents"]:
        [entry] = _inbox(parent)
        assert (entry.message_id, entry.field, entry.hidden) == (message.id, Field.BCC, True)
        assert [a.user for a in conversations.addressees_seen_by(message, parent)] == [parent]
    assert _inbox(school["parent_4a"]) == []
    # The teacher, in Sent, sees whom the message went to.
    seen = conversations.addressees_seen_by(message, school["teacher"])
    assert [(a.field, a.group) for a in seen] == [(Field.BCC, _parents_group(school["5B"]))]


def test_a_bcc_parent_can_answer_the_teacher_only_and_the_answer_reaches_the_teacher_alone(
    school, worker
):
    message = _send(school["teacher"], bcc=[f"group:{_parents_group(school['5B']).id}"])
    worker()
    parent, other = school["parents"][0], school["parents"][1]
    with pytest.raises(ValidationError) as refused:
        conversations.reply_draft(message, parent, everyone=True)
    assert "only answer its sender" in refused.value.errors["reply"]
    draft = conversations.reply_draft(message, parent, everyone=False)
    assert [a.user for a in draft.to] == [school["teacher"]]
    assert draft.subject == "Re: Outing on Friday"
    answer = _send(parent, to=[a.token for a in draft.to], subject=draft.subject, reply_to=message)
    worker()
    assert [e.message_id for e in _inbox(school["teacher"])] == [answer.id]
    assert [e.message_id for e in _inbox(other)] == [message.id]
    assert answer.thread_id == message.id
    assert conversations.thread_of(message, school["teacher"]) == [message, answer]
    assert conversations.thread_of(message, other) == [message]


def test_reply_all_keeps_only_the_visible_recipients_the_replier_may_reach(school, worker):
    parent, other = school["parents"][0], school["parents"][1]
    message = _send(school["teacher"], to=[f"user:{parent.id}", f"user:{other.id}"])
    worker()
    draft = conversations.reply_draft(message, parent, everyone=True)
    assert [a.user for a in draft.to] == [school["teacher"]]
    assert draft.left_out == [other.display_name]  # parents of 5B can't write to each other
    # A crafted reply naming the other parent anyway is refused, and nothing is stored.
    with pytest.raises(ValidationError) as refused:
        services.send(
            parent,
            to=[f"user:{school['teacher'].id}", f"user:{other.id}"],
            subject="Re: Outing",
            body="Hello all",
            reply_to=message,
        )
    assert refused.value.errors["to"] == "You cannot write to one of these recipients: remove it."
    assert other.display_name not in refused.value.errors["to"]  # who it is stays unsaid


def test_a_broadcast_list_member_sees_neither_the_others_nor_the_list(school, worker):
    broadcast = groups.create_group(
        school["school"], GroupKind.BROADCAST_LIST, "All parents", Profile.PARENT
    )
    for parent in [*school["parents"], school["parent_4a"]]:
        groups.add_member(broadcast, parent)
    admins = groups.school_profile_group(school["school"].id, Profile.ADMIN)
    rules.add_rule(school["admin"], admins, broadcast)
    db.session.commit()
    message = _send(school["admin"], to=[f"group:{broadcast.id}"])
    worker()
    member = school["parent_4a"]
    [entry] = _inbox(member)
    assert entry.hidden and entry.field == Field.TO
    assert [a.user for a in conversations.addressees_seen_by(message, member)] == [member]
    with pytest.raises(ValidationError):
        conversations.reply_draft(message, member, everyone=True)


def test_a_crafted_send_naming_a_recipient_out_of_the_rules_stores_nothing(school):
    parent = school["parents"][0]
    pupil_elsewhere = school["parent_4a"]
    with pytest.raises(ValidationError) as refused:
        services.send(
            parent,
            to=[f"user:{school['teacher'].id}"],
            cc=[f"user:{pupil_elsewhere.id}"],
            bcc=[f"group:{_parents_group(school['5B']).id}"],
            subject="Party",
            body="<p>Hi</p>",
        )
    errors = refused.value.errors
    assert (
        errors["cc"] == errors["bcc"] == ("You cannot write to one of these recipients: remove it.")
    )
    assert pupil_elsewhere.display_name not in errors["cc"]
    assert "to" not in errors
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxItem)) == 0


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"to": []}, "to"),
        ({"to": ["user:999999"]}, "to"),
        ({"cc": ["group:abc"]}, "cc"),
        ({"subject": "  "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"body": "<script>alert(1)</script>"}, "body"),
    ],
)
def test_bad_input_is_refused_next_to_its_field(school, fields, error_field):
    parent = school["parents"][0]
    message = {"to": [f"user:{parent.id}"], "subject": "Subject", "body": "<p>Body</p>", **fields}
    with pytest.raises(ValidationError) as refused:
        services.send(school["teacher"], **message)
    assert error_field in refused.value.errors


def test_groups_are_expanded_at_delivery_without_blocked_people_or_the_sender(school, worker):
    parents = _parents_group(school["5B"])
    message = _send(school["teacher"], to=[f"group:{parents.id}"])
    _pupil, (late_parent,) = make.family(school["school"], school["5B"], guardians=1)
    accounts.block(school["parents"][2])
    db.session.commit()
    worker()
    received = {e.recipient_id for e in db.session.scalars(select(InboxEntry))}
    expected = {school["parents"][0].id, school["parents"][1].id, late_parent.id}
    assert received == expected
    assert message.sender_id not in received


def test_a_person_in_to_and_in_bcc_reads_the_message_as_a_to_recipient(school, worker):
    parent = school["parents"][0]
    _send(
        school["teacher"],
        to=[f"user:{parent.id}"],
        bcc=[f"group:{_parents_group(school['5B']).id}"],
    )
    worker()
    [entry] = _inbox(parent)
    assert (entry.field, entry.hidden) == (Field.TO, False)


def test_delivering_twice_writes_each_inbox_row_and_notification_once(school, worker):
    message = _send(school["teacher"], bcc=[f"group:{_parents_group(school['5B']).id}"])
    worker()
    assert delivery.deliver(message.id) == 0
    rows = db.session.scalar(select(func.count()).select_from(InboxEntry))
    windows = db.session.scalar(
        select(func.sum(Notification.events)).where(Notification.type == "message")
    )
    assert (rows, windows) == (3, 3)


def test_an_inactive_parent_receives_the_message(school, worker):
    inactive = make.user(school["school"], "parent", active=False)
    people.link_guardian(inactive, school["pupils"][0], 2)
    db.session.commit()
    _send(school["teacher"], to=[f"user:{inactive.id}"])
    worker()
    assert len(_inbox(inactive)) == 1


def test_nobody_else_reads_a_message_not_even_the_direction(school, worker):
    parent = school["parents"][0]
    message = _send(school["teacher"], to=[f"user:{parent.id}"])
    worker()
    assert can_read_message(parent, message)
    assert can_read_message(school["teacher"], message)
    assert not can_read_message(school["admin"], message)
    assert not can_read_message(school["parents"][1], message)


def test_folders_unread_count_search_trash_and_restore(school, worker):
    parent = school["parents"][0]
    first = _send(school["teacher"], to=[f"user:{parent.id}"], subject="Swimming pool")
    second = _send(
        school["teacher"], to=[f"user:{parent.id}"], subject="Library", body="<p>Return books</p>"
    )
    worker()
    assert conversations.unread_count(parent) == 2
    inbox = conversations.folder(parent, "inbox")
    assert [m.id for _e, m in inbox.rows] == [second.id, first.id]
    assert [m.id for _e, m in conversations.folder(parent, "inbox", words="books").rows] == [
        second.id
    ]
    surname = school["teacher"].last_name
    assert len(conversations.folder(parent, "inbox", words=surname.lower()).rows) == 2
    conversations.mark_read(parent, first)
    assert conversations.unread_count(parent) == 1
    conversations.trash(parent, second)
    db.session.commit()
    assert conversations.unread_count(parent) == 0
    assert [m.id for _e, m in conversations.folder(parent, "trash").rows] == [second.id]
    conversations.restore(parent, second)
    db.session.commit()
    assert [m.id for _e, m in conversations.folder(parent, "trash").rows] == []
    conversations.trash(parent, second)
    assert conversations.empty_trash(parent) == 1
    db.session.commit()
    assert [m.id for _e, m in conversations.folder(parent, "inbox").rows] == [first.id]
    assert not can_read_message(parent, second)
    # The sender still has it in Sent: messages are kept.
    sent = conversations.folder(school["teacher"], "sent").rows
    assert [m.id for _e, m in sent] == [second.id, first.id]
