"""Who may see and do what with announcements and homework (portal/content/permissions.py, SPEC
§5): the direction, staff and teachers write announcements, teachers for the classes and groups
they teach; an announcement is changed by its author or the direction of its school and read by
its audience while it is live; homework is set and changed by the teachers of its group, seen by
the direction and staff always and by its pupils and their guardians from its visible-from day.
Nobody reads or changes another school's.

The people are those of the ``world`` school (tests/school.py) on its frozen Monday: the teacher
teaches 5B (Léa, Hugo) and ULIS (Hugo), the colleague 4A (Chloé, Zoé); Anne is the guardian of
Léa and Zoé. With the webmaster and the other school's cast (``everyone``, tests/school.py).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from portal.accounts.models import Profile
from portal.content import announcements, homework
from portal.content.announcements import AnnouncementInput
from portal.content.homework import HomeworkInput
from portal.content.permissions import (
    can_comment,
    can_edit_announcement,
    can_edit_homework,
    can_manage_every_announcement,
    can_read_announcement,
    can_set_homework,
    can_view_homework,
    can_write_announcements,
    can_write_homework,
    teaches,
)
from portal.core import clock
from portal.extensions import db
from portal.groups import people
from portal.groups import services as groups
from portal.groups.audience import reach_of
from portal.groups.models import Group, GroupKind
from tests import factories as make
from tests.school import MONDAY, person

pytestmark = pytest.mark.usefixtures("db_ctx")

DAY = dt.timedelta(days=1)
#: The homework's visible-from day, and its first moment in Paris.
TUESDAY = dt.date(2026, 11, 24)
TUESDAY_MIDNIGHT = dt.datetime(2026, 11, 23, 23, 0, tzinfo=dt.UTC)
FRIDAY = dt.date(2026, 11, 27)


def _group(everyone, name: str) -> Group:
    return db.session.get(Group, everyone.groups[name])


def _announce(everyone, author: str, profiles=("parent",), group: str | None = None, **dates):
    asked = AnnouncementInput(
        title="Sortie au musée",
        body="<p>Jeudi, la 5B visite le musée.</p>",
        profiles=list(profiles),
        group_ids=[everyone.groups[group]] if group else [],
        publish_at=dates.get("publish_at"),
        expires_at=dates.get("expires_at"),
        comments_allowed=dates.get("comments_allowed", False),
    )
    announcement = announcements.publish(person(everyone, author), asked)
    db.session.commit()
    return announcement


def _set_homework(everyone, teacher: str, group: str, visible_from: dt.date | None):
    asked = HomeworkInput(
        group=_group(everyone, group),
        title="Exercices 3 et 4 page 45",
        description="<p>Sans calculatrice.</p>",
        due_on=FRIDAY,
        visible_from=visible_from,
    )
    work = homework.set_homework(person(everyone, teacher), asked)
    db.session.commit()
    return work


@pytest.fixture
def content(everyone) -> SimpleNamespace:
    """The teacher's announcement to the parents and pupils of 5B, comments allowed; the
    direction's to every parent of the school; the teacher's homework for 5B, visible from
    Tuesday; and the other school's announcement to its parents and homework for its 5B."""
    return SimpleNamespace(
        for_5b=_announce(everyone, "teacher", ("parent", "pupil"), "5B", comments_allowed=True),
        for_parents=_announce(everyone, "admin"),
        homework=_set_homework(everyone, "teacher", "5B", TUESDAY),
        other=_announce(everyone, "other_admin"),
        other_homework=_set_homework(everyone, "other_teacher", "other 5B", None),
    )


@pytest.mark.parametrize(
    ("name", "writes", "manages_all", "sets_homework"),
    [
        ("admin", True, True, False),
        ("staff", True, False, False),
        ("teacher", True, False, True),
        ("anne", False, False, False),
        ("léa", False, False, False),
        ("webmaster", False, False, False),
    ],
)
def test_the_direction_staff_and_teachers_write_announcements_and_teachers_set_homework(
    everyone, name, writes, manages_all, sets_homework
):
    someone = person(everyone, name)
    assert can_write_announcements(someone) is writes
    assert can_manage_every_announcement(someone) is manages_all
    assert can_write_homework(someone) is sets_homework


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("teacher", True),  # its author
        ("colleague", False),
        ("admin", True),
        ("staff", False),
        ("anne", False),
        ("léa", False),
        ("webmaster", False),
        ("other_admin", False),
        ("other_teacher", False),
    ],
)
def test_an_announcement_is_changed_by_its_author_and_its_schools_direction(
    everyone, content, name, expected
):
    assert can_edit_announcement(person(everyone, name), content.for_5b) is expected


