"""The test harness: real Redis, real SQLite or PostgreSQL, the schema made by the migrations.

CARNET_TEST_DATABASE=sqlite|postgresql chooses the database (`python3 -m portal test` runs both).
Redis and PostgreSQL are started here, on private unix sockets in a temporary folder, and
stopped at the end. Between tests every table is emptied and Redis flushed.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

DATABASE = os.environ.get("CARNET_TEST_DATABASE", "sqlite")
RUN_DIR = Path(tempfile.mkdtemp(prefix="carnet-test-"))


def _start_postgres() -> tuple[str, callable]:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not binaries:
        pytest.exit("PostgreSQL is not installed: run the tests with `python3 -m portal test`")
    bindir = Path(binaries[-1])
    data, sockets = RUN_DIR / "pgdata", RUN_DIR / "pgsock"
    sockets.mkdir()
    as_user = {}
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(RUN_DIR, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = {"user": "postgres"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT, **as_user}
    subprocess.run(
        [
            bindir / "initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        ],
        check=True,
        **quiet,
    )
    options = f"-k {sockets} -c listen_addresses='' -F -c full_page_writes=off"
    subprocess.run(
        [bindir / "pg_ctl", "-D", data, "-o", options, "-w", "-l", RUN_DIR / "pg.log", "start"],
        check=True,
        **quiet,
    )
    subprocess.run(
        [bindir / "createdb", "-h", sockets, "-U", "postgres", "carnet"], check=True, **quiet
    )

    def stop():
        subprocess.run([bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"], **quiet)

    return f"postgresql+psycopg://postgres@/carnet?host={sockets}", stop


def pytest_configure(config):
    from portal import stack

    redis_process, redis_url = stack.start_redis(RUN_DIR)
    config._carnet_stops = [lambda: (redis_process.terminate(), redis_process.wait())]
    if DATABASE == "postgresql":
        url, stop = _start_postgres()
        config._carnet_stops.append(stop)
    elif DATABASE == "sqlite":
        url = f"sqlite:///{RUN_DIR / 'carnet.sqlite'}"
    else:
        raise pytest.UsageError(f"CARNET_TEST_DATABASE must be sqlite or postgresql: {DATABASE}")
    os.environ.update(
        CARNET_ENV="test",
        CARNET_INSTANCE=str(RUN_DIR / "instance"),
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        SECRET_KEY="test-secret-key-not-for-production",
        LOGIN_RATE_LIMIT="5 per minute",
        PUBLIC_URL="http://127.0.0.1:5000",
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
    from portal.core import clock
    from portal.core.jobs import redis_connection
    from portal.extensions import db

    yield
    with app.app_context():
        db.session.rollback()
        db.session.remove()
        clock.reset()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if DATABASE == "postgresql":
                connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            else:
                for table in tables:
                    connection.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608 - our tables
        redis_connection().flushdb()


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
    from rq import SimpleWorker

    from portal.core.jobs import get_queue, redis_connection

    def run() -> int:
        with app.app_context():
            queue = get_queue("default")
            before = queue.finished_job_registry.count
            SimpleWorker([queue], connection=redis_connection()).work(burst=True)
            return queue.finished_job_registry.count - before

    return run


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


def wait_for(predicate, seconds: float = 5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False
