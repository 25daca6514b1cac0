"""Who may do what with flash messages (portal/messaging/permissions.py, SPEC §3): the direction
and staff write them and manage every one of their school's; the audience reads one from its
start, and one ended before its start never; nobody reads or manages another school's.

The people are those of the ``world`` school (tests/school.py) on its frozen Monday: Anne and
Alain are Léa's guardians and Béatrice Hugo's (5B), Carole Chloé's (4A). With the webmaster and
the other school's cast (``everyone``, tests/school.py).
"""

from __future__ import annotations

import datetime as dt

import pytest

from portal.core import clock
from portal.extensions import db
from portal.groups import people
from portal.messaging import flash
from portal.messaging.flash import FlashInput
from portal.messaging.permissions import (
    can_create_flash,
    can_export_conversations,
    can_manage_flash,
    can_read_flash,
)
from tests.school import MONDAY, only, person

pytestmark = pytest.mark.usefixtures("db_ctx")

DAY = dt.timedelta(days=1)


def _flash(everyone, author="staff", group: str | None = "5B", starts_at=None, ends_at=None):
    """A flash message to parents, of ``group`` or of the whole school, from now (or
    ``starts_at``) to tomorrow (or ``ends_at``); committed."""
    message = flash.create(
        person(everyone, author),
        FlashInput(
            title="Grève des bus demain",
            body="<p>Le ramassage scolaire ne sera pas assuré.</p>",
            profiles=["parent"],
            group_ids=[everyone.groups[group]] if group else [],
            starts_at=starts_at,
            ends_at=ends_at or MONDAY + DAY,
        ),
    )
    db.session.commit()
    return message


@pytest.mark.parametrize(("name", "expected"), only("admin", "staff"))
def test_the_direction_and_staff_write_flash_messages(everyone, name, expected):
    assert can_create_flash(person(everyone, name)) is expected


@pytest.mark.parametrize(
    ("author", "name", "expected"),
    [
        ("staff", "staff", True),
        ("staff", "admin", True),
        ("admin", "staff", True),  # not its author, of its school
        ("staff", "teacher", False),
        ("staff", "anne", False),  # of its audience
        ("staff", "léa", False),
        ("staff", "webmaster", False),
        ("staff", "other_admin", False),
        ("staff", "other_staff", False),
    ],
)
def test_a_flash_message_is_managed_by_its_schools_direction_and_staff(
    everyone, author, name, expected
):
    message = _flash(everyone, author)
    assert can_manage_flash(person(everyone, name), message) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("anne", True),
        ("alain", True),
        ("béatrice", True),
        ("carole", False),  # her child is in 4A
        ("léa", False),  # for parents only
        ("teacher", False),
        ("staff", True),  # its author
        ("admin", True),
        ("webmaster", False),
        ("other_admin", False),
        ("other_staff", False),
        ("other_parent", False),
    ],
)
def test_a_flash_message_is_read_by_its_audience_and_its_managers(everyone, name, expected):
    message = _flash(everyone)
    assert can_read_flash(person(everyone, name), message) is expected


def test_a_planned_flash_message_is_read_by_its_audience_from_its_start(everyone):
    message = _flash(everyone, starts_at=MONDAY + DAY, ends_at=MONDAY + 2 * DAY)
    anne, staff = person(everyone, "anne"), person(everyone, "staff")
    assert can_read_flash(anne, message) is False
    assert can_read_flash(staff, message) is True
    clock.freeze(MONDAY + DAY - dt.timedelta(seconds=1))
    assert can_read_flash(anne, message) is False
    clock.freeze(MONDAY + DAY)
    assert can_read_flash(anne, message) is True


def test_a_flash_message_ended_before_its_start_is_never_read_by_its_audience(everyone):
    message = _flash(everyone, starts_at=MONDAY + DAY, ends_at=MONDAY + 2 * DAY)
    flash.end(message)
    clock.freeze(MONDAY + DAY + dt.timedelta(hours=1))
    assert can_read_flash(person(everyone, "anne"), message) is False
    assert can_read_flash(person(everyone, "staff"), message) is True


def test_a_flash_message_ended_after_its_start_stays_readable_by_its_audience(everyone):
    message = _flash(everyone)
    clock.freeze(MONDAY + dt.timedelta(hours=1))
    flash.end(message)
    clock.freeze(MONDAY + 3 * DAY)
    assert can_read_flash(person(everyone, "anne"), message) is True
    assert can_read_flash(person(everyone, "carole"), message) is False


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("anne", True),
        ("carole", True),
        ("léa", False),
        ("other_parent", False),  # no child in this school
    ],
)
def test_a_school_wide_flash_message_reaches_every_parent_of_the_school(everyone, name, expected):
    message = _flash(everyone, group=None)
    assert can_read_flash(person(everyone, name), message) is expected


def test_a_parent_of_another_school_reads_it_through_their_child_in_this_one(everyone):
    message = _flash(everyone, group=None)
    other_parent = person(everyone, "other_parent")
    people.link_guardian(other_parent, person(everyone, "hugo"), 2)
    assert can_read_flash(other_parent, message) is True
    assert can_manage_flash(person(everyone, "other_admin"), message) is False


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("other_parent", True),
        ("other_staff", True),
        ("anne", False),
        ("admin", False),
        ("staff", False),
        ("webmaster", False),
    ],
)
def test_another_schools_flash_message_is_refused_to_this_school(everyone, name, expected):
    message = _flash(everyone, author="other_admin", group=None)
    assert can_read_flash(person(everyone, name), message) is expected


@pytest.mark.parametrize(("name", "expected"), only("admin"))
def test_only_the_direction_exports_a_persons_conversations(everyone, name, expected):
    assert can_export_conversations(person(everyone, name)) is expected