def test_a_member_of_staff_changes_their_own_announcements_not_a_colleagues(everyone):
    school = person(everyone, "staff").school
    everyone.ids["staff 2"] = make.user(school, "staff").id
    theirs = _announce(everyone, "staff")
    assert can_edit_announcement(person(everyone, "staff"), theirs) is True
    assert can_edit_announcement(person(everyone, "staff 2"), theirs) is False
    assert can_edit_announcement(person(everyone, "admin"), theirs) is True
    assert can_edit_announcement(person(everyone, "other_admin"), theirs) is False


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("teacher", True),  # its author
        ("admin", True),
        ("staff", False),  # not of its audience
        ("colleague", False),
        ("anne", True),  # Léa's guardian
        ("alain", True),
        ("béatrice", True),  # Hugo's guardian
        ("carole", False),  # her child is in 4A
        ("léa", True),
        ("hugo", True),
        ("chloé", False),
        ("zoé", False),  # Anne's other child, in 4A
        ("webmaster", False),
        ("other_admin", False),
        ("other_parent", False),
        ("other_pupil", False),
    ],
)
def test_a_live_announcement_is_read_by_its_audience_its_author_and_the_direction(
    everyone, content, name, expected
):
    assert can_read_announcement(person(everyone, name), content.for_5b) is expected


def test_an_announcement_planned_for_tomorrow_is_read_by_its_audience_only_from_then(everyone):
    planned = _announce(everyone, "teacher", group="5B", publish_at=MONDAY + DAY)
    anne, teacher, admin = (person(everyone, name) for name in ("anne", "teacher", "admin"))
    assert can_read_announcement(anne, planned) is False
    assert can_read_announcement(teacher, planned) is True
    assert can_read_announcement(admin, planned) is True
    clock.freeze(MONDAY + DAY)
    assert can_read_announcement(anne, planned) is True


def test_an_expired_announcement_is_read_by_its_author_and_the_direction_only(everyone):
    expiring = _announce(everyone, "teacher", group="5B", expires_at=MONDAY + 2 * DAY)
    anne, teacher, admin = (person(everyone, name) for name in ("anne", "teacher", "admin"))
    clock.freeze(MONDAY + 2 * DAY - dt.timedelta(seconds=1))
    assert can_read_announcement(anne, expiring) is True
    clock.freeze(MONDAY + 2 * DAY)
    assert can_read_announcement(anne, expiring) is False
    assert can_read_announcement(teacher, expiring) is True
    assert can_read_announcement(admin, expiring) is True


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("anne", True),
        ("carole", True),
        ("léa", False),  # for parents only
        ("teacher", False),
        ("staff", False),
        ("admin", True),  # its author
        ("other_parent", False),  # no child in this school
        ("other_admin", False),
    ],
)
def test_a_school_wide_announcement_to_parents_reaches_every_parent_of_the_school(
    everyone, content, name, expected
):
    assert can_read_announcement(person(everyone, name), content.for_parents) is expected


def test_a_parent_of_another_school_is_reached_through_their_child_in_this_one(everyone, content):
    other_parent, hugo = person(everyone, "other_parent"), person(everyone, "hugo")
    people.link_guardian(other_parent, hugo, 2)
    assert can_read_announcement(other_parent, content.for_parents) is True
    assert can_read_announcement(other_parent, content.other) is True  # their own school's


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("other_parent", True),
        ("other_admin", True),
        ("anne", False),
        ("admin", False),
        ("staff", False),
        ("webmaster", False),
    ],
)
def test_another_schools_announcement_is_refused_to_this_school(everyone, content, name, expected):
    assert can_read_announcement(person(everyone, name), content.other) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("anne", True),
        ("léa", True),
        ("teacher", True),
        ("admin", True),
        ("carole", False),  # doesn't read it
        ("other_parent", False),
    ],
)
def test_the_readers_of_an_announcement_open_to_comments_comment_on_it(
    everyone, content, name, expected
):
    assert can_comment(person(everyone, name), content.for_5b) is expected


