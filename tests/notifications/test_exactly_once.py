"""Exactly one delivery per window with real RQ worker processes, two of them schedulers, while
one worker and the scheduler holding RQ's lock are killed with SIGKILL during the flushes."""

from __future__ import annotations

import os
import subprocess
import time

from sqlalchemy import func, select

from portal.core.jobs import redis_connection
from portal.extensions import db
from portal.notifications import jobs, services
from portal.notifications.models import Notification, NotificationState
from tests import factories, workers

RECIPIENTS = 1500
ROUNDS = 3
EVENTS_PER_WINDOW = 3
WINDOW = 2  # seconds


def _lock_holder(running: dict[str, subprocess.Popen]) -> str:
    """The worker whose scheduler holds RQ's scheduling lock for the queue."""
    connection = redis_connection()
    scheduler = connection.get("rq:scheduler-lock:default")
    pid = scheduler and connection.hget(f"rq:scheduler:{scheduler.decode()}", "pid")
    if pid:
        group = os.getpgid(int(pid))  # the scheduler is forked by its worker, in its group
        for name, process in running.items():
            if process.pid == group:
                return name
    return "scheduler-1"


def _pending() -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.state.in_(jobs.PENDING))
    )


def test_every_window_is_delivered_once_when_a_worker_and_a_scheduler_are_killed(
    app, db_ctx, monkeypatch
):
    monkeypatch.setitem(app.config, "NOTIFICATION_WINDOW", WINDOW)
    monkeypatch.setitem(app.config, "NOTIFICATION_SWEEP_GRACE", 1)
    school = factories.school()
    parents = [factories.user(school, "parent").id for _ in range(RECIPIENTS)]
    db.session.commit()
    # Three workers, two of which also run RQ's scheduler ('--with-scheduler').
    running = {
        "plain-1": workers.start(app, "plain-1"),
        "scheduler-1": workers.start(app, "scheduler-1", scheduler=True),
        "scheduler-2": workers.start(app, "scheduler-2", scheduler=True),
    }
    killed = []
    try:
        workers.wait_registered(3)
        for round_ in range(ROUNDS):
            for event in range(EVENTS_PER_WINDOW):
                services.notify(
                    "message",
                    parents,
                    "inbox",
                    {"sender": "Mme Roux", "subject": f"round {round_} message {event}"},
                )
                db.session.commit()
            if round_ == 1:
                # Kill during the flushes of the second round: the scheduler that holds RQ's
                # lock (its scheduled jobs wait for the sweep) and a plain worker.
                deadline = time.monotonic() + 30
                while _pending() == RECIPIENTS:  # until the first flush has committed
                    assert time.monotonic() < deadline, "no flush started"
                    time.sleep(0.005)
                for name in (_lock_holder(running), "plain-1"):
                    workers.kill(running.pop(name))
                    killed.append(name)
            deadline = time.monotonic() + 90
            while _pending():
                assert time.monotonic() < deadline, f"{_pending()} notifications never left"
                jobs.sweep()  # what `rq cron` does every minute
                time.sleep(0.5)
        assert killed[1] == "plain-1" and killed[0].startswith("scheduler-")
    finally:
        workers.stop(running.values())

    db.session.rollback()
    per_recipient = db.session.execute(
        select(Notification.recipient_id, func.count(), func.min(Notification.events))
        .where(Notification.state == NotificationState.DELIVERED)
        .group_by(Notification.recipient_id)
    ).all()
    assert len(per_recipient) == RECIPIENTS  # nobody missing
    assert {count for _id, count, _events in per_recipient} == {ROUNDS}  # no window twice
    assert {events for _id, _count, events in per_recipient} == {EVENTS_PER_WINDOW}  # none split
