"""Workers stop promptly: after a burst, on SIGTERM, and after a failed job.

A deploy restarts every worker and the tests run hundreds of burst workers: a worker that
lingers a minute after it was asked to stop holds both. See portal.core.jobs.PromptShutdown.
"""

from __future__ import annotations

import signal
import time

from rq import Worker

from portal.core.jobs import InProcessWorker, get_queue, redis_connection
from portal.worker import AppWorker
from tests import workers


def explode(reason: str) -> None:
    raise RuntimeError(reason)


def test_a_worker_stops_within_two_seconds_even_when_it_reads_the_unsubscribe_reply_first(app):
    """The race that held burst workers for 60 s on a loaded machine, made certain: the command
    thread reads the unsubscribe reply before the worker asks it to end, as it does when the
    worker loses the processor between the two."""
    with app.app_context():
        for worker_class in (AppWorker, InProcessWorker):
            worker = worker_class(["default"], connection=redis_connection())
            worker.subscribe()
            pubsub = worker.pubsub
            unsubscribe = pubsub.unsubscribe

            def unsubscribe_then_lose_the_processor(*args, unsubscribe=unsubscribe, pubsub=pubsub):
                answer = unsubscribe(*args)
                deadline = time.monotonic() + 5
                while pubsub.subscribed and time.monotonic() < deadline:
                    time.sleep(0.01)  # the thread reads the reply meanwhile
                assert not pubsub.subscribed, "the command thread never read the reply"
                return answer

            pubsub.unsubscribe = unsubscribe_then_lose_the_processor
            started = time.monotonic()
            worker.unsubscribe()
            took = time.monotonic() - started
            assert took < 2.5, f"{worker_class.__name__} took {took:.1f} s to stop listening"
            assert not worker.pubsub_thread.is_alive()


def test_a_burst_worker_exits_within_seconds_after_a_failed_job(app):
    with app.app_context():
        queue = get_queue("default")
        jobs = [queue.enqueue(explode, f"failure {n}", retry=None) for n in range(3)]
    started = time.monotonic()
    workers.run_burst(app, "burst-after-failures", seconds=30)
    took = time.monotonic() - started
    with app.app_context():
        assert queue.failed_job_registry.count == 3
        assert {job.id for job in jobs} == set(queue.failed_job_registry.get_job_ids())
    # Building the app and forking three work-horses take a few seconds on a loaded machine;
    # the minute RQ's command thread could add does not fit.
    assert took < 25, f"the burst worker took {took:.0f} s"


def test_a_worker_stops_within_seconds_of_sigterm_after_a_failed_job(app):
    """As a deploy stops it: the job failed, the worker is idle, SIGTERM."""
    with app.app_context():
        failing = get_queue("default").enqueue(explode, "the printer is on fire", retry=None)
    process = workers.start(app, "stopped-after-a-failure")
    try:
        with app.app_context():
            workers.wait_registered(1)
            deadline = time.monotonic() + 30
            while get_queue("default").failed_job_registry.count < 1:
                assert time.monotonic() < deadline, "the job did not fail within 30 s"
                time.sleep(0.1)
            assert failing.id in get_queue("default").failed_job_registry.get_job_ids()
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
        took = time.monotonic() - started
    finally:
        workers.stop([process], seconds=5)
    assert code == 0
    assert took < 10, f"the worker took {took:.0f} s to stop"
    with app.app_context():
        assert Worker.all(connection=redis_connection()) == []
