"""The health of the queues and workers on the webmaster's console, read from what RQ keeps in
Redis: real RQ workers, a real `rq cron` scheduler, the outbox rows in the database, and a Redis
that can't be reached."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
from pathlib import Path

import pytest
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job

from portal.core import clock
from portal.core.jobs import get_queue, redis_connection
from portal.core.outbox import OutboxItem
from portal.extensions import db
from tests import factories as make
from tests import workers
from tests.conftest import free_port, wait_for
from tests.web import logged_in, post, text

ENGLISH = {"Accept-Language": "en"}
FRENCH = {"Accept-Language": "fr"}


def explode(message: str) -> None:
    """A job that fails, for the failed jobs list."""
    raise RuntimeError(message)


def linger(flag: str) -> str:
    """A job that runs until the test lets it go (or 30 s pass)."""
    deadline = time.monotonic() + 30
    while not Path(flag).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return "done"


@pytest.fixture
def webmaster(app):
    """A webmaster's browser, logged in."""
    with app.app_context():
        login = make.user(None, "webmaster").login
        db.session.commit()
    return logged_in(app, login)


def _health(client, headers=ENGLISH):
    return client.get("/webmaster/health", headers=headers)


def _figures(page: str, queue: str = "default") -> list[int]:
    """Waiting, running, scheduled, waiting for another job, failed."""
    row = re.search(rf'<tr id="queue-{queue}">(.*?)</tr>', page, re.S).group(1)
    return [int(n) for n in re.findall(r"<td>(\d+)</td>", row)]


def test_a_failed_job_shows_with_its_error_and_can_be_requeued_then_deleted(app, webmaster):
    with app.app_context():
        job_id = get_queue("default").enqueue(explode, "the printer is on fire").id
    workers.run_burst(app, "burst-failing")
    page = text(_health(webmaster))
    assert "tests.admin.test_webmaster_health.explode" in page
    assert "RuntimeError: the printer is on fire" in page
    assert _figures(page) == [0, 0, 0, 0, 1]

    requeued = post(
        webmaster,
        f"/webmaster/health/failed/default/{job_id}/requeue",
        page="/webmaster/health",
        headers=ENGLISH,
    )
    assert requeued.headers["Location"] == "/webmaster/health"
    with app.app_context():
        queue = get_queue("default")
        assert queue.job_ids == [job_id]
        assert queue.failed_job_registry.count == 0
    page = text(_health(webmaster))
    assert "The job is back on its queue." in page
    assert "No failed job." in page
    assert _figures(page) == [1, 0, 0, 0, 0]

    workers.run_burst(app, "burst-failing-again")
    assert _figures(text(_health(webmaster))) == [0, 0, 0, 0, 1]
    deleted = post(
        webmaster, f"/webmaster/health/failed/default/{job_id}/delete", page="/webmaster/health"
    )
    assert deleted.status_code == 302
    with app.app_context():
        assert get_queue("default").failed_job_registry.count == 0
        with pytest.raises(NoSuchJobError):
            Job.fetch(job_id, connection=redis_connection())
    assert _figures(text(_health(webmaster))) == [0, 0, 0, 0, 0]
    gone = f"/webmaster/health/failed/default/{job_id}/requeue"
    assert post(webmaster, gone, page="/webmaster/health").status_code == 404
    elsewhere = "/webmaster/health/failed/nowhere/x/delete"
    assert post(webmaster, elsewhere, page="/webmaster/health").status_code == 404


def test_queue_lengths_match_what_was_enqueued(app, webmaster):
    with app.app_context():
        queue = get_queue("default")
        first = queue.enqueue(explode, "one")
        queue.enqueue(explode, "two")
        queue.enqueue(explode, "three")
        queue.enqueue_at(clock.now() + dt.timedelta(days=1), explode, "tomorrow")
        queue.enqueue(explode, "after the first", depends_on=first)
    answer = _health(webmaster)
    assert answer.status_code == 200
    assert _figures(text(answer)) == [3, 0, 1, 1, 0]
    # Without a worker or a cron scheduler, the page says so.
    assert "No worker is alive" in text(answer)
    assert "No cron scheduler is running" in text(answer)
    # The page polls its figures; the poll gets the figures alone.
    assert 'data-hx-get="/webmaster/health" data-hx-trigger="every 10s"' in text(answer)
    polled = webmaster.get("/webmaster/health", headers={**ENGLISH, "HX-Request": "true"})
    assert text(polled).lstrip().startswith('<div id="health"')
    assert "<html" not in text(polled)
    assert _figures(text(polled)) == [3, 0, 1, 1, 0]


