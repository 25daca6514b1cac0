"""The test harness: real Redis, real SQLite or PostgreSQL, the schema made by the migrations.

CARNET_TEST_DATABASE=sqlite|postgresql chooses the database (`python3 -m portal test` runs both).
Redis and PostgreSQL are started here, on private unix sockets in a temporary folder, and
stopped at the end. Between tests every table is emptied and Redis flushed.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

import pytest

DATABASE = os.environ.get("CARNET_TEST_DATABASE", "sqlite")
#: Fixtures shared by several folders of tests.
pytest_plugins = ["tests.school"]
RUN_DIR = Path(tempfile.mkdtemp(prefix="carnet-test-"))


def pytest_configure(config):
    from portal import stack

    if DATABASE not in ("sqlite", "postgresql"):
        raise pytest.UsageError(f"CARNET_TEST_DATABASE must be sqlite or postgresql: {DATABASE}")
    environment, config._carnet_stops = stack.start_private(RUN_DIR, DATABASE)
    os.environ.update(
        environment,
        SECRET_KEY="test-secret-key-not-for-production",
        LOGIN_RATE_LIMIT="5 per minute",
        LOGIN_ACCOUNT_RATE_LIMIT="12 per hour",  # 100 in production: each attempt hashes
        PUBLIC_URL="http://127.0.0.1:5000",
        MESSAGE_COUNTER_SECONDS="1",
        # Tests move the clock by days with people logged in; tests/accounts/test_sessions.py
        # sets the 30 minutes of production back.
        SESSION_IDLE_MINUTES=str(10 * 365 * 24 * 60),
    )


def pytest_unconfigure(config):
    for stop in getattr(config, "_carnet_stops", []):
        stop()
    shutil.rmtree(RUN_DIR, ignore_errors=True)


def pytest_report_header(config):
    return f"carnet: database={DATABASE}, run dir={RUN_DIR}"


@pytest.fixture(scope="session")
def app():
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db

    application = create_app({"TESTING": True})
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()  # close pooled connections before the server stops


@pytest.fixture(autouse=True)
def _clean(app):
    """Each test starts with empty tables, an empty Redis and the real clock."""
    yield
    empty(app)


def empty(app) -> None:
    """Every table emptied, Redis flushed, the clock real again."""
    from portal.core import clock
    from portal.core.jobs import redis_connection
    from portal.extensions import db

    with app.app_context():
        db.session.rollback()
        db.session.remove()
        clock.reset()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        _empty_tables(db, tables)
        redis_connection().flushdb()


def _empty_tables(db, tables: list[str], attempts: int = 5) -> None:
    """A browser test's page may still have a request running in the live server: PostgreSQL
    then ends one of the two transactions as a deadlock (TRUNCATE locks table after table). It
    is the truncation that is given up; once that request is over, it is tried again."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(attempts):
        try:
            with db.engine.begin() as connection:
                if DATABASE == "postgresql":
                    statement = f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"
                    connection.exec_driver_sql(statement)
                else:
                    for table in tables:
                        connection.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608 - ours
            return
        except OperationalError as error:
            if "deadlock" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.5)


@pytest.fixture
def db_ctx(app):
    """An application context for tests that call services directly, messages in English.

    HTTP tests don't use it: each request of the test client then gets its own context, as in
    production (Flask-Login keeps the current user on the context)."""
    from flask_babel import force_locale

    from portal.extensions import db

    with app.app_context(), force_locale("en"):
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def worker(app):
    """Run every queued job with a real RQ worker, in this process, until the queue is empty."""
    from portal.core.jobs import InProcessWorker, get_queue, redis_connection

    def run() -> int:
        with app.app_context():
            queue = get_queue("default")
            before = queue.finished_job_registry.count
            InProcessWorker([queue], connection=redis_connection()).work(burst=True)
            return queue.finished_job_registry.count - before

    return run


@pytest.fixture
def redis_outage(app, request):
    """Take the private Redis away as an outage would (``stop()``) and bring it back at the same
    socket (``start()``). It is running again when the test ends, whatever happened."""
    from portal import stack

    class Outage:
        down = False

        def stop(self) -> None:
            stack.stop_redis(app.config["REDIS_URL"])
            self.down = True

        def start(self) -> None:
            process, url = stack.start_redis(RUN_DIR)
            request.config._carnet_stops.insert(0, lambda: (process.terminate(), process.wait()))
            assert url == app.config["REDIS_URL"], f"Redis came back at {url}"
            self.down = False

    outage = Outage()
    yield outage
    if outage.down:
        outage.start()


@pytest.fixture
def smtp(app):
    """A real SMTP server on loopback; the app sends to it while the fixture lives."""
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    previous = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    yield inbox
    app.config["SMTP_URL"] = previous
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, seconds: float = 5.0, what: str = "") -> bool:
    """Until ``predicate()`` holds; fails the test saying ``what`` was awaited after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what or predicate.__doc__ or predicate}")
