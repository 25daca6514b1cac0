"""The one job decorator, the Redis connection and queues.

Every RQ entry point is declared with @job: it fixes the queue, the timeout and the retries,
and runs the function inside an application context (a worker builds the app once:
portal.worker.AppWorker) and a transaction, committed when the function returns.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from flask import current_app, has_app_context
from redis import Redis
from rq import Queue, Retry, SimpleWorker, get_current_job
from rq.timeouts import TimerDeathPenalty

log = logging.getLogger(__name__)

DEFAULT_RETRY = Retry(max=5, interval=[10, 60, 300, 900, 3600])
_worker_app = None


def redis_connection() -> Redis:
    app = current_app._get_current_object()
    conn = app.extensions.get("carnet_redis")
    if conn is None:
        conn = Redis.from_url(app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2)
        app.extensions["carnet_redis"] = conn
    return conn


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=redis_connection())


def use_app(app) -> None:
    """The app a worker's jobs run in (portal.worker.AppWorker builds it once, before forking)."""
    global _worker_app
    _worker_app = app


def _app():
    if _worker_app is None:
        raise RuntimeError("a job ran outside the app: run workers as portal.worker.AppWorker")
    return _worker_app


def job(queue: str = "default", timeout: int = 300, retry: Retry | None = DEFAULT_RETRY):
    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(*args, **kwargs):
            if has_app_context():
                return _committed(fn, args, kwargs)
            with _app().app_context():
                return _committed(fn, args, kwargs)

        run.job_queue = queue
        run.job_options = {"job_timeout": timeout, "retry": retry}
        return run

    return decorate


def _committed(fn: Callable, args, kwargs):
    """The job's one commit, once it returns; what it wrote is dropped if it raises. A job
    commits on its own only what must be kept before it goes on: a claim before the work, an
    attempt before it raises for RQ to retry, a batch before the next one."""
    from portal.extensions import db

    try:
        result = fn(*args, **kwargs)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def enqueue(fn: Callable, *args, job_id: str | None = None, at=None, pipeline=None, retry=None):
    """Put a @job function on its queue now, or at ``at`` (aware datetime) with enqueue_at.
    With a Redis ``pipeline``, nothing is sent until the caller executes it; ``retry`` replaces
    the function's own retries (a Retry read from the configuration)."""
    q = get_queue(fn.job_queue)
    options = {"job_id": job_id, "pipeline": pipeline, **fn.job_options}
    if retry is not None:
        options["retry"] = retry
    if at is not None:
        return q.enqueue_at(at, fn, *args, **options)
    return q.enqueue(fn, *args, **options)


def retry_after(delays: list[int]) -> Retry | None:
    """RQ's Retry over the configured delays (seconds), one more attempt after each."""
    return Retry(max=len(delays), interval=delays) if delays else None


def last_attempt() -> bool:
    """Whether the running job has no retry left (or runs outside RQ, once)."""
    current = get_current_job()
    return current is None or not current.retries_left


class PromptShutdown:
    """A worker that stops within a second or two of being asked to, or of finishing a burst.

    Each RQ worker listens for commands (stop a job, shut down) in a thread reading a Redis
    pub/sub connection; RQ reads it with a 60-second timeout. To stop, RQ unsubscribes, then
    asks the thread to end and waits for it, and redis-py (since 8.0) waits without a limit.
    When the thread reads the unsubscribe reply before it is asked to end (a loaded machine, a
    worker that has just failed a job), it goes back to waiting for a subscription for the
    whole 60 seconds, and the worker with it: a burst worker outlives its queue, a deploy waits
    a minute per worker. Reading with a one-second timeout bounds that wait to a second."""

    #: Seconds the command thread waits for a message before it looks whether to end.
    command_poll_seconds = 1.0

    def subscribe(self):
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=self.command_poll_seconds,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,
        )


class InProcessWorker(PromptShutdown, SimpleWorker):
    """A worker that runs each job in its own process, without forking a work-horse: the tests
    and benchmarks empty a queue with it, in the process that holds their clock and app.

    Its jobs' time limits are kept by a timer thread, not by SIGALRM as a forking worker's: the
    alarm signal belongs to the process it runs in (the tests' own time limit uses it)."""

    death_penalty_class = TimerDeathPenalty
