"""The database taken away: PostgreSQL stopped (as a crash would) in the middle of a large
delivery run by a real worker, then started again. Meanwhile a person who opens a page is asked,
in their language, to try again in a moment (503 with Retry-After), never shown an error; once
it is back they carry on without logging in again, and each parent gets the message once."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from portal import create_app, stack
from portal.accounts.models import Profile
from portal.core import clock, outbox
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import GroupMember
from portal.messaging.models import InboxEntry, Message
from portal.notifications.models import Notification
from tests import factories, workers
from tests.conftest import DATABASE
from tests.web import csrf_token, logged_in, post, text

FAMILIES = 3_000
BATCH = 150  # inbox rows per transaction of the delivery: it commits 20 times
LEASE = 3  # seconds before the claim of the worker cut off from the database is taken again
EN, FR = {"Accept-Language": "en"}, {"Accept-Language": "fr"}
HTMX = {"HX-Request": "true", **EN}


@pytest.fixture
def postgres_outage(app):
    """Stop the test's private PostgreSQL (``stop()``, as a crash would) and start it again
    (``start()``). It is running again when the test ends, whatever happened."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]

    class Outage:
        down = False

        def stop(self) -> None:
            stack.stop_postgres(url, mode="immediate")
            self.down = True

        def start(self) -> None:
            stack.restart_postgres(url)
            self.down = False

    outage = Outage()
    yield outage
    if outage.down:
        outage.start()


def _count(query) -> int:
    db.session.rollback()  # a fresh snapshot: the worker writes in another process
    return db.session.scalar(query)


def _delivery(message_id: int) -> outbox.OutboxItem:
    db.session.rollback()
    return db.session.scalars(
        select(outbox.OutboxItem).where(
            outbox.OutboxItem.kind == "message_delivery",
            outbox.OutboxItem.payload["message_id"].as_integer() == message_id,
        )
    ).one()


def _assert_try_again(answer, title: str) -> None:
    """The 'try again' page: 503, when to come back, the title in the reader's language, and
    nothing of the error itself."""
    page = text(answer)
    assert answer.status_code == 503, page[:500]
    assert answer.headers["Retry-After"] == "30"
    assert f"<h1>{title}</h1>" in page
    assert "Traceback" not in page and "OperationalError" not in page


