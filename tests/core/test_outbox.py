"""The outbox: work leaves only after commit, survives Redis being down, runs once."""

from __future__ import annotations

import datetime as dt

from redis import Redis
from sqlalchemy import select

from portal.core import mail, outbox
from portal.core.jobs import get_queue
from portal.core.outbox import OutboxItem
from portal.extensions import db


def _queued_ids(app) -> list[str]:
    with app.app_context():
        return get_queue("default").job_ids


def test_mail_is_enqueued_only_after_commit_and_sent_once(app, smtp, worker):
    with app.app_context():
        mail.queue_mail("famille@example.org", "Sortie", "Bonjour")
        assert get_queue("default").job_ids == []  # not before the commit
        db.session.commit()
    assert len(_queued_ids(app)) == 1
    assert worker() == 1
    assert [m.rcpt_tos for m in smtp.messages] == [["famille@example.org"]]
    with app.app_context():
        (item,) = db.session.scalars(select(OutboxItem)).all()
        assert item.state == "done"
        # A duplicate delivery of the same job changes nothing: the row is done.
        assert outbox.run_item(item.id) == "skipped"
    assert len(smtp.messages) == 1


def test_rolled_back_work_never_leaves(app, smtp, worker):
    with app.app_context():
        mail.queue_mail("famille@example.org", "Sortie", "Bonjour")
        db.session.rollback()
        db.session.commit()
    assert _queued_ids(app) == []
    assert worker() == 0
    assert smtp.messages == []


def test_work_committed_while_redis_is_down_is_sent_by_the_sweep(app, smtp, worker):
    with app.app_context():
        real = app.extensions["carnet_redis"]
        app.extensions["carnet_redis"] = Redis.from_url("unix:///nonexistent/redis.sock")
        try:
            mail.queue_mail("famille@example.org", "Grève", "Pas de cours demain")
            db.session.commit()  # the commit stands although the queue is unreachable
        finally:
            app.extensions["carnet_redis"] = real
        assert get_queue("default").job_ids == []
        item = db.session.scalars(select(OutboxItem)).one()
        assert item.state == "pending"
        item.available_at = item.available_at - dt.timedelta(seconds=61)  # older than the grace
        db.session.commit()
        assert outbox.sweep() == 1
    assert worker() == 1
    assert len(smtp.messages) == 1


def test_failed_sending_is_kept_for_a_retry_with_its_error(app, worker):
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"  # nothing listens there
    try:
        with app.app_context():
            mail.queue_mail("famille@example.org", "Sortie", "Bonjour")
            db.session.commit()
        worker()
        with app.app_context():
            item = db.session.scalars(select(OutboxItem)).one()
            assert item.state == "pending"
            assert item.attempts == 1
            assert "Connection" in item.last_error
    finally:
        app.config["SMTP_URL"] = ""
