"""Who may see people and groups (portal/groups/permissions.py): the direction and staff see
their school's; a teacher sees the pupils of the classes and teaching groups they teach, and the
groups they are in; a parent sees their own children; a broadcast list's members are never
shown, not even to its own members; nobody of one school sees another school's.

The people are those of the ``world`` school (tests/school.py): the teacher teaches 5B (Léa,
Hugo) and ULIS (Hugo), the colleague 4A (Chloé, Zoé); with the webmaster and the other school's
cast (``everyone``, tests/school.py).
"""

from __future__ import annotations

import pytest

from portal.accounts.models import Profile
from portal.extensions import db
from portal.groups import people
from portal.groups import services as groups
from portal.groups.models import Group, GroupKind
from portal.groups.permissions import can_manage_rules, can_view_group, can_view_user
from tests.school import person

pytestmark = pytest.mark.usefixtures("db_ctx")


@pytest.fixture
def school_groups(everyone) -> dict[str, Group]:
    """Every kind of group of the world school, by name: its classes and teaching group, a class's
    sub-groups, two profile groups, a manual group the teacher is in and one they are not, and a
    broadcast list of teachers the teacher is on."""
    school = person(everyone, "admin").school
    found = {name: db.session.get(Group, id_) for name, id_ in everyone.groups.items()}
    found["parents of 5B"] = groups.sub_groups(found["5B"])[Profile.PARENT]
    found["pupils of 4A"] = groups.sub_groups(found["4A"])[Profile.PUPIL]
    found["all teachers"] = groups.school_profile_group(school.id, Profile.TEACHER)
    found["all parents"] = groups.school_profile_group(school.id, Profile.PARENT)
    found["choir"] = groups.create_group(school, GroupKind.MANUAL, "Choir")
    groups.add_member(found["choir"], person(everyone, "teacher"))
    groups.add_member(found["choir"], person(everyone, "léa"))
    found["chess club"] = groups.create_group(school, GroupKind.MANUAL, "Chess club")
    groups.add_member(found["chess club"], person(everyone, "colleague"))
    found["teachers' news"] = groups.create_group(
        school, GroupKind.BROADCAST_LIST, "Teachers' news", Profile.TEACHER
    )
    groups.add_member(found["teachers' news"], person(everyone, "teacher"))
    db.session.commit()
    return found


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("admin", True),
        ("staff", True),
        ("teacher", True),  # teaches 5B
        ("colleague", False),  # teaches 4A only
        ("anne", True),  # her guardian
        ("alain", True),  # her guardian 2
        ("béatrice", False),  # the guardian of a classmate
        ("carole", False),
        ("léa", True),  # herself
        ("hugo", False),  # a classmate
        ("webmaster", True),
        ("other_admin", False),
        ("other_staff", False),
        ("other_teacher", False),
        ("other_parent", False),
        ("other_pupil", False),
    ],
)
def test_a_pupil_is_seen_by_their_school_their_teachers_their_guardians_and_themselves(
    everyone, viewer, expected
):
    assert can_view_user(person(everyone, viewer), person(everyone, "léa")) is expected


def test_a_teacher_sees_the_pupils_of_a_teaching_group_they_teach(everyone):
    colleague, lea = person(everyone, "colleague"), person(everyone, "léa")
    assert can_view_user(colleague, lea) is False
    latin = groups.create_group(lea.school, GroupKind.TEACHING, "Latin")
    groups.add_member(latin, colleague)
    groups.add_member(latin, lea)
    assert can_view_user(colleague, lea) is True


def test_a_manual_group_shared_with_a_pupil_doesnt_let_a_teacher_see_them(everyone):
    colleague, lea = person(everyone, "colleague"), person(everyone, "léa")
    choir = groups.create_group(lea.school, GroupKind.MANUAL, "Choir")
    groups.add_member(choir, colleague)
    groups.add_member(choir, lea)
    assert can_view_user(colleague, lea) is False


def test_a_pupil_who_left_the_class_is_no_longer_seen_by_its_teacher(everyone, school_groups):
    teacher, lea = person(everyone, "teacher"), person(everyone, "léa")
    groups.remove_member(school_groups["5B"], lea)
    assert can_view_user(teacher, lea) is False
    assert can_view_user(person(everyone, "admin"), lea) is True


