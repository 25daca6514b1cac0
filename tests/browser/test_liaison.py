"""The carnet de liaison on a phone: a parent confirms a note and answers a coupon in one tap
each while the teacher's table follows without a reload, then justifies an absence with a
PDF; every page passes axe-core and fits the screen."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from portal.attendance import services as attendance
from portal.attendance.models import MarkKind
from portal.core import clock
from portal.extensions import db
from portal.liaison import notes
from portal.liaison.models import Asks
from tests import factories as make
from tests.browser.phone import PHONE, fits
from tests.browser.test_homes import serious_violations
from tests.browser.test_rules import log_in
from tests.foreign import PDF

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "viewport": PHONE}


@pytest.fixture
def carnet(app):
    """Léa's family in 6A, two notes of her teacher waiting, and an absence of hers yesterday."""
    with app.app_context():
        school = make.school("Collège Simone Veil")
        admin = make.user(school, "admin")
        teacher = make.user(school, "teacher", first_name="Marc", last_name="Lefort")
        class_6a = make.school_class(school, "6A", teacher)
        lea, (anne,) = make.family(school, class_6a, guardians=1)
        lea.first_name, anne.first_name, anne.last_name = "Léa", "Anne", "Martin"
        confirm = notes.write(
            teacher,
            title="Photo de classe",
            body="<p>Mardi matin.</p>",
            asks=Asks.CONFIRMATION,
            group_ids=[class_6a.id],
        )
        notes.write(
            teacher,
            title="Sortie au musée",
            body="<p>Jeudi de 9 h à 12 h.</p>",
            asks=Asks.ANSWER,
            choices=["J'autorise", "Je n'autorise pas"],
            group_ids=[class_6a.id],
        )
        yesterday = clock.today(school.timezone) - dt.timedelta(days=1)
        (session,) = attendance.schedule(
            admin, class_6a, teacher, yesterday, dt.time(8), dt.time(9)
        )
        attendance.record(admin, session, lea, MarkKind.ABSENT)
        db.session.commit()
        return {
            "teacher": teacher.login,
            "anne": anne.login,
            "lea": lea.id,
            "note": confirm.id,
        }


def test_a_parent_confirms_answers_and_justifies_on_a_phone(page, browser, base_url, carnet):
    teacher = browser.new_page(base_url=base_url, locale="en-GB", viewport=PHONE)
    log_in(teacher, carnet["teacher"])
    teacher.goto(f"/liaison/{carnet['note']}")
    expect(teacher.locator("#note-status h2")).to_have_text("0 of 1 pupils")
    assert fits(teacher)
    assert serious_violations(teacher) == []

    log_in(page, carnet["anne"])
    expect(page).not_to_have_url(re.compile(r"/login"))
    page.locator("details.menu > summary").click()
    page.locator(".menu-panel").get_by_role("link", name=re.compile("Liaison book")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Liaison book")
    assert fits(page)
    assert serious_violations(page) == []

    page.get_by_role("button", name="I have read this note").click()
    expect(page.locator(".flash", has_text="Confirmed.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Confirmed on")
    # The teacher's open page follows within its refresh, without a reload.
    expect(teacher.locator("#note-status h2")).to_have_text("1 of 1 pupils", timeout=15_000)
    expect(teacher.locator("#note-status")).to_contain_text("Anne Martin")

    museum = page.locator("article", has_text="Sortie au musée")
    museum.get_by_role("button", name="Je n'autorise pas").click()
    expect(page.locator(".flash", has_text="Your answer is saved.")).to_be_visible()
    expect(page.locator("article", has_text="Sortie au musée")).to_contain_text(
        "Your answer: Je n'autorise pas"
    )
    teacher.close()

    page.get_by_role("link", name="Absences to justify").click()
    page.get_by_role("link", name=re.compile("^Justify")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Justify an absence")
    assert fits(page)
    assert serious_violations(page) == []
    page.get_by_label("Rendez-vous médical").check()
    page.get_by_label("Comment (optional)").fill("Rendez-vous chez l'orthodontiste.")
    page.get_by_label("Document (optional)").set_input_files(
        {"name": "convocation.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Send to the school").click()
    expect(page.locator(".flash", has_text="Sent to the school.")).to_be_visible()
    justifications = page.locator("#justifications")
    expect(justifications).to_contain_text("Rendez-vous médical")
    expect(justifications).to_contain_text("waiting for the school")
    expect(justifications.get_by_role("link", name="convocation.pdf")).to_be_visible()
    assert fits(page)
    assert serious_violations(page) == []
