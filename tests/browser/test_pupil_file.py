"""In Chromium: the direction records an abandonment with its reason in a pupil's file; the form
opens in place, a missing reason is refused next to the field, and the status badge changes
without the page being loaded again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.pupil_files.event_types import types_of
from portal.pupil_files.services import EventInput, record
from tests.browser.conftest import settled
from tests.browser.test_flash_and_homework import _log_in
from tests.browser.test_homes import serious_violations
from tests.school import MONDAY, person

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB"}


@pytest.fixture
def entered(app, world):
    with app.app_context():
        entry = next(t for t in types_of(world.school) if t.kind == "entry")
        record(person(world, "admin"), person(world, "léa"), entry, EventInput(day=MONDAY.date()))
        db.session.commit()


def test_an_abandonment_changes_the_badge_without_a_reload(page, live_server, world, entered):
    _log_in(page, live_server, world.logins["admin"])
    page.goto(f"{live_server}/files/{world.ids['léa']}/events")
    badge = page.locator("#file-status")
    expect(badge).to_have_text("In progress")
    page.evaluate("window.loadedOnce = true")  # gone if the page were loaded again
    settled(page, page.get_by_role("button", name="+ New event").click)
    settled(page, lambda: page.get_by_label("Type of event").select_option(label="Abandonment"))
    reason = page.get_by_label("Reason")
    expect(reason).to_be_visible()
    page.get_by_role("button", name="Record the event").click()
    expect(page.get_by_text("Give the reason: it is mandatory for this event.")).to_be_visible()
    expect(badge).to_have_text("In progress")
    page.get_by_label("Reason").fill("Déménagement de la famille")
    page.get_by_label("Comment").fill("La famille part à Lyon.")
    page.get_by_role("button", name="Record the event").click()
    expect(badge).to_have_text("Abandoned")
    expect(page.get_by_role("status")).to_have_text("The event is recorded.")
    expect(page.get_by_text("Reason: Déménagement de la famille")).to_be_visible()
    assert page.evaluate("window.loadedOnce") is True
    assert serious_violations(page) == []
