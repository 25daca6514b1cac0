"""Install what Carnet needs on a fresh Debian machine, then start it or test it.

Standard library only. Each step is skipped when it is already done, so a second ``run`` starts
in seconds: the virtual environment is rebuilt only when ``pyproject.toml`` changes, the npm
packages only when ``static/package.json`` changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STATIC = ROOT / "static"
USAGE = "usage: python3 -m portal {run|test} [pytest arguments]"

# What the test suite needs from Debian: servers it starts itself, the browser, and Java for the
# Nu HTML Checker.
TEST_DEBIAN_PACKAGES = {
    "redis-server": "redis-server",
    "chromium": "chromium",
    "java": "default-jre-headless",
}


def say(text: str) -> None:
    print(f"[carnet] {text}", flush=True)


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


def _run(cmd: list[str], **kwargs) -> None:
    subprocess.run(cmd, check=True, cwd=ROOT, **kwargs)


def _postgres_installed() -> bool:
    return any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def ensure_debian_packages() -> None:
    missing = [pkg for binary, pkg in TEST_DEBIAN_PACKAGES.items() if not shutil.which(binary)]
    if not _postgres_installed():
        missing.append("postgresql")
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    say(f"installing Debian packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _run([*sudo, "apt-get", "update", "-qq"], env=env)
    _run([*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


def ensure_venv(extras: list[str]) -> None:
    if not VENV_PYTHON.exists():
        say("creating the virtual environment in .venv")
        _run([sys.executable, "-m", "venv", str(VENV)])
    # The stamp holds the hash of pyproject.toml and the extras installed with it: a later call
    # asking for fewer extras ('run' after 'test') has nothing to install.
    stamp = VENV / ".carnet-installed"
    digest = _digest(ROOT / "pyproject.toml")
    installed_digest, _sep, installed_extras = (
        stamp.read_text().partition("\n") if stamp.exists() else ("", "", "")
    )
    if installed_digest == digest and set(extras) <= set(installed_extras.split()):
        return
    if installed_digest == digest:
        extras = sorted(set(extras) | set(installed_extras.split()))
    spec = f".[{','.join(extras)}]" if extras else "."
    say(f"installing Python packages ({spec})")
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run([*pip, "-e", spec])
    stamp.write_text(f"{digest}\n{' '.join(extras)}")


def ensure_static() -> None:
    """npm packages into static/node_modules, their built files copied to static/vendor."""
    stamp = STATIC / "vendor" / ".installed"
    wanted = _digest(STATIC / "package.json")
    if stamp.exists() and stamp.read_text() == wanted:
        return
    if not shutil.which("npm"):
        raise SystemExit("npm is missing: install Node.js (Debian package nodejs) and run again")
    say("installing front-end packages from npm")
    _run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(STATIC)])
    vendor = STATIC / "vendor"
    vendor.mkdir(exist_ok=True)
    modules = STATIC / "node_modules"
    for source, target in VENDOR_FILES.items():
        shutil.copyfile(modules / source, vendor / target)
    stamp.write_text(wanted)


# File in node_modules -> name served under /static/vendor/.
VENDOR_FILES = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "@picocss/pico/css/pico.min.css": "pico.min.css",
    # The PDF font (portal/core/pdf.py): every script families' names are written in.
    "dejavu-fonts-ttf/ttf/DejaVuSans.ttf": "DejaVuSans.ttf",
    "dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf": "DejaVuSans-Bold.ttf",
    "dejavu-fonts-ttf/ttf/DejaVuSans-Oblique.ttf": "DejaVuSans-Oblique.ttf",
    "dejavu-fonts-ttf/ttf/DejaVuSansMono-Bold.ttf": "DejaVuSansMono-Bold.ttf",
}


def ensure_test_tools() -> None:
    """npm packages of the tests into tests/node_modules: the Nu HTML Checker (vnu.jar)."""
    tests = ROOT / "tests"
    stamp = tests / "node_modules" / ".carnet-installed"
    wanted = _digest(tests / "package.json")
    if stamp.exists() and stamp.read_text() == wanted:
        return
    if not shutil.which("npm"):
        raise SystemExit("npm is missing: install Node.js (Debian package nodejs) and run again")
    say("installing test tools from npm")
    _run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(tests)])
    stamp.write_text(wanted)


def compile_catalogs() -> None:
    _run(
        [
            str(VENV / "bin" / "pybabel"),
            "-q",
            "compile",
            "-d",
            str(ROOT / "portal" / "translations"),
        ]
    )


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(USAGE, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "test":
        ensure_debian_packages()
        ensure_test_tools()
        extras = ["test"]
    else:
        extras = (
            []
            if shutil.which("redis-server") or os.environ.get("REDIS_URL")
            else ["embedded-redis"]
        )
    ensure_venv(extras)
    ensure_static()
    compile_catalogs()
    os.chdir(ROOT)
    args = [str(VENV_PYTHON), "-m", "portal.stack", command, *rest]
    os.execv(args[0], args)  # noqa: S606 - hand over to the virtual environment's Python
    return 0
