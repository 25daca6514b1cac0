"""In Chromium: the vie scolaire records an absence on the register, picks the SMS action for
guardian 1 (seeing that guardian 2 will not get it, and why), finds it in 'SMS to send', sends
it, and sees it delivered once the provider's report comes back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_flash_and_homework import _log_in
from tests.browser.test_homes import serious_violations
from tests.school import schedule_5b
from tests.sms.conftest import ACCOUNT, TOKEN, set_up
from tests.sms.twilio import FakeTwilio

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB"}


@pytest.fixture
def provider(app, world):
    with FakeTwilio(ACCOUNT, TOKEN) as twilio:
        set_up(app, world, twilio)
        with app.app_context():
            schedule_5b(world)
        yield twilio


def test_staff_send_an_absence_sms_and_see_it_delivered(page, live_server, world, provider, worker):
    _log_in(page, live_server, world.logins["staff"])
    page.goto(f"{live_server}/attendance/?day=2026-11-23")
    page.get_by_role("link", name="Take the register").click()
    lea = page.locator(f"#row-{world.ids['léa']}")
    lea.get_by_text("Absent").click()
    expect(lea.get_by_role("status")).to_have_text("Saved")
    lea.get_by_role("link", name="SMS to the family").click()

    expect(page.get_by_text("Will not receive it: Does not accept SMS.")).to_be_visible()
    expect(page.get_by_label("Guardian 1 · Anne Martin · +33612345678")).to_be_checked()
    expect(page.get_by_label("Guardian 2 · Alain Martin · +33687654321")).to_be_disabled()
    expect(page.locator("blockquote")).to_contain_text("Léa Martin (5B) absent le 23/11/2026")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Put in 'SMS to send'").click()
    expect(page.get_by_text("1 SMS is waiting in 'SMS to send'.")).to_be_visible()

    page.goto(f"{live_server}/sms/")
    expect(page.get_by_text("There is 1 SMS waiting to be sent.")).to_be_visible()
    page.get_by_role("button", name="Choose all").click()
    expect(page.get_by_role("checkbox", name="Choose the SMS to Anne Martin")).to_be_checked()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Send the chosen SMS").click()
    expect(
        page.get_by_role("status").filter(has_text="1 SMS sent to the provider.")
    ).to_be_visible()
    expect(page.get_by_text("There are 0 SMS waiting to be sent.")).to_be_visible()

    worker()
    [sid] = provider.messages
    assert provider.post_report(sid, "sent", live_server) == 204
    assert provider.post_report(sid, "delivered", live_server) == 204
    page.goto(f"{live_server}/sms/follow-up?tab=delivered")
    row = page.get_by_role("row").filter(has_text="Léa Martin")
    expect(row).to_contain_text("delivered")
    expect(row).to_contain_text("Anne Martin")
    page.get_by_role("link", name="Summary").click()
    expect(page.get_by_role("img", name="1 delivered out of 1 sent")).to_be_visible()
    assert serious_violations(page) == []
