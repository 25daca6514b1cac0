"""The SMTP server refuses connections, then answers temporary failures (421, 451), then accepts,
on the real stack: a real `rq worker` with RQ's scheduler, real Redis, the direction sending over
HTTP. Each notification e-mail, digests among them, is tried again and arrives exactly once;
nothing is given up for good; the pages that send answer normally all along."""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import func, select

from portal.core import outbox
from portal.core.jobs import get_queue
from portal.extensions import db
from portal.notifications import jobs
from portal.notifications.models import Notification, NotificationState
from portal.notifications.types import Channel
from tests import factories, workers
from tests.web import log_in, post, text

WINDOW = 3  # seconds of the hourly digest's window here: the two messages of wave 2 share one
EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
SENT = {"en": "Message sent.", "fr": "Message envoyé."}


def _mails(app) -> list:
    """The e-mail rows of the outbox: (state, attempts, last_error) each."""
    with app.app_context():
        return db.session.execute(
            select(
                outbox.OutboxItem.state, outbox.OutboxItem.attempts, outbox.OutboxItem.last_error
            ).where(outbox.OutboxItem.kind == "notification_mail")
        ).all()


def _failed_once(app) -> int:
    return sum(1 for _state, attempts, error in _mails(app) if attempts >= 1 and error)


def _send(client, recipients: list[int], subject: str, headers: dict) -> None:
    """The direction sends a message over HTTP, and reads it: both pages answer normally."""
    answer = post(
        client,
        "/messages/new",
        {"bcc": [f"user:{i}" for i in recipients], "subject": subject, "body": "See you there."},
        page="/messages/new",
        headers=headers,
    )
    assert answer.status_code == 302, text(answer)[:500]
    page = client.get(answer.headers["Location"], headers=headers)
    assert page.status_code == 200 and subject in text(page)
    assert SENT[headers["Accept-Language"]] in text(page)
    assert client.get("/messages/folder/sent", headers=headers).status_code == 200


def _wait(app, done, seconds: float, what) -> None:
    """Until ``done()``; meanwhile what `rq cron` does every minute: the sweeps of the outbox
    (once the queue is empty, so that rows still queued are not queued twice) and of overdue
    notification windows."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, what()
        with app.app_context():
            if get_queue().count == 0:
                outbox.sweep()
            jobs.sweep()
        time.sleep(0.3)


def test_emails_are_retried_through_refusals_and_temporary_failures_and_arrive_once(
    app, client, scripted_smtp, monkeypatch
):
    """Wave 1 is sent while the SMTP server's port is closed: six e-mails meet a refused
    connection. The server then opens, answering the first attempt for six addresses with a 421
    and for six others with a 451 after their message; wave 2, two messages in one window, goes
    to those twelve families as one digest each. The outbox tries each failed e-mail again ten
    seconds later: each family receives one e-mail, the digest listing both messages once."""
    monkeypatch.setitem(app.config, "OUTBOX_SWEEP_GRACE", 0)
    monkeypatch.setitem(app.config, "NOTIFICATION_SWEEP_GRACE", 1)
    with app.app_context():
        school = factories.school()
        login = factories.user(school, "admin").login
        families = factories.bulk_parents(school, 18, email_every=1)
        db.session.commit()
    first, second = sorted(families)[:6], sorted(families)[6:]
    for n, family in enumerate(second):
        scripted_smtp.fail_once(families[family], 421 if n % 2 else 451)
    log_in(client, login)

    scripted_smtp.stop()  # connections are refused
    environment = {"SMTP_URL": scripted_smtp.url, "NOTIFICATION_WINDOW": WINDOW}
    running = [workers.start(app, "mail", scheduler=True, **environment)]
    try:
        _send(client, first, "Wave 1: the outing", EN)
        _wait(
            app,
            lambda: _failed_once(app) == len(first),
            30,
            lambda: f"{_failed_once(app)} of {len(first)} e-mails tried",
        )
        refused = _mails(app)
        scripted_smtp.start()
        _send(client, second, "Wave 2: the photos", FR)
        _send(client, second, "Wave 2: the class meeting", EN)
        _wait(
            app,
            lambda: (
                len(scripted_smtp.received) >= len(families)
                and all(state == "done" for state, _a, _e in _mails(app))
            ),
            60,
            lambda: (
                f"{len(scripted_smtp.received)} of {len(families)} e-mails received, "
                f"{Counter(state for state, _a, _e in _mails(app))}"
            ),
        )
        with app.app_context():
            failed_jobs = get_queue().failed_job_registry.count
    finally:
        workers.stop(running)

    assert {error.split("(")[0] for _state, _attempts, error in refused} == {
        "ConnectionRefusedError"
    }
    assert sorted(scripted_smtp.failures) == [421] * 6 + [451] * 6
    time.sleep(0.5)  # an e-mail sent twice would have arrived by now
    assert scripted_smtp.per_address() == Counter(families.values()), "an e-mail lost or doubled"
    for family in first:
        [email] = scripted_smtp.messages_to(families[family])
        assert email["Subject"] == "Carnet: 1 new message"
        assert email.get_body(("plain",)).get_content().count("Wave 1: the outing") == 1
    for family in second:
        [digest] = scripted_smtp.messages_to(families[family])
        assert digest["Subject"] == "Carnet: 2 new messages"
        words = digest.get_body(("plain",)).get_content()
        assert words.count("Wave 2: the photos") == words.count("Wave 2: the class meeting") == 1
    # Nothing given up for good: every e-mail went on its second attempt and is recorded as
    # sent; no notification fell back to the home page; RQ holds no failed job.
    assert Counter(attempts for _s, attempts, _e in _mails(app)) == Counter({2: len(families)})
    with app.app_context():
        notices = db.session.execute(
            select(
                Notification.channel,
                Notification.state,
                func.count(),
                func.count(Notification.emailed_at),
                func.count(Notification.email_error),
            ).group_by(Notification.channel, Notification.state)
        ).all()
    assert notices == [(Channel.EMAIL, NotificationState.DELIVERED, 18, 18, 0)]
    assert failed_jobs == 0
