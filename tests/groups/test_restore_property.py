"""Whatever an admin does to a school's rules, 'restore defaults' gives back a new school: for any
sequence of rule changes, who may write to whom (over every pair of people) is then what it was
when the school was made, and the stored rules are the defaults (SPEC §2)."""

from __future__ import annotations

from contextlib import suppress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.accounts.models import Profile
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups import restore, rules
from portal.groups import services as groups
from portal.groups.defaults import default_rule_set
from portal.groups.models import CommunicationRule, Group, GroupKind
from portal.groups.reachability import refused_recipients
from tests import factories as make

pytestmark = pytest.mark.usefixtures("db_ctx")

#: The school below has 5 profile groups, 2 classes of 1 + 3 groups, and a manual group.
GROUPS = 14
group_index = st.integers(0, GROUPS - 1)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), group_index, group_index, st.booleans()),
        st.tuples(st.just("remove"), st.integers(0, 40)),
        st.tuples(st.just("re-add a default"), st.integers(0, 40)),
        st.tuples(st.just("internal"), group_index, st.booleans()),
        st.just(("restore",)),
    ),
    max_size=12,
)


def build():
    """A school with 5B and 4A (a teacher, a pupil and two guardians each), direction, staff,
    and a manual group of a teacher and a parent of different classes."""
    school = make.school()
    people = [make.user(school, "admin"), make.user(school, "staff")]
    for name in ("5B", "4A"):
        teacher = make.user(school, "teacher")
        class_group = make.school_class(school, name, teacher)
        pupil, parents = make.family(school, class_group)
        people += [teacher, pupil, *parents]
    club = groups.create_group(school, GroupKind.MANUAL, "Club")
    groups.add_member(club, people[2])
    groups.add_member(club, people[-1])
    found = db.session.scalars(
        select(Group).where(Group.school_id == school.id).order_by(Group.id)
    ).all()
    assert len(found) == GROUPS
    return school, people, found


def who_writes_to_whom(people) -> set[tuple[int, int]]:
    ids = [person.id for person in people]
    return {
        (sender.id, recipient)
        for sender in people
        for recipient in set(ids) - set(refused_recipients(sender, ids))
    }


def run(admin, school, found, operation) -> None:
    kind, *args = operation
    if kind == "add":
        source, target, confirmed = found[args[0]], found[args[1]], args[2]
        rules.add_rule(admin, source, target, confirmed=confirmed)
    elif kind == "remove":
        stored = db.session.scalars(
            select(CommunicationRule)
            .where(CommunicationRule.source_group_id.in_([g.id for g in found]))
            .order_by(CommunicationRule.id)
        ).all()
        if stored:
            rules.remove_rule(admin, stored[args[0] % len(stored)])
    elif kind == "re-add a default":
        defaults = sorted(default_rule_set(found).rules)
        source, target = defaults[args[0] % len(defaults)]
        by_id = {group.id: group for group in found}
        rules.add_rule(admin, by_id[source], by_id[target], confirmed=True)
    elif kind == "internal":
        rules.set_internal(admin, found[args[0]], args[1])
    else:
        restore.restore_defaults(admin, school.id)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=operations)
def test_restoring_the_defaults_after_any_changes_gives_back_a_new_schools_reach(sequence):
    try:
        school, people, found = build()
        admin = people[0]
        assert admin.profile == Profile.ADMIN
        new_school = who_writes_to_whom(people)
        for operation in sequence:
            with suppress(ValidationError):  # refused before anything changed, as on screen
                run(admin, school, found, operation)
        restore.restore_defaults(admin, school.id)
        assert who_writes_to_whom(people) == new_school
        assert not restore.drift(school.id)
    finally:
        db.session.rollback()
