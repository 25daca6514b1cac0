"""What a rule change does before it is saved: how many people gain or lose the right to write
to how many others (SPEC §12, 'why can A write to B?' and the preview of a change).

People who belong to the same groups reach the same people, so reach is worked out once per
distinct set of groups among the people concerned, not once per person.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from portal.accounts.models import UNREACHABLE, User
from portal.extensions import db
from portal.groups.models import CommunicationRule, Group, GroupMember


@dataclass
class Impact:
    #: People whose directory changes.
    writers: int
    #: Distinct people they gain (or lose) the right to write to.
    reachable: int


def _members(group_ids: set[int]) -> dict[int, set[int]]:
    """Active and inactive members of each group (blocked people reach and are reached by none)."""
    found: dict[int, set[int]] = defaultdict(set)
    rows = db.session.execute(
        select(GroupMember.group_id, GroupMember.user_id)
        .join(User, User.id == GroupMember.user_id)
        .where(GroupMember.group_id.in_(group_ids), User.state.not_in(UNREACHABLE))
    )
    for group_id, user_id in rows:
        found[group_id].add(user_id)
    return found


def _signatures(user_ids: set[int]) -> dict[frozenset[int], set[int]]:
    groups_of: dict[int, set[int]] = defaultdict(set)
    for group_id, user_id in db.session.execute(
        select(GroupMember.group_id, GroupMember.user_id).where(GroupMember.user_id.in_(user_ids))
    ):
        groups_of[user_id].add(group_id)
    signatures: dict[frozenset[int], set[int]] = defaultdict(set)
    for user_id, group_ids in groups_of.items():
        signatures[frozenset(group_ids)].add(user_id)
    return signatures


def _targets(signature: frozenset[int], rules: set[tuple[int, int]], internal: set[int]):
    return {t for s, t in rules if s in signature} | (signature & internal)


def rule_change(
    source: Group, target: Group, *, adding: bool, opened_internal: list[Group] = ()
) -> Impact:
    """The effect of adding (or removing) 'source -> target', with the groups whose internal
    communication the change turns on."""
    concerned = {source.id, target.id}
    writers = _members(concerned)
    senders = set(writers[source.id])
    for group in opened_internal:
        senders |= writers[group.id]
    if not senders:
        return Impact(0, 0)
    signatures = _signatures(senders)
    all_groups = set().union(*signatures)
    rules = {
        (source_id, target_id)
        for source_id, target_id in db.session.execute(
            select(CommunicationRule.source_group_id, CommunicationRule.target_group_id).where(
                CommunicationRule.source_group_id.in_(all_groups)
            )
        )
    }
    internal = set(
        db.session.scalars(
            select(Group.id).where(Group.id.in_(all_groups), Group.internal.is_(True))
        )
    )
    change = {(source.id, target.id)}
    before_rules, after_rules = (
        (rules - change, rules | change) if adding else (rules, rules - change)
    )
    after_internal = internal | {group.id for group in opened_internal}
    reach_cache = _members(
        set().union(*(_targets(sig, rules | change, after_internal) for sig in signatures))
    )

    def reach(signature, rule_set, internal_set) -> set[int]:
        found: set[int] = set()
        for group_id in _targets(signature, rule_set, internal_set):
            found |= reach_cache.get(group_id, set())
        return found

    changed_writers, changed_recipients = 0, set()
    for signature, people in signatures.items():
        before = reach(signature, before_rules, internal)
        after = reach(signature, after_rules, after_internal)
        difference = (after - before) if adding else (before - after)
        for person in people:
            mine = difference - {person}
            if mine:
                changed_writers += 1
                changed_recipients |= mine
    return Impact(changed_writers, len(changed_recipients))


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
