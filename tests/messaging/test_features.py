"""Attachments, drafts, scheduled sending, recall and muted conversations (SPEC §3 and §12)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal.accounts.models import AccountState
from portal.core import clock
from portal.core.errors import ValidationError
from portal.core.jobs import get_queue
from portal.core.outbox import OutboxItem
from portal.extensions import db
from portal.messaging import attachments, conversations, delivery, services
from portal.messaging.models import Attachment, InboxEntry, Message, MessageState
from portal.messaging.permissions import can_read_message
from portal.notifications.models import Notification
from tests import factories as make

pytestmark = pytest.mark.usefixtures("db_ctx")

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 80
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html><html><body onload=alert(1)></body></html>"


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _upload(owner, content: bytes, name: str) -> Attachment:
    stored = attachments.store(owner, FileStorage(io.BytesIO(content), filename=name))
    db.session.commit()
    return stored


def _files(app) -> list[Path]:
    return [p for p in Path(app.config["ATTACHMENT_DIR"]).glob("*/*") if p.is_file()]


@pytest.mark.parametrize(
    ("content", "name", "kind", "shown"),
    [
        (PDF, "sortie.pdf", "application/pdf", "sortie.pdf"),
        (PDF, "autorisation.exe", "application/pdf", "autorisation.exe.pdf"),
        (PNG, "photo de classe", "image/png", "photo de classe.png"),
        (
            _docx(),
            "../../etc/passwd.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "passwd.docx",
        ),
        (
            "Liste des fournitures : crayons, cahier, règle.\n".encode(),
            "liste.txt",
            "text/plain",
            "liste.txt",
        ),
    ],
)
def test_a_file_is_accepted_by_its_content_and_named_for_it(school, content, name, kind, shown):
    stored = _upload(school["teacher"], content, name)
    assert (stored.content_type, stored.size) == (kind, len(content))
    assert stored.filename.endswith(shown) and "/" not in stored.filename
    assert attachments.path_of(stored).read_bytes() == content


@pytest.mark.parametrize(
    ("content", "name"),
    [(EXE, "devoirs.pdf"), (SVG, "dessin.png"), (HTML, "page.txt"), (b"PK\x03\x04zip", "a.zip")],
    ids=["exe", "svg", "html", "zip"],
)
def test_a_file_whose_content_is_not_allowed_is_refused_and_nothing_is_kept(
    app, school, content, name
):
    with pytest.raises(ValidationError) as refused:
        _upload(school["teacher"], content, name)
    assert "not accepted" in refused.value.errors["file"]
    db.session.rollback()
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert _files(app) == []


def test_the_size_limit_and_the_quota_are_kept(app, school):
    teacher = school["teacher"]
    app.config.update(ATTACHMENT_MAX_BYTES=len(PDF) + 10, ATTACHMENT_QUOTA_BYTES=2 * len(PDF))
    try:
        with pytest.raises(ValidationError) as refused:
            _upload(teacher, PDF + b"%" * 20, "big.pdf")
        assert "too large" in refused.value.errors["file"]
        _upload(teacher, PDF, "one.pdf")
        _upload(teacher, PDF, "two.pdf")  # stored once, counted twice
        with pytest.raises(ValidationError) as refused:
            _upload(teacher, PDF, "three.pdf")
        assert "storage is full" in refused.value.errors["file"]
        db.session.rollback()
        assert attachments.used_bytes(teacher) == 2 * len(PDF)
        assert len(_files(app)) == 1
        # Another person's quota is their own.
        _upload(school["admin"], PDF, "theirs.pdf")
    finally:
        app.config.update(ATTACHMENT_MAX_BYTES=10 * 1024 * 1024, ATTACHMENT_QUOTA_BYTES=200 << 20)


def test_an_inactive_parent_gets_the_message_without_its_files(school, worker):
    active, inactive = school["parents"][0], school["parents"][1]
    inactive.state = AccountState.INACTIVE
    pdf = _upload(school["teacher"], PDF, "sortie.pdf")
    message = services.send(
        school["teacher"],
        to=[f"user:{active.id}", f"user:{inactive.id}"],
        subject="Outing",
        body="Sign the form.",
        files=[pdf.id],
    )
    assert delivery.inactive_recipients(message) == 1
    db.session.commit()
    worker()
    assert attachments.readable_by(active, message, pdf)
    assert not attachments.readable_by(inactive, message, pdf)
    assert attachments.readable_by(school["teacher"], message, pdf)
    assert not attachments.readable_by(school["parents"][2], message, pdf)
    assert attachments.withheld_from(message) == ([inactive.display_name], 1)


def test_a_file_can_join_one_message_only_and_only_its_uploader_s(school):
    pdf = _upload(school["teacher"], PDF, "sortie.pdf")
    parent = school["parents"][0]
    with pytest.raises(ValidationError) as refused:
        services.send(
            school["admin"], to=[f"user:{parent.id}"], subject="S", body="B", files=[pdf.id]
        )
    assert "could not be found" in refused.value.errors["file"]
    services.send(
        school["teacher"], to=[f"user:{parent.id}"], subject="S", body="B", files=[pdf.id]
    )
    db.session.commit()
    with pytest.raises(ValidationError):
        services.send(
            school["teacher"], to=[f"user:{parent.id}"], subject="S", body="B", files=[pdf.id]
        )


def test_forgotten_uploads_and_unused_contents_are_purged(app, school):
    kept = _upload(school["teacher"], PNG, "kept.png")
    services.send(
        school["teacher"],
        to=[f"user:{school['parents'][0].id}"],
        subject="S",
        body="B",
        files=[kept.id],
    )
    _upload(school["teacher"], PDF, "forgotten.pdf")
    db.session.commit()
    clock.advance(attachments.PENDING_MAX_AGE + dt.timedelta(hours=2))
    assert attachments.purge() == 1
    assert db.session.scalars(select(Attachment.filename)).all() == ["kept.png"]
    assert [p.name for p in _files(app)] == [kept.digest]


# --- drafts, scheduling, recall, mute ----------------------------------------------------------


def test_a_draft_keeps_what_is_written_drops_refused_recipients_and_is_sent_as_itself(school):
    teacher, parent = school["teacher"], school["parents"][0]
    stranger = make.user(make.school(), "parent")  # another school's: out of every rule
    draft = services.save_draft(
        teacher,
        to=[f"user:{parent.id}", f"user:{stranger.id}"],
        subject="  Sortie   au musée ",
        text="Bonjour,\n\nPensez au pique-nique.",
    )
    db.session.commit()
    assert draft.state == MessageState.DRAFT
    assert [a.user for a in draft.addresses] == [parent]
    assert (draft.subject, draft.body_text) == (
        "Sortie au musée",
        "Bonjour,\n\nPensez au pique-nique.",
    )
    again = services.save_draft(teacher, to=[f"user:{parent.id}"], subject="Sortie", draft=draft)
    assert again.id == draft.id
    assert services.draft_of(school["admin"], draft.id) is None
    sent = services.send(
        teacher, to=[f"user:{parent.id}"], subject="Sortie", body="Pique-nique", draft=draft
    )
    db.session.commit()
    assert (sent.id, sent.state) == (draft.id, MessageState.SENT)
    assert db.session.scalar(select(func.count(Message.id))) == 1
    assert services.draft_of(teacher, draft.id) is None


def test_a_scheduled_message_waits_for_its_time_and_can_be_called_off(app, school, worker):
    teacher, parent = school["teacher"], school["parents"][0]
    at = clock.now() + dt.timedelta(hours=2)
    message = services.send(
        teacher, to=[f"user:{parent.id}"], subject="Strike", body="No school.", send_at=at
    )
    db.session.commit()
    assert (message.state, message.scheduled_for, message.sent_at) == (
        MessageState.SCHEDULED,
        at,
        None,
    )
    registry = ScheduledJobRegistry(queue=get_queue("default"))
    assert registry.get_job_ids() == [f"outbox-{message.delivery_item_id}"]  # RQ's enqueue_at
    worker()
    assert delivery.deliver(message.id) == 0  # not before its time
    assert conversations.unread_count(parent) == 0

    services.unschedule(teacher, message)
    db.session.commit()
    assert message.state == MessageState.DRAFT and message.scheduled_for is None
    assert db.session.get(OutboxItem, message.delivery_item_id).state == "cancelled"
    assert registry.get_job_ids() == []
    with pytest.raises(ValidationError):
        services.unschedule(teacher, message)

    later = clock.now() + dt.timedelta(hours=5)
    message = services.send(
        teacher,
        to=[f"user:{parent.id}"],
        subject="Strike",
        body="No school.",
        draft=message,
        send_at=later,
    )
    db.session.commit()
    clock.advance(dt.timedelta(hours=3))  # the first time has passed: nothing leaves
    assert delivery.deliver(message.id) == 0
    clock.advance(dt.timedelta(hours=2, minutes=1))
    assert delivery.deliver(message.id) == 1
    assert message.state == MessageState.SENT and message.sent_at >= later
    assert conversations.unread_count(parent) == 1


def test_a_schedule_in_the_past_or_too_far_is_refused(school):
    parent = school["parents"][0]
    for when, words in [
        (clock.now() - dt.timedelta(minutes=5), "in the future"),
        (clock.now() + dt.timedelta(days=400), "one year ahead"),
    ]:
        with pytest.raises(ValidationError) as refused:
            services.send(
                school["teacher"], to=[f"user:{parent.id}"], subject="S", body="B", send_at=when
            )
        assert words in refused.value.errors["send_at"]


def test_a_message_is_recalled_within_30_minutes_while_nobody_has_read_it(school, worker):
    teacher, parent, other = school["teacher"], school["parents"][0], school["parents"][1]
    message = services.send(teacher, to=[f"user:{parent.id}"], subject="Oops", body="Wrong class")
    db.session.commit()
    worker()
    with pytest.raises(ValidationError):
        services.recall(other, message)  # only its sender
    services.recall(teacher, message)
    db.session.commit()
    assert message.state == MessageState.RECALLED
    assert conversations.unread_count(parent) == 0
    assert not can_read_message(parent, message)
    assert conversations.was_recalled_from(parent, message)

    read = services.send(teacher, to=[f"user:{parent.id}"], subject="Read", body="Read me")
    late = services.send(teacher, to=[f"user:{other.id}"], subject="Late", body="Too late")
    db.session.commit()
    worker()
    conversations.mark_read(parent, read)
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        services.recall(teacher, read)
    assert "already read" in refused.value.errors["message"]
    clock.advance(services.RECALL_WINDOW + dt.timedelta(seconds=1))
    with pytest.raises(ValidationError) as refused:
        services.recall(teacher, late)
    assert "30 minutes" in refused.value.errors["message"]
    db.session.rollback()
    assert {read.state, late.state} == {MessageState.SENT}


def test_a_muted_conversation_still_arrives_but_tells_nobody(school, worker):
    teacher, parent = school["teacher"], school["parents"][0]
    first = services.send(teacher, to=[f"user:{parent.id}"], subject="Trip", body="Day one")
    db.session.commit()
    worker()
    services.set_muted(parent, first, True)
    db.session.commit()
    assert services.is_muted(parent, first)
    follow = services.send(
        teacher, to=[f"user:{parent.id}"], subject="Re: Trip", body="Day two", reply_to=first
    )
    elsewhere = services.send(teacher, to=[f"user:{parent.id}"], subject="Other", body="News")
    db.session.commit()
    worker()
    received = db.session.scalars(
        select(InboxEntry.message_id).where(InboxEntry.recipient_id == parent.id)
    ).all()
    assert sorted(received) == sorted([first.id, follow.id, elsewhere.id])
    [notice] = db.session.scalars(
        select(Notification).where(Notification.recipient_id == parent.id)
    ).all()
    subjects = [item["subject"] for item in notice.payload["items"]]
    assert subjects == ["Trip", "Other"]  # not 'Re: Trip'
    services.set_muted(parent, first, False)
    assert not services.is_muted(parent, follow)
