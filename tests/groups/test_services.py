"""Group sync: the derived groups follow classes and guardianship (SPEC §1)."""

from __future__ import annotations

import pytest

from portal.accounts import guardianship
from portal.accounts.models import Profile
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups import people
from portal.groups import services as groups
from portal.groups.models import GroupKind
from tests import factories as make

pytestmark = pytest.mark.usefixtures("db_ctx")


def member_ids(group):
    return {user.id for user in groups.members(group)}


def test_new_school_has_one_group_per_profile():
    school = make.school()
    profile_groups = groups.school_groups(school.id, GroupKind.SCHOOL_PROFILE)
    assert sorted(g.profile for g in profile_groups) == sorted(
        ["admin", "teacher", "staff", "parent", "pupil"]
    )


def test_new_user_is_in_their_school_profile_group_only():
    school = make.school()
    teacher = make.user(school, "teacher")
    assert teacher.id in member_ids(groups.school_profile_group(school.id, Profile.TEACHER))
    assert teacher.id not in member_ids(groups.school_profile_group(school.id, Profile.PARENT))


def test_class_has_pupils_parents_and_teachers_sub_groups_with_pupils_internal_on():
    school = make.school()
    class_group = make.school_class(school, "5B")
    subs = groups.sub_groups(class_group)
    assert set(subs) == {"pupil", "parent", "teacher"}
    assert subs["pupil"].internal is True
    assert subs["parent"].internal is False  # parents of a class can't write to each other


def test_pupil_joining_class_puts_their_guardians_in_parents_of_class():
    school = make.school()
    class_group = make.school_class(school, "5B")
    pupil, parents = make.family(school, class_group=None)
    groups.add_member(class_group, pupil)
    subs = groups.sub_groups(class_group)
    assert member_ids(subs["pupil"]) == {pupil.id}
    assert member_ids(subs["parent"]) == {p.id for p in parents}


def test_guardian_linked_later_joins_parents_of_class_and_leaves_when_unlinked():
    school = make.school()
    class_group = make.school_class(school, "5B")
    pupil, (first,) = make.family(school, class_group, guardians=1)
    second = make.user(school, "parent")
    link = people.link_guardian(second, pupil, 2)
    parents_group = groups.sub_groups(class_group)["parent"]
    assert member_ids(parents_group) == {first.id, second.id}
    people.unlink_guardian(link)
    assert member_ids(parents_group) == {first.id}


def test_parent_stays_in_parents_of_class_while_another_child_is_in_it():
    school = make.school()
    class_group = make.school_class(school, "5B")
    older, (parent,) = make.family(school, class_group, guardians=1)
    younger = make.user(school, "pupil")
    groups.add_member(class_group, younger)
    people.link_guardian(parent, younger, 1)
    groups.remove_member(class_group, older)
    assert parent.id in member_ids(groups.sub_groups(class_group)["parent"])
    groups.remove_member(class_group, younger)
    assert member_ids(groups.sub_groups(class_group)["parent"]) == set()


def test_teacher_of_class_is_in_teachers_of_class():
    school = make.school()
    teacher = make.user(school, "teacher")
    class_group = make.school_class(school, "4A", teacher)
    assert member_ids(groups.sub_groups(class_group)["teacher"]) == {teacher.id}


def test_parent_with_children_in_two_schools_is_in_both_parents_groups():
    college, ecole = make.school(), make.school()
    parent = make.user(college, "parent")
    class_college = make.school_class(college, "6A")
    class_ecole = make.school_class(ecole, "CM1-A")
    for school, class_group in ((college, class_college), (ecole, class_ecole)):
        child = make.user(school, "pupil")
        groups.add_member(class_group, child)
        people.link_guardian(parent, child, 1)
    assert parent.id in member_ids(groups.sub_groups(class_college)["parent"])
    assert parent.id in member_ids(groups.sub_groups(class_ecole)["parent"])
    assert len(guardianship.children_of(parent)) == 2


@pytest.mark.parametrize(
    ("kind", "profile", "allowed"),
    [
        (GroupKind.CLASS, "parent", False),
        (GroupKind.CLASS, "staff", False),
        (GroupKind.TEACHING, "pupil", True),
        (GroupKind.MANUAL, "parent", True),
    ],
)
def test_who_may_join_each_kind_of_group(kind, profile, allowed):
    school = make.school()
    group = groups.create_group(school, kind, "G")
    person = make.user(school, profile)
    if allowed:
        groups.add_member(group, person)
        assert person.id in member_ids(group)
    else:
        with pytest.raises(ValidationError):
            groups.add_member(group, person)


def test_broadcast_list_takes_only_its_profile():
    school = make.school()
    broadcast = groups.create_group(school, GroupKind.BROADCAST_LIST, "Parents", Profile.PARENT)
    groups.add_member(broadcast, make.user(school, "parent"))
    with pytest.raises(ValidationError):
        groups.add_member(broadcast, make.user(school, "teacher"))


def test_derived_groups_refuse_hand_made_members():
    school = make.school()
    all_parents = groups.school_profile_group(school.id, Profile.PARENT)
    with pytest.raises(ValidationError):
        groups.add_member(all_parents, make.user(school, "parent"))


def test_group_of_another_school_refuses_the_person():
    group = groups.create_group(make.school(), GroupKind.MANUAL, "Club")
    with pytest.raises(ValidationError, match="another school"):
        groups.add_member(group, make.user(make.school(), "teacher"))


def test_group_names_are_required_short_and_unique_in_the_school():
    school = make.school()
    make.school_class(school, "5B")
    for name, message in (("  ", "name"), ("x" * 121, "120"), ("5b", "already")):
        with pytest.raises(ValidationError, match=message):
            groups.create_group(school, GroupKind.CLASS, name)
    db.session.rollback()
