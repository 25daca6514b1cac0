"""Real `rq worker` processes for the tests that prove exactly-once delivery.

Each worker runs in a session of its own; kill() takes its scheduler and its work-horse with it,
as a crash or the OOM killer would. A worker reads its configuration from the environment, like
any production worker: the test's own, plus what a test adds for that worker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rq import Worker

from portal.core.jobs import redis_connection

RQ = Path(sys.executable).with_name("rq")


def start(
    app, name: str, *, scheduler: bool = False, burst: bool = False, **environment
) -> subprocess.Popen:
    """An `rq worker` on the default queue that builds the app once (AppWorker); each keyword
    is an environment variable (MESSAGE_DELIVERY_BATCH=500) read by portal.config."""
    command = [
        str(RQ),
        "worker",
        "--url",
        app.config["REDIS_URL"],
        "--worker-class",
        "portal.worker.AppWorker",
        "--name",
        name,
        "--quiet",
    ]
    if scheduler:
        command.append("--with-scheduler")
    if burst:
        command.append("--burst")
    env = {**os.environ, **{key: str(value) for key, value in environment.items()}}
    return subprocess.Popen([*command, "default"], start_new_session=True, env=env)


def wait_registered(count: int, seconds: float = 30) -> None:
    """Until ``count`` workers have registered with Redis (each builds the app first)."""
    deadline = time.monotonic() + seconds
    while len(Worker.all(connection=redis_connection())) < count:
        assert time.monotonic() < deadline, f"{count} workers did not start within {seconds} s"
        time.sleep(0.1)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the worker, its scheduler and its work-horse, as a crash or the OOM killer would.

    RQ puts each work-horse in a process group of its own (os.setpgrp), so killing the worker's
    group alone would leave the horse to finish its job as an orphan: the horse is found among
    the worker's children while the worker is stopped, and killed by its pid."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGSTOP)  # no new horse is forked while we look
        for pid in [*_descendants(process.pid), process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _descendants(pid: int) -> list[int]:
    """The processes forked from ``pid``, at any depth (Linux: read from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # pid (command) state ppid ...: the command may hold spaces and parentheses
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(stat.parent.name))
    found, waiting = [], [pid]
    while waiting:
        for child in children.get(waiting.pop(), []):
            found.append(child)
            waiting.append(child)
    return found


def stop(processes, seconds: float = 30) -> None:
    """Warm shutdown (SIGTERM: the current job finishes); killed if that takes too long."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            kill(process)


def run_burst(app, name: str, seconds: float = 60, **environment) -> None:
    """A worker that runs every queued job and exits; fails the test if it does not finish
    within ``seconds`` or exits with an error."""
    process = start(app, name, burst=True, **environment)
    try:
        code = process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        kill(process)
        raise AssertionError(
            f"the burst worker did not empty the queue within {seconds} s"
        ) from None
    assert code == 0, f"the burst worker exited with status {code}"
