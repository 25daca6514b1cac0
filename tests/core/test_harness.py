"""The suite fails instead of hanging: a test that loops is stopped by its time limit and
reported as failed, and the run goes on to the next test."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_flush_whose_claim_is_broken_fails_within_its_time_limit_instead_of_looping():
    case = "tests/core/cases/broken_claim.py"
    started = time.monotonic()
    run = subprocess.run(
        # Its own Redis and database (its conftest starts them), on this run's kind of database.
        [sys.executable, "-m", "pytest", case, "--timeout=20", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    took = time.monotonic() - started
    output = run.stdout + run.stderr
    assert run.returncode == 1, output[-3000:]
    assert "1 failed" in output, output[-3000:]
    assert "Timeout (0:00:20)!" in output or "Failed: Timeout" in output, output[-3000:]
    assert "_flush_some" in output  # where it looped, from the stack the limit printed
    assert took < 120, f"the looping test took {took:.0f} s to be stopped"
