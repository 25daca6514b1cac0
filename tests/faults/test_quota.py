"""The attachment quota filled, on the real stack: a teacher attaches files until their storage
is full. The next file is refused next to the attachment field, in their language, with the
right figures; nothing is half-kept (no file on disk without its row, no row without its file,
no message without its files); deleting a draft frees room. Several files racing for the last
room: one passes, the others are refused."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import threading
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.core import clock
from portal.extensions import db
from portal.messaging import attachments
from portal.messaging.models import Attachment, Message
from tests import factories
from tests.web import csrf_token, logged_in, post, text

QUOTA = 1024 * 1024  # 1 MB
SIZE = 314_573  # 0.3 MB: three files fit, a fourth does not
RACERS = 4


@pytest.fixture
def attachment_folder(app, monkeypatch):
    """A small quota, and the attachment folder emptied before and after the test."""
    monkeypatch.setitem(app.config, "ATTACHMENT_QUOTA_BYTES", QUOTA)
    folder = Path(app.config["ATTACHMENT_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _content(number: int) -> bytes:
    """Plain text of SIZE bytes, different for each number (the same content is kept once)."""
    head = f"Homework sheet {number}\n".encode()
    return head + b"x" * (SIZE - len(head))


def _upload(browser, number: int, language: str = "en"):
    """One file sent from the compose form (HTMX), as the browser does."""
    return browser.post(
        "/messages/attachments",
        data={
            "csrf_token": csrf_token(browser, "/messages/new"),
            "upload": (BytesIO(_content(number)), f"sheet-{number}.txt"),
        },
        headers={"HX-Request": "true", "Accept-Language": language},
    )


def _file_id(answer) -> int:
    assert answer.status_code == 200, text(answer)[:500]
    return int(re.search(r'name="file" value="(\d+)"', text(answer))[1])


def _assert_refused(answer, words: str) -> None:
    """Refused next to the attachment field, with the figures of the storage used."""
    assert answer.status_code == 422, text(answer)[:500]
    assert answer.headers["HX-Retarget"] == "#file-error"
    page = text(answer)
    assert page.startswith('<small class="field-error" role="alert">') and words in page, page


def _assert_kept_whole(folder: Path, owner_id: int) -> int:
    """Each attachment row has its content on disk and each content on disk is named by a
    row; no upload is left half-written. Returns the bytes the owner's rows count."""
    db.session.rollback()
    digests = set(db.session.scalars(select(Attachment.digest)))
    on_disk = {path.name for path in folder.glob("*/*")}
    assert on_disk == digests, f"{len(on_disk)} contents on disk for {len(digests)} in rows"
    assert not list(folder.glob(".upload-*")), "an upload was left half-written"
    for message in db.session.scalars(select(Message)):
        assert all(attachments.path_of(a).exists() for a in message.attachments)
    return db.session.scalar(
        select(func.coalesce(func.sum(Attachment.size), 0)).where(Attachment.owner_id == owner_id)
    )


def test_a_full_storage_refuses_the_next_file_in_the_users_language_and_keeps_nothing_of_it(
    app, attachment_folder
):
    with app.app_context():
        school = factories.school()
        teacher = factories.user(school, "teacher")
        class_group = factories.school_class(school, "5B", teacher)
        _pupil, (parent,) = factories.family(school, class_group, guardians=1)
        db.session.commit()
        login, owner, parent_id = teacher.login, teacher.id, parent.id
    browser = logged_in(app, login)

    kept = [_file_id(_upload(browser, number)) for number in (1, 2, 3)]
    full_en = (
        "Your storage is full: 0.9 MB of 1 MB used. Delete drafts with attachments or send a "
        "smaller file."
    )
    _assert_refused(_upload(browser, 4, "en"), full_en)
    full_fr = "Votre espace de stockage est plein : 0,9 Mo utilisés sur 1 Mo."
    _assert_refused(_upload(browser, 4, "fr"), full_fr)
    with app.app_context():
        assert _assert_kept_whole(attachment_folder, owner) == 3 * SIZE
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 3

    # The first file goes with a message; the two others wait in a draft.
    sent = post(
        browser,
        "/messages/new",
        {"to": f"user:{parent_id}", "subject": "Sheets", "body": "Here", "file": kept[0]},
        page="/messages/new",
    )
    assert sent.status_code == 302, text(sent)[:500]
    drafted = post(
        browser,
        "/messages/draft",
        {"to": f"user:{parent_id}", "subject": "More", "body": "Later", "file": kept[1:]},
        page="/messages/new",
    )
    assert drafted.status_code == 302, text(drafted)[:500]
    # A message naming a file that is not the sender's is refused whole: no message is kept.
    crafted = post(
        browser,
        "/messages/new",
        {"to": f"user:{parent_id}", "subject": "Sneaky", "body": "x", "file": [kept[0], 999]},
        page="/messages/new",
        headers={"Accept-Language": "en"},
    )
    assert crafted.status_code == 400 and "An attachment could not be found" in text(crafted)
    _assert_refused(_upload(browser, 4), full_en)  # files sent or in drafts still count
    with app.app_context():
        messages = db.session.scalars(select(Message).order_by(Message.id)).all()
        assert [(m.subject, len(m.attachments)) for m in messages] == [("Sheets", 1), ("More", 2)]
        draft_id = messages[1].id

    # Deleting the draft frees its files' room: the next file passes.
    discarded = post(browser, f"/messages/{draft_id}/discard", page="/messages/folder/drafts")
    assert discarded.status_code == 302
    kept.append(_file_id(_upload(browser, 4)))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 2
        # The contents of the deleted files go with the nightly purge (an hour later at least).
        clock.freeze(clock.now() + dt.timedelta(hours=2))
        assert attachments.purge() == 0
        clock.reset()
        assert _assert_kept_whole(attachment_folder, owner) == 2 * SIZE

    # Room is left for one more file: several racing for it, one passes.
    racers = [logged_in(app, login) for _ in range(RACERS)]
    tokens = [csrf_token(racer, "/messages/new") for racer in racers]
    start = threading.Barrier(RACERS)
    answers: list = [None] * RACERS

    def race(n: int) -> None:
        start.wait(timeout=10)
        answers[n] = racers[n].post(
            "/messages/attachments",
            data={
                "csrf_token": tokens[n],
                "upload": (BytesIO(_content(10 + n)), f"race-{n}.txt"),
            },
            headers={"HX-Request": "true", "Accept-Language": "en"},
        )

    threads = [threading.Thread(target=race, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "an upload did not end in 60 s"
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [422] * (RACERS - 1), statuses
    with app.app_context():
        assert _assert_kept_whole(attachment_folder, owner) == 3 * SIZE <= QUOTA
