"""Scheduling the flushes: after the commit, one RQ job per (second, shard) that has windows
ending then, with a deterministic id, so enqueuing it again for the same moment is harmless.

The job flushes everything due in its shard, not one row: two workers, a duplicated job or the
cron sweep find the rows already claimed (portal.notifications.jobs).
"""

from __future__ import annotations

import datetime as dt
import logging

import redis.exceptions
from flask import current_app

from portal.core import clock
from portal.core.db import after_commit, defer
from portal.core.jobs import enqueue, redis_connection
from portal.extensions import db

log = logging.getLogger(__name__)


def shard_of(recipient_id: int) -> int:
    return recipient_id % current_app.config["NOTIFICATION_SHARDS"]


def remember(due: dt.datetime, recipient_id: int) -> None:
    """Note, in the current transaction, that a flush is needed at ``due`` for this person."""
    defer(db.session, "notification_due", (due, shard_of(recipient_id)))


def job_id(due: dt.datetime, shard: int) -> str:
    return f"notifications-{shard}-{int(due.timestamp())}"


def enqueue_flush(due: dt.datetime, shard: int) -> None:
    enqueue_flushes([(due, shard)])


def enqueue_flushes(dues: list[tuple[dt.datetime, int]]) -> None:
    """One flush job per (due, shard), all sent to Redis in one round trip."""
    from portal.notifications.jobs import flush_due

    now = clock.now()
    try:
        with redis_connection().pipeline() as pipeline:
            pipeline.multi()  # RQ's enqueue expects a pipeline already in MULTI
            for due, shard in sorted(set(dues)):
                at = due if due > now else None
                enqueue(flush_due, shard, job_id=job_id(due, shard), at=at, pipeline=pipeline)
            pipeline.execute()
    except redis.exceptions.RedisError:
        # The windows are committed: the cron sweep flushes them once Redis answers again.
        log.warning("queue unavailable, %d notification flushes left to the sweep", len(dues))


after_commit("notification_due")(enqueue_flushes)
