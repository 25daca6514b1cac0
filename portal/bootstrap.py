"""Install what Carnet needs on a fresh Debian machine, then start it or test it.

Standard library only. Everything is installed from the committed lock files: Python packages
from ``requirements/*.txt`` (pinned, with hashes), npm packages from each ``package-lock.json``
(``npm ci``). Each step is skipped when it is already done, so a second ``run`` starts in seconds:
the virtual environment is made anew only when a lock file changes.
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
#: requirements/run.txt and requirements/test.txt: every Python package, pinned with its hashes.
LOCKS = ROOT / "requirements"
USAGE = "usage: python3 -m portal {run|test|lock|drift|mutate} [arguments]"
#: Where each command is handed over to, inside the virtual environment.
COMMANDS = {
    "run": "portal.stack",
    "test": "portal.stack",
    "lock": "portal.dependencies",
    "drift": "portal.dependencies",
    "mutate": "tests.mutate",
}

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


def ensure_venv(lock: str) -> None:
    """The virtual environment holds exactly the packages of ``requirements/<lock>.txt``
    (``run`` or ``test``; the test lock holds every package of the run lock, at the same
    versions), checked against the hashes it records, then Carnet itself without dependencies.

    When a lock file changes, the environment is made anew, so that no package an older lock
    installed stays behind and makes a machine pass where a fresh one fails."""
    stamp = VENV / ".carnet-locks"
    installed = dict(
        line.split(" ", 1) for line in (stamp.read_text().splitlines() if stamp.exists() else [])
    )
    current = {name: _digest(LOCKS / f"{name}.txt") for name in ("run", "test")}
    if VENV.exists() and any(installed.get(name) != current[name] for name in installed):
        say("the lock files changed: making the virtual environment anew")
        shutil.rmtree(VENV)
        installed = {}
    if lock in installed or (lock == "run" and "test" in installed):
        return
    if not VENV_PYTHON.exists():
        say("creating the virtual environment in .venv")
        _run([sys.executable, "-m", "venv", str(VENV)])
    say(f"installing Python packages from requirements/{lock}.txt")
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run([*pip, "--require-hashes", "--no-deps", "-r", str(LOCKS / f"{lock}.txt")])
    # setuptools comes from the lock too: nothing is fetched to build Carnet itself.
    _run([*pip, "--no-deps", "--no-build-isolation", "-e", "."])
    installed[lock] = current[lock]
    stamp.write_text("".join(f"{name} {digest}\n" for name, digest in installed.items()))


def _npm_ci(folder: Path) -> None:
    """The packages of ``folder/package-lock.json``, exactly (npm ci checks their integrity)."""
    if not shutil.which("npm"):
        raise SystemExit("npm is missing: install Node.js (Debian package nodejs) and run again")
    _run(["npm", "ci", "--no-audit", "--no-fund", "--silent", "--prefix", str(folder)])


def ensure_static() -> None:
    """npm packages into static/node_modules, their built files copied to static/vendor."""
    stamp = STATIC / "vendor" / ".installed"
    wanted = _digest(STATIC / "package-lock.json")
    if stamp.exists() and stamp.read_text() == wanted:
        return
    say("installing front-end packages from static/package-lock.json")
    _npm_ci(STATIC)
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


def _npm_folder(folder: Path, what: str) -> None:
    """``folder``'s npm packages, installed again only when its lock changed."""
    stamp = folder / "node_modules" / ".carnet-installed"
    wanted = _digest(folder / "package-lock.json")
    if stamp.exists() and stamp.read_text() == wanted:
        return
    say(f"installing {what} from {folder.relative_to(ROOT)}/package-lock.json")
    _npm_ci(folder)
    stamp.write_text(wanted)


def ensure_test_tools() -> None:
    """npm packages of the tests into tests/node_modules: the Nu HTML Checker (vnu.jar)."""
    _npm_folder(ROOT / "tests", "test tools")


def ensure_identity_providers() -> None:
    """The OpenID Connect provider on loopback, for the single sign-on tests and the demo."""
    _npm_folder(ROOT / "tests" / "sso", "the demo identity providers")


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
    if not argv or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        ensure_venv("run")
    else:  # the others need the test tools: uv writes the locks, the rest run tests
        if command != "lock":
            ensure_debian_packages()
            ensure_test_tools()
        ensure_venv("test")
    if command != "lock":
        ensure_identity_providers()
        ensure_static()
        compile_catalogs()
    os.chdir(ROOT)
    module = COMMANDS[command]
    arguments = [command, *rest] if module != "tests.mutate" else rest
    args = [str(VENV_PYTHON), "-m", module, *arguments]
    os.execv(args[0], args)  # noqa: S606 - hand over to the virtual environment's Python
    return 0
