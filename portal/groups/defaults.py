"""The communication rules a new school starts with (SPEC §2), as a pure function of its groups,
and what separates a school's stored rules from them.

A school's rules are a ``RuleSet``: the rules 'source -> target' between groups, and the groups
whose internal communication is on. ``default_rule_set`` says what a new school with the same
groups has; setting a school up and 'restore defaults' both write exactly that, so the two can
never drift apart. No database here: the services load and write, this module decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from portal.accounts.models import Profile
from portal.groups.models import Group, GroupKind

#: SPEC §2 defaults of a school, by profile group. Direction and staff reach everyone; teachers
#: reach everyone too (the 'school-wide teacher rule' that seed 003 removes to limit teachers
#: to their own classes); parents reach the direction. A profile listed for itself is internal.
SCHOOL_DEFAULTS = {
    Profile.ADMIN: (Profile.ADMIN, Profile.TEACHER, Profile.STAFF, Profile.PARENT, Profile.PUPIL),
    Profile.STAFF: (Profile.ADMIN, Profile.TEACHER, Profile.STAFF, Profile.PARENT, Profile.PUPIL),
    Profile.TEACHER: (Profile.ADMIN, Profile.TEACHER, Profile.STAFF, Profile.PARENT, Profile.PUPIL),
    Profile.PARENT: (Profile.ADMIN,),
}
#: Per class: teachers <-> pupils, teachers -> parents, parents -> teachers. Pupils of a class
#: write to each other (internal communication); nobody else of the class does by default.
CLASS_DEFAULTS = (
    (Profile.TEACHER, Profile.PUPIL),
    (Profile.PUPIL, Profile.TEACHER),
    (Profile.TEACHER, Profile.PARENT),
    (Profile.PARENT, Profile.TEACHER),
)
CLASS_INTERNAL = (Profile.PUPIL,)


@dataclass(frozen=True)
class RuleSet:
    """Who may write to whom, said with groups: every member of a rule's source may write to
    every member of its target, and members of a group in ``internal`` to each other."""

    rules: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    internal: frozenset[int] = field(default_factory=frozenset)


def default_rule_set(groups: Iterable[Group]) -> RuleSet:
    """The rules and internal communication a new school has between ``groups`` (any of its
    groups, or a few of them: the defaults between those present). Archived groups, of a past
    school year, have none; manual and teaching groups and broadcast lists have none either."""
    profile_groups: dict[tuple[int, Profile], Group] = {}
    classes: dict[int, dict[Profile, Group]] = {}
    for group in groups:
        if group.archived_at is not None:
            continue
        if group.kind == GroupKind.SCHOOL_PROFILE:
            profile_groups[(group.school_id, group.profile)] = group
        elif group.kind == GroupKind.CLASS_PROFILE:
            classes.setdefault(group.class_id, {})[group.profile] = group
    rules, internal = set(), set()

    def add(source: Group | None, target: Group | None) -> None:
        if source is None or target is None:
            return
        if source.id == target.id:
            internal.add(source.id)
        else:
            rules.add((source.id, target.id))

    for (school_id, profile), source in profile_groups.items():
        for target_profile in SCHOOL_DEFAULTS.get(profile, ()):
            add(source, profile_groups.get((school_id, target_profile)))
    for subs in classes.values():
        for source_profile, target_profile in CLASS_DEFAULTS:
            add(subs.get(source_profile), subs.get(target_profile))
        for profile in CLASS_INTERNAL:
            add(subs.get(profile), subs.get(profile))
    return RuleSet(frozenset(rules), frozenset(internal))


def default_both_ways(first: Group, second: Group) -> bool:
    """Does a new school open rules in both directions between these two groups (the teachers
    and the parents of a class, say)? Such a pair turns no internal communication on there."""
    rules = default_rule_set((first, second)).rules
    return (first.id, second.id) in rules and (second.id, first.id) in rules


@dataclass(frozen=True)
class Changes:
    """What turns one RuleSet into another: rules to add and to remove, groups whose internal
    communication turns on and off."""

    added: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    removed: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    internal_on: frozenset[int] = field(default_factory=frozenset)
    internal_off: frozenset[int] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.internal_on or self.internal_off)

    def apply_to(self, rule_set: RuleSet) -> RuleSet:
        return RuleSet(
            (rule_set.rules - self.removed) | self.added,
            (rule_set.internal - self.internal_off) | self.internal_on,
        )


def changes_between(current: RuleSet, wanted: RuleSet) -> Changes:
    return Changes(
        added=wanted.rules - current.rules,
        removed=current.rules - wanted.rules,
        internal_on=wanted.internal - current.internal,
        internal_off=current.internal - wanted.internal,
    )