def test_a_live_worker_shows_as_alive_with_the_job_it_runs(app, webmaster, tmp_path):
    release = tmp_path / "release"
    process = workers.start(app, "health-live")
    try:
        with app.app_context():
            workers.wait_registered(1)
            get_queue("default").enqueue(linger, str(release))
        wait_for(
            lambda: "test_webmaster_health.linger" in text(_health(webmaster)),
            30,
            "the running job on the health page",
        )
        page = text(_health(webmaster))
        row = re.search(r'<tr class="worker">(.*?)</tr>', page, re.S).group(1)
        assert "health-live" in row and "busy" in row and "default" in row
        assert _figures(page) == [0, 1, 0, 0, 0]
        release.touch()
        wait_for(lambda: "idle" in text(_health(webmaster)), 30, "an idle worker on the page")
    finally:
        release.touch()
        workers.stop([process])
    with app.app_context():
        assert Worker.all(connection=redis_connection()) == []
    assert "No worker is alive" in text(_health(webmaster))


def test_the_cron_schedulers_heartbeat_and_its_periodic_jobs_last_runs_show(app, webmaster):
    url = app.config["REDIS_URL"]
    command = [str(workers.RQ), "cron", "--url", url, "--logging-level", "WARNING", "portal.cron"]
    process = subprocess.Popen(command, start_new_session=True)
    try:
        wait_for(
            lambda: "portal.core.outbox.sweep" in text(_health(webmaster)),
            30,
            "the cron's outbox sweep on the health page",
        )
        page = text(_health(webmaster))
        assert "alive, last heartbeat at" in page
        row = re.search(r"<code>portal.core.outbox.sweep</code>(.*?)</tr>", page, re.S).group(1)
        assert "60 s" in row and "waiting" in row  # put on its queue; no worker took it yet
        assert "—" not in row  # its next run is known while the scheduler lives
    finally:
        workers.stop([process])
    page = text(_health(webmaster))
    assert "No cron scheduler is running" in page
    # rq keeps when each periodic job was last put on its queue, scheduler or not.
    row = re.search(r"<code>portal.core.outbox.sweep</code>(.*?)</tr>", page, re.S).group(1)
    assert "never" not in row


def test_outbox_backlog_counts_what_is_not_handed_over_yet(app, webmaster):
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    clock.freeze(now)
    with app.app_context():
        rows = [
            ("pending", now - dt.timedelta(hours=2), 0),
            ("pending", now - dt.timedelta(minutes=10), 1),
            ("running", now - dt.timedelta(minutes=5), 1),
            ("done", now - dt.timedelta(hours=3), 1),
            ("cancelled", now - dt.timedelta(hours=3), 0),
            ("pending", now + dt.timedelta(days=1), 0),  # a message scheduled for tomorrow
        ]
        for state, available_at, attempts in rows:
            db.session.add(
                OutboxItem(
                    kind="mail",
                    payload={},
                    state=state,
                    available_at=available_at,
                    attempts=attempts,
                )
            )
        db.session.commit()
    for headers, age in ((ENGLISH, "2 hours"), (FRENCH, "2\xa0heures")):
        page = text(_health(webmaster, headers))
        figures = dict(re.findall(r'<dd id="outbox-(\w+)">([^<]*)</dd>', page))
        assert figures == {"due": "3", "age": age, "retried": "2", "later": "1"}


@pytest.fixture
def redis_unreachable(app):
    """The app pointed at a port where no Redis listens, as when Redis is down."""
    previous = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    app.extensions.pop("carnet_redis", None)
    yield
    app.config["REDIS_URL"] = previous
    app.extensions.pop("carnet_redis", None)


def test_the_page_says_when_redis_cannot_be_reached(app, webmaster, redis_unreachable):
    for headers, message in (
        (ENGLISH, "Redis can’t be reached"),
        (FRENCH, "Redis est injoignable"),
    ):
        answer = _health(webmaster, headers)
        assert answer.status_code == 503
        assert message in text(answer)
        assert 'id="outbox-due">0<' in text(answer)  # the database part still shows
        polled = webmaster.get("/webmaster/health", headers={**headers, "HX-Request": "true"})
        assert polled.status_code == 200  # HTMX swaps only what answers 2xx
        assert message in text(polled)
    refused = post(
        webmaster, "/webmaster/health/failed/default/x/requeue", page="/webmaster/", headers=ENGLISH
    )
    assert refused.status_code == 302
    assert "nothing was changed" in text(_health(webmaster))
