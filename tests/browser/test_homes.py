"""Each demo profile logs in through the real form, lands on its home, in French or English,
and axe-core finds no serious or critical accessibility violation."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from portal.extensions import db
from portal.platform import demo
from tests import lived_in

pytestmark = pytest.mark.browser

HOMES = {
    "admin": ("/admin/", "Collège Jean Moulin"),
    "teacher": ("/teacher/", "My classes"),
    "staff": ("/staff/", "Classes of the school"),
    "parent": ("/parent/", "My children"),
    "pupil": ("/pupil/", "Hello"),
    "webmaster": ("/webmaster/", "Schools of the platform"),
}


@pytest.fixture
def demo_platform(app):
    with app.app_context():
        known = demo.build()
        db.session.commit()
    return known


@pytest.fixture
def lived_in_platform(app, worker):
    """The demo platform after a morning of use (messages, notifications, a flash message)."""
    return lived_in.build(app, worker)


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB"}


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def log_in(page, live_server, login):
    page.goto(f"{live_server}/login")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password", exact=True).fill(demo.PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_login_page_is_accessible(page, live_server):
    page.goto(f"{live_server}/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to Carnet")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter à Carnet")
    assert serious_violations(page) == []


def test_each_profile_lands_on_its_home_with_no_serious_accessibility_violation(
    page, live_server, lived_in_platform
):
    checked = []
    for profile, login in lived_in_platform.items():
        path, landmark = HOMES[profile]
        log_in(page, live_server, login)
        expect(page).to_have_url(f"{live_server}{path}")
        expect(page.get_by_role("main")).to_contain_text(landmark)
        for language, other in (("en", "Français"), ("fr", "English")):
            expect(page.locator("html")).to_have_attribute("lang", language)
            if profile in ("parent", "pupil"):  # the banner HTMX loads after the page
                expect(page.locator("#flash-banner")).to_contain_text(lived_in.FLASH_TITLE)
            assert serious_violations(page) == [], (profile, language)
            checked.append((profile, language))
            page.get_by_role("button", name=other).click()  # back to English after French
        expect(page).to_have_url(f"{live_server}{path}")
        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(f"{live_server}/login")
    assert len(checked) == 2 * len(HOMES)


def test_switching_to_french_is_kept_for_the_person(page, live_server, demo_platform):
    log_in(page, live_server, demo_platform["parent"])
    expect(page.get_by_role("heading", name="My children")).to_be_visible()
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", name="Mes enfants")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert serious_violations(page) == []
    page.goto(f"{live_server}/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    assert serious_violations(page) == []


def test_admin_searches_people_with_htmx_and_without_reload(page, live_server, demo_platform):
    log_in(page, live_server, demo_platform["admin"])
    page.goto(f"{live_server}/admin/users")
    page.get_by_label("Profile").select_option("teacher")
    expect(page.locator("#user-rows tbody tr").first).to_contain_text("Teacher")
    expect(page.locator("#user-rows")).not_to_contain_text("Pupil")
    assert "profile=teacher" in page.url
    assert serious_violations(page) == []
