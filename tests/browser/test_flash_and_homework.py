"""In Chromium: a flash message's banner on every page of a targeted parent until they
acknowledge it (with the keyboard), still there for the other guardian; homework set through the
form and seen in a parent's week. axe-core finds nothing serious or critical on these pages."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.messaging import flash
from portal.messaging.flash import FlashInput
from tests.browser.test_homes import serious_violations
from tests.factories import PASSWORD
from tests.school import MONDAY, person

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB"}


def _log_in(page, live_server, login: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # Logged in: the message counter is on the header's first line at every width.
    expect(page.locator("#message-counter")).to_be_visible()


@pytest.fixture
def strike(app, world):
    with app.app_context():
        flash.create(
            person(world, "staff"),
            FlashInput(
                title="Bus strike tomorrow",
                body="<p>No school bus in the morning.</p>",
                profiles=["parent"],
                group_ids=[world.groups["5B"]],
                starts_at=None,
                ends_at=MONDAY + dt.timedelta(days=1),
            ),
        )
        db.session.commit()


def test_the_banner_shows_on_every_page_until_acknowledged_and_stays_for_the_other_parent(
    page, live_server, world, strike, browser
):
    _log_in(page, live_server, world.logins["alain"])
    banner = page.locator("#flash-banner")
    for path in ("/parent/", "/messages/folder/inbox", "/homework/", "/account"):
        page.goto(f"{live_server}{path}")
        expect(banner.get_by_role("heading", name="Bus strike tomorrow")).to_be_visible()
    assert serious_violations(page) == []
    button = banner.get_by_role("button", name="I have read it")
    button.focus()
    page.keyboard.press("Enter")
    expect(banner.get_by_role("heading", name="Bus strike tomorrow")).to_have_count(0)
    expect(page.locator("#main")).to_be_focused()
    with page.expect_response(lambda answer: "/flash/banner" in answer.url) as loaded:
        page.reload()
    assert "Bus strike tomorrow" not in loaded.value.text()
    expect(page.get_by_role("heading", name="Bus strike tomorrow")).to_have_count(0)

    other = browser.new_context(locale="en-GB", base_url=live_server)
    anne = other.new_page()
    _log_in(anne, live_server, world.logins["anne"])
    expect(
        anne.locator("#flash-banner").get_by_text("No school bus in the morning.")
    ).to_be_visible()
    other.close()


def test_homework_set_through_the_form_appears_in_the_parents_week(page, live_server, world):
    _log_in(page, live_server, world.logins["teacher"])
    page.goto(f"{live_server}/homework/")
    page.get_by_role("button", name="Set homework").click()
    assert serious_violations(page) == []
    page.get_by_label("Class or group").select_option(label="5B")
    page.get_by_label("Title").fill("Poem to learn")
    page.get_by_label("Work to do").fill("Learn the first two verses.")
    page.get_by_label("Due on").fill("2026-11-26")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Poem to learn")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    _log_in(page, live_server, world.logins["anne"])
    page.goto(f"{live_server}/homework/")
    lea = page.get_by_role("region", name="Léa Martin")
    expect(lea.get_by_role("link", name="Poem to learn")).to_be_visible()
    expect(
        page.get_by_role("region", name="Zoé Martin").get_by_text("Poem to learn")
    ).to_have_count(0)
    assert serious_violations(page) == []
