"""The code stays as STYLE says: ruff check and ruff format find nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = ["portal", "tests", "wsgi.py"]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *PATHS], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_check_finds_nothing():
    result = _ruff("check", "--no-cache")
    assert result.returncode == 0, result.stdout


def test_ruff_format_changes_nothing():
    result = _ruff("format", "--check", "--no-cache")
    assert result.returncode == 0, result.stdout
