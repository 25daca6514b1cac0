"""The load benchmark in its short form: the real stack under locust for a few seconds, with no
request failed, every kind of page asked for, every message sent delivered once, and nothing it
started left running."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATABASE

BENCH = Path(__file__).with_name("bench_http.py")
PAGES = {
    "home",
    "messages counter",
    "notifications counter",
    "flash banner",
    "inbox",
    "thread",
    "directory search",
    "compose",
    "send",
}
#: Only what a shell gives a program: the suite's own settings (test limits, its database and
#: Redis) stay out of the bench, which starts its own in production's configuration.
KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "VIRTUAL_ENV")


def _group_alive(group: int) -> list[str]:
    """The processes still in process group ``group``, and any naming the bench's folder."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) == group:
                alive.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ProcessLookupError):
            continue
    return alive


def _named(folder: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if folder in text:
            found.append(text)
    return found


@pytest.mark.skipif(
    DATABASE != "postgresql",
    reason="the load benchmark starts its own PostgreSQL: run with CARNET_TEST_DATABASE=postgresql",
)
def test_short_load_run_has_no_error_and_leaves_nothing_running():
    environment = {key: os.environ[key] for key in KEPT if key in os.environ}
    bench = subprocess.Popen(
        [sys.executable, str(BENCH), "--short"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        start_new_session=True,  # its own process group: all it started, to check and to stop
    )
    try:
        try:
            out, err = bench.communicate(timeout=150)
        except subprocess.TimeoutExpired:
            bench.send_signal(signal.SIGTERM)  # the bench stops what it started, then exits
            out, err = bench.communicate(timeout=60)
            pytest.fail(f"the bench ran over 150 s:\n{err[-3000:]}")
        left = _group_alive(bench.pid)
    finally:  # whatever happened, nothing of the bench's is left to the next tests
        with contextlib.suppress(ProcessLookupError):
            os.killpg(bench.pid, signal.SIGKILL)
    assert bench.returncode == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])

    assert left == []
    assert _named(result["run_dir"]) == []
    assert result["errors"] == 0, result["failures"]
    assert result["server_tracebacks"] == 0
    assert result["requests"] >= 300
    hit = {name for name, page in result["pages"].items() if page["requests"] > 0}
    assert hit >= PAGES, PAGES - hit
    assert result["messages_sent"] > 0
    assert result["messages_delivered"] == result["messages_sent"]
    assert result["inbox_rows"] > result["messages_sent"]
    assert result["inbox_duplicates"] == 0
    assert result["hello_rps"] > 0 and result["hello_errors"] == 0
    assert result["carnet_env"] == "production"
