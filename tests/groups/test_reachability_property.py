"""For random groups, memberships and rules, every answer of the reachability service agrees with
a brute-force model written plainly here (SPEC §2).

The groups are manual groups written as rows, manual groups and broadcast lists made through
the direction's screens (portal.groups.manage), some of them deleted once the rules are set.
In the model a deleted group is gone (no members, no rules, no internal communication) and a
broadcast list lets nobody write through it and never has internal communication. Saved
recipient lists are checked again when the world changes after they were saved."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.accounts.models import AccountState, Profile, User
from portal.accounts.services import block
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups import manage, rules, saved
from portal.groups.models import CommunicationRule, Group, GroupKind, GroupMember
from portal.groups.reachability import may_write, may_write_to_group, reachable, refused_recipients
from tests import factories as make

pytestmark = pytest.mark.usefixtures("db_ctx")

PEOPLE, GROUPS = 7, 5
#: How a group of the world is made: a manual group written as a row, a manual group or a
#: broadcast list of parents made through manage.create and filled through manage.add_people.
ROW, MANUAL, BROADCAST_LIST = "row", "manual", "broadcast_list"

worlds = st.fixed_dictionaries(
    {
        "blocked": st.lists(st.booleans(), min_size=PEOPLE, max_size=PEOPLE),
        "kind": st.lists(
            st.sampled_from((ROW, MANUAL, BROADCAST_LIST)), min_size=GROUPS, max_size=GROUPS
        ),
        "membership": st.lists(
            st.sets(st.integers(0, PEOPLE - 1), max_size=PEOPLE),
            min_size=GROUPS,
            max_size=GROUPS,
        ),
        "internal": st.lists(st.booleans(), min_size=GROUPS, max_size=GROUPS),
        "rules": st.sets(st.tuples(st.integers(0, GROUPS - 1), st.integers(0, GROUPS - 1))),
        # Deleted through manage.delete_group once the rules are set.
        "deleted": st.sets(st.integers(0, GROUPS - 1), max_size=2),
    }
)

#: A saved list: its owner (not blocked when saving) picks the people and groups in reach but
#: those named here, then a group is deleted and a person blocked.
savings = st.fixed_dictionaries(
    {
        "owner": st.integers(0, PEOPLE - 1),
        "people_not_picked": st.sets(st.integers(0, PEOPLE - 1), max_size=3),
        "groups_not_picked": st.sets(st.integers(0, GROUPS - 1), max_size=2),
        "then_deleted": st.integers(0, GROUPS - 1),
        "then_blocked": st.integers(0, PEOPLE - 1),
    }
)


def in_force(world) -> dict:
    """What of the world counts: a deleted group has no members, no rule from or to it and no
    internal communication; no rule from a broadcast list, no internal communication in one."""
    gone = world["deleted"]
    lists = {g for g in range(GROUPS) if world["kind"][g] == BROADCAST_LIST}
    return {
        "blocked": world["blocked"],
        "membership": [set() if g in gone else world["membership"][g] for g in range(GROUPS)],
        "internal": [
            world["internal"][g] and g not in gone and g not in lists for g in range(GROUPS)
        ],
        "rules": {
            (source, target)
            for source, target in world["rules"]
            if source not in lists and source not in gone and target not in gone
        },
    }


def brute_force(model, sender: int, recipient: int) -> bool:
    if sender == recipient or model["blocked"][recipient] or model["blocked"][sender]:
        return False
    member = model["membership"]
    for source, target in model["rules"]:
        if source != target and sender in member[source] and recipient in member[target]:
            return True
    return any(
        model["internal"][g] and sender in member[g] and recipient in member[g]
        for g in range(GROUPS)
    ) or any(
        source == target and sender in member[source] and recipient in member[source]
        for source, target in model["rules"]
    )


def writable_groups(model, sender: int) -> set[int]:
    """The groups the sender may write to as a whole: targets of a rule from one of their
    groups, and their own groups with internal communication (a rule to itself is that)."""
    if model["blocked"][sender]:
        return set()
    member = model["membership"]
    return {target for source, target in model["rules"] if sender in member[source]} | {
        g for g in range(GROUPS) if model["internal"][g] and sender in member[g]
    }


def build(world) -> tuple[User, list[User], list[Group]]:
    """The world in a new school, with the admin who made its groups (a member of the school's
    direction only, so no rule of the world reaches it)."""
    school = make.school()
    admin = make.user(school, "admin")
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
    db.session.flush()
    groups = []
    for g, kind in enumerate(world["kind"]):
        if kind == ROW:
            group = Group(school_id=school.id, kind=GroupKind.MANUAL, name=f"G{g}")
            db.session.add(group)
            db.session.flush()
            db.session.add_all(
                GroupMember(group_id=group.id, user_id=people[n].id) for n in world["membership"][g]
            )
        else:
            if kind == MANUAL:
                group = manage.create(admin, school, GroupKind.MANUAL, f"G{g}")
            else:
                group = manage.create(
                    admin, school, GroupKind.BROADCAST_LIST, f"G{g}", profile=Profile.PARENT
                )
            manage.add_people(admin, group, [people[n] for n in sorted(world["membership"][g])])
        groups.append(group)
    for g, group in enumerate(groups):
        if world["internal"][g] and world["kind"][g] == BROADCAST_LIST:
            with pytest.raises(ValidationError):
                rules.check_internal(admin, group, True)
        elif world["internal"][g]:
            group.internal = True
    for source, target in world["rules"]:
        if world["kind"][source] == BROADCAST_LIST:
            with pytest.raises(ValidationError):
                rules.add_rule(admin, groups[source], groups[target], confirmed=True)
        elif source == target:
            groups[source].internal = True
        else:
            db.session.add(
                CommunicationRule(
                    source_group_id=groups[source].id, target_group_id=groups[target].id
                )
            )
    db.session.flush()
    for g in sorted(world["deleted"]):
        manage.delete_group(admin, groups[g])
    return admin, people, groups


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(world=worlds)
def test_may_write_directory_and_send_check_agree_with_the_brute_force_model(world):
    """People: may_write, the directory (every page) and the send check; groups: the directory
    and may_write_to_group. Deleted groups count for nothing and the directory never shows
    one; broadcast lists are never a way to write."""
    try:
        _admin, people, groups = build(world)
        model = in_force(world)
        ids = [person.id for person in people]
        group_ids = [group.id for group in groups]
        deleted_ids = {group_ids[g] for g in world["deleted"]}
        for s, sender in enumerate(people):
            expected = {ids[r] for r in range(PEOPLE) if brute_force(model, s, r)}
            expected_groups = {group_ids[g] for g in writable_groups(model, s)}
            assert {ids[r] for r, person in enumerate(people) if may_write(sender, person)} == (
                expected
            )
            assert {g.id for g in groups if may_write_to_group(sender, g)} == expected_groups
            if not world["blocked"][s]:
                directory = reachable(sender, per_page=PEOPLE + 1)
                assert {person.id for person in directory.people} == expected
                assert not {group.id for group in directory.groups} & deleted_ids
                assert {group.id for group in directory.groups} == expected_groups
                paged = [
                    p.id
                    for page in (1, 2, 3, 4)
                    for p in reachable(sender, per_page=2, page=page).people
                ]
                assert sorted(paged) == sorted(expected)  # pages cover it once each
            assert set(refused_recipients(sender, ids)) == set(ids) - expected
    finally:
        db.session.rollback()


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(world=worlds, saving=savings)
def test_a_saved_list_expands_to_what_the_model_still_allows_after_the_world_changes(world, saving):
    """A list is saved only of people and groups in reach; after a group is deleted and a
    person blocked, it expands to exactly the people and groups the model still allows, and
    names each of the others as left out."""
    o = saving["owner"]
    world = {**world, "blocked": [b and n != o for n, b in enumerate(world["blocked"])]}
    try:
        admin, people, groups = build(world)
        model = in_force(world)
        ids = [person.id for person in people]
        group_ids = [group.id for group in groups]
        owner = people[o]
        people_in_reach = {r for r in range(PEOPLE) if brute_force(model, o, r)}
        picked_people = sorted(people_in_reach - saving["people_not_picked"])
        picked_groups = sorted(writable_groups(model, o) - saving["groups_not_picked"])
        tokens = [f"user:{ids[r]}" for r in picked_people] + [
            f"group:{group_ids[g]}" for g in picked_groups
        ]
        out_of_reach = sorted(set(range(PEOPLE)) - people_in_reach)  # the owner at least
        with pytest.raises(ValidationError):
            saved.save(owner, "Out of reach", [*tokens, f"user:{ids[out_of_reach[0]]}"])
        if not tokens:
            with pytest.raises(ValidationError):
                saved.save(owner, "Nobody", tokens)
            return
        saved_list = saved.save(owner, "Mine", tokens)
        # The world changes after the list was saved: the list itself stays as it was.
        if saving["then_deleted"] not in world["deleted"]:
            manage.delete_group(admin, groups[saving["then_deleted"]])
        block(people[saving["then_blocked"]])
        blocked = list(world["blocked"])
        blocked[saving["then_blocked"]] = True
        later = in_force(
            {**world, "blocked": blocked, "deleted": world["deleted"] | {saving["then_deleted"]}}
        )
        expanded = saved.expand(owner, saved_list)
        still_people = [r for r in picked_people if brute_force(later, o, r)]
        still_groups = [g for g in picked_groups if g in writable_groups(later, o)]
        assert {user.id for user in expanded.users} == {ids[r] for r in still_people}
        assert {group.id for group in expanded.groups} == {group_ids[g] for g in still_groups}
        assert len(expanded.left_out) == (
            len(picked_people) + len(picked_groups) - len(still_people) - len(still_groups)
        )
        assert set(refused_recipients(owner, ids)) == {
            ids[r] for r in range(PEOPLE) if not brute_force(later, o, r)
        }
    finally:
        db.session.rollback()
