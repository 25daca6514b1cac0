"""The direction makes a choir from three classes and opens it to the choir's teacher, whom only
its pupils then find in their directory; a teacher saves parents picked in Bcc as a list and
sends to it later. Each on a phone and on a desktop."""

from __future__ import annotations

import re
from functools import partial

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.messaging.models import InboxEntry, Message, MessageState
from tests import factories as make
from tests.browser.conftest import settled
from tests.browser.test_homes import serious_violations
from tests.browser.test_rules import log_in

pytestmark = pytest.mark.browser

#: Below 1,024 px the navigation is a menu behind one button.
SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
CHOIR_CLASSES = ("6A", "6B", "6C")


@pytest.fixture(params=list(SCREENS))
def screen(request):
    return SCREENS[request.param]


@pytest.fixture
def browser_context_args(browser_context_args, screen):
    return {**browser_context_args, "locale": "en-GB", "viewport": screen}


def logged_in(page, login):
    log_in(page, login)
    expect(page).not_to_have_url(re.compile(r"/login"))


def flash(page, text):
    return page.locator(".flash", has_text=text)


def fits(page, screen) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= screen["width"]


def open_groups_and_lists(page, screen):
    """Through the navigation: the bar's 'Communication' menu, or the phone's menu."""
    if screen["width"] < 1024:
        page.locator("details.menu > summary").click()
        page.locator(".menu-panel").get_by_role("link", name="Groups and lists").click()
    else:
        main_navigation = page.get_by_role("navigation", name="Main")
        main_navigation.get_by_text("Communication", exact=True).click()
        main_navigation.get_by_role("link", name="Groups and lists").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Groups and lists")


def create_manual_group(page, name):
    page.goto("/admin/groups/")
    page.get_by_label("Kind").select_option(label="Manual group")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(flash(page, f"{name} is created.")).to_be_visible()


@pytest.fixture
def choir_school(app):
    """Three classes whose pupils will sing, a fourth whose pupils won't, and a choir teacher
    who teaches no class: only a rule of the choir can let pupils reach her."""
    with app.app_context():
        school = make.school("Collège Georges Brassens")
        pupils = {}
        for name in (*CHOIR_CLASSES, "5D"):
            teacher = make.user(school, "teacher", last_name=f"Prof{name}")
            class_pupils = [
                make.user(school, "pupil", first_name=first, last_name=f"Eleve{name}")
                for first in ("Alice", "Basile")
            ]
            make.school_class(school, name, teacher, *class_pupils)
            pupils[name] = class_pupils[0].login
        make.user(school, "teacher", first_name="Lucie", last_name="Chanteclair")
        admin = make.user(school, "admin")
        db.session.commit()
        return {"admin": admin.login, "singer": pupils["6A"], "outsider": pupils["5D"]}


def test_a_choir_of_three_classes_reaches_its_teacher_through_its_new_rule_and_others_do_not(
    page, browser, base_url, screen, choir_school
):
    logged_in(page, choir_school["admin"])
    open_groups_and_lists(page, screen)

    create_manual_group(page, "Professeurs de la chorale")
    settled(page, partial(page.get_by_label("Find a person by name").fill, "chanteclair"))
    page.get_by_role("button", name="Add Chanteclair Lucie").click()
    expect(flash(page, "1 person added.")).to_be_visible()
    expect(page.locator("#members-title + table")).to_contain_text("Chanteclair Lucie")

    create_manual_group(page, "Chorale")
    by_class = page.locator("form").filter(has=page.get_by_label("Who"))
    for count, class_name in enumerate(CHOIR_CLASSES, start=1):
        page.get_by_label("Who").select_option(label="Pupils")
        page.get_by_label("From").select_option(label=class_name)
        by_class.get_by_role("button", name="Preview").click()
        expect(page.locator(".preview")).to_contain_text(
            f"2 people will be added: Eleve{class_name} Alice, Eleve{class_name} Basile"
        )
        page.get_by_role("button", name="Confirm and add them").click()
        expect(page.locator("main")).to_contain_text(f"{2 * count} members")  # the new page
        expect(flash(page, "2 people added.")).to_be_visible()
    members = page.locator("#members-title + table")
    for class_name in CHOIR_CLASSES:
        expect(members).to_contain_text(f"Eleve{class_name} Alice")
        expect(members).to_contain_text(f"Eleve{class_name} Basile")
    expect(members).not_to_contain_text("Eleve5D")
    assert fits(page, screen)
    assert serious_violations(page) == []

    page.get_by_role("link", name="Communication rules of this group").click()
    page.get_by_label("May write to", exact=True).select_option(label="Professeurs de la chorale")
    settled(page, page.get_by_role("button", name="Preview the new rule").click)
    expect(page.get_by_role("heading", name="Before you confirm")).to_be_visible()
    expect(page.locator(".impact")).to_contain_text(
        "6 people gain the right to write to 1 other person."
    )
    assert serious_violations(page) == []
    page.get_by_role("button", name="Confirm the new rule").click()
    expect(
        flash(page, "Rule added: Chorale may write to Professeurs de la chorale.")
    ).to_be_visible()

    for who, finds in (("singer", True), ("outsider", False)):
        pupil = browser.new_page(base_url=base_url, locale="en-GB", viewport=screen)
        logged_in(pupil, choir_school[who])
        pupil.goto("/directory/")
        settled(pupil, partial(pupil.get_by_label("Name").fill, "chanteclair"))
        results = pupil.locator("#directory-results")
        if finds:
            expect(results.get_by_role("link", name="Chanteclair Lucie")).to_be_visible()
        else:
            expect(results).to_contain_text("Nobody matches.")
            expect(results).not_to_contain_text("Chanteclair")
        pupil.close()


