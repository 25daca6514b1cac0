"""The main page of every profile is valid HTML: the Nu HTML Checker finds no error on it.

The demo platform after a morning of use (tests/lived_in.py), so that no list is empty; each page
in French and in English. The pages are written to a folder and checked by one run of vnu.jar
(the `vnu-jar` npm package of tests/package.json, with the machine's Java; `python3 -m portal
test` installs both): Java starts slowly.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from portal.platform import demo
from tests import lived_in
from tests.web import log_in, text

VNU = Path(__file__).parent / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
SET_UP = "run `python3 -m portal test`, which installs Java and tests/package.json"

#: Each profile's pages: its home, then what its navigation leads to first.
PAGES = {
    "admin": ["/admin/", "/messages/folder/inbox", "/notifications/"],
    "staff": ["/staff/", "/messages/folder/inbox", "/notifications/"],
    "teacher": ["/teacher/", "/messages/folder/inbox", "/notifications/"],
    "parent": ["/parent/", "/messages/folder/inbox", "/notifications/"],
    "pupil": ["/pupil/", "/messages/folder/inbox", "/notifications/"],
    "webmaster": ["/webmaster/"],
}
#: Parts that HTMX loads into every page of a school's people, checked inside a bare page.
FRAGMENTS = ["/flash/banner"]
BARE_PAGE = (
    '<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{path}</title></head>'
    "<body>{body}</body></html>"
)


@pytest.fixture
def lived_in_platform(app, worker):
    """The demo platform after a morning of use; the logins by profile."""
    return lived_in.build(app, worker)


def _problems(report: dict, pages: dict[str, str]) -> list[str]:
    """vnu's errors, one line each: which page, where, what."""
    lines = []
    for item in report["messages"]:
        page = pages.get(Path(item.get("url", "")).name, item.get("url", "?"))
        where = f"line {item.get('lastLine', '?')}"
        extract = " ".join(item.get("extract", "").split())
        lines.append(f"{page} {where}: {item['message']} [{extract}]")
    return lines


def test_every_profiles_main_pages_have_no_html_error(app, lived_in_platform, tmp_path):
    java = shutil.which("java")
    assert java and VNU.exists(), f"Java or {VNU} is missing: {SET_UP}"
    pages: dict[str, str] = {}  # file name -> what it shows

    def keep(name: str, answer, label: str) -> None:
        assert answer.status_code == 200, (label, answer.status_code)
        (tmp_path / name).write_text(text(answer), encoding="utf-8")
        pages[name] = label

    for lang in ("fr", "en"):
        headers = {"Accept-Language": lang}
        client = app.test_client()
        keep(f"{lang}-login.html", client.get("/login", headers=headers), f"/login ({lang})")
        for profile, paths in PAGES.items():
            client = app.test_client()
            log_in(client, lived_in_platform[profile], demo.PASSWORD)
            for n, path in enumerate(paths):
                answer = client.get(path, headers=headers)
                assert f'<html lang="{lang}">' in text(answer), (profile, path)
                if path != PAGES[profile][0]:  # the inbox and the notifications are not empty
                    assert lived_in.SUBJECT in text(answer), (profile, path)
                keep(f"{lang}-{profile}-{n}.html", answer, f"{path} as {profile} ({lang})")
            if profile == "webmaster":
                continue
            for n, path in enumerate(FRAGMENTS):
                body = text(client.get(path, headers={**headers, "HX-Request": "true"}))
                name = f"{lang}-{profile}-fragment-{n}.html"
                page = BARE_PAGE.format(lang=lang, path=path, body=body)
                (tmp_path / name).write_text(page, encoding="utf-8")
                pages[name] = f"{path} as {profile} ({lang})"
    assert lived_in.FLASH_TITLE in (tmp_path / "en-parent-fragment-0.html").read_text()
    assert len(pages) == 2 * (1 + sum(map(len, PAGES.values())) + 5 * len(FRAGMENTS))

    done = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", *sorted(pages)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(done.stderr or done.stdout)
    problems = _problems(report, pages)
    if problems:
        pytest.fail(f"{len(problems)} HTML errors:\n" + "\n".join(problems), pytrace=False)
    assert done.returncode == 0, done.stderr
