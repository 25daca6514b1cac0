"""The worker of Carnet's processes: ``rq worker --worker-class portal.worker.AppWorker``.

It stands above every domain: it builds the whole app, whose outbox handlers and jobs the
domains declare (portal.domains).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time

import redis.exceptions
from rq import Worker

from portal import create_app
from portal.core import jobs

log = logging.getLogger(__name__)


class AppWorker(jobs.PromptShutdown, Worker):
    """An RQ worker that builds the Flask app once, before it forks a work-horse per job: every
    job runs in it. The parent never opens a database connection, so the forked work-horses
    share no connection."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        jobs.use_app(create_app())

    def execute_job(self, job, queue):
        """RQ ends the worker when Redis goes away while a job runs (an idle worker waits for it
        instead). The job's work is in the database, and its outbox row says whether it was
        done (the sweep enqueues it again if not): so the work-horse is let finish, and the
        worker waits for Redis, then carries on."""
        try:
            super().execute_job(job, queue)
        except redis.exceptions.ConnectionError as exc:
            log.warning("Redis went away during job %s (%s): waiting for it", job.id, exc)
            if self._horse_pid:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(self._horse_pid, 0)
                self._horse_pid = 0
            pause = 1.0
            while not self._stop_requested:
                try:
                    self.connection.ping()
                    return
                except redis.exceptions.ConnectionError:
                    time.sleep(pause)
                    pause = min(pause * 2, 10.0)
