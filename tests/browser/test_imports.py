"""In Chromium: the direction opens Imports from the navigation, uploads a SIECLE export of
pupils, reads the preview (what each column is taken as, its counts, a line rejected with its
reason), applies it and sees
the result; a long file is read by a worker while the page shows its progress, and the preview
comes on its own. axe-core finds nothing serious or critical on these pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.accounts.models import Guardianship, User
from portal.core import clock
from portal.extensions import db
from tests import workers
from tests.browser.test_flash_and_homework import _log_in
from tests.browser.test_homes import serious_violations
from tests.imports.files import SIECLE_PUPILS, csv_bytes, guardian, pupil

pytestmark = pytest.mark.browser

MARC = guardian("DURAND", "Marc", "marc.durand@example.org", "06 12 34 56 78", sms="Oui")
SOPHIE = guardian("DURAND", "Sophie", "", "07 98 76 54 32", financial="Non")
#: Two brothers sharing their guardians, a pupil of a class the school does not have (line 4),
#: and Léa, already in 5B, whose birth date the school did not know.
FILE = [
    pupil("0123456789A", "DURAND", "Jules", "14/03/2013", "5B", "", MARC, SOPHIE),
    pupil("0123456790B", "DURAND", "Émile", "02/09/2014", "4A", "", MARC, SOPHIE),
    pupil("0123456791C", "MOREAU", "Tom", "05/05/2013", "6Z"),
    pupil("", "Martin", "Léa", "12/12/2013", "5B", "", guardian("Martin", "Anne")),
]
LONG = 60  # lines, over the lowered IMPORT_INLINE_ROWS below


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB"}


def _upload(page, path) -> None:
    page.get_by_label("What the file holds").select_option(label="Pupils and their guardians")
    page.get_by_label("CSV file").set_input_files(path)
    page.get_by_role("button", name="Preview the import").click()


def _count(app, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)).where(*where))


def test_the_direction_previews_then_applies_a_siecle_file(page, live_server, app, world, tmp_path):
    path = tmp_path / "siecle-eleves.csv"
    path.write_bytes(csv_bytes(SIECLE_PUPILS, FILE))
    users_before = _count(app)
    _log_in(page, live_server, world.logins["admin"])
    main_navigation = page.get_by_role("navigation", name="Main")
    main_navigation.get_by_text("Administration").click()  # the group's menu opens
    main_navigation.get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports")
    expect(page.get_by_text("No import yet.")).to_be_visible()
    assert serious_violations(page) == []

    _upload(page, path)
    expect(page).to_have_url(re.compile(r"/admin/imports/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Import of siecle-eleves.csv")
    expect(page.get_by_text("Preview ready")).to_be_visible()
    # First, what each column of the file is taken as.
    columns = page.locator("#import-columns")
    expect(columns.get_by_role("heading", name="Columns read")).to_be_visible()
    expect(columns.get_by_role("row", name=re.compile("^Division"))).to_contain_text(
        "Pupil · class"
    )
    expect(
        columns.get_by_role("row", name=re.compile("^Tél. portable représentant légal 1"))
    ).to_contain_text("Guardian 1 · mobile")
    expect(columns.get_by_role("columnheader")).to_have_text(["Column of the file", "Taken as"])
    tabs = page.get_by_role("navigation", name="Lines by result")
    for tab in ("All (4)", "Rejected (1)", "Created (2)", "Updated (1)", "Unchanged (0)"):
        expect(tabs.get_by_role("link", name=tab)).to_be_visible()
    rejected = page.locator("tr.import-rejected")
    expect(rejected).to_have_count(1)
    expect(rejected.locator("td").nth(0)).to_have_text("4")
    expect(rejected).to_contain_text("MOREAU Tom")
    expect(rejected).to_contain_text(
        "Unknown class “6Z”: import the classes first, or check the name."
    )
    expect(page.locator("tr.import-updated")).to_contain_text("birth date: — → Dec 12, 2013")
    assert _count(app) == users_before, "the preview changed nothing"
    assert serious_violations(page) == []

    page.get_by_role("button", name="Apply the import").click()
    expect(page.get_by_role("status")).to_have_text(
        "The import is applied. Importing the same file again would change nothing."
    )
    expect(page.get_by_text("Applied", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Apply the import")).to_have_count(0)
    assert _count(app) == users_before + 4  # the brothers and their two guardians
    with app.app_context():
        parents = db.session.scalars(
            select(Guardianship.parent_id)
            .join(User, User.id == Guardianship.pupil_id)
            .where(User.national_id.in_(("0123456789A", "0123456790B")))
        ).all()
        assert len(parents) == 4 and len(set(parents)) == 2  # one father, one mother for both
    assert serious_violations(page) == []

    main_navigation = page.get_by_role("navigation", name="Main")
    main_navigation.get_by_text("Administration").click()  # the group's menu opens
    main_navigation.get_by_role("link", name="Imports").click()
    expect(page.get_by_role("row", name=re.compile("siecle-eleves.csv"))).to_contain_text("Applied")


def test_a_long_file_shows_its_progress_then_its_preview_without_a_click(
    page, live_server, app, world, tmp_path, monkeypatch
):
    clock.reset()  # the worker reads the real clock
    monkeypatch.setitem(app.config, "IMPORT_INLINE_ROWS", 10)
    rows = [
        pupil(
            f"{n:010d}K",
            f"ÉLÈVE{n}",
            "Camille",
            "01/02/2013",
            "5B" if n % 2 else "4A",
            "",
            guardian(f"PARENT{n}", "Dominique", f"parent{n}@example.org"),
        )
        for n in range(LONG)
    ]
    path = tmp_path / "long.csv"
    path.write_bytes(csv_bytes(SIECLE_PUPILS, rows))
    _log_in(page, live_server, world.logins["admin"])
    page.goto(f"{live_server}/admin/imports/")
    _upload(page, path)
    # No worker yet: the page waits for one, asking every second.
    progress = page.locator("#import-progress")
    expect(progress.get_by_role("status")).to_have_text("Waiting for a worker.")
    expect(progress.get_by_role("progressbar", name="Progress of the import")).to_be_visible()
    page.evaluate("window.loadedOnce = true")
    running = [workers.start(app, "importer")]
    try:
        expect(page.get_by_text("Preview ready")).to_be_visible(timeout=30_000)
    finally:
        workers.stop(running)
    assert page.evaluate("window.loadedOnce") is None  # HX-Redirect loaded the preview
    expect(progress).to_have_count(0)
    tabs = page.get_by_role("navigation", name="Lines by result")
    expect(tabs.get_by_role("link", name=f"Created ({LONG})")).to_be_visible()
    expect(page.get_by_role("button", name="Apply the import")).to_be_visible()
    assert serious_violations(page) == []