@pytest.mark.skipif(DATABASE != "postgresql", reason="stops the private PostgreSQL server")
def test_postgresql_stopped_during_a_delivery_asks_people_to_try_again_and_loses_nothing(
    app, postgres_outage, monkeypatch
):
    monkeypatch.setitem(app.config, "OUTBOX_LEASE", LEASE)
    monkeypatch.setitem(app.config, "OUTBOX_SWEEP_GRACE", 0)
    with app.app_context():
        school = factories.school()
        teacher = factories.user(school, "teacher")
        parent = factories.user(school, "parent")
        factories.bulk_parents(school, FAMILIES, email_every=1)
        all_parents = groups.school_profile_group(school.id, Profile.PARENT).id
        db.session.commit()
        logins = teacher.login, parent.login
        members = select(GroupMember.user_id).filter_by(group_id=all_parents)
        parents = set(db.session.scalars(members))
    assert len(parents) == FAMILIES + 1
    teacher_browser, parent_browser = (logged_in(app, login) for login in logins)
    sent = post(
        teacher_browser,
        "/messages/new",
        {"bcc": f"group:{all_parents}", "subject": "Strike", "body": "Closed on Thursday."},
        page="/messages/new",
    )
    assert sent.status_code == 302, text(sent)[:500]
    message_id = int(sent.headers["Location"].rsplit("/", 1)[1])
    token = csrf_token(teacher_browser, "/messages/new")  # for a message sent during the outage
    statuses = []

    running = [workers.start(app, "delivery", MESSAGE_DELIVERY_BATCH=BATCH, OUTBOX_LEASE=LEASE)]
    try:
        rows = select(func.count()).select_from(InboxEntry).filter_by(message_id=message_id)
        with app.app_context():
            deadline = time.monotonic() + 60
            while _count(rows) < FAMILIES // 4:  # a quarter delivered: the database goes
                assert time.monotonic() < deadline, "the worker did not deliver a quarter in 60 s"
                time.sleep(0.005)
        postgres_outage.stop()
        try:
            # Whatever page they open meanwhile, people are asked to come back, in their
            # language; a counter refreshing itself keeps what it shows.
            inbox = teacher_browser.get("/messages/folder/inbox", headers=EN)
            _assert_try_again(inbox, "Try again in a moment")
            home = parent_browser.get("/", headers=FR)
            _assert_try_again(home, "Réessayez dans un instant")
            counter = parent_browser.get("/messages/counter", headers=HTMX)
            assert (counter.status_code, text(counter)) == (503, "")
            assert counter.headers["HX-Reswap"] == "none" and counter.headers["Retry-After"]
            during = teacher_browser.post(
                "/messages/new",
                data={"csrf_token": token, "to": f"user:{min(parents)}", "subject": "Lost?"},
                headers=EN,
            )
            _assert_try_again(during, "Try again in a moment")
            statuses += [a.status_code for a in (inbox, home, counter, during)]
        finally:
            postgres_outage.start()

        # Back: the same people carry on, still logged in (the pool hands out no dead
        # connection), and the delivery resumes once its claim has expired.
        for browser, page in ((teacher_browser, f"/messages/{message_id}"), (parent_browser, "/")):
            answer = browser.get(page, headers=EN, follow_redirects=True)
            statuses.append(answer.status_code)
            assert answer.status_code == 200 and "/login" not in answer.request.path
        with app.app_context():
            deadline = time.monotonic() + 60
            while (item := _delivery(message_id)).state != "done":
                assert time.monotonic() < deadline, (
                    f"delivery not finished 60 s after the restart: {_count(rows)} of "
                    f"{len(parents)} inbox rows, outbox row {item.state} after {item.attempts} "
                    f"attempts ({item.last_error})"
                )
                clock.reset()
                outbox.sweep()  # what `rq cron` does every minute
                time.sleep(0.5)
    finally:
        workers.stop(running)

    assert statuses.count(503) == 4 and 500 not in statuses, statuses
    with app.app_context():
        assert _delivery(message_id).attempts == 2  # cut off by the outage, then finished
        assert _count(select(func.count()).select_from(Message)) == 1  # nothing half-sent
        entries = db.session.execute(
            select(InboxEntry.recipient_id, func.count())
            .filter_by(message_id=message_id)
            .group_by(InboxEntry.recipient_id)
        ).all()
        assert {recipient for recipient, _n in entries} == parents
        assert {n for _recipient, n in entries} == {1}, "a parent has the message twice"
        told = db.session.execute(
            select(Notification.recipient_id, func.count(), func.sum(Notification.events))
            .where(Notification.type == "message")
            .group_by(Notification.recipient_id)
        ).all()
        assert {recipient for recipient, _n, _events in told} == parents
        assert {(n, events) for _recipient, n, events in told} == {(1, 1)}, "told twice"


@pytest.mark.skipif(DATABASE != "sqlite", reason="PostgreSQL is stopped for real above")
def test_a_page_asked_while_the_database_file_cannot_be_opened_says_to_try_again(app, tmp_path):
    """The same answer when SQLite's file can't be opened: a second server of the same
    platform (same secret, so the same session cookie) whose database folder is gone."""
    with app.app_context():
        teacher = factories.user(factories.school(), "teacher")
        db.session.commit()
        login = teacher.login
    browser = logged_in(app, login)
    gone = create_app(
        {
            "TESTING": True,
            "PROPAGATE_EXCEPTIONS": False,  # as in production: errors reach the error pages
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'gone' / 'carnet.sqlite'}",
        }
    )
    elsewhere = gone.test_client()
    session = app.config["SESSION_COOKIE_NAME"]
    elsewhere.set_cookie(session, browser.get_cookie(session).value)
    try:
        answers = [
            elsewhere.get("/messages/folder/inbox", headers=EN),
            elsewhere.get("/messages/folder/inbox", headers=FR),
            elsewhere.get("/messages/counter", headers=HTMX),
            elsewhere.get("/no-such-page", headers=EN),  # even the 404 page needs the database
        ]
    finally:
        with gone.app_context():
            db.engine.dispose()
    _assert_try_again(answers[0], "Try again in a moment")
    _assert_try_again(answers[1], "Réessayez dans un instant")
    assert (answers[2].status_code, text(answers[2]), answers[2].headers["HX-Reswap"]) == (
        503,
        "",
        "none",
    )
    _assert_try_again(answers[3], "Try again in a moment")
    # The same session works where the database is: nobody has to log in again.
    again = browser.get("/messages/folder/inbox", headers=EN)
    assert again.status_code == 200, text(again)[:500]
