"""Communication rules: the defaults and the worked cases of seed 003 (SPEC §2)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.accounts.models import Profile
from portal.core.audit import AuditEntry
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups import restore, rules
from portal.groups import services as groups
from portal.groups.defaults import RuleSet, default_rule_set
from portal.groups.models import CommunicationRule, Group, GroupKind
from portal.groups.reachability import may_write, may_write_to_group, reachable
from tests import factories as make

pytestmark = pytest.mark.usefixtures("db_ctx")


@pytest.fixture
def school():
    """A school with 5B and 4A, a teacher and a family in each, direction and staff."""
    school = make.school()
    world = {"school": school}
    for name in ("5B", "4A"):
        teacher = make.user(school, "teacher")
        class_group = make.school_class(school, name, teacher)
        pupil, (parent, other_parent) = make.family(school, class_group)
        world[name] = {
            "class": class_group,
            "teacher": teacher,
            "pupil": pupil,
            "parent": parent,
            "other_parent": other_parent,
        }
    world["admin"] = make.user(school, "admin")
    world["staff"] = make.user(school, "staff")
    return world


def _rule(source, target):
    return db.session.scalar(
        select(CommunicationRule).where(
            CommunicationRule.source_group_id == source.id,
            CommunicationRule.target_group_id == target.id,
        )
    )


def profile_group(world, profile):
    return groups.school_profile_group(world["school"].id, Profile(profile))


def test_defaults_let_direction_and_staff_reach_everyone(school):
    for author in (school["admin"], school["staff"]):
        for name in ("5B", "4A"):
            for person in ("teacher", "pupil", "parent"):
                assert may_write(author, school[name][person]), (author.profile, name, person)


def test_defaults_let_parents_reach_their_childs_teachers_and_the_direction_only(school):
    parent = school["5B"]["parent"]
    assert may_write(parent, school["5B"]["teacher"])
    assert may_write(parent, school["admin"])
    assert not may_write(parent, school["staff"])
    assert not may_write(parent, school["4A"]["parent"])


def test_defaults_keep_pupils_within_their_class(school):
    pupil = school["5B"]["pupil"]
    classmate = make.user(school["school"], "pupil")
    groups.add_member(school["5B"]["class"], classmate)
    assert may_write(pupil, classmate)
    assert may_write(pupil, school["5B"]["teacher"])
    assert not may_write(pupil, school["4A"]["pupil"])
    assert not may_write(pupil, school["4A"]["teacher"])
    assert not may_write(pupil, school["5B"]["parent"])


def test_limit_teachers_to_their_own_classes_by_removing_the_school_wide_teacher_rule(school):
    teacher = school["5B"]["teacher"]
    assert may_write(teacher, school["4A"]["parent"])  # the default reaches every family
    for target in ("parent", "pupil"):
        rules.remove_rule(
            school["admin"], _rule(profile_group(school, "teacher"), profile_group(school, target))
        )
    assert may_write(teacher, school["5B"]["parent"])
    assert may_write(teacher, school["5B"]["pupil"])
    assert not may_write(teacher, school["4A"]["parent"])
    assert not may_write(teacher, school["4A"]["pupil"])
    assert may_write(teacher, school["4A"]["teacher"])  # colleagues stay reachable
    listed = {person.id for person in reachable(teacher, per_page=500).people}
    assert school["5B"]["parent"].id in listed
    assert school["4A"]["parent"].id not in listed


def test_a_manual_group_has_no_rule_until_one_is_set(school):
    club = groups.create_group(school["school"], GroupKind.MANUAL, "Club théâtre")
    a, b = school["5B"]["parent"], school["4A"]["parent"]
    groups.add_member(club, a)
    groups.add_member(club, b)
    assert not may_write(a, b)
    assert not may_write_to_group(school["5B"]["teacher"], club)
    rules.add_rule(school["admin"], profile_group(school, "teacher"), club)
    assert may_write_to_group(school["5B"]["teacher"], club)
    rules.set_internal(school["admin"], club, True)
    assert may_write(a, b)


def test_parents_of_a_class_cant_write_to_each_other_unless_a_rule_opens_it(school):
    parents = groups.sub_groups(school["5B"]["class"])[Profile.PARENT]
    a, b = school["5B"]["parent"], make.family(school["school"], school["5B"]["class"])[1][0]
    assert not may_write(a, b)
    assert not may_write(a, school["5B"]["other_parent"])  # the same child's other guardian
    rules.set_internal(school["admin"], parents, True)
    assert may_write(a, b)


def test_opening_the_second_direction_asks_to_confirm_then_turns_internal_on(school):
    subs = groups.sub_groups(school["5B"]["class"])
    teachers, parents = subs[Profile.TEACHER], subs[Profile.PARENT]
    rules.remove_rule(school["admin"], _rule(teachers, parents))
    assert rules.internal_opened_by(teachers, parents) == [teachers, parents]
    with pytest.raises(ValidationError) as unconfirmed:
        rules.add_rule(school["admin"], teachers, parents)
    assert "confirm" in unconfirmed.value.errors
    assert _rule(teachers, parents) is None
    rules.add_rule(school["admin"], teachers, parents, confirmed=True)
    assert teachers.internal and parents.internal
    assert may_write(
        school["5B"]["parent"], make.family(school["school"], school["5B"]["class"])[1][0]
    )


def _open_both_ways(world, first, second):
    rules.add_rule(world["admin"], first, second)
    rules.add_rule(world["admin"], second, first, confirmed=True)


def test_internal_cannot_be_removed_while_both_directions_are_open(school):
    parents_5b = groups.sub_groups(school["5B"]["class"])[Profile.PARENT]
    parents_4a = groups.sub_groups(school["4A"]["class"])[Profile.PARENT]
    _open_both_ways(school, parents_5b, parents_4a)
    assert parents_5b.internal and parents_4a.internal
    with pytest.raises(ValidationError) as refused:
        rules.set_internal(school["admin"], parents_5b, False)
    assert refused.value.errors["internal"] == (
        "Rules open in both directions keep internal communication on. Remove one of them "
        "first: Parents of 5B → Parents of 4A or Parents of 4A → Parents of 5B."
    )
    assert parents_5b.internal
    rules.remove_rule(school["admin"], _rule(parents_5b, parents_4a))
    rules.set_internal(school["admin"], parents_5b, False)
    rules.set_internal(school["admin"], parents_4a, False)
    assert not parents_5b.internal and not parents_4a.internal


def test_the_teachers_and_parents_of_a_class_hold_no_internal_communication_on(school):
    """A new school opens them both ways with the parents' internal communication off: an admin
    who turned it on, or re-opened the pair, can always turn it off again."""
    subs = groups.sub_groups(school["5B"]["class"])
    teachers, parents = subs[Profile.TEACHER], subs[Profile.PARENT]
    rules.remove_rule(school["admin"], _rule(teachers, parents))
    rules.add_rule(school["admin"], teachers, parents, confirmed=True)
    assert parents.internal and teachers.internal
    assert rules.holding_internal(parents) == []
    rules.set_internal(school["admin"], parents, False)
    rules.set_internal(school["admin"], teachers, False)
    assert not parents.internal and not teachers.internal


def test_refusal_names_one_pair_of_rules_per_group_open_both_ways(school):
    parents_5b = groups.sub_groups(school["5B"]["class"])[Profile.PARENT]
    parents_4a = groups.sub_groups(school["4A"]["class"])[Profile.PARENT]
    club = groups.create_group(school["school"], GroupKind.MANUAL, "Club")
    _open_both_ways(school, parents_5b, parents_4a)
    _open_both_ways(school, club, parents_5b)
    with pytest.raises(ValidationError) as refused:
        rules.set_internal(school["admin"], parents_5b, False)
    assert refused.value.errors["internal"] == (
        "Rules open in both directions keep internal communication on. Remove one rule of each "
        "pair first: Parents of 5B → Club or Club → Parents of 5B; "
        "Parents of 5B → Parents of 4A or Parents of 4A → Parents of 5B."
    )


def test_broadcast_list_members_cant_write_to_each_other(school):
    broadcast = groups.create_group(
        school["school"], GroupKind.BROADCAST_LIST, "Parents", Profile.PARENT
    )
    a, b = school["5B"]["parent"], school["4A"]["parent"]
    groups.add_member(broadcast, a)
    groups.add_member(broadcast, b)
    rules.add_rule(school["admin"], profile_group(school, "admin"), broadcast)
    assert may_write_to_group(school["admin"], broadcast)
    assert not may_write(a, b)
    with pytest.raises(ValidationError):
        rules.set_internal(school["admin"], broadcast, True)
    with pytest.raises(ValidationError):
        rules.add_rule(school["admin"], broadcast, profile_group(school, "parent"))


def test_a_blocked_account_is_invisible_and_an_inactive_one_reachable(school):
    teacher = school["5B"]["teacher"]
    blocked, inactive = (
        school["5B"]["parent"],
        make.family(school["school"], school["5B"]["class"])[1][0],
    )
    inactive.state = "inactive"
    accounts.block(blocked)
    assert not may_write(teacher, blocked)
    assert may_write(teacher, inactive)
    listed = {person.id for person in reachable(teacher, per_page=500).people}
    assert blocked.id not in listed and inactive.id in listed


def test_rules_across_schools_are_the_webmasters(school):
    other = make.school()
    other_admin = make.user(other, "admin")
    webmaster = make.user(None, "webmaster")
    here, there = profile_group(school, "admin"), groups.school_profile_group(other.id, "admin")
    with pytest.raises(PermissionError):
        rules.add_rule(school["admin"], here, there)
    assert not may_write(school["admin"], other_admin)
    rules.add_rule(webmaster, here, there)
    assert may_write(school["admin"], other_admin)
    assert not may_write(other_admin, school["admin"])


def test_reply_right_reaches_only_the_sender_of_a_message_received(school):
    parent, stranger = school["5B"]["parent"], school["4A"]["teacher"]

    class Received:
        sender_id = stranger.id

        @staticmethod
        def was_received_by(user_id):
            return user_id == parent.id

    class NotReceived(Received):
        @staticmethod
        def was_received_by(user_id):
            return False

    assert not may_write(parent, stranger)
    assert may_write(parent, stranger, reply_to=Received())
    assert not may_write(parent, stranger, reply_to=NotReceived())
    assert not may_write(parent, school["4A"]["parent"], reply_to=Received())


def test_every_rule_change_is_in_the_audit_log_with_before_and_after(school):
    subs = groups.sub_groups(school["5B"]["class"])
    teachers, parents = subs[Profile.TEACHER], subs[Profile.PARENT]
    rules.remove_rule(school["admin"], _rule(teachers, parents))
    rules.add_rule(school["admin"], teachers, parents, confirmed=True)
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.tag for e in entries] == ["groups:rule:remove", "groups:rule:add"]
    assert all(e.actor_id == school["admin"].id for e in entries)
    added = entries[1].details
    assert added["source_group_id"] == teachers.id
    assert added["internal_before"] == {str(teachers.id): False, str(parents.id): False}
    assert added["internal_after"] == {str(teachers.id): True, str(parents.id): True}


def test_directory_finds_people_by_name_class_and_profile_in_pages(school):
    admin = school["admin"]
    everyone = reachable(admin, per_page=500).people
    assert admin.id not in {p.id for p in everyone}
    page_one = reachable(admin, per_page=3)
    assert len(page_one.people) == 3 and page_one.has_next
    page_two = reachable(admin, per_page=3, page=2)
    assert not {p.id for p in page_one.people} & {p.id for p in page_two.people}
    in_5b = reachable(admin, class_id=school["5B"]["class"].id, per_page=500).people
    assert {p.id for p in in_5b} == {
        school["5B"][k].id for k in ("teacher", "pupil", "parent", "other_parent")
    }
    parents = reachable(admin, profile="parent", per_page=500).people
    assert parents and all(p.profile == "parent" for p in parents)
    school["4A"]["teacher"].last_name = "Zéphyrin"
    named = reachable(admin, "zéph", per_page=500).people
    assert [p.id for p in named] == [school["4A"]["teacher"].id]


def test_removed_default_rules_are_listed_and_can_be_restored(school):
    assert not restore.drift(school["school"].id)
    teachers, parents = profile_group(school, "teacher"), profile_group(school, "parent")
    rules.remove_rule(school["admin"], _rule(teachers, parents))
    assert restore.drift(school["school"].id).missing == [(teachers, parents)]
    assert len(restore.restore_defaults(school["admin"], school["school"].id).missing) == 1
    assert _rule(teachers, parents) is not None
    assert may_write(school["5B"]["teacher"], school["4A"]["parent"])


def _stored(school_id):
    found = db.session.scalars(select(Group).where(Group.school_id == school_id)).all()
    ids = {group.id for group in found}
    pairs = db.session.execute(
        select(CommunicationRule.source_group_id, CommunicationRule.target_group_id).where(
            CommunicationRule.source_group_id.in_(ids)
        )
    )
    internal = frozenset(group.id for group in found if group.internal)
    return found, RuleSet(frozenset((source, target) for source, target in pairs), internal)


def test_a_new_school_has_exactly_the_default_rule_set(school):
    found, stored = _stored(school["school"].id)
    assert stored == default_rule_set(found)
    internal = {(g.kind, g.profile) for g in found if g.internal}
    assert internal == {
        ("school_profile", "admin"),
        ("school_profile", "staff"),
        ("school_profile", "teacher"),
        ("class_profile", "pupil"),
    }


def test_restoring_the_defaults_undoes_any_experiment_and_audits_each_change(school):
    subs = groups.sub_groups(school["5B"]["class"])
    parents_4a = groups.sub_groups(school["4A"]["class"])[Profile.PARENT]
    club = groups.create_group(school["school"], GroupKind.MANUAL, "Club")
    admin = school["admin"]
    _open_both_ways(school, subs[Profile.PARENT], parents_4a)
    rules.remove_rule(admin, _rule(subs[Profile.TEACHER], subs[Profile.PARENT]))
    rules.add_rule(admin, subs[Profile.TEACHER], subs[Profile.PARENT], confirmed=True)
    rules.set_internal(admin, club, True)
    rules.set_internal(admin, subs[Profile.PUPIL], False)
    rules.add_rule(admin, club, profile_group(school, "parent"))
    last_entry = db.session.scalar(select(func.max(AuditEntry.id)))
    done = restore.restore_defaults(admin, school["school"].id)
    found, stored = _stored(school["school"].id)
    assert stored == default_rule_set(found)
    assert not restore.drift(school["school"].id)
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.id > last_entry).order_by(AuditEntry.id)
    ).all()
    assert len(entries) == len(done.extra) + len(done.switch_on) + len(done.switch_off) == 8
    assert all(entry.details["restored_default"] for entry in entries)
    switched = {
        e.details["group_id"]: (e.details["before"], e.details["after"])
        for e in entries
        if e.tag == "groups:internal:change"
    }
    assert len(switched) == 5
    assert switched[club.id] == (True, False)
    assert switched[subs[Profile.PUPIL].id] == (False, True)


def test_directory_search_ignores_case_and_accents(school):
    person = school["4A"]["parent"]
    person.first_name, person.last_name = "Émilie", "Lefèvre"
    db.session.flush()
    for typed in ("lefevre", "LEFÈVRE", "emilie lef", "Émi"):
        found = reachable(school["admin"], typed, per_page=50).people
        assert [p.id for p in found] == [person.id], typed


def test_the_directory_shows_twenty_people_a_page_and_groups_on_the_first_page_only(school):
    """The groups one may write to come first, on the first page of an unfiltered or a
    class search; choosing a profile lists people only, as the next pages do."""
    for _ in range(12):
        make.family(school["school"], school["5B"]["class"], guardians=1)
    teacher = school["5B"]["teacher"]
    first = reachable(teacher)
    assert len(first.people) == 20 and first.has_next
    parents_5b = groups.sub_groups(school["5B"]["class"])[Profile.PARENT]
    assert parents_5b.id in {g.id for g in first.groups}
    second = reachable(teacher, page=2)
    assert second.people and second.groups == []
    assert not {p.id for p in first.people} & {p.id for p in second.people}
    assert reachable(teacher, profile="parent").groups == []
    in_5b = reachable(teacher, class_id=school["5B"]["class"].id)
    assert parents_5b.id in {g.id for g in in_5b.groups}
    assert all(school["5B"]["class"].id in (g.id, g.class_id) for g in in_5b.groups)


def test_a_blocked_person_may_write_to_no_group(school):
    teacher = school["5B"]["teacher"]
    parents_5b = groups.sub_groups(school["5B"]["class"])[Profile.PARENT]
    assert may_write_to_group(teacher, parents_5b)
    accounts.block(teacher)
    assert not may_write_to_group(teacher, parents_5b)


def test_the_directorys_groups_follow_the_search_and_come_class_groups_first(school):
    """A class search lists that class's groups only; words find groups by their name; a
    class's own groups come before the school's, each set in alphabetical order."""
    teacher = school["5B"]["teacher"]
    subs_5b = groups.sub_groups(school["5B"]["class"])
    listed = reachable(teacher).groups
    kinds = [g.kind for g in listed]
    assert kinds == sorted(kinds, key=lambda kind: kind != GroupKind.CLASS_PROFILE)
    class_groups = [g for g in listed if g.kind == GroupKind.CLASS_PROFILE]
    others = [g for g in listed if g.kind != GroupKind.CLASS_PROFILE]
    assert class_groups and others
    from portal.groups.labels import label

    assert [label(g) for g in others] == sorted((label(g) for g in others), key=str.lower)
    in_4a = reachable(teacher, class_id=school["4A"]["class"].id).groups
    assert all(school["4A"]["class"].id in (g.id, g.class_id) for g in in_4a)
    assert subs_5b[Profile.PARENT].id not in {g.id for g in in_4a}
    found = reachable(teacher, "parents 5b").groups
    assert [g.id for g in found] == [subs_5b[Profile.PARENT].id]
