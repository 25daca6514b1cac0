"""The health of the queues and workers, for the webmaster (SPEC §10).

Everything is read from what RQ itself keeps in Redis: the queues and their registries, the
workers' records and heartbeats, the cron scheduler's record and the history of its periodic
jobs. Nothing here keeps counters of its own. The outbox backlog is read from the database, so
it shows even while Redis can't be reached.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field

from rq import Queue, Worker, cron_job_registry
from rq.cron import CronScheduler, get_cron_job_ids
from rq.defaults import DEFAULT_CRON_SCHEDULER_TTL
from rq.exceptions import DeserializationError, InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.results import Result
from sqlalchemy import func, select

from portal.core import clock
from portal.core.jobs import redis_connection
from portal.core.outbox import OutboxItem
from portal.extensions import db

#: The queues the app's jobs and periodic jobs are put on (portal.core.jobs.job(queue=...),
#: portal/cron.py). Any other queue RQ knows of is shown too.
APP_QUEUES = ("default",)
#: Failed jobs listed, newest first.
FAILED_SHOWN = 20


@dataclass
class QueueFigures:
    name: str
    waiting: int
    started: int
    scheduled: int
    deferred: int
    failed: int


@dataclass
class FailedJob:
    id: str
    queue: str
    function: str
    failed_at: dt.datetime | None
    error: str


@dataclass
class WorkerRow:
    """A worker as RQ registered it; it is listed while its heartbeat keeps its record alive."""

    name: str
    state: str
    queues: list[str]
    last_heartbeat: dt.datetime | None
    born: dt.datetime | None
    current_job: str | None
    host: str


@dataclass
class PeriodicJob:
    """A job `rq cron` puts on a queue, from the scheduler's record and rq's cron history."""

    name: str
    schedule: str
    last_enqueued: dt.datetime | None = None
    last_status: str | None = None
    last_ended: dt.datetime | None = None
    next_run: dt.datetime | None = None


@dataclass
class Health:
    queues: list[QueueFigures] = field(default_factory=list)
    failed: list[FailedJob] = field(default_factory=list)
    workers: list[WorkerRow] = field(default_factory=list)
    cron_schedulers: list[CronScheduler] = field(default_factory=list)
    periodic_jobs: list[PeriodicJob] = field(default_factory=list)


def queue_names() -> list[str]:
    """The app's queues and any other queue RQ has seen a job on."""
    known = {queue.name for queue in Queue.all(connection=redis_connection())}
    return sorted(set(APP_QUEUES) | known)


def read() -> Health:
    """Everything RQ keeps about the queues, the workers and the cron scheduler.
    Raises redis.exceptions.RedisError when Redis can't be reached."""
    connection = redis_connection()
    health = Health()
    for name in queue_names():
        queue = Queue(name, connection=connection)
        health.queues.append(
            QueueFigures(
                name=name,
                waiting=queue.count,
                # Read without RQ's clean-up, which may fail abandoned jobs: that is the
                # workers' maintenance, not a page's.
                started=queue.started_job_registry.get_job_count(cleanup=False),
                scheduled=queue.scheduled_job_registry.count,
                deferred=queue.deferred_job_registry.count,
                failed=queue.failed_job_registry.count,
            )
        )
        health.failed.extend(_failed_jobs(queue))
    health.failed.sort(key=lambda job: job.failed_at or dt.datetime.min.replace(tzinfo=dt.UTC))
    health.failed = health.failed[::-1][:FAILED_SHOWN]
    health.workers = [_worker_row(worker) for worker in Worker.all(connection=connection)]
    health.workers.sort(key=lambda worker: worker.name)
    health.cron_schedulers = CronScheduler.all(connection, cleanup=False)
    health.periodic_jobs = _periodic_jobs(health.cron_schedulers)
    return health


def _failed_jobs(queue: Queue) -> list[FailedJob]:
    ids = queue.failed_job_registry.get_job_ids(0, FAILED_SHOWN - 1, desc=True)
    found = []
    for job in Job.fetch_many(ids, connection=queue.connection):
        if job is None:
            continue
        result = job.latest_result()
        error = result.exc_string if result and result.type == Result.Type.FAILED else ""
        found.append(
            FailedJob(
                id=job.id,
                queue=queue.name,
                function=_function(job),
                failed_at=job.ended_at or (result.created_at if result else None),
                error=last_line(error or ""),
            )
        )
    return found


