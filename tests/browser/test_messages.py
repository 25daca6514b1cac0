"""A teacher picks a family in the recipient picker and sends; the parent's unread count moves
without a reload; the parent reads and answers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from tests import factories as make
from tests.browser.test_homes import serious_violations
from tests.browser.test_rules import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def school(app):
    with app.app_context():
        school = make.school("École Jules Ferry")
        teacher = make.user(school, "teacher", first_name="Anne", last_name="Martin")
        class_group = make.school_class(school, "CM1", teacher)
        _pupil, (parent, _other) = make.family(school, class_group)
        parent.first_name, parent.last_name = "Paul", "Durand"
        db.session.commit()
        return {"teacher": teacher.login, "parent": parent.login}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB"}


def test_compose_with_the_picker_send_read_and_answer(page, browser, school, worker, base_url):
    parent = browser.new_page(base_url=base_url, locale="en-GB")
    log_in(parent, school["parent"])
    parent.goto("/messages/folder/inbox")
    counter = parent.locator("#message-counter")
    expect(counter).not_to_contain_text("1")

    log_in(page, school["teacher"])
    page.goto("/messages/new")
    page.get_by_label("Find a person or a group for To").fill("durand")
    page.get_by_role("button", name="Durand Paul").click()
    expect(page.locator("#to-chips")).to_contain_text("Paul Durand")
    page.get_by_label("Subject").fill("Swimming on Thursday")
    page.get_by_label("Message").fill("Hello,\n\nPlease bring a swimsuit.")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".flash")).to_contain_text("Message sent.")
    assert worker() >= 1  # the delivery job

    # The parent's page, left open, learns of the message by itself.
    expect(counter.locator(".badge")).to_have_text("1", timeout=10_000)
    parent.reload()
    parent.get_by_role("link", name="Swimming on Thursday").click()
    expect(parent.locator("article.current .body")).to_contain_text("Please bring a swimsuit.")
    assert serious_violations(parent) == []
    parent.get_by_role("button", name="Reply", exact=True).click()
    expect(parent.locator("#to-chips")).to_contain_text("Anne Martin")
    expect(parent.get_by_label("Subject")).to_have_value("Re: Swimming on Thursday")
    parent.get_by_label("Message").fill("It is in the bag.")
    parent.get_by_role("button", name="Send").click()
    expect(parent.locator(".flash")).to_contain_text("Message sent.")
    worker()

    page.goto("/messages/folder/inbox")
    page.get_by_role("link", name="Re: Swimming on Thursday").click()
    expect(page.locator("article")).to_have_count(2)  # the conversation, oldest first
    expect(page.locator("article.current .body")).to_contain_text("It is in the bag.")
    parent.close()


def test_a_draft_saves_itself_with_its_attachment_and_is_sent_later(
    page, school, worker, base_url, tmp_path
):
    log_in(page, school["teacher"])
    page.goto("/messages/new")
    page.get_by_label("Find a person or a group for Bcc").fill("durand")
    page.get_by_role("button", name="Durand Paul").click()
    expect(page.locator("#bcc-chips")).to_contain_text("Paul Durand")
    refused = tmp_path / "programme.pdf"
    refused.write_bytes(b"MZ\x90\x00" + b"\x00" * 64)  # a program, whatever its name says
    page.get_by_label("Add a file").set_input_files(str(refused))
    expect(page.locator("#file-error")).to_contain_text("This kind of file is not accepted")
    leaflet = tmp_path / "sortie.pdf"
    leaflet.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    page.get_by_label("Add a file").set_input_files(str(leaflet))
    expect(page.locator("#files")).to_contain_text("sortie.pdf")
    expect(page.locator("#file-error")).to_be_empty()
    page.get_by_label("Subject").fill("Museum outing")
    page.get_by_label("Message").fill("The permission slip is attached.")
    # Nothing pressed: the draft saves itself a few seconds after the last key.
    expect(page.locator("#draft-status")).to_contain_text("Draft saved at", timeout=10_000)
    draft_id = page.locator("input#draft").input_value()
    assert draft_id.isdigit()
    assert serious_violations(page) == []

    page.goto("/messages/folder/drafts")
    page.get_by_role("link", name="Museum outing").click()
    expect(page.get_by_label("Message")).to_have_value("The permission slip is attached.")
    expect(page.locator("#files")).to_contain_text("sortie.pdf")
    expect(page.locator("#bcc-chips")).to_contain_text("Paul Durand")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".flash").first).to_contain_text("Message sent.")
    worker()
    expect(page.get_by_role("link", name="sortie.pdf")).to_be_visible()
    page.goto("/messages/folder/drafts")
    expect(page.get_by_text("No message here.")).to_be_visible()
