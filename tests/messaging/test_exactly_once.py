"""A message reaches each recipient exactly once, with real Redis and real `rq worker` processes:
when the worker delivering it is killed with SIGKILL halfway through 10,000 parents, and when
Redis is down at the moment the teacher presses Send."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from portal.accounts.models import Profile
from portal.core import outbox
from portal.core.jobs import get_queue, redis_connection
from portal.extensions import db
from portal.groups import services as groups
from portal.messaging.models import InboxEntry, Message, MessageState
from portal.notifications.models import Notification
from tests import factories, workers
from tests.web import log_in, post, text

PARENTS = 10_000
BATCH = 500  # inbox rows per transaction in the worker: the delivery commits 20 times
LEASE = 3  # seconds before a claim of the killed worker is taken to be dead


def _delivery(message_id: int) -> outbox.OutboxItem:
    db.session.rollback()  # a fresh snapshot: the workers write in other processes
    return db.session.scalars(
        select(outbox.OutboxItem).where(
            outbox.OutboxItem.kind == "message_delivery",
            outbox.OutboxItem.payload["message_id"].as_integer() == message_id,
        )
    ).one()


def _inbox_rows(message_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(InboxEntry).where(InboxEntry.message_id == message_id)
    )


def _assert_delivered_once(message_id: int, recipients: list[int]) -> None:
    """One inbox row per recipient, nobody else; one 'new message' notification per recipient,
    holding this one event (a second notify() would fold a second event into the same open
    window, or open a second window once the first has left)."""
    db.session.rollback()
    entries = db.session.execute(
        select(InboxEntry.recipient_id, func.count())
        .where(InboxEntry.message_id == message_id)
        .group_by(InboxEntry.recipient_id)
    ).all()
    assert {count for _id, count in entries} == {1}, "a recipient has two inbox rows"
    assert sorted(recipient for recipient, _count in entries) == sorted(recipients)
    notices = db.session.execute(
        select(Notification.recipient_id, func.count(), func.sum(Notification.events))
        .where(Notification.type == "message")
        .group_by(Notification.recipient_id)
    ).all()
    assert len(notices) == len(recipients), f"{len(notices)} of {len(recipients)} notified"
    assert {count for _id, count, _events in notices} == {1}, "a recipient has two windows"
    assert {events for _id, _count, events in notices} == {1}, "a recipient was told twice"
    payloads = db.session.scalars(
        select(Notification.payload).where(Notification.type == "message")
    )
    urls = {item["url"] for payload in payloads for item in payload["items"]}
    assert urls == {f"/messages/{message_id}"}


def test_a_message_to_10000_parents_reaches_each_once_when_its_worker_is_killed_midway(
    app, db_ctx, monkeypatch
):
    monkeypatch.setitem(app.config, "OUTBOX_LEASE", LEASE)
    monkeypatch.setitem(app.config, "OUTBOX_SWEEP_GRACE", 0)
    school = factories.school()
    teacher = factories.user(school, "teacher")
    parents = list(factories.bulk_parents(school, PARENTS))
    message_id = factories.strike_to_all_parents(teacher)
    environment = {"MESSAGE_DELIVERY_BATCH": BATCH, "OUTBOX_LEASE": LEASE}
    running = [workers.start(app, "first", **environment)]
    try:
        deadline = time.monotonic() + 60
        while _inbox_rows(message_id) < PARENTS // 2:  # then kill it, halfway
            assert time.monotonic() < deadline, "the first worker did not deliver half in 60 s"
            time.sleep(0.005)
        workers.kill(running.pop())
        killed_at = _inbox_rows(message_id)
        assert 0 < killed_at < PARENTS, f"killed too late: {killed_at} inbox rows already"
        assert _delivery(message_id).state == "running"  # the dead worker's claim

        running.append(workers.start(app, "second", **environment))
        deadline = time.monotonic() + 60
        while (item := _delivery(message_id)).state != "done":
            rows = _inbox_rows(message_id)
            assert time.monotonic() < deadline, (
                f"delivery not finished 60 s after the kill: {rows} of {PARENTS} inbox rows, "
                f"outbox row {item.state} after {item.attempts} attempts ({item.last_error})"
            )
            outbox.sweep()  # what `rq cron` does every minute: the claim expires after LEASE
            time.sleep(0.5)
    finally:
        workers.stop(running)

    assert _delivery(message_id).attempts == 2  # the killed run and the one that finished
    _assert_delivered_once(message_id, parents)


def test_a_message_sent_while_redis_is_down_is_delivered_once_when_it_comes_back(
    app, client, redis_outage, monkeypatch
):
    monkeypatch.setitem(app.config, "OUTBOX_SWEEP_GRACE", 0)
    with app.app_context():
        school = factories.school()
        teacher = factories.user(school, "teacher")
        parents = list(factories.bulk_parents(school, 200))
        all_parents = groups.school_profile_group(school.id, Profile.PARENT).id
        db.session.commit()
        login = teacher.login
        connection = redis_connection()
        connection.ping()  # the app's cached connection, opened before the outage
    log_in(client, login)  # the login rate limit counts in Redis

    redis_outage.stop()
    answer = post(
        client,
        "/messages/new",
        {"bcc": f"group:{all_parents}", "subject": "Outing", "body": "Bring a coat."},
        page="/messages/new",
    )
    assert answer.status_code == 302, text(answer)[:500]
    message_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    page = client.get(answer.headers["Location"])
    assert page.status_code == 200 and "Outing" in text(page)
    # Logging in still works: the log-in limits fall back to the process's memory.
    log_in(app.test_client(), login)
    with app.app_context():
        assert db.session.get(Message, message_id).state == MessageState.SENT
        item = _delivery(message_id)
        assert (item.state, item.attempts) == ("pending", 0)
        assert _inbox_rows(message_id) == 0

    redis_outage.start()
    with app.app_context():
        assert outbox.sweep() == 1  # what `rq cron` does every minute
        assert redis_connection() is connection  # the same client, connected again
        assert get_queue().count == 1, "the sweep could not enqueue the delivery"
        workers.run_burst(app, "after-outage")
        item = _delivery(message_id)
        assert (item.state, item.attempts) == ("done", 1)
        _assert_delivered_once(message_id, parents)
