"""Who may see a pupil's file and record, change or delete its events
(portal/pupil_files/permissions.py, SPEC §7): the direction, the staff and the pupil's teachers
see it, the family only where the school lets families see the file; the direction and staff
record events; the direction changes any event, a member of staff the ones they entered; the
direction keeps the event types. Nobody sees or changes another school's.

The people are those of the ``world`` school (tests/school.py): the teacher teaches Léa (5B),
Anne and Alain are her guardians. With the webmaster and the other school's cast
(``everyone``, tests/school.py).
"""

from __future__ import annotations

import pytest

from portal.accounts import services as accounts
from portal.extensions import db
from portal.pupil_files import event_types, services
from portal.pupil_files.permissions import (
    can_change_event,
    can_manage_event_types,
    can_record_event,
    can_view_file,
)
from tests import factories as make
from tests.school import MONDAY, only, person

pytestmark = pytest.mark.usefixtures("db_ctx")


def _families_see_files(everyone, school_of: str) -> None:
    admin = person(everyone, school_of)
    accounts.set_school_switch(admin, admin.school, "families_see_file", True)


def _event(everyone, author: str, pupil: str = "léa"):
    """A meeting in ``pupil``'s file today, entered by ``author``, of a type of their school."""
    actor = person(everyone, author)
    meeting = event_types.create_type(actor, event_types.TypeInput(name="Entretien de suivi"))
    event = services.record(
        actor,
        person(everyone, pupil),
        meeting,
        services.EventInput(day=MONDAY.date(), comment="Premier entretien."),
    )
    db.session.commit()
    return event


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", True),
        ("staff", True),
        ("teacher", True),  # teaches 5B
        ("colleague", False),
        ("anne", False),  # the school keeps files from families
        ("alain", False),
        ("léa", False),
        ("webmaster", False),
        ("other_admin", False),
        ("other_staff", False),
        ("other_teacher", False),
        ("other_parent", False),
    ],
)
def test_a_pupils_file_is_seen_by_their_school_and_teachers_not_by_the_family_by_default(
    everyone, name, expected
):
    assert can_view_file(person(everyone, name), person(everyone, "léa")) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("anne", True),
        ("alain", True),
        ("léa", True),
        ("béatrice", False),  # the guardian of a classmate
        ("hugo", False),  # a classmate
        ("carole", False),
        ("teacher", True),
        ("colleague", False),
        ("other_parent", False),
        ("other_pupil", False),
    ],
)
def test_the_family_sees_the_file_where_the_school_lets_families_see_it(everyone, name, expected):
    _families_see_files(everyone, "admin")
    assert can_view_file(person(everyone, name), person(everyone, "léa")) is expected


def test_another_school_letting_families_see_files_opens_nothing_here(everyone):
    _families_see_files(everyone, "other_admin")
    assert can_view_file(person(everyone, "anne"), person(everyone, "léa")) is False
    assert can_view_file(person(everyone, "other_parent"), person(everyone, "other_pupil")) is True


@pytest.mark.parametrize(
    ("name", "seen"),
    [("admin", "anne"), ("staff", "teacher"), ("admin", "admin"), ("webmaster", "webmaster")],
)
def test_only_a_pupil_has_a_file(everyone, name, seen):
    assert can_view_file(person(everyone, name), person(everyone, seen)) is False
    assert can_record_event(person(everyone, name), person(everyone, seen)) is False


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("other_admin", True),
        ("other_staff", True),
        ("other_teacher", True),
        ("admin", False),
        ("staff", False),
        ("teacher", False),
        ("webmaster", False),
    ],
)
def test_another_schools_pupil_file_is_refused_to_this_school(everyone, name, expected):
    assert can_view_file(person(everyone, name), person(everyone, "other_pupil")) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", True),
        ("staff", True),
        ("teacher", False),  # sees the file, records nothing
        ("anne", False),
        ("léa", False),
        ("webmaster", False),
        ("other_admin", False),
        ("other_staff", False),
    ],
)
def test_events_are_recorded_by_the_pupils_schools_direction_and_staff(everyone, name, expected):
    assert can_record_event(person(everyone, name), person(everyone, "léa")) is expected


@pytest.mark.parametrize(
    ("author", "name", "expected"),
    [
        ("staff", "staff", True),  # its author
        ("staff", "admin", True),
        ("admin", "admin", True),
        ("admin", "staff", False),  # not theirs
        ("admin", "admin 2", True),  # the direction changes any event
        ("staff", "staff 2", False),  # a colleague's
        ("staff", "teacher", False),
        ("staff", "anne", False),
        ("staff", "léa", False),
        ("staff", "webmaster", False),
        ("staff", "other_admin", False),
        ("staff", "other_staff", False),
    ],
)
def test_the_direction_changes_any_event_and_the_staff_their_own(everyone, author, name, expected):
    school = person(everyone, "admin").school
    everyone.ids |= {
        "admin 2": make.user(school, "admin").id,
        "staff 2": make.user(school, "staff").id,
    }
    event = _event(everyone, author)
    assert can_change_event(person(everyone, name), event) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("other_admin", True), ("other_staff", True), ("admin", False), ("staff", False)],
)
def test_another_schools_event_is_changed_by_that_school_only(everyone, name, expected):
    event = _event(everyone, "other_staff", pupil="other_pupil")
    assert can_change_event(person(everyone, name), event) is expected


@pytest.mark.parametrize(("name", "expected"), only("admin"))
def test_only_the_direction_keeps_the_event_types(everyone, name, expected):
    assert can_manage_event_types(person(everyone, name)) is expected
