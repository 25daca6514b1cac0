"""Back to a new school's rules (SPEC §2): what separates a school's stored rules and internal
communication from the defaults, and 'restore defaults', which writes exactly the defaults.

Whatever an admin tried before (rules opened both ways that turned internal communication on,
default rules removed and added again, groups opened by hand), restoring gives the school the
rules of a new school with the same groups: the default rules, no other rule between its
groups, internal communication on where a new school has it and off everywhere else. Rules to
or from another school's groups are the webmaster's (SPEC §2) and are left as they are.

Nothing here is remembered between requests: every answer is read from the stored rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.core.audit import AuditTag, record
from portal.core.i18n import deferred
from portal.extensions import db
from portal.groups import rules
from portal.groups.defaults import Changes, RuleSet, changes_between, default_rule_set
from portal.groups.labels import label
from portal.groups.models import CommunicationRule, Group
from portal.groups.permissions import can_manage_rules


@dataclass
class Drift:
    """How a school's stored rules differ from a new school's, with the groups to name them."""

    #: Default rules the school lacks, as (source, target).
    missing: list[tuple[Group, Group]] = field(default_factory=list)
    #: Rules between the school's groups that a new school doesn't have.
    extra: list[CommunicationRule] = field(default_factory=list)
    #: Groups whose internal communication is on where a new school has it off...
    switch_off: list[Group] = field(default_factory=list)
    #: ...and off where a new school has it on.
    switch_on: list[Group] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)

    @property
    def defaults_in_place(self) -> bool:
        """Every default rule is there and every group's internal communication is as in a new
        school (rules added beside the defaults don't change that)."""
        return not (self.missing or self.switch_off or self.switch_on)

    @property
    def extra_pairs(self) -> list[tuple[Group, Group]]:
        return [(rule.source, rule.target) for rule in self.extra]

    def __bool__(self) -> bool:
        return bool(self.changes)


#: The notification text of an earlier version, kept in the catalogs for the notifications
#: already stored with it (they are read in each reader's language when shown).
EARLIER_TEXTS = (deferred("Default rules restored: %(num)d"),)


def _school_groups(school_id: int) -> dict[int, Group]:
    found = db.session.scalars(
        select(Group).where(Group.school_id == school_id).options(joinedload(Group.school_class))
    ).all()
    return {group.id: group for group in found}


def _school_rules(school_id: int) -> list[CommunicationRule]:
    """The rules between two groups of the school (rules across schools aside)."""
    school_groups = select(Group.id).where(Group.school_id == school_id)
    return list(
        db.session.scalars(
            select(CommunicationRule)
            .where(
                CommunicationRule.source_group_id.in_(school_groups),
                CommunicationRule.target_group_id.in_(school_groups),
            )
            .order_by(CommunicationRule.id)
        )
    )


def drift(school_id: int) -> Drift:
    """What separates the school's stored rules and internal communication from the defaults."""
    groups = _school_groups(school_id)
    stored_rules = _school_rules(school_id)
    stored = RuleSet(
        frozenset((rule.source_group_id, rule.target_group_id) for rule in stored_rules),
        frozenset(group_id for group_id, group in groups.items() if group.internal),
    )
    changes = changes_between(stored, default_rule_set(groups.values()))

    def by_label(found: list[Group]) -> list[Group]:
        return sorted(found, key=lambda group: label(group).lower())

    return Drift(
        missing=sorted(
            ((groups[source], groups[target]) for source, target in changes.added),
            key=lambda pair: (label(pair[0]).lower(), label(pair[1]).lower()),
        ),
        extra=[
            rule
            for rule in stored_rules
            if (rule.source_group_id, rule.target_group_id) in changes.removed
        ],
        switch_off=by_label([groups[group_id] for group_id in changes.internal_off]),
        switch_on=by_label([groups[group_id] for group_id in changes.internal_on]),
        changes=changes,
    )


def restore_defaults(actor: User, school_id: int) -> Drift:
    """Give the school exactly a new school's rules and internal communication; returns what
    it changed. Each change is audited with its before and after, and the school's other admins
    are told once. Raises PermissionError for someone who may not manage the school's rules."""
    found = drift(school_id)
    for source, target in found.missing:
        _check(actor, source, target)
    for rule in found.extra:
        _check(actor, rule.source, rule.target)
    for group in found.switch_off + found.switch_on:
        _check(actor, group, group)
    for source, target in found.missing:
        db.session.add(CommunicationRule(source_group_id=source.id, target_group_id=target.id))
        record(
            actor,
            AuditTag.RULE_ADDED,
            school_id,
            **rules.rule_details(source, target),
            restored_default=True,
        )
    for rule in found.extra:
        details = rules.rule_details(rule.source, rule.target)
        db.session.delete(rule)
        record(actor, AuditTag.RULE_REMOVED, school_id, **details, restored_default=True)
    for group in found.switch_off + found.switch_on:
        before = group.internal
        group.internal = not before
        record(
            actor,
            AuditTag.INTERNAL_CHANGED,
            school_id,
            group_id=group.id,
            before=before,
            after=not before,
            restored_default=True,
        )
    db.session.flush()
    if found:
        rules.tell_other_admins(
            actor,
            school_id,
            deferred(
                "Communication rules put back to those of a new school (rules added: %(added)d, "
                "removed: %(removed)d; groups whose internal communication changed: "
                "%(switched)d)",
                added=len(found.missing),
                removed=len(found.extra),
                switched=len(found.switch_off) + len(found.switch_on),
            ),
        )
    return found


def _check(actor: User, source: Group, target: Group) -> None:
    if not can_manage_rules(actor, source, target):
        raise PermissionError("another school's rules")
