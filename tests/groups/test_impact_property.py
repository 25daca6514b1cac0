"""The preview of a change counts who gains and who loses the right to write to whom exactly as a
brute-force model over every pair of people does (SPEC §12): someone still reachable another way
neither gains nor loses. Pure: no database."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.groups.defaults import RuleSet
from portal.groups.impact import Impact, Shift, reach_change

PEOPLE, GROUPS = 6, 4

rule_sets = st.builds(
    RuleSet,
    st.frozensets(
        st.tuples(st.integers(0, GROUPS - 1), st.integers(0, GROUPS - 1)).filter(
            lambda pair: pair[0] != pair[1]
        )
    ),
    st.frozensets(st.integers(0, GROUPS - 1)),
)
worlds = st.fixed_dictionaries(
    {
        "membership": st.lists(
            st.sets(st.integers(0, PEOPLE - 1)), min_size=GROUPS, max_size=GROUPS
        ),
        "blocked": st.sets(st.integers(0, PEOPLE - 1)),
        "before": rule_sets,
        "after": rule_sets,
    }
)


def writes(world, rule_set: RuleSet, sender: int, recipient: int) -> bool:
    if sender == recipient or {sender, recipient} & world["blocked"]:
        return False
    member = world["membership"]
    return any(
        sender in member[source] and recipient in member[target]
        for source, target in rule_set.rules
    ) or any(sender in member[g] and recipient in member[g] for g in rule_set.internal)


def brute_force(world) -> Impact:
    pairs = [(s, r) for s in range(PEOPLE) for r in range(PEOPLE)]
    gained = [
        (s, r)
        for s, r in pairs
        if writes(world, world["after"], s, r) and not writes(world, world["before"], s, r)
    ]
    lost = [
        (s, r)
        for s, r in pairs
        if writes(world, world["before"], s, r) and not writes(world, world["after"], s, r)
    ]
    return Impact(
        Shift(len({s for s, _ in gained}), len({r for _, r in gained})),
        Shift(len({s for s, _ in lost}), len({r for _, r in lost})),
    )


@settings(max_examples=200, deadline=None)
@given(world=worlds)
def test_gain_and_loss_agree_with_the_brute_force_model(world):
    reachable = [p for p in range(PEOPLE) if p not in world["blocked"]]
    groups_of = {
        person: frozenset(g for g, members in enumerate(world["membership"]) if person in members)
        for person in reachable
    }
    members = {g: set(members) - world["blocked"] for g, members in enumerate(world["membership"])}
    assert reach_change(groups_of, members, world["before"], world["after"]) == brute_force(world)
