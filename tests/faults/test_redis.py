"""Redis stopped for a minute while teachers and parents keep sending messages, with real
`rq worker` processes running. Every page answers (a message is kept in the database's outbox,
not in Redis); once Redis is back the workers, fed again by the outbox sweep, deliver each
message to each recipient once. The test counts the inbox rows and the notifications."""

from __future__ import annotations

import os
import time
from collections import Counter

from sqlalchemy import func, select

from portal.accounts.models import Profile
from portal.core import outbox
from portal.extensions import db
from portal.groups import services as groups
from portal.messaging.models import InboxEntry, Message
from portal.notifications.models import Notification
from tests import factories, workers
from tests.web import logged_in, post, text

#: How long Redis stays away while messages are sent (CI: a minute; shorter for a quick try).
OUTAGE_SECONDS = float(os.environ.get("CARNET_FAULT_REDIS_SECONDS", 60))
FAMILIES = 6  # per class
PAUSE = 1.0  # seconds between two messages, as people type
#: Seconds between two outbox sweeps once Redis is back (`rq cron` sweeps every minute; each
#: sweep enqueues every row not done yet again, and the extra jobs only find them claimed).
SWEEP_EVERY = 10


def _school() -> tuple[list[tuple[str, str, dict, set[int]]], set[int]]:
    """Two classes, each with its teacher and families. The people who write: each teacher to
    the parents of the class, and two parents of each class to its teacher; for each, their
    login, their language, what they send and to whom. And every person who may receive."""
    school = factories.school()
    senders, everyone = [], set()
    for name in ("5B", "4A"):
        teacher = factories.user(school, "teacher")
        class_group = factories.school_class(school, name, teacher)
        parents = [factories.family(school, class_group, guardians=1)[1][0] for _ in range(3)]
        parents += [factories.family(school, class_group, guardians=1)[1][0] for _ in range(3)]
        class_parents = groups.sub_groups(class_group)[Profile.PARENT].id
        ids = {parent.id for parent in parents}
        senders.append((teacher.login, "en", {"bcc": f"group:{class_parents}"}, ids))
        for parent in parents[:2]:
            senders.append((parent.login, "fr", {"to": f"user:{teacher.id}"}, {teacher.id}))
        everyone |= ids | {teacher.id}
    db.session.commit()
    return senders, everyone


def _undelivered() -> int:
    db.session.rollback()  # a fresh snapshot: the workers write in other processes
    return db.session.scalar(
        select(func.count())
        .select_from(outbox.OutboxItem)
        .where(outbox.OutboxItem.kind == "message_delivery", outbox.OutboxItem.state != "done")
    )


def test_messages_sent_while_redis_is_down_for_a_minute_reach_each_recipient_once(
    app, redis_outage, monkeypatch
):
    monkeypatch.setitem(app.config, "OUTBOX_SWEEP_GRACE", 0)
    with app.app_context():
        senders, everyone = _school()
    browsers = {login: logged_in(app, login) for login, *_ in senders}
    expected: dict[int, set[int]] = {}  # message id: its recipients
    statuses: Counter = Counter()

    def send_one(number: int, when: str) -> None:
        """One person writes a message and looks at it, their inbox, their home page and the
        unread counter, as they would; every answer is counted."""
        login, language, addressed, recipients = senders[number % len(senders)]
        browser, headers = browsers[login], {"Accept-Language": language}
        sent = post(
            browser,
            "/messages/new",
            {**addressed, "subject": f"{when} {number}", "body": "Bring a coat."},
            page="/messages/new",
            headers=headers,
        )
        statuses[sent.status_code] += 1
        assert sent.status_code == 302, text(sent)[:500]
        expected[int(sent.headers["Location"].rsplit("/", 1)[1])] = recipients
        for page, extra in (
            (sent.headers["Location"], {}),
            ("/messages/folder/inbox", {}),
            ("/", {}),
            ("/messages/counter", {"HX-Request": "true"}),
        ):
            answer = browser.get(page, headers={**headers, **extra}, follow_redirects=True)
            statuses[answer.status_code] += 1
            assert answer.status_code == 200, f"{page}: {answer.status_code} {text(answer)[:300]}"

    running = [workers.start(app, f"worker-{n}") for n in (1, 2)]
    try:
        with app.app_context():
            workers.wait_registered(2)
        for number in range(len(senders)):  # one round while Redis is there
            send_one(number, "Before")
        before = len(expected)

        redis_outage.stop()
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        number = 0
        while time.monotonic() < outage_ends:
            send_one(number, "During")
            number += 1
            time.sleep(PAUSE)
        during = len(expected) - before
        with app.app_context():
            waiting = _undelivered()
        redis_outage.start()

        # The workers connect again by themselves; the sweep `rq cron` runs every minute
        # enqueues what was committed while Redis was away.
        for number in range(len(senders)):  # and one round once it is back
            send_one(number, "After")
        with app.app_context():
            deadline = time.monotonic() + 90
            swept = 0.0
            while left := _undelivered():
                assert time.monotonic() < deadline, f"{left} messages undelivered 90 s after"
                assert all(p.poll() is None for p in running), "a worker died with Redis away"
                if time.monotonic() - swept > SWEEP_EVERY:
                    outbox.sweep()
                    swept = time.monotonic()
                time.sleep(0.2)
    finally:
        workers.stop(running)

    assert during >= min(OUTAGE_SECONDS / 2, 20), f"only {during} messages sent during the outage"
    assert waiting >= during, "messages sent during the outage were delivered without Redis?"
    assert set(statuses) == {200, 302}, statuses  # no 500, no 'try again' page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == len(expected)
        delivered = db.session.execute(
            select(InboxEntry.message_id, InboxEntry.recipient_id, func.count()).group_by(
                InboxEntry.message_id, InboxEntry.recipient_id
            )
        ).all()
        assert {n for *_ids, n in delivered} == {1}, "a message reached someone twice"
        got = {(message_id, recipient) for message_id, recipient, _n in delivered}
        assert got == {(m, r) for m, recipients in expected.items() for r in recipients}
        # Each recipient was told of each message once: the events of their notifications.
        told = dict(
            db.session.execute(
                select(Notification.recipient_id, func.sum(Notification.events))
                .where(Notification.type == "message")
                .group_by(Notification.recipient_id)
            ).all()
        )
        wanted = Counter(r for recipients in expected.values() for r in recipients)
        assert told == dict(wanted)
        assert set(told) <= everyone
