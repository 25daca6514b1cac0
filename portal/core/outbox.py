"""The outbox: side effects leave the database only after the transaction that caused them.

A service calls ``add(kind, payload)`` inside its transaction. After the commit, each new row's
job is enqueued with the row's id in its job id. The job claims the row with a conditional update,
runs the handler for its kind and marks it done. If Redis or every worker was down at commit time,
the cron sweep finds rows that are due and not done and enqueues them again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import redis.exceptions
from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import JSON, String, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.core.db import after_commit, defer
from portal.core.jobs import enqueue, job, redis_connection
from portal.extensions import db

log = logging.getLogger(__name__)

RETRY_DELAYS = [10, 60, 300, 900, 3600]

HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {}


class OutboxItem(db.Model):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Which handler carries the work out ('mail', ...).
    kind: Mapped[str] = mapped_column(String(40))
    #: Ids and values the handler needs; never ORM objects.
    payload: Mapped[dict] = mapped_column(JSON)
    #: pending -> running -> done; back to pending after a failure; cancelled before it ran.
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not before this time (scheduled work, or the back-off after a failure).
    available_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    claimed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    done_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(2000))


def handler(kind: str):
    def register(fn: Callable[[dict[str, Any]], None]):
        HANDLERS[kind] = fn
        return fn

    return register


def add(kind: str, payload: dict[str, Any], available_at: dt.datetime | None = None) -> OutboxItem:
    if kind not in HANDLERS:
        raise ValueError(f"no outbox handler for {kind!r}")
    item = OutboxItem(kind=kind, payload=payload, available_at=available_at or clock.now())
    db.session.add(item)
    db.session.flush()
    defer(db.session, "outbox", (item.id, item.available_at))
    return item


def _lease() -> dt.timedelta:
    """A claimed row whose worker has not finished after this long is taken to have died."""
    return dt.timedelta(seconds=current_app.config["OUTBOX_LEASE"])


def job_id(item_id: int) -> str:
    """The RQ job id of an outbox row (what a page reads the progress of a long job from)."""
    return f"outbox-{item_id}"


def _enqueue(item_id: int, available_at: dt.datetime) -> None:
    at = available_at if available_at > clock.now() else None
    try:
        enqueue(run_item, item_id, job_id=job_id(item_id), at=at)
    except redis.exceptions.RedisError:
        # The row is committed: the sweep will enqueue it once Redis answers again.
        log.warning("queue unavailable, outbox item %s left to the sweep", item_id)


@after_commit("outbox")
def _enqueue_committed(items: list[tuple[int, dt.datetime]]) -> None:
    for item_id, available_at in items:
        _enqueue(item_id, available_at)


def cancel(item_id: int) -> bool:
    """Call off work not started yet (a scheduled message taken back); its queued or scheduled
    job is removed after the commit. Returns False when the work already ran or is running."""
    cancelled = db.session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == item_id, OutboxItem.state == "pending")
        .values(state="cancelled", done_at=clock.now())
    ).rowcount
    if cancelled:
        defer(db.session, "outbox_cancel", item_id)
    return bool(cancelled)


@after_commit("outbox_cancel")
def _drop_jobs(item_ids: list[int]) -> None:
    connection = redis_connection()
    for item_id in item_ids:
        # Gone already, or Redis is down: then the job finds its row cancelled and does nothing.
        with contextlib.suppress(NoSuchJobError, redis.exceptions.RedisError):
            Job.fetch(job_id(item_id), connection=connection).delete()


def _claim(item_id: int) -> bool:
    now = clock.now()
    claimed = db.session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id == item_id,
            OutboxItem.available_at <= now,
            or_(
                OutboxItem.state == "pending",
                (OutboxItem.state == "running") & (OutboxItem.claimed_at < now - _lease()),
            ),
        )
        .values(state="running", claimed_at=now, attempts=OutboxItem.attempts + 1)
    ).rowcount
    db.session.commit()
    return claimed == 1


#: RQ stops a job after this long; OUTBOX_LEASE must be longer, so that a row is taken again
#: only once its first run has certainly ended.
RUN_TIMEOUT = 1200


@job(queue="default", timeout=RUN_TIMEOUT)
def run_item(item_id: int) -> str:
    """Carry out one outbox row, at most once at a time; a done row is left alone."""
    if not _claim(item_id):
        return "skipped"
    item = db.session.get(OutboxItem, item_id)
    try:
        HANDLERS[item.kind](item.payload)
    except Exception as exc:
        db.session.rollback()
        item = db.session.get(OutboxItem, item_id)
        delay = RETRY_DELAYS[min(item.attempts, len(RETRY_DELAYS)) - 1]
        item.state = "pending"
        item.available_at = clock.now() + dt.timedelta(seconds=delay)
        item.last_error = repr(exc)[:2000]
        db.session.commit()
        raise
    item.state, item.done_at = "done", clock.now()
    return "done"


@job(queue="default", timeout=600, retry=None)
def sweep() -> int:
    """Enqueue the rows that are due and not done: jobs lost while Redis was down at commit
    time, or whose worker died."""
    now = clock.now()
    rows = db.session.execute(
        select(OutboxItem.id, OutboxItem.available_at)
        .where(
            # Younger rows are left to the job enqueued at their commit.
            OutboxItem.available_at
            <= now - dt.timedelta(seconds=current_app.config["OUTBOX_SWEEP_GRACE"]),
            or_(
                OutboxItem.state == "pending",
                (OutboxItem.state == "running") & (OutboxItem.claimed_at < now - _lease()),
            ),
        )
        .order_by(OutboxItem.id)
        .limit(5000)
    ).all()
    for item_id, available_at in rows:
        _enqueue(item_id, available_at)
    return len(rows)