def _worker_row(worker: Worker) -> WorkerRow:
    try:
        job = worker.get_current_job()
    except NoSuchJobError:
        job = None  # finished between the two reads
    return WorkerRow(
        name=worker.name,
        state=worker.get_state(),
        queues=worker.queue_names(),
        last_heartbeat=worker.last_heartbeat,
        born=worker.birth_date,
        current_job=f"{_function(job)} ({job.id})" if job else None,
        host=f"{worker.hostname or '?'}:{worker.pid or '?'}",
    )


def _function(job: Job) -> str:
    try:
        return job.func_name or "?"
    except DeserializationError:
        return "?"


def last_line(text: str) -> str:
    """The last line of a traceback: the error itself ('ValueError: ...')."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def scheduler_alive(scheduler: CronScheduler, now: dt.datetime | None = None) -> bool:
    """A cron scheduler beats every minute at most; rq drops it after this long without one."""
    beat = scheduler.last_heartbeat
    limit = dt.timedelta(seconds=DEFAULT_CRON_SCHEDULER_TTL)
    return beat is not None and (now or dt.datetime.now(dt.UTC)) - beat <= limit


def _periodic_jobs(schedulers: list[CronScheduler]) -> list[PeriodicJob]:
    """Each periodic job: when rq cron last put it on its queue (rq's cron job registry, kept
    a year even when no scheduler runs), how its newest job ended while rq still keeps it, and
    when a live scheduler will put it on its queue next."""
    connection = redis_connection()
    jobs: dict[str, PeriodicJob] = {}
    for scheduler in schedulers:
        alive = scheduler_alive(scheduler)
        for cron_job in scheduler.get_jobs():
            entry = jobs.setdefault(
                cron_job.name,
                PeriodicJob(cron_job.name, cron_job.cron or f"{cron_job.interval} s"),
            )
            if alive and cron_job.next_enqueue_time is not None:
                entry.next_run = cron_job.next_enqueue_time
    registry_key = cron_job_registry.get_registry_key()
    for name in cron_job_registry.get_names(connection, cleanup=False):
        entry = jobs.setdefault(name, PeriodicJob(name, ""))
        score = connection.zscore(registry_key, name)
        entry.last_enqueued = dt.datetime.fromtimestamp(score, dt.UTC) if score else None
        newest = get_cron_job_ids(name, connection, 0, 0)
        if newest:
            try:
                job = Job.fetch(newest[0], connection=connection)
            except NoSuchJobError:
                continue  # rq keeps a finished job's record for a few minutes only
            entry.last_status = job.get_status(refresh=False)
            entry.last_ended = job.ended_at
    return sorted(jobs.values(), key=lambda job: job.name)


def outbox_backlog() -> dict:
    """The outbox rows not handed over yet: how many are due, since when the oldest waits, how
    many already failed once, and how many wait for a later time (scheduled messages)."""
    now = clock.now()
    waiting = OutboxItem.state.in_(("pending", "running"))
    due, oldest, retried = db.session.execute(
        select(
            func.count(),
            func.min(OutboxItem.available_at),
            func.count().filter(OutboxItem.attempts > 0),
        ).where(waiting, OutboxItem.available_at <= now)
    ).one()
    later = db.session.scalar(select(func.count()).where(waiting, OutboxItem.available_at > now))
    return {
        "due": due,
        "oldest": oldest,
        "age": (now - oldest) if oldest else None,
        "retried": retried,
        "later": later,
    }


def _failed_registry(queue: str) -> FailedJobRegistry:
    if queue not in queue_names():
        raise LookupError(queue)
    return FailedJobRegistry(queue, connection=redis_connection())


def requeue_failed(queue: str, job_id: str) -> None:
    """Put a failed job back on its queue, through RQ's own registry. LookupError when the
    queue or the failed job is unknown (deleted, requeued, or expired meanwhile)."""
    try:
        _failed_registry(queue).requeue(job_id)
    except (InvalidJobOperation, NoSuchJobError) as exc:
        raise LookupError(job_id) from exc


def delete_failed(queue: str, job_id: str) -> None:
    """Remove a failed job from its registry and delete it. LookupError when unknown."""
    registry = _failed_registry(queue)
    if job_id not in registry:
        raise LookupError(job_id)
    # A record that had expired is out of the registry all the same.
    with contextlib.suppress(NoSuchJobError):
        registry.remove(job_id, delete_job=True)