@pytest.mark.parametrize("name", ["anne", "léa", "teacher", "admin"])
def test_nobody_comments_on_an_announcement_closed_to_comments(everyone, name):
    closed = _announce(everyone, "teacher", ("parent", "pupil"), "5B")
    assert can_read_announcement(person(everyone, name), closed) is True
    assert can_comment(person(everyone, name), closed) is False


@pytest.mark.parametrize(
    ("name", "group", "expected"),
    [
        ("teacher", "5B", True),
        ("teacher", "ULIS", True),  # a teaching group
        ("teacher", "4A", False),
        ("colleague", "4A", True),
        ("colleague", "5B", False),
        ("léa", "5B", False),  # a member, but a pupil
        ("admin", "5B", False),
        ("other_teacher", "5B", False),
        ("other_teacher", "other 5B", True),
    ],
)
def test_a_teacher_teaches_the_classes_and_teaching_groups_they_are_in(
    everyone, name, group, expected
):
    someone = person(everyone, name)
    assert teaches(someone, _group(everyone, group)) is expected
    assert can_set_homework(someone, _group(everyone, group)) is expected


def test_a_teacher_teaches_no_manual_group_nor_a_classs_sub_group(everyone):
    teacher = person(everyone, "teacher")
    choir = groups.create_group(teacher.school, GroupKind.MANUAL, "Choir")
    groups.add_member(choir, teacher)
    teachers_of_5b = groups.sub_groups(_group(everyone, "5B"))[Profile.TEACHER]
    assert teaches(teacher, choir) is False
    assert can_set_homework(teacher, choir) is False
    assert teaches(teacher, teachers_of_5b) is False  # a member, through 5B


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("teacher", True),
        ("colleague", False),
        ("admin", False),
        ("staff", False),
        ("anne", False),
        ("léa", False),
        ("webmaster", False),
        ("other_teacher", False),
    ],
)
def test_homework_is_changed_by_the_teachers_of_its_group_only(everyone, content, name, expected):
    assert can_edit_homework(person(everyone, name), content.homework) is expected


def test_co_teachers_share_a_groups_homework_and_a_teacher_who_left_it_loses_it(everyone, content):
    class_5b = _group(everyone, "5B")
    teacher, colleague = person(everyone, "teacher"), person(everyone, "colleague")
    groups.add_member(class_5b, colleague)
    assert can_edit_homework(colleague, content.homework) is True
    groups.remove_member(class_5b, teacher)
    assert can_edit_homework(teacher, content.homework) is False  # set it, no longer teaches


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", True),
        ("staff", True),
        ("teacher", True),
        ("colleague", False),
        ("anne", False),  # visible from Tuesday
        ("léa", False),
        ("webmaster", False),
        ("other_admin", False),
        ("other_staff", False),
    ],
)
def test_homework_not_visible_yet_is_seen_by_its_school_and_teachers_only(
    everyone, content, name, expected
):
    assert can_view_homework(person(everyone, name), content.homework) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("anne", True),
        ("alain", True),
        ("béatrice", True),
        ("léa", True),
        ("hugo", True),
        ("carole", False),
        ("chloé", False),
        ("zoé", False),  # Anne's other child, in 4A
        ("colleague", False),
        ("webmaster", False),
        ("other_admin", False),
        ("other_parent", False),
        ("other_pupil", False),
    ],
)
def test_homework_is_seen_by_its_groups_pupils_and_guardians_from_its_visible_day(
    everyone, content, name, expected
):
    clock.freeze(TUESDAY_MIDNIGHT)
    assert can_view_homework(person(everyone, name), content.homework) is expected


def test_a_reach_given_for_speed_answers_as_the_persons_own(everyone, content):
    clock.freeze(TUESDAY_MIDNIGHT)
    anne, carole = person(everyone, "anne"), person(everyone, "carole")
    assert can_view_homework(anne, content.homework, reach_of(anne)) is True
    assert can_view_homework(carole, content.homework, reach_of(carole)) is False
    clock.freeze(TUESDAY_MIDNIGHT - dt.timedelta(seconds=1))
    assert can_view_homework(anne, content.homework, reach_of(anne)) is False


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("other_teacher", True),
        ("other_admin", True),
        ("other_staff", True),
        ("other_pupil", True),
        ("other_parent", True),
        ("admin", False),
        ("staff", False),
        ("teacher", False),
        ("anne", False),
        ("léa", False),
    ],
)
def test_another_schools_homework_is_refused_to_this_school(everyone, content, name, expected):
    assert can_view_homework(person(everyone, name), content.other_homework) is expected