@pytest.fixture
def class_6a(app):
    """A teacher of 6A and three of its families, each with one guardian."""
    with app.app_context():
        school = make.school("Collège Louise Michel")
        teacher = make.user(school, "teacher", first_name="Marc", last_name="Lefort")
        class_group = make.school_class(school, "6A", teacher)
        parents = {}
        for last_name in ("Arnaud", "Besson", "Colin"):
            _pupil, (parent,) = make.family(school, class_group, guardians=1)
            parent.first_name, parent.last_name = "Claire", last_name
            parents[last_name] = parent.id
        db.session.commit()
        return {"teacher": teacher.login, "parents": parents}


def test_parents_saved_as_a_list_in_bcc_each_receive_what_is_sent_to_the_list(
    page, app, screen, class_6a, worker
):
    logged_in(page, class_6a["teacher"])
    page.goto("/messages/new")
    bcc_search = page.get_by_label("Find a person or a group for Bcc")
    for last_name in class_6a["parents"]:
        settled(page, partial(bcc_search.fill, last_name.lower()))
        page.locator("#bcc-suggestions").get_by_role("button", name=f"{last_name} Claire").click()
        expect(page.locator("#bcc-chips")).to_contain_text(f"Claire {last_name}")
    expect(page.locator("#bcc-chips li")).to_have_count(3)

    page.get_by_text("Save these recipients as a list").click()
    page.get_by_label("Subject").fill("Pas encore")
    page.get_by_label("Message").fill("Le message attend.")
    page.get_by_label("Name of the list").fill("Mes 6e")
    # Enter in the list's name saves the list and leaves the message being written.
    settled(page, partial(page.get_by_label("Name of the list").press, "Enter"))
    expect(page.locator("#list-saved")).to_contain_text(
        "Saved as Mes 6e: pick it in To, Cc or Bcc next time."
    )
    expect(page.get_by_label("Subject")).to_have_value("Pas encore")
    assert "/messages/new" in page.url
    assert fits(page, screen)
    assert serious_violations(page) == []

    page.goto("/messages/new")
    settled(page, partial(bcc_search.fill, "Mes"))
    page.get_by_role("button", name="Mes 6e (saved list)").click()
    expect(page.locator("#bcc-chips")).to_contain_text("Mes 6e")
    page.get_by_label("Subject").fill("Sortie au musée")
    page.get_by_label("Message").fill("Bonjour,\n\nLa sortie a lieu jeudi.")
    page.get_by_role("button", name="Send").click()
    expect(flash(page, "Message sent.")).to_be_visible()
    assert worker() >= 1  # the delivery job

    with app.app_context():
        message = db.session.scalar(
            select(Message).where(
                Message.subject == "Sortie au musée", Message.state == MessageState.SENT
            )
        )
        entries = db.session.scalars(
            select(InboxEntry).where(InboxEntry.message_id == message.id)
        ).all()
        assert sorted(e.recipient_id for e in entries) == sorted(class_6a["parents"].values())
        assert all(e.field == "bcc" and e.hidden for e in entries)
