"""For random groups, memberships and rules, every answer of the reachability service agrees with
a brute-force model written plainly here (SPEC §2)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.accounts.models import AccountState, Profile, User
from portal.extensions import db
from portal.groups.models import CommunicationRule, Group, GroupKind, GroupMember
from portal.groups.reachability import may_write, reachable, refused_recipients
from tests import factories as make

pytestmark = pytest.mark.usefixtures("db_ctx")

PEOPLE, GROUPS = 7, 5

worlds = st.fixed_dictionaries(
    {
        "blocked": st.lists(st.booleans(), min_size=PEOPLE, max_size=PEOPLE),
        "membership": st.lists(
            st.sets(st.integers(0, PEOPLE - 1), max_size=PEOPLE),
            min_size=GROUPS,
            max_size=GROUPS,
        ),
        "internal": st.lists(st.booleans(), min_size=GROUPS, max_size=GROUPS),
        "rules": st.sets(st.tuples(st.integers(0, GROUPS - 1), st.integers(0, GROUPS - 1))),
    }
)


def brute_force(world, sender: int, recipient: int) -> bool:
    if sender == recipient or world["blocked"][recipient] or world["blocked"][sender]:
        return False
    member = world["membership"]
    for source, target in world["rules"]:
        if source != target and sender in member[source] and recipient in member[target]:
            return True
    return any(
        world["internal"][g] and sender in member[g] and recipient in member[g]
        for g in range(GROUPS)
    ) or any(
        source == target and sender in member[source] and recipient in member[source]
        for source, target in world["rules"]
    )


def build(world) -> list[User]:
    school = make.school()
    people = []
    for n in range(PEOPLE):
        person = User(
            school_id=school.id,
            profile=Profile.PARENT,
            first_name=f"P{n}",
            last_name=f"Person{n:02d}",
            login=f"p{n}.{school.id}",
            state=AccountState.BLOCKED if world["blocked"][n] else AccountState.ACTIVE,
        )
        db.session.add(person)
        people.append(person)
    groups = [
        Group(
            school_id=school.id, kind=GroupKind.MANUAL, name=f"G{g}", internal=world["internal"][g]
        )
        for g in range(GROUPS)
    ]
    db.session.add_all(groups)
    db.session.flush()
    for g, members in enumerate(world["membership"]):
        db.session.add_all(
            GroupMember(group_id=groups[g].id, user_id=people[n].id) for n in members
        )
    for source, target in world["rules"]:
        if source == target:
            groups[source].internal = True
        else:
            db.session.add(
                CommunicationRule(
                    source_group_id=groups[source].id, target_group_id=groups[target].id
                )
            )
    db.session.flush()
    return people


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(world=worlds)
def test_may_write_directory_and_send_check_agree_with_the_brute_force_model(world):
    try:
        people = build(world)
        ids = [person.id for person in people]
        for s, sender in enumerate(people):
            expected = {ids[r] for r in range(PEOPLE) if brute_force(world, s, r)}
            assert {ids[r] for r, person in enumerate(people) if may_write(sender, person)} == (
                expected
            )
            if not world["blocked"][s]:
                listed = reachable(sender, per_page=PEOPLE + 1).people
                assert {person.id for person in listed} == expected
                paged = [
                    p.id
                    for page in (1, 2, 3, 4)
                    for p in reachable(sender, per_page=2, page=page).people
                ]
                assert sorted(paged) == sorted(expected)  # pages cover it once each
            assert set(refused_recipients(sender, ids)) == set(ids) - expected
    finally:
        db.session.rollback()
