"""In Chromium on a phone-sized screen: a teacher takes the register with one tap per pupil
(saved through HTMX), then a parent sees the absence and its notification."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_flash_and_homework import _log_in
from tests.browser.test_homes import serious_violations
from tests.notifications.helpers import deliver_due
from tests.school import schedule_5b

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", **PHONE}


@pytest.fixture
def lesson(app, world):
    with app.app_context():
        schedule_5b(world)


def test_a_teacher_takes_the_register_on_a_phone_and_a_parent_sees_the_absence(
    page, live_server, world, lesson, app, browser
):
    _log_in(page, live_server, world.logins["teacher"])
    page.goto(f"{live_server}/attendance/")
    page.get_by_role("link", name="Take the register").click()
    page.wait_for_url("**/register")
    page.wait_for_load_state()  # HTMX listens from here: a tap before would save nothing
    lea = page.get_by_role("group", name="Martin Léa")
    lea.get_by_text("Absent").tap()
    expect(lea.get_by_role("status")).to_have_text("Saved")
    hugo = page.get_by_role("group", name="Martin Hugo")
    hugo.get_by_text("Late").tap()
    expect(hugo.get_by_role("status")).to_have_text("How many minutes?")
    minutes = hugo.get_by_label("Minutes")
    expect(minutes).to_be_focused()
    minutes.fill("10")
    minutes.press("Tab")
    expect(page.get_by_role("group", name="Martin Hugo").get_by_role("status")).to_have_text(
        "Saved"
    )
    assert serious_violations(page) == []

    with app.app_context():
        assert deliver_due() == 3  # Léa's two guardians, Hugo's one
    phone = browser.new_context(locale="en-GB", base_url=live_server, **PHONE)
    parent = phone.new_page()
    _log_in(parent, live_server, world.logins["anne"])
    expect(parent.locator("#notification-counter .badge")).to_have_text("1")
    parent.goto(f"{live_server}/attendance/")
    section = parent.get_by_role("region", name="Léa Martin")
    expect(section.get_by_role("cell", name="Absent")).to_be_visible()
    parent.goto(f"{live_server}/notifications/")
    expect(parent.get_by_text("Attendance of Léa Martin: absent on")).to_be_visible()
    assert serious_violations(parent) == []
    phone.close()
