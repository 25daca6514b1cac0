"""Who may do what with sessions, registers and marks (portal/attendance/permissions.py, SPEC
§6): the direction and staff keep the timetable and explain marks; a session's teacher takes its
register from when it opens, the direction and staff at any time; attendance is seen by the
person, their guardians and teachers and their school; the direction sets the alert rules.
Nobody acts on another school's sessions or marks.

The people are those of the ``world`` school (tests/school.py) on its frozen Monday, 10:00 in
Paris, with the webmaster and the other school's cast (``everyone``, tests/school.py).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from portal.attendance import opening, services
from portal.attendance.models import ClassSession, MarkKind
from portal.attendance.permissions import (
    can_explain_mark,
    can_manage_alert_rules,
    can_manage_attendance,
    can_record_marks,
    can_take_register,
    can_view_attendance_of,
)
from portal.core import clock
from portal.extensions import db
from portal.groups.models import Group
from tests.school import MONDAY, only, person, schedule_5b

pytestmark = pytest.mark.usefixtures("db_ctx")

#: The afternoon lesson of 5B starts at 14:00 in Paris; its register opens at 13:50.
AFTERNOON = MONDAY.replace(hour=13)


@pytest.fixture
def timetable(everyone) -> SimpleNamespace:
    """5B's lesson now (10:00–11:00, Léa marked absent by the teacher), 5B's afternoon lesson
    (14:00–15:00), and the other school's 5B lesson now (its pupil marked absent)."""
    lesson = db.session.get(ClassSession, schedule_5b(everyone))
    afternoon = db.session.get(ClassSession, schedule_5b(everyone, 14, 15))
    mark = services.record(
        person(everyone, "teacher"), lesson, person(everyone, "léa"), MarkKind.ABSENT
    )
    (other,) = services.schedule(
        person(everyone, "other_admin"),
        db.session.get(Group, everyone.groups["other 5B"]),
        person(everyone, "other_teacher"),
        MONDAY.date(),
        dt.time(10),
        dt.time(11),
    )
    other_mark = services.record(
        person(everyone, "other_teacher"), other, person(everyone, "other_pupil"), MarkKind.ABSENT
    )
    db.session.commit()
    return SimpleNamespace(
        lesson=lesson, afternoon=afternoon, mark=mark, other=other, other_mark=other_mark
    )


@pytest.mark.parametrize(("name", "expected"), only("admin", "staff"))
def test_the_direction_and_staff_manage_attendance(everyone, name, expected):
    assert can_manage_attendance(person(everyone, name)) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", True),
        ("staff", True),
        ("teacher", True),  # the session's teacher
        ("colleague", False),  # a teacher of the school, not of this session
        ("anne", False),
        ("léa", False),
        ("webmaster", False),
        ("other_admin", False),
        ("other_staff", False),
        ("other_teacher", False),
    ],
)
def test_a_register_is_taken_by_its_teacher_and_its_schools_direction_and_staff(
    everyone, timetable, name, expected
):
    assert can_take_register(person(everyone, name), timetable.lesson) is expected


def test_the_sessions_teacher_takes_the_register_not_the_teacher_of_the_class(everyone):
    class_5b = db.session.get(Group, everyone.groups["5B"])
    admin, colleague = person(everyone, "admin"), person(everyone, "colleague")
    (covered,) = services.schedule(
        admin, class_5b, colleague, MONDAY.date(), dt.time(16), dt.time(17)
    )
    (untaught,) = services.schedule(admin, class_5b, None, MONDAY.date(), dt.time(17), dt.time(18))
    assert can_take_register(colleague, covered) is True
    assert can_take_register(person(everyone, "teacher"), covered) is False
    assert can_take_register(person(everyone, "teacher"), untaught) is False
    assert can_take_register(admin, untaught) is True


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", True),
        ("staff", True),
        ("teacher", False),  # its register opens at 13:50
        ("colleague", False),
        ("anne", False),
        ("léa", False),
        ("webmaster", False),
        ("other_admin", False),
        ("other_staff", False),
    ],
)
def test_only_the_direction_and_staff_record_marks_hours_before_a_session(
    everyone, timetable, name, expected
):
    assert can_record_marks(person(everyone, name), timetable.afternoon) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (AFTERNOON - dt.timedelta(minutes=10, seconds=1), False),
        (AFTERNOON - dt.timedelta(minutes=10), True),
        (AFTERNOON + dt.timedelta(minutes=30), True),
        (AFTERNOON + dt.timedelta(hours=3), True),  # after its end, to correct it
    ],
)
def test_the_teacher_records_marks_from_ten_minutes_before_the_session(
    everyone, timetable, at, expected
):
    clock.freeze(at)
    assert can_record_marks(person(everyone, "teacher"), timetable.afternoon) is expected
    assert can_record_marks(person(everyone, "colleague"), timetable.afternoon) is False


def test_the_register_opens_as_many_minutes_before_as_the_school_says(everyone, timetable):
    admin, teacher = person(everyone, "admin"), person(everyone, "teacher")
    opening.set_opens_minutes(admin, admin.school, 0)
    clock.freeze(AFTERNOON - dt.timedelta(seconds=1))
    assert can_record_marks(teacher, timetable.afternoon) is False
    clock.freeze(AFTERNOON)
    assert can_record_marks(teacher, timetable.afternoon) is True


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
def test_another_schools_register_is_refused_to_this_school(everyone, timetable, name, expected):
    assert can_take_register(person(everyone, name), timetable.other) is expected
    assert can_record_marks(person(everyone, name), timetable.other) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", True),
        ("staff", True),
        ("teacher", False),  # who marked her absent
        ("anne", False),  # the absent pupil's guardian
        ("léa", False),
        ("webmaster", False),
        ("other_admin", False),
        ("other_staff", False),
    ],
)
def test_a_marks_reason_is_given_by_its_schools_direction_and_staff(
    everyone, timetable, name, expected
):
    assert can_explain_mark(person(everyone, name), timetable.mark) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("other_staff", True), ("other_admin", True), ("staff", False), ("admin", False)],
)
def test_another_schools_mark_is_explained_by_that_school_only(everyone, timetable, name, expected):
    assert can_explain_mark(person(everyone, name), timetable.other_mark) is expected


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("admin", True),
        ("staff", True),
        ("teacher", True),  # teaches 5B
        ("colleague", False),
        ("anne", True),
        ("alain", True),
        ("béatrice", False),  # the guardian of a classmate
        ("léa", True),
        ("hugo", False),
        ("webmaster", True),
        ("other_admin", False),
        ("other_staff", False),
        ("other_teacher", False),
        ("other_parent", False),
    ],
)
def test_a_pupils_attendance_is_seen_by_them_their_family_their_teachers_and_school(
    everyone, viewer, expected
):
    assert can_view_attendance_of(person(everyone, viewer), person(everyone, "léa")) is expected


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("admin", True),
        ("staff", True),
        ("teacher", True),  # their own
        ("colleague", False),
        ("anne", False),
        ("léa", False),  # her teacher's
        ("webmaster", True),
        ("other_admin", False),
    ],
)
def test_a_teachers_attendance_is_seen_by_them_and_their_school_only(everyone, viewer, expected):
    assert can_view_attendance_of(person(everyone, viewer), person(everyone, "teacher")) is expected


@pytest.mark.parametrize(("name", "expected"), only("admin"))
def test_only_the_direction_sets_the_alert_rules(everyone, name, expected):
    assert can_manage_alert_rules(person(everyone, name)) is expected
