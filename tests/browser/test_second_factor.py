"""A head of school turns the second factor on from a phone: scans (here, reads) the key, types
the app's code, keeps the recovery codes, and logs in again with one; each page passes axe-core
and fits the screen."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from portal.extensions import db
from tests import factories as make
from tests.browser.phone import PHONE, fits
from tests.browser.test_homes import serious_violations
from tests.browser.test_rules import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "viewport": PHONE}


@pytest.fixture
def head(app):
    with app.app_context():
        login = make.user(make.school("Collège Marie Curie"), "admin").login
        db.session.commit()
        return login


def test_the_second_factor_is_set_up_and_a_recovery_code_logs_in(page, head):
    log_in(page, head)
    page.goto("/account")
    page.get_by_role("link", name="Turn it on").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Second factor")
    expect(
        page.get_by_role("img", name="QR code to scan with the authenticator app")
    ).to_be_visible()
    assert fits(page)
    assert serious_violations(page) == []
    key = page.locator("code.key").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn the second factor on").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery codes")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert fits(page)
    assert serious_violations(page) == []
    page.get_by_role("button", name="I have kept them").click()

    page.locator("details.menu > summary").click()
    page.locator(".menu-panel").get_by_role("button", name="Log out").click()
    log_in(page, head)
    expect(page.get_by_role("heading", level=1)).to_have_text("Second step")
    assert fits(page)
    assert serious_violations(page) == []
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
