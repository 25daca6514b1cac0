"""Who may see and do what with accounts (portal/accounts/permissions.py): the direction acts on
its own school's people, the webmaster on every school's contact details, a parent sees their
own children; a deleted person's record is read-only (SPEC §1, §10).

The people are those of the ``world`` school (tests/school.py), with the platform's webmaster
and the other school's whole cast (the ``everyone`` fixture of tests/school.py), which the
other permission tests use too.
"""

from __future__ import annotations

import pytest

from portal.accounts import services as accounts
from portal.accounts.permissions import (
    can_administer_school,
    can_edit_contact,
    can_manage_account,
    can_open_record,
    can_view_pupil_as_guardian,
    is_guardian_of,
    is_webmaster,
    school_staff,
)
from portal.groups import people
from tests.school import only, person

pytestmark = pytest.mark.usefixtures("db_ctx")


@pytest.mark.parametrize(("name", "expected"), only("webmaster"))
def test_only_the_webmaster_profile_is_the_webmaster(everyone, name, expected):
    assert is_webmaster(person(everyone, name)) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", True),
        ("staff", False),
        ("teacher", False),
        ("anne", False),
        ("léa", False),
        ("webmaster", True),
        ("other_admin", False),  # the direction of another school
    ],
)
def test_the_school_is_administered_by_its_direction_and_the_webmaster(everyone, name, expected):
    school = person(everyone, "admin").school
    assert can_administer_school(person(everyone, name), school) is expected


def test_a_direction_administers_no_school_when_there_is_none(everyone):
    assert can_administer_school(person(everyone, "admin"), None) is False
    assert can_administer_school(person(everyone, "webmaster"), None) is True


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", True),
        ("staff", True),
        ("teacher", False),
        ("anne", False),
        ("léa", False),
        ("webmaster", False),
        ("other_admin", False),
        ("other_staff", False),
    ],
)
def test_the_school_staff_are_its_direction_and_school_life_office(everyone, name, expected):
    assert school_staff(person(everyone, name), everyone.school) is expected


def test_a_person_of_no_school_is_no_schools_staff(everyone):
    """The webmaster's school (none) equals a missing school id: the profile still refuses."""
    assert school_staff(person(everyone, "webmaster"), None) is False


@pytest.mark.parametrize(
    ("parent", "pupil", "expected"),
    [
        ("anne", "léa", True),
        ("alain", "léa", True),  # guardian 2
        ("anne", "zoé", True),  # her other child, in another class
        ("béatrice", "léa", False),  # the guardian of a classmate
        ("carole", "léa", False),
        ("other_parent", "léa", False),
        ("other_parent", "other_pupil", True),
        ("léa", "anne", False),  # the link goes one way
    ],
)
def test_a_guardian_is_linked_to_their_own_children_only(everyone, parent, pupil, expected):
    assert is_guardian_of(person(everyone, parent), person(everyone, pupil)) is expected


def test_a_guardian_unlinked_is_no_longer_the_childs_guardian(everyone):
    link = people.link_guardian(person(everyone, "carole"), person(everyone, "hugo"), 2)
    assert is_guardian_of(person(everyone, "carole"), person(everyone, "hugo")) is True
    people.unlink_guardian(link)
    assert is_guardian_of(person(everyone, "carole"), person(everyone, "hugo")) is False


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("admin", False),  # sees Léa as the direction, not as a guardian
        ("staff", False),
        ("teacher", False),
        ("anne", True),
        ("alain", True),
        ("béatrice", False),  # the guardian of a classmate
        ("carole", False),
        ("léa", False),  # herself, but not her own guardian
        ("webmaster", False),
        ("other_parent", False),
    ],
)
def test_only_a_childs_guardians_see_the_child_as_their_guardian(everyone, viewer, expected):
    assert can_view_pupil_as_guardian(person(everyone, viewer), person(everyone, "léa")) is expected


def test_a_guardian_sees_their_child_in_another_school(everyone):
    other_parent, hugo = person(everyone, "other_parent"), person(everyone, "hugo")
    assert can_view_pupil_as_guardian(other_parent, hugo) is False
    people.link_guardian(other_parent, hugo, 2)
    assert can_view_pupil_as_guardian(other_parent, hugo) is True


@pytest.mark.parametrize(
    ("editor", "expected"),
    [
        ("admin", True),
        ("staff", False),
        ("teacher", False),
        ("anne", False),  # her own address changes from My account, not here
        ("léa", False),
        ("webmaster", True),
        ("other_admin", False),
    ],
)
def test_a_parents_contact_is_changed_by_the_direction_of_their_school_or_the_webmaster(
    everyone, editor, expected
):
    assert can_edit_contact(person(everyone, editor), person(everyone, "anne")) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", True),
        ("staff", True),
        ("teacher", True),
        ("anne", True),
        ("léa", True),
        ("other_parent", False),
        ("webmaster", False),
    ],
)
def test_the_direction_changes_the_contact_of_everyone_of_its_school_only(everyone, name, expected):
    assert can_edit_contact(person(everyone, "admin"), person(everyone, name)) is expected


def test_nobody_changes_the_webmasters_contact_here(everyone):
    webmaster = person(everyone, "webmaster")
    assert can_edit_contact(webmaster, webmaster) is False


@pytest.mark.parametrize("editor", ["admin", "webmaster"])
def test_a_deleted_persons_contact_is_read_only_and_a_blocked_ones_is_not(everyone, editor):
    anne, carole = person(everyone, "anne"), person(everyone, "carole")
    accounts.block(carole)
    people.delete_account(anne)
    assert can_edit_contact(person(everyone, editor), carole) is True
    assert can_edit_contact(person(everyone, editor), anne) is False


@pytest.mark.parametrize(
    ("manager", "expected"),
    [
        ("admin", True),
        ("staff", False),
        ("teacher", False),
        ("anne", False),
        ("léa", False),
        ("webmaster", False),  # the webmaster manages schools, not their people
        ("other_admin", False),
    ],
)
def test_a_persons_account_is_managed_by_the_direction_of_their_school_only(
    everyone, manager, expected
):
    assert can_manage_account(person(everyone, manager), person(everyone, "anne")) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("staff", True),
        ("teacher", True),
        ("anne", True),
        ("léa", True),
        ("other_parent", False),
        ("webmaster", False),
    ],
)
def test_the_direction_manages_every_account_of_its_school_and_no_other(everyone, name, expected):
    assert can_manage_account(person(everyone, "admin"), person(everyone, name)) is expected


def test_a_deleted_persons_account_is_read_only_and_a_blocked_one_is_not(everyone):
    admin, anne, carole = (person(everyone, name) for name in ("admin", "anne", "carole"))
    accounts.block(carole)
    people.delete_account(anne)
    assert can_manage_account(admin, carole) is True  # to unblock
    assert can_manage_account(admin, anne) is False


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("admin", True),
        ("staff", False),
        ("teacher", False),
        ("anne", False),
        ("léa", False),
        ("webmaster", False),
        ("other_admin", False),
    ],
)
def test_a_persons_record_is_opened_by_the_direction_of_their_school_only(
    everyone, viewer, expected
):
    assert can_open_record(person(everyone, viewer), person(everyone, "léa")) is expected


def test_the_direction_still_opens_a_deleted_persons_record(everyone):
    anne = person(everyone, "anne")
    people.delete_account(anne)
    assert can_open_record(person(everyone, "admin"), anne) is True
    assert can_open_record(person(everyone, "other_admin"), anne) is False


def test_no_direction_opens_the_webmasters_record(everyone):
    assert can_open_record(person(everyone, "admin"), person(everyone, "webmaster")) is False
