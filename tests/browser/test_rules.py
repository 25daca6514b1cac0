"""An admin limits teachers to their own classes from the rules console (seed 003), and a
teacher's directory follows at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from tests import factories as make
from tests.browser.test_homes import serious_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def school(app):
    with app.app_context():
        school = make.school("Collège Victor Hugo")
        people = {}
        for name in ("5B", "4A"):
            teacher = make.user(school, "teacher", last_name=f"Prof{name}")
            class_group = make.school_class(school, name, teacher)
            _pupil, (parent, _) = make.family(school, class_group)
            parent.last_name = f"Famille{name}"
            people[name] = teacher.login
        people["admin"] = make.user(school, "admin").login
        db.session.commit()
        return people


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB"}


def log_in(page, login):
    page.goto("/login")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password", exact=True).fill(make.PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_removing_the_school_wide_teacher_rule_limits_teachers_to_their_classes(
    page, school, browser
):
    log_in(page, school["admin"])
    main_navigation = page.get_by_role("navigation", name="Main")
    main_navigation.get_by_text("Communication", exact=True).click()  # the group's menu opens
    main_navigation.get_by_role("link", name="Communication rules").click()
    page.get_by_role("link", name="All teachers").click()
    page.get_by_role("button", name="Remove the rule to All parents").click()
    expect(page.get_by_role("heading", name="Before you confirm")).to_be_visible()
    expect(page.locator(".impact")).to_contain_text(
        "2 people lose the right to write to 4 other people."
    )
    assert serious_violations(page) == []
    page.get_by_role("button", name="Confirm the removal").click()
    expect(page.locator(".flash")).to_contain_text("may no longer write to All parents")

    teacher = browser.new_page(base_url=page.url.split("/rules")[0], locale="en-GB")
    log_in(teacher, school["5B"])
    teacher.get_by_role("link", name="Directory").click()
    teacher.get_by_label("Name").fill("famille")
    results = teacher.locator("#directory-results")
    expect(results).to_contain_text("Famille5B")
    expect(results).not_to_contain_text("Famille4A")
    assert serious_violations(teacher) == []
    teacher.close()


def _add_rule(page, source, target):
    page.goto("/rules/")
    page.get_by_role("link", name=source, exact=True).click()
    page.get_by_label("May write to", exact=True).select_option(label=target)
    page.get_by_role("button", name="Preview the new rule").click()
    expect(page.get_by_role("heading", name="Before you confirm")).to_be_visible()
    page.get_by_role("button", name="Confirm the new rule").click()
    expect(page.locator(".flash")).to_contain_text(f"may write to {target}")


def test_an_experiment_with_rules_is_undone_by_closing_a_direction_or_restoring_defaults(
    page, school
):
    """Parents of 5B and 4A opened to each other: internal communication turns on, is refused
    off with the rules to remove named beside the box, switches off once one is removed; then
    'restore defaults', previewed, puts back a new school's rules."""
    log_in(page, school["admin"])
    _add_rule(page, "Parents of 5B", "Parents of 4A")
    _add_rule(page, "Parents of 4A", "Parents of 5B")
    page.goto("/rules/")
    page.get_by_role("link", name="Parents of 5B", exact=True).click()
    checkbox = page.get_by_label("Members may write to each other (internal communication)")
    expect(checkbox).to_be_checked()  # the stored state
    checkbox.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field-error")).to_contain_text(
        "Remove one of them first: Parents of 5B → Parents of 4A or Parents of 4A → Parents of 5B."
    )
    expect(checkbox).to_be_checked()  # still on
    page.get_by_role("button", name="Remove the rule to Parents of 4A").click()
    page.get_by_role("button", name="Confirm the removal").click()
    page.get_by_label("Members may write to each other (internal communication)").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".impact")).to_contain_text(
        "2 people lose the right to write to 2 other people."
    )
    assert serious_violations(page) == []
    page.get_by_role("button", name="Confirm the change of internal communication").click()
    expect(page.locator(".flash")).to_contain_text("Internal communication saved.")
    expect(checkbox).not_to_be_checked()

    page.goto("/rules/")
    expect(page.locator("#defaults-state")).to_contain_text("This school differs from the defaults")
    page.get_by_role("button", name="Preview the return to the defaults").click()
    preview = page.locator("#restore-preview")
    expect(preview).to_contain_text("Parents of 4A → Parents of 5B")
    expect(preview.locator(".impact")).to_contain_text("2 people lose the right to write to")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Confirm the return to the defaults").click()
    expect(page.locator(".flash")).to_contain_text("now those of a new school")
    expect(page.locator("#defaults-state")).to_have_text("Every default rule is in place.")