@pytest.mark.parametrize(
    ("viewer", "seen", "expected"),
    [
        ("teacher", "anne", False),  # a parent of their class
        ("teacher", "colleague", False),
        ("anne", "teacher", False),  # her child's teacher
        ("anne", "alain", False),  # the other guardian of her child
        ("léa", "teacher", False),
        ("léa", "anne", False),  # her own guardian
        ("staff", "anne", True),
        ("staff", "teacher", True),
        ("admin", "staff", True),
        ("admin", "other_parent", False),
        ("staff", "other_teacher", False),
        ("staff", "webmaster", False),
        ("webmaster", "other_parent", True),
        ("anne", "anne", True),
        ("teacher", "teacher", True),
        ("webmaster", "webmaster", True),
    ],
)
def test_only_the_school_and_the_person_see_someone_who_is_not_a_pupil(
    everyone, viewer, seen, expected
):
    assert can_view_user(person(everyone, viewer), person(everyone, seen)) is expected


def test_a_guardian_sees_their_child_in_another_school(everyone):
    other_parent, hugo = person(everyone, "other_parent"), person(everyone, "hugo")
    assert can_view_user(other_parent, hugo) is False
    people.link_guardian(other_parent, hugo, 2)
    assert can_view_user(other_parent, hugo) is True


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("admin", True),
        ("staff", True),
        ("teacher", True),  # teaches it
        ("colleague", False),
        ("anne", False),  # families see people, not groups
        ("léa", False),  # even her own class
        ("webmaster", True),
        ("other_admin", False),
        ("other_staff", False),
        ("other_teacher", False),
        ("other_parent", False),
    ],
)
def test_a_class_is_seen_by_its_school_and_its_teachers_only(
    everyone, school_groups, viewer, expected
):
    assert can_view_group(person(everyone, viewer), school_groups["5B"]) is expected


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("5B", True),
        ("ULIS", True),  # a teaching group they teach
        ("4A", False),
        ("parents of 5B", True),  # a sub-group of a class they teach
        ("pupils of 4A", False),
        ("all teachers", True),  # a group they are in
        ("all parents", False),
        ("choir", True),
        ("chess club", False),
        ("teachers' news", False),  # a broadcast list they are on
        ("other 5B", False),
    ],
)
def test_a_teacher_sees_the_groups_they_teach_or_belong_to_but_no_broadcast_list(
    everyone, school_groups, group, expected
):
    assert can_view_group(person(everyone, "teacher"), school_groups[group]) is expected


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("admin", True),
        ("staff", True),
        ("teacher", False),  # on the list
        ("colleague", False),
        ("webmaster", True),
        ("other_admin", False),
        ("other_staff", False),
    ],
)
def test_a_broadcast_lists_members_are_shown_to_its_school_and_the_webmaster_only(
    everyone, school_groups, viewer, expected
):
    assert can_view_group(person(everyone, viewer), school_groups["teachers' news"]) is expected


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("other_admin", True),
        ("other_staff", True),
        ("other_teacher", True),
        ("admin", False),
        ("staff", False),
        ("teacher", False),
        ("webmaster", True),
    ],
)
def test_another_schools_class_is_refused_to_this_school(everyone, school_groups, viewer, expected):
    assert can_view_group(person(everyone, viewer), school_groups["other 5B"]) is expected


@pytest.mark.parametrize(
    ("actor", "target", "expected"),
    [
        ("admin", "4A", True),
        ("staff", "4A", False),
        ("teacher", "4A", False),
        ("anne", "4A", False),
        ("other_admin", "4A", False),
        ("admin", "other 5B", False),  # across schools
        ("other_admin", "other 5B", False),  # the source is not theirs
        ("webmaster", "4A", True),
        ("webmaster", "other 5B", True),
    ],
)
def test_communication_rules_are_set_by_their_schools_direction_and_across_schools_by_the_webmaster(
    everyone, school_groups, actor, target, expected
):
    source = school_groups["5B"]
    assert can_manage_rules(person(everyone, actor), source, school_groups[target]) is expected
