"""A message to a 100,000-parent broadcast list: the send over HTTP, then its delivery.

    python tests/perf/bench_fanout.py                       # private PostgreSQL and Redis
    BENCH_DATABASE=sqlite python tests/perf/bench_fanout.py
    DATABASE_URL=postgresql+psycopg://... python tests/perf/bench_fanout.py

Uses the database named by DATABASE_URL, or starts its own PostgreSQL (or SQLite file) in a
temporary folder; Redis is always its own. It writes one school with a teacher, BENCH_RECIPIENTS
parents in bulk (100,000 by default) on a broadcast list the teacher may write to, and 10 more
parents. Carnet is served by gunicorn on loopback, as `python3 -m portal run` does; the bench
logs in as the teacher over HTTP and times the POST of the compose form, to the 10 parents, then
to the broadcast list. A real RQ worker (SimpleWorker, in burst mode, in this process) then
delivers the large message while every SQL statement it runs is counted.

The same rows are then written to a scratch copy of inbox_entry (same columns, indexes and
foreign keys) by the fastest plain bulk insert of the database: COPY on PostgreSQL, one
executemany in one transaction on SQLite. The ratio of the two rates says how close delivery
comes to what the database can take.

MESSAGE_DELIVERY_BATCH in the environment sets the delivery's batch as it does for Carnet.
The last line printed is one JSON object. A benchmark, not a test: it never fails on speed.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.private import measured, private_stack  # noqa: E402 - after the path

RECIPIENTS = int(os.environ.get("BENCH_RECIPIENTS", 100_000))
FEW = 10
PASSWORD = "bench-password-fanout"
SEND_GOAL_MS = 300
RATIO_GOAL = 0.25
BATCH = 20_000  # rows per INSERT while building the data
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
MESSAGE_URL = re.compile(r"/messages/([0-9]+)$")
SCRATCH = "bench_inbox_entry"
BULK_TRIES = 3


# --- the data ----------------------------------------------------------------------------------


def _build(db, run: str) -> dict:
    """One school: a teacher, the parents on a broadcast list, 10 more parents. Returns ids."""
    from sqlalchemy import select

    from portal.accounts.models import AccountState, Profile, User
    from portal.core import clock, security
    from portal.groups import people, rules
    from portal.groups import services as groups
    from portal.groups.models import GroupKind, GroupMember
    from portal.platform import services as platform

    school = platform.create_school("Bench school", f"FAN{run.upper()}")
    admin = people.create_user(school, Profile.ADMIN, "Bench", "Direction")
    teacher = people.create_user(
        school, Profile.TEACHER, "Bench", "Teacher", login=f"bench.teacher.{run}"
    )
    teacher.state, teacher.activated_at = AccountState.ACTIVE, clock.now()
    teacher.password_hash = security.hash_password(PASSWORD)
    # The 10: ordinary parents, in the school's parents group, which teachers reach by default.
    few = [
        people.create_user(school, Profile.PARENT, f"Few{n}", "Parent", login=f"f{n}.{run}")
        for n in range(FEW)
    ]
    broadcast = groups.create_group(school, GroupKind.BROADCAST_LIST, "All parents", Profile.PARENT)
    # A broadcast list is reached only through a rule that targets it (SPEC §2).
    teachers = groups.school_profile_group(school.id, Profile.TEACHER)
    rules.add_rule(admin, teachers, broadcast)
    db.session.commit()
    ids = {
        "school": school.id,
        "teacher_login": teacher.login,
        "broadcast": broadcast.id,
        "few": [user.id for user in few],
    }
    now = clock.now()
    for start in range(0, RECIPIENTS, BATCH):
        rows = [
            {
                "school_id": school.id,
                "profile": "parent",
                "state": "active",
                "first_name": f"P{n}",
                "last_name": f"Parent{n}",
                "search_key": f"parent{n} p{n}",
                "login": f"bench.{run}.parent{n}",
                "session_nonce": f"{n:032d}",
                "refuses_email": False,
                "created_at": now,
            }
            for n in range(start, min(start + BATCH, RECIPIENTS))
        ]
        db.session.execute(User.__table__.insert(), rows)
    db.session.commit()
    parents = db.session.scalars(
        select(User.id).where(User.login.like(f"bench.{run}.parent%")).order_by(User.id)
    ).all()
    for start in range(0, len(parents), BATCH):
        db.session.execute(
            GroupMember.__table__.insert(),
            [{"group_id": broadcast.id, "user_id": i} for i in parents[start : start + BATCH]],
        )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does on a live server, done now rather than during the delivery.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE user_account, group_member")
    ids["parents"] = list(parents)
    return ids


# --- HTTP --------------------------------------------------------------------------------------


class Browser:
    """A client that keeps its cookies and follows no redirect, so a POST is timed alone."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            text = answer.read().decode()
        finally:
            connection.close()
        for cookie in answer.headers.get_all("Set-Cookie") or []:
            name, _equals, value = cookie.split(";", 1)[0].partition("=")
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return answer.status, answer.headers, text

    def csrf_token(self, path: str) -> str:
        status, _headers, html = self.request("GET", path)
        match = TOKEN.search(html)
        if status != 200 or match is None:
            raise SystemExit(f"no CSRF token on {path} (HTTP {status})")
        return match[1]

    def log_in(self, login: str) -> None:
        token = self.csrf_token("/login")
        form = [("csrf_token", token), ("login", login), ("password", PASSWORD)]
        status, _headers, _html = self.request("POST", "/login", form)
        if status != 302:
            raise SystemExit(f"login refused (HTTP {status})")

    def send(self, tokens: list[str], subject: str) -> tuple[float, int]:
        """POST the compose form with everyone in To; returns the request's milliseconds and
        the new message's id (from the redirect to it)."""
        form = [("csrf_token", self.csrf_token("/messages/new"))]
        form += [("to", token) for token in tokens]
        form += [("subject", subject), ("body", "The outing is moved to Friday.")]
        started = time.perf_counter()
        status, headers, html = self.request("POST", "/messages/new", form)
        elapsed = (time.perf_counter() - started) * 1000
        sent = MESSAGE_URL.search(headers.get("Location", ""))
        if status != 302 or sent is None:
            raise SystemExit(f"send answered HTTP {status}: {html[:300]}")
        return elapsed, int(sent[1])

    def refused_send(self, tokens: list[str]) -> None:
        """A send without a subject: the server checks it all and stores nothing (400)."""
        form = [("csrf_token", self.csrf_token("/messages/new"))]
        form += [("to", token) for token in tokens]
        form += [("subject", ""), ("body", "Nothing")]
        status, _headers, _html = self.request("POST", "/messages/new", form)
        if status != 400:
            raise SystemExit(f"a send without subject answered HTTP {status}, not 400")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(port: int) -> subprocess.Popen:
    """gunicorn on loopback, as `python3 -m portal run` starts it; returns once it answers."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "2", "wsgi:app"]
    command.insert(-1, "--no-control-socket")  # nothing left in the home folder
    server = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn stopped while starting")
        try:
            if Browser(port).request("GET", "/healthz")[0] == 200:
                return server
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 60 s")


# --- delivery and the bulk-insert yardstick ----------------------------------------------------


def _deliver(db) -> tuple[float, list[str]]:
    """Run the queued delivery job with a real RQ worker; returns how long the job ran, by RQ's
    own record (the worker's start-up and tear-down left out), and the SQL statements it ran."""
    from rq.job import JobStatus
    from sqlalchemy import event

    from portal.core.jobs import InProcessWorker, get_queue, redis_connection

    statements: list[str] = []

    def count(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    db.session.remove()
    queue = get_queue("default")
    if len(queue.job_ids) != 1:
        raise SystemExit(f"one delivery job expected in the queue, not {queue.job_ids}")
    job = queue.fetch_job(queue.job_ids[0])
    worker = InProcessWorker([queue], connection=redis_connection())
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        worker.work(burst=True, logging_level="WARNING")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    job.refresh()
    if job.get_status() != JobStatus.FINISHED:
        raise SystemExit(f"the delivery job ended {job.get_status()}: see the worker's messages")
    return (job.ended_at - job.started_at).total_seconds(), statements


def _scratch_copy(connection) -> None:
    """An empty table like inbox_entry: same columns, indexes and foreign keys, its own ids."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"CREATE TABLE {SCRATCH} (LIKE inbox_entry INCLUDING ALL)")
        connection.exec_driver_sql(
            f"ALTER TABLE {SCRATCH} ALTER COLUMN id DROP DEFAULT, "
            "ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY, "
            "ADD FOREIGN KEY (message_id) REFERENCES message (id) ON DELETE CASCADE, "
            "ADD FOREIGN KEY (recipient_id) REFERENCES user_account (id) ON DELETE CASCADE"
        )
    else:
        schema = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'inbox_entry' AND sql IS NOT NULL"
            " ORDER BY type DESC"  # the table before its indexes
        ).scalars()
        for ddl in list(schema):
            connection.exec_driver_sql(ddl.replace("inbox_entry", SCRATCH))
    connection.commit()


def _bulk_insert(db, message_id: int) -> float:
    """Rows per second of the database's fastest plain bulk insert, writing the delivered inbox
    rows of ``message_id`` again (every column but the id) into a new scratch copy of
    inbox_entry: the best of BULK_TRIES."""
    from portal.messaging.models import InboxEntry

    names = ", ".join(c.name for c in InboxEntry.__table__.columns if c.name != "id")
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(  # the driver's own values: nothing to convert
            f"SELECT {names} FROM inbox_entry WHERE message_id = {int(message_id)}"  # noqa: S608
        ).all()
    return max(len(rows) / _write_scratch(db, names, rows) for _try in range(BULK_TRIES))


def _write_scratch(db, names: str, rows: list) -> float:
    """Seconds to write ``rows`` into a new scratch copy in one transaction, commit included."""
    with db.engine.connect() as connection:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {SCRATCH}")
        _scratch_copy(connection)
    raw = db.engine.raw_connection()
    try:
        driver = raw.driver_connection
        started = time.perf_counter()
        if db.engine.dialect.name == "postgresql":
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {SCRATCH} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            cursor = driver.cursor()
            if not driver.in_transaction:
                cursor.execute("BEGIN")  # one transaction, whatever the driver's own mode
            marks = ", ".join("?" * len(rows[0]))
            cursor.executemany(f"INSERT INTO {SCRATCH} ({names}) VALUES ({marks})", rows)  # noqa: S608
            cursor.close()
        driver.commit()
        elapsed = time.perf_counter() - started
    finally:
        raw.close()
    with db.engine.connect() as connection:
        written = connection.exec_driver_sql(f"SELECT count(*) FROM {SCRATCH}").scalar()  # noqa: S608
        connection.exec_driver_sql(f"DROP TABLE {SCRATCH}")
        connection.commit()
    if written != len(rows):
        raise SystemExit(f"the bulk insert wrote {written} rows, not {len(rows)}")
    return elapsed


def _kinds(statements: list[str]) -> dict[str, int]:
    """Statements by their first word (SAVEPOINT, SELECT...), for the report."""
    return dict(Counter(s.split(None, 1)[0].upper() for s in statements).most_common())


def _measure(app, db) -> dict:
    """Build, serve, send both messages over HTTP, deliver the large one; the JSON figures."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal.messaging.models import InboxEntry
    from portal.notifications.models import Notification

    upgrade()
    run = secrets.token_hex(4)  # names of their own, should DATABASE_URL hold others
    ids = _build(db, run)
    db.session.remove()
    port = _free_port()
    server = _serve(port)
    try:
        browser = Browser(port)
        browser.log_in(ids["teacher_login"])
        few = [f"user:{i}" for i in ids["few"]]
        for _warm_up in range(4):  # both gunicorn workers, past their first request
            browser.refused_send(few)
        send_few_ms, _few_message = browser.send(few, "Outing (10)")
        _deliver(db)
        send_many_ms, message_id = browser.send([f"group:{ids['broadcast']}"], "Outing (all)")
        delivery_s, statements = _deliver(db)
    finally:
        server.terminate()
        server.wait(timeout=30)
    inbox_rows, distinct = db.session.execute(
        select(func.count(), func.count(func.distinct(InboxEntry.recipient_id))).where(
            InboxEntry.message_id == message_id
        )
    ).one()
    notifications = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .join(InboxEntry, InboxEntry.recipient_id == Notification.recipient_id)
        .where(InboxEntry.message_id == message_id, Notification.type == "message")
    )
    few_rows = db.session.scalar(
        select(func.count()).where(InboxEntry.recipient_id.in_(ids["few"]))
    )
    db.session.remove()
    bulk_rate = _bulk_insert(db, message_id)
    inbox_rate = inbox_rows / delivery_s
    budget = RECIPIENTS // 1000 + 20
    return {
        "db": db.engine.dialect.name,
        "recipients": RECIPIENTS,
        "delivery_batch": app.config["MESSAGE_DELIVERY_BATCH"],
        f"send_http_ms_{RECIPIENTS}": round(send_many_ms, 1),
        f"send_http_ms_{FEW}": round(send_few_ms, 1),
        "send_http_ms": round(max(send_many_ms, send_few_ms), 1),
        "delivery_s": round(delivery_s, 2),
        "inbox_rows": inbox_rows,
        "duplicates": inbox_rows - distinct,
        "notifications": notifications,
        "inbox_rows_per_s": round(inbox_rate),
        "bulk_insert_rows_per_s": round(bulk_rate),
        "ratio": round(inbox_rate / bulk_rate, 3),
        "sql_statements": len(statements),
        "sql_budget": budget,
        "sql_kinds": _kinds(statements),
        f"inbox_rows_{FEW}": few_rows,
        "checks_ok": inbox_rows == RECIPIENTS == distinct and few_rows == FEW,
        "goals_met": {
            "send": max(send_many_ms, send_few_ms) <= SEND_GOAL_MS,
            "ratio": inbox_rate / bulk_rate >= RATIO_GOAL,
            "sql": len(statements) <= budget,
        },
    }


def main() -> None:
    with private_stack("fanout", external_database=True):
        result = measured(_measure)
    print(json.dumps(result), flush=True)  # last, after the servers' own farewells


if __name__ == "__main__":
    main()
