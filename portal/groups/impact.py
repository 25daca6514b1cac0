"""What a change of the rules does before it is saved: how many people gain the right to write
to how many others, and how many lose it (SPEC §12, the preview of a change).

Each person's reach is worked out before and after the change, and only the difference is
counted: someone still reachable through another rule, or through the internal communication of
another group, neither gains nor loses. ``reach_change`` decides, without the database; ``of``
loads what it needs. People who belong to the same groups reach the same people, so reach is
worked out once per distinct set of groups among the people concerned, not once per person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from portal.accounts.models import UNREACHABLE, User
from portal.extensions import db
from portal.groups.defaults import Changes, RuleSet
from portal.groups.models import CommunicationRule, Group, GroupMember


@dataclass(frozen=True)
class Shift:
    #: People who gain (or lose) the right to write to at least one person.
    writers: int = 0
    #: Distinct people they gain (or lose) the right to write to.
    reachable: int = 0


@dataclass(frozen=True)
class Impact:
    gain: Shift = field(default_factory=Shift)
    lose: Shift = field(default_factory=Shift)

    def __bool__(self) -> bool:
        return bool(self.gain.writers or self.lose.writers)


def _targets(rule_set: RuleSet) -> dict[int, set[int]]:
    by_source: dict[int, set[int]] = defaultdict(set)
    for source, target in rule_set.rules:
        by_source[source].add(target)
    return by_source


def reach_change(
    groups_of: dict[int, frozenset[int]],
    members: dict[int, set[int]],
    before: RuleSet,
    after: RuleSet,
) -> Impact:
    """Who gains and who loses the right to write to whom between two rule sets.

    ``groups_of`` gives the groups of each person who may write (blocked people aside);
    ``members`` the reachable members of each group (blocked people aside). A person reaches
    the members of the targets of their groups' rules and of their groups with internal
    communication on, themselves excepted (SPEC §2)."""
    targets_before, targets_after = _targets(before), _targets(after)

    def reach(signature: frozenset[int], targets: dict[int, set[int]], internal) -> set[int]:
        found: set[int] = set()
        for group_id in set().union(*(targets.get(g, ()) for g in signature)) | (
            signature & internal
        ):
            found |= members.get(group_id, set())
        return found

    by_signature: dict[frozenset[int], list[int]] = defaultdict(list)
    for person, signature in groups_of.items():
        by_signature[frozenset(signature)].append(person)
    gainers = losers = 0
    gained: set[int] = set()
    lost: set[int] = set()
    for signature, people in by_signature.items():
        was = reach(signature, targets_before, before.internal)
        will_be = reach(signature, targets_after, after.internal)
        for person in people:
            plus, minus = will_be - was - {person}, was - will_be - {person}
            gainers += bool(plus)
            losers += bool(minus)
            gained |= plus
            lost |= minus
    return Impact(Shift(gainers, len(gained)), Shift(losers, len(lost)))


def _members(group_ids: Iterable[int]) -> dict[int, set[int]]:
    """Active and inactive members of each group (blocked people reach and are reached by none)."""
    found: dict[int, set[int]] = defaultdict(set)
    rows = db.session.execute(
        select(GroupMember.group_id, GroupMember.user_id)
        .join(User, User.id == GroupMember.user_id)
        .where(GroupMember.group_id.in_(set(group_ids)), User.state.not_in(UNREACHABLE))
    )
    for group_id, user_id in rows:
        found[group_id].add(user_id)
    return found


def _groups_of(user_ids: set[int]) -> dict[int, frozenset[int]]:
    groups_of: dict[int, set[int]] = defaultdict(set)
    for group_id, user_id in db.session.execute(
        select(GroupMember.group_id, GroupMember.user_id).where(GroupMember.user_id.in_(user_ids))
    ):
        groups_of[user_id].add(group_id)
    return {user_id: frozenset(found) for user_id, found in groups_of.items()}


def of(changes: Changes) -> Impact:
    """What ``changes`` would do to the stored rules, counted over the people whose reach it
    can change: the members of the groups whose rules or internal communication change."""
    concerned = {source for source, _target in changes.added | changes.removed}
    concerned |= changes.internal_on | changes.internal_off
    senders = set().union(*_members(concerned).values())
    if not senders:
        return Impact()
    groups_of = _groups_of(senders)
    all_groups = set().union(*groups_of.values())
    stored_rules = db.session.execute(
        select(CommunicationRule.source_group_id, CommunicationRule.target_group_id).where(
            CommunicationRule.source_group_id.in_(all_groups)
        )
    )
    before = RuleSet(
        frozenset((source, target) for source, target in stored_rules),
        frozenset(
            db.session.scalars(
                select(Group.id).where(Group.id.in_(all_groups), Group.internal.is_(True))
            )
        ),
    )
    after = changes.apply_to(before)
    reached = {target for _source, target in before.rules | after.rules}
    members = _members(reached | before.internal | after.internal)
    return reach_change(groups_of, members, before, after)


def of_rule(
    source: Group, target: Group, *, adding: bool, opened_internal: Iterable[Group] = ()
) -> Impact:
    """Adding (or removing) 'source -> target', with the groups whose internal communication
    the new rule turns on."""
    rule = frozenset({(source.id, target.id)})
    if not adding:
        return of(Changes(removed=rule))
    return of(Changes(added=rule, internal_on=frozenset(g.id for g in opened_internal)))


def of_internal(group: Group, internal: bool) -> Impact:
    """Turning the group's internal communication on (or off)."""
    switched = frozenset({group.id})
    return of(Changes(internal_on=switched) if internal else Changes(internal_off=switched))


@dataclass
class Reason:
    """Why a person may write to another: a rule between two of their groups, or a group they
    share with internal communication on."""

    source: Group
    target: Group | None  # None: internal communication of ``source``


def why(sender: User, recipient: User) -> list[Reason]:
    """Every rule that lets ``sender`` write to ``recipient``; empty when none does."""
    if recipient.state in UNREACHABLE or sender.id == recipient.id:
        return []
    mine = select(GroupMember.group_id).where(GroupMember.user_id == sender.id)
    theirs = select(GroupMember.group_id).where(GroupMember.user_id == recipient.id)
    reasons = [
        Reason(rule.source, rule.target)
        for rule in db.session.scalars(
            select(CommunicationRule).where(
                CommunicationRule.source_group_id.in_(mine),
                CommunicationRule.target_group_id.in_(theirs),
            )
        )
    ]
    reasons += [
        Reason(group, None)
        for group in db.session.scalars(
            select(Group).where(Group.id.in_(mine), Group.id.in_(theirs), Group.internal.is_(True))
        )
    ]
    return reasons
