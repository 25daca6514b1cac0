"""One large school under 50 people at once, over HTTP, against Carnet's real stack.

    python tests/perf/bench_http.py                   # 2,000 pupils, 50 clients, 60 s
    python tests/perf/bench_http.py --seconds 120 --users 80 --pupils 3000
    python tests/perf/bench_http.py --short           # the quick form the test suite runs

Starts, in a temporary folder on loopback, its own PostgreSQL and Redis, migrates, and loads the
demo platform with its collège scaled to ``--pupils`` pupils (`flask demo --pupils`: 2,000
pupils and 3,500 guardians by default). Each class's first teacher writes to the class's
families and pupils, so that every inbox has a conversation to open. Then, with
CARNET_ENV=production: gunicorn with production's settings (portal/gunicorn_config.py, threaded
workers with keep-alive), RQ workers (AppWorker) and the cron scheduler.

The clients are locust (FastHttpUser: one kept-alive connection each), a separate process,
running tests/perf/locust_carnet.py: parents, pupils and teachers in turn, each logged in once,
then with no pause (``--think`` for one): the home page and its HTMX counters, the inbox, a
conversation, the directory's search partial, and a message sent (teachers to a class's
families, parents in reply or to a teacher). Timing starts ``--warm-up`` seconds after the last
client has logged in (the warm-up's errors count, its timings do not). The same clients then
ask, for as long, for the page of a minimal Flask application (tests/perf/hello_app.py) served
by gunicorn with the same settings: ``ratio`` is Carnet's requests per second over that one's.

Production settings are kept whole: Secure cookies (the clients stand where the TLS proxy
does, on the plain-HTTP leg over which it passes on the cookies browsers send it over https)
and the login rate limits as they are (only refused attempts count; no login is refused here).
After the run the bench waits for every message to be delivered and counts them.

The last line printed is one JSON object. A benchmark: it fails only when the stack does not
start; the goals met or not are in the JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.private import private_stack  # noqa: E402 - after the path

BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).with_name("locust_carnet.py")
GOALS = {"p95_ms": 200, "p99_ms": 600, "ratio": 0.3}
#: The clients, in turn: three parents, a pupil and a teacher for every five.
MIX = ("parent", "pupil", "parent", "teacher", "parent")
PRODUCTION = {
    "CARNET_ENV": "production",
    "PUBLIC_URL": "https://carnet.bench.invalid",
}


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="measured run (default 60)")
    parser.add_argument("--warm-up", type=int, default=10, help="seconds before it (default 10)")
    parser.add_argument("--users", type=int, default=50, help="clients at once (default 50)")
    parser.add_argument("--pupils", type=int, default=2000, help="pupils of the school")
    parser.add_argument("--rq-workers", type=int, default=2, help="RQ workers (default 2)")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds a client pauses between two actions, on average (default 0: none); "
        "the ratio then compares two paced loads and says little",
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help="quick form: 150 pupils, 20 clients, 3 s of warm-up, 10 s (5 s for the yardstick)",
    )
    options = parser.parse_args(argv)
    options.hello_seconds = options.seconds
    if options.short:
        options.pupils, options.users, options.warm_up = 150, 20, 3
        options.seconds, options.hello_seconds = 10, 5
    return options


# --- processes ---------------------------------------------------------------------------------


class Processes:
    """Every process the bench starts, its output in a log file; all stopped at the end."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], **environment) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(os.environ, **environment),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.running.append((name, process))
        return process

    def stop(self, process: subprocess.Popen, seconds: float = 20) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.running = [(n, p) for n, p in self.running if p is not process]

    def stop_all(self) -> None:
        for _name, process in reversed(list(self.running)):
            self.stop(process)

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(processes: Processes, name: str, application: str) -> tuple[subprocess.Popen, int]:
    """gunicorn with production's settings on a free loopback port, once it answers."""
    port = _free_port()
    server = processes.start(
        name,
        [
            str(BIN / "gunicorn"),
            "--config",
            "python:portal.gunicorn_config",
            "--bind",
            f"127.0.0.1:{port}",
            application,
        ],
    )
    path = "/healthz" if application == "wsgi:app" else "/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped while starting:\n{processes.log(name)[-3000:]}")
        with contextlib.suppress(OSError):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                connection.request("GET", path)
                if connection.getresponse().status == 200:
                    return server, port
            finally:
                connection.close()
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer within 60 s:\n{processes.log(name)[-3000:]}")


