"""One-hour batching at scale: 1,000,000 batched events for 100,000 recipients, three windows.

    python tests/perf/bench_digest.py                       # private PostgreSQL and Redis
    BENCH_DATABASE=sqlite python tests/perf/bench_digest.py

Starts its own Redis and PostgreSQL (or SQLite file) in a temporary folder, two RQ worker
processes with RQ's scheduler, and writes 100,000 parents in 1,000 classes. Three rounds follow:
each class gets its events through notify(), as producers would (homework changes and new
messages, 100 recipients per call); windows are short (BENCH_WINDOW seconds), so they close and
are flushed by the workers while the round goes on. After each round it waits until every
window is delivered, then the next round opens new ones. It then counts, per (recipient,
subject), the delivered notifications: exactly one per round is expected.
The last line printed is one JSON object. A benchmark, not a test: it never fails on speed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.private import private_stack  # noqa: E402 - after the path

RECIPIENTS = int(os.environ.get("BENCH_RECIPIENTS", 100_000))
EVENTS = int(os.environ.get("BENCH_EVENTS", 1_000_000))
WINDOW = int(os.environ.get("BENCH_WINDOW", 10))
ROUNDS = 3
CLASS_SIZE = 100
WORKERS = 2


def _parents(db, school_id: int) -> list[int]:
    """100,000 parents written in bulk, as an import would."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.core import clock

    now = clock.now()
    rows = [
        {
            "school_id": school_id,
            "profile": "parent",
            "state": "active",
            "first_name": f"P{n}",
            "last_name": f"Parent{n}",
            "search_key": f"parent{n} p{n}",
            "login": f"bench.parent{n}",
            "session_nonce": f"{n:032d}",
            "refuses_email": False,
            "created_at": now,
        }
        for n in range(RECIPIENTS)
    ]
    for start in range(0, len(rows), 10_000):
        db.session.execute(User.__table__.insert(), rows[start : start + 10_000])
    db.session.commit()
    return list(db.session.scalars(select(User.id).order_by(User.id)))


def _start_workers() -> list[subprocess.Popen]:
    rq = str(Path(sys.executable).with_name("rq"))
    command = [rq, "worker", "--worker-class", "portal.worker.AppWorker", "--quiet"]
    return [
        subprocess.Popen(
            [*command, "--url", os.environ["REDIS_URL"], "--with-scheduler", "default"],
            start_new_session=True,
        )
        for _ in range(WORKERS)
    ]


def _round(services, db, classes: list[list[int]], round_: int) -> int:
    """Every class's events of one round, class after class: two homework changes, then new
    messages, EVENTS / 3 in all. Returns how many (recipient, event) pairs were fed."""
    total_calls = round(EVENTS / CLASS_SIZE)
    calls = total_calls // ROUNDS + (1 if round_ < total_calls % ROUNDS else 0)
    fed = 0
    for number, members in enumerate(classes):
        per_class = calls // len(classes) + (1 if number < calls % len(classes) else 0)
        for event in range(per_class):
            if event < 2:
                services.notify(
                    "homework",
                    members,
                    f"homework:{number}",
                    {"group": f"C{number}", "text": f"round {round_} version {event}"},
                )
            else:
                services.notify(
                    "message", members, "inbox", {"sender": "Teacher", "subject": f"{event}"}
                )
            db.session.commit()
            fed += len(members)
    return fed


def _wait_delivered(db, Notification, started: float) -> tuple[float, float]:
    """Wait until nothing is pending; returns (last window end, last delivery) as epochs."""
    from sqlalchemy import func, select

    pending = ("open", "queued")
    while db.session.scalar(select(func.count()).where(Notification.state.in_(pending))):
        db.session.rollback()
        time.sleep(0.5)
        if time.monotonic() - started > 3600:
            raise SystemExit("windows were not delivered within an hour")
    db.session.rollback()
    last_due, last_delivered = db.session.execute(
        select(func.max(Notification.due_at), func.max(Notification.delivered_at))
    ).one()
    return last_due.timestamp(), last_delivered.timestamp()


def main() -> None:
    with private_stack("digest", NOTIFICATION_WINDOW=str(WINDOW)):
        _run()


def _run() -> None:
    workers = []
    try:
        from flask_migrate import upgrade
        from sqlalchemy import func, select

        from portal import create_app
        from portal.extensions import db
        from portal.notifications import services
        from portal.notifications.models import Notification
        from portal.platform import services as platform

        app = create_app()
        with app.app_context():
            upgrade()
            school = platform.create_school("Bench school", "0000001B")
            db.session.commit()
            ids = _parents(db, school.id)
            classes = [ids[i : i + CLASS_SIZE] for i in range(0, len(ids), CLASS_SIZE)]
            workers = _start_workers()
            fed, ingest_s, flush_s = 0, 0.0, []
            for round_ in range(ROUNDS):
                started = time.perf_counter()
                fed += _round(services, db, classes, round_)
                ingest_s += time.perf_counter() - started
                last_due, last_delivered = _wait_delivered(db, Notification, time.monotonic())
                flush_s.append(max(0.0, last_delivered - last_due))
            subjects = 2  # 'homework:<class>' and 'inbox' for every recipient
            per_window = db.session.execute(
                select(func.count())
                .where(Notification.state == "delivered")
                .group_by(Notification.recipient_id, Notification.subject_key)
            ).scalars()
            counts = list(per_window)
            expected = len(ids) * subjects * ROUNDS
            delivered = sum(counts)
            duplicates = sum(max(0, c - ROUNDS) for c in counts)
            missing = sum(max(0, ROUNDS - c) for c in counts)
            missing += (len(ids) * subjects - len(counts)) * ROUNDS
            absorbed = db.session.scalar(select(func.sum(Notification.events)))
            print(
                json.dumps(
                    {
                        "db": db.engine.dialect.name,
                        "recipients": len(ids),
                        "events": fed,
                        "events_per_s": round(fed / ingest_s),
                        "ingest_s": round(ingest_s, 1),
                        "window_s": WINDOW,
                        "workers": WORKERS,
                        "windows_expected": expected,
                        "delivered": delivered,
                        "duplicates": duplicates,
                        "missing": missing,
                        "events_absorbed": absorbed,
                        "flush_s": round(max(flush_s), 2),
                    }
                )
            )
            db.engine.dispose()
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)


if __name__ == "__main__":
    main()