def _locust(
    processes: Processes, run: str, port: int, users: int, warm_up: int, seconds: int, **env
) -> dict:
    """One headless locust run: every client logged in, ``warm_up`` seconds more, then
    ``seconds`` measured. Its statistics by request name (and 'Aggregated'), its failures, and
    the warm-up's own counts."""
    prefix = processes.folder / run
    warm_up_file = processes.folder / f"{run}-warm-up.json"
    command = [
        str(BIN / "locust"),
        "--headless",
        "--locustfile",
        str(LOCUSTFILE),
        "--host",
        f"http://127.0.0.1:{port}",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    env.update(
        BENCH_WARM_UP=str(warm_up), BENCH_SECONDS=str(seconds), BENCH_WARM_UP_FILE=str(warm_up_file)
    )
    client = processes.start(f"locust-{run}", command, **env)
    try:  # the logins first: argon2 takes about a second of a core for each
        client.wait(timeout=users * 2 + warm_up + seconds + 60)
    except subprocess.TimeoutExpired as exc:
        raise SystemExit(f"locust did not stop:\n{processes.log(f'locust-{run}')[-3000:]}") from exc
    finally:
        processes.stop(client)
    stats_file = Path(f"{prefix}_stats.csv")
    if client.returncode != 0 or not stats_file.exists() or not warm_up_file.exists():
        raise SystemExit(f"locust failed:\n{processes.log(f'locust-{run}')[-3000:]}")
    with stats_file.open(newline="") as file:
        rows = {row["Name"]: row for row in csv.DictReader(file)}
    failures_file = Path(f"{prefix}_failures.csv")
    failures = []
    if failures_file.exists():
        with failures_file.open(newline="") as file:
            failures = [
                f"{row['Name']}: {row['Error']} ({row['Occurrences']})"
                for row in csv.DictReader(file)
            ]
    return {"rows": rows, "failures": failures, "warm_up": json.loads(warm_up_file.read_text())}


def _figures(stats: dict) -> dict:
    total = stats["rows"]["Aggregated"]

    def number(row, key) -> float:
        value = row.get(key, "")
        return float(value) if value not in ("", "N/A") else 0.0

    pages = {
        name: {
            "requests": int(number(row, "Request Count")),
            "failures": int(number(row, "Failure Count")),
            "p50_ms": number(row, "50%"),
            "p95_ms": number(row, "95%"),
            "p99_ms": number(row, "99%"),
        }
        for name, row in stats["rows"].items()
        if name != "Aggregated"
    }
    return {
        "requests": int(number(total, "Request Count")),
        "failures": int(number(total, "Failure Count")),
        "p50_ms": number(total, "50%"),
        "p95_ms": number(total, "95%"),
        "p99_ms": number(total, "99%"),
        "rps": round(number(total, "Requests/s"), 1),
        "pages": pages,
    }


# --- the school --------------------------------------------------------------------------------


def _in_app(action):
    """``action(db)`` inside Carnet (production's configuration), its connections closed."""
    from portal import create_app
    from portal.extensions import db

    app = create_app()
    with app.app_context():
        try:
            return action(db)
        finally:
            db.session.remove()
            db.engine.dispose()


def _roster(db, users: int, folder: Path) -> dict:
    """The clients' accounts (active ones of the collège, in the order of MIX), what each may
    write to, and the first message of every class from its first teacher to its families and
    pupils, so that every inbox has a conversation."""
    from sqlalchemy import select

    from portal.accounts import guardianship
    from portal.accounts.models import AccountState, Profile, School, User
    from portal.core import bodies
    from portal.groups import services as groups
    from portal.groups.models import GroupKind
    from portal.messaging import services as messaging
    from portal.platform import demo

    school = db.session.scalar(select(School).where(School.code == demo.SCHOOLS[0][1]))
    rng = random.Random(2026)
    classes = groups.school_groups(school.id, GroupKind.CLASS)
    teachers_of, families_of = {}, {}
    for class_group in classes:
        subs = groups.sub_groups(class_group)
        teachers_of[class_group.id] = [t.id for t in groups.members(subs[Profile.TEACHER])]
        families_of[class_group.id] = f"group:{subs[Profile.PARENT].id}"
        first = db.session.get(User, teachers_of[class_group.id][0])
        messaging.send(
            first,
            to=[f"group:{subs[Profile.PARENT].id}", f"group:{subs[Profile.PUPIL].id}"],
            subject=f"Bienvenue en {class_group.name}",
            body=bodies.from_text("Bonjour à toutes et à tous, voici la classe pour l'année."),
        )
    db.session.commit()

    def people(profile: Profile) -> list[User]:
        found = list(
            db.session.scalars(
                select(User)
                .where(
                    User.school_id == school.id,
                    User.profile == profile,
                    User.state == AccountState.ACTIVE,
                )
                .order_by(User.id)
            )
        )
        rng.shuffle(found)
        return found

    pool = {profile: people(Profile(profile)) for profile in set(MIX)}
    chosen, taken = [], dict.fromkeys(pool, 0)
    for n in range(users):
        profile = MIX[n % len(MIX)]
        user = pool[profile][taken[profile] % len(pool[profile])]
        taken[profile] += 1
        account = {"login": user.login, "profile": profile, "home": f"/{profile}/"}
        if profile == "teacher":
            account["families"] = [families_of[c.id] for c in groups.classes_of(user)]
        elif profile == "parent":
            account["teachers"] = sorted(
                {
                    f"user:{teacher}"
                    for child in guardianship.children_of(user)
                    for c in groups.classes_of(child)
                    if c.id in teachers_of
                    for teacher in teachers_of[c.id]
                }
            )
        chosen.append(account)
    roster = {
        "password": demo.PASSWORD,
        "accounts": chosen,
        "words": sorted({name[:3].lower() for name in demo.LAST}),
    }
    path = folder / "roster.json"
    path.write_text(json.dumps(roster))
    counts = {
        profile.value: db.session.scalar(
            select(db.func.count(User.id)).where(
                User.school_id == school.id, User.profile == profile
            )
        )
        for profile in (Profile.PUPIL, Profile.PARENT, Profile.TEACHER)
    }
    return {"path": path, "classes": len(classes), "people": counts}


def _last_message_id(db) -> int:
    from sqlalchemy import func, select

    from portal.messaging.models import Message

    return db.session.scalar(select(func.coalesce(func.max(Message.id), 0)))


def _wait_delivered(seconds: float) -> float:
    """Wait until the outbox has nothing pending or running; returns the seconds waited."""
    from sqlalchemy import func, select

    from portal.core.outbox import OutboxItem

    started = time.monotonic()

    def left(db) -> int:
        return db.session.scalar(
            select(func.count(OutboxItem.id)).where(OutboxItem.state.in_(("pending", "running")))
        )

    while (remaining := _in_app(left)) > 0:
        if time.monotonic() - started > seconds:
            raise SystemExit(f"{remaining} outbox rows still undone after {seconds} s")
        time.sleep(1)
    return time.monotonic() - started


def _deliveries(db, after: int) -> dict:
    """The messages sent since message ``after``, how many were delivered, their inbox rows."""
    from sqlalchemy import func, select

    from portal.core.outbox import OutboxItem
    from portal.messaging.models import InboxEntry, Message, MessageState

    sent = select(Message.id).where(Message.id > after, Message.state == MessageState.SENT)
    delivered = db.session.scalar(
        select(func.count(Message.id))
        .join(OutboxItem, OutboxItem.id == Message.delivery_item_id)
        .where(Message.id.in_(sent), OutboxItem.state == "done")
    )
    rows = db.session.scalar(
        select(func.count(InboxEntry.id)).where(InboxEntry.message_id.in_(sent))
    )
    pairs = (
        select(InboxEntry.message_id, InboxEntry.recipient_id)
        .where(InboxEntry.message_id.in_(sent))
        .distinct()
        .subquery()
    )
    distinct = db.session.scalar(select(func.count()).select_from(pairs))
    return {
        "messages_sent": db.session.scalar(select(func.count()).select_from(sent.subquery())),
        "messages_delivered": delivered,
        "inbox_rows": rows,
        "inbox_duplicates": rows - distinct,
    }


# --- the bench ---------------------------------------------------------------------------------


def _load_school(processes: Processes, pupils: int) -> float:
    """Migrate and load the demo with its collège scaled; returns the demo's seconds."""
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    for name, command in (("upgrade", ["db", "upgrade"]), ("demo", ["demo", "--pupils"])):
        started = time.monotonic()
        arguments = [*flask, *command] + ([str(pupils)] if name == "demo" else [])
        done = subprocess.run(arguments, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"`flask {' '.join(command)}` failed:\n{done.stderr[-3000:]}")
    return time.monotonic() - started


def _errors_logged(text: str) -> int:
    return text.count("Traceback (most recent call last)")


def _run(options: argparse.Namespace, folder: Path) -> dict:
    processes = Processes(folder)
    try:
        demo_s = _load_school(processes, options.pupils)
        school = _in_app(lambda db: _roster(db, options.users, folder))
        first_new = _in_app(_last_message_id)
        redis_url = os.environ["REDIS_URL"]
        for n in range(options.rq_workers):
            processes.start(
                f"rq-worker-{n}",
                [
                    str(BIN / "rq"),
                    "worker",
                    "--with-scheduler",
                    "--worker-class",
                    "portal.worker.AppWorker",
                    "--url",
                    redis_url,
                    "--logging_level",
                    "WARNING",
                    "default",
                ],
            )
        processes.start("rq-cron", [str(BIN / "rq"), "cron", "--url", redis_url, "portal.cron"])
        seed_s = _wait_delivered(300)
        server, port = _serve(processes, "gunicorn", "wsgi:app")
        timing = (options.users, options.warm_up, options.seconds)
        measured = _locust(
            processes,
            "carnet",
            port,
            *timing,
            BENCH_ROSTER=str(school["path"]),
            BENCH_THINK=str(options.think),
        )
        delivery_wait_s = _wait_delivered(300)
        processes.stop(server)
        deliveries = _in_app(lambda db: _deliveries(db, first_new))
        hello_server, hello_port = _serve(processes, "hello", "tests.perf.hello_app:app")
        hello_timing = (options.users, min(3, options.warm_up), options.hello_seconds)
        hello = _locust(
            processes,
            "hello",
            hello_port,
            *hello_timing,
            BENCH_HELLO="1",
            BENCH_THINK=str(options.think),
        )
        processes.stop(hello_server)
    finally:
        processes.stop_all()
    from portal import gunicorn_config

    carnet, yardstick = _figures(measured), _figures(hello)
    warm = measured["warm_up"]
    errors = carnet["failures"] + warm["failures"]
    ratio = carnet["rps"] / yardstick["rps"] if yardstick["rps"] else 0.0
    server_errors = _errors_logged(processes.log("gunicorn")) + sum(
        _errors_logged(processes.log(f"rq-worker-{n}")) for n in range(options.rq_workers)
    )
    return {
        "p50_ms": carnet["p50_ms"],
        "p95_ms": carnet["p95_ms"],
        "p99_ms": carnet["p99_ms"],
        "errors": errors,
        "rps": carnet["rps"],
        "hello_rps": yardstick["rps"],
        "ratio": round(ratio, 3),
        "requests": carnet["requests"],
        "seconds": options.seconds,
        "warm_up_seconds": options.warm_up,
        "warm_up_requests": warm["requests"],
        "users": options.users,
        "think_s": options.think,
        "pages": carnet["pages"],
        "failures": (warm["errors"] + measured["failures"])[:20],
        "server_tracebacks": server_errors,
        "hello_p95_ms": yardstick["p95_ms"],
        "hello_errors": yardstick["failures"] + hello["warm_up"]["failures"],
        **deliveries,
        "delivery_wait_after_s": round(delivery_wait_s, 1),
        "pupils": school["people"]["pupil"],
        "guardians": school["people"]["parent"],
        "teachers": school["people"]["teacher"],
        "classes": school["classes"],
        "demo_load_s": round(demo_s, 1),
        "seed_delivery_s": round(seed_s, 1),
        "db": "postgresql",
        "carnet_env": os.environ["CARNET_ENV"],
        "secure_cookies": True,
        "login_limits": "product defaults; only refused logins count and none is refused",
        "web_workers": gunicorn_config.workers,
        "web_threads": gunicorn_config.threads,
        "worker_class": gunicorn_config.worker_class,
        "keepalive_s": gunicorn_config.keepalive,
        "rq_workers": options.rq_workers,
        "hello_seconds": options.hello_seconds,
        "run_dir": str(folder),
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "goals_met": {
            "errors": errors == 0,
            "p95_ms": carnet["p95_ms"] <= GOALS["p95_ms"],
            "p99_ms": carnet["p99_ms"] <= GOALS["p99_ms"],
            "ratio": ratio >= GOALS["ratio"],
        },
    }


def _stop_on_sigterm(signum, frame):
    print("bench_http: stopping on SIGTERM", file=sys.stderr, flush=True)
    raise SystemExit(128 + signum)  # runs every finally: nothing started is left running


def main(argv: list[str] | None = None) -> None:
    options = _options(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    os.environ.pop("DATABASE_URL", None)  # always a private PostgreSQL
    os.environ["BENCH_DATABASE"] = "postgresql"
    with private_stack("http", **PRODUCTION) as folder:
        result = _run(options, folder)
    print(json.dumps(result), flush=True)  # last, after the servers' own farewells


if __name__ == "__main__":
    main()
