"""Communication rules between groups and internal communication (SPEC §2, seed 003).

A rule 'A -> B' lets every member of A start a conversation with every member of B. A group's
internal communication lets its members write to each other; a rule from a group to itself is
stored as that flag. Opening the second direction between two groups (A -> B when B -> A exists)
turns internal communication on for both, as the seed describes: the admin confirms it first,
and internal communication can't be removed from a group while both directions stay open.

The school's defaults (portal/groups/defaults.py) are written as the platform sets them up, not
as an admin's confirmed change: the per-class rules between teachers and parents go both ways,
yet parents of a class don't write to each other until someone opens it (seed 003: BCC is how a
teacher keeps them apart, and it only makes sense if they can't reach each other otherwise).
Such a default pair therefore never holds internal communication on: once the admin closes one
direction of the pair that opened it, internal communication can be switched off again.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from portal.accounts.models import Profile, User
from portal.core.audit import AuditTag, record
from portal.core.errors import ValidationError
from portal.core.i18n import deferred
from portal.extensions import db
from portal.groups.defaults import default_both_ways, default_rule_set
from portal.groups.labels import label, label_words
from portal.groups.models import CommunicationRule, Group, GroupKind
from portal.groups.permissions import can_manage_rules
from portal.notifications.services import tell_admins


def _exists(source_id: int, target_id: int) -> CommunicationRule | None:
    return db.session.scalar(
        select(CommunicationRule).where(
            CommunicationRule.source_group_id == source_id,
            CommunicationRule.target_group_id == target_id,
        )
    )


def _insert(source: Group, target: Group) -> None:
    if source.id == target.id:
        source.internal = True
    elif _exists(source.id, target.id) is None:
        db.session.add(CommunicationRule(source_group_id=source.id, target_group_id=target.id))
    db.session.flush()


def _write_defaults(groups: list[Group]) -> None:
    """Give new groups the rules and internal communication a new school has between them."""
    wanted = default_rule_set(groups)
    for group in groups:
        group.internal = group.id in wanted.internal
    db.session.add_all(
        CommunicationRule(source_group_id=source_id, target_group_id=target_id)
        for source_id, target_id in sorted(wanted.rules)
    )
    db.session.flush()


def apply_school_defaults(profile_groups: dict[Profile, Group]) -> None:
    _write_defaults(list(profile_groups.values()))


def apply_class_defaults(sub_groups: dict[Profile, Group]) -> None:
    _write_defaults(list(sub_groups.values()))


def internal_opened_by(source: Group, target: Group) -> list[Group]:
    """The groups whose internal communication adding 'source -> target' would turn on."""
    if source.id == target.id:
        return [] if source.internal else [source]
    if _exists(target.id, source.id) is None:
        return []
    return [group for group in (source, target) if not group.internal]


def tell_other_admins(actor: User, school_id: int, text: dict) -> None:
    """The 'action by another administrator' notification (SPEC §4): rule changes are told to
    the school's other admins, grouped over the hour."""
    tell_admins("admin_action", school_id, "rules", {"text": text, "url": "/rules/"}, actor)


def rule_details(rule_source: Group, rule_target: Group) -> dict:
    return {"source_group_id": rule_source.id, "target_group_id": rule_target.id}


def add_rule(actor: User, source: Group, target: Group, *, confirmed: bool = False) -> None:
    """Open 'source -> target'. Raises ValidationError when it exists already, when a broadcast
    list would write (its members never write through it), or when it would turn internal
    communication on and the admin has not confirmed that."""
    if not can_manage_rules(actor, source, target):
        raise PermissionError("rules across schools are set by the webmaster")
    if source.kind == GroupKind.BROADCAST_LIST:
        raise ValidationError("source", _("Members of a broadcast list can't write through it."))
    if source.id != target.id and _exists(source.id, target.id):
        raise ValidationError("target", _("This rule exists already."))
    opened = internal_opened_by(source, target)
    if opened and not confirmed:
        raise ValidationError(
            "confirm", _("Confirm: members of each group will also be able to write to each other.")
        )
    before = {str(group.id): group.internal for group in opened}  # JSON keys are strings
    _insert(source, target)
    for group in opened:
        group.internal = True
    db.session.flush()
    record(
        actor,
        AuditTag.RULE_ADDED,
        source.school_id,
        **rule_details(source, target),
        internal_before=before,
        internal_after={group_id: True for group_id in before},
    )
    tell_other_admins(
        actor,
        source.school_id,
        deferred(
            "Rule added: %(source)s may write to %(target)s",
            source=label_words(source),
            target=label_words(target),
        ),
    )


def remove_rule(actor: User, rule: CommunicationRule) -> None:
    """Close one direction. Internal communication that it had turned on stays as it is: the
    admin removes it separately, now that only one direction is open."""
    if not can_manage_rules(actor, rule.source, rule.target):
        raise PermissionError("rules across schools are set by the webmaster")
    details = rule_details(rule.source, rule.target)
    school_id = rule.source.school_id
    text = deferred(
        "Rule removed: %(source)s may no longer write to %(target)s",
        source=label_words(rule.source),
        target=label_words(rule.target),
    )
    db.session.delete(rule)
    db.session.flush()
    record(actor, AuditTag.RULE_REMOVED, school_id, **details)
    tell_other_admins(actor, school_id, text)


def both_ways_with(group: Group) -> list[Group]:
    """The groups with which ``group`` has rules in both directions."""
    outgoing = select(CommunicationRule.target_group_id).where(
        CommunicationRule.source_group_id == group.id
    )
    return list(
        db.session.scalars(
            select(Group)
            .join(CommunicationRule, CommunicationRule.source_group_id == Group.id)
            .where(
                CommunicationRule.target_group_id == group.id,
                CommunicationRule.source_group_id.in_(outgoing),
            )
        )
    )


def rule_words(rule: CommunicationRule) -> str:
    """A rule as the screens name it: 'Parents of 5B → Parents of 6A'."""
    return f"{label(rule.source)} → {label(rule.target)}"


def holding_internal(group: Group) -> list[tuple[CommunicationRule, CommunicationRule]]:
    """The pairs of rules, one each way between ``group`` and another group, that keep its
    internal communication on (SPEC §2: remove one direction first). A pair that a new school
    opens both ways (the teachers and the parents of a class) holds nothing: a new school has it
    with the parents' internal communication off, and the school can always come back there."""
    back = aliased(CommunicationRule)
    pairs = db.session.execute(
        select(CommunicationRule, back)
        .join(
            back,
            and_(
                back.source_group_id == CommunicationRule.target_group_id,
                back.target_group_id == CommunicationRule.source_group_id,
            ),
        )
        .where(CommunicationRule.source_group_id == group.id, back.source_group_id != group.id)
    ).all()
    holding = [
        (there, back_rule)
        for there, back_rule in pairs
        if not default_both_ways(there.source, there.target)
    ]
    return sorted(holding, key=lambda pair: label(pair[0].target).lower())


def check_internal(actor: User, group: Group, internal: bool) -> None:
    """Raises ValidationError, next to the 'internal' field, when the group's internal
    communication can't be set so: a broadcast list's members never write to each other, and
    turning it off is refused while rules are open in both directions, naming the rules one of
    which to remove first (seed 003)."""
    if not can_manage_rules(actor, group, group):
        raise PermissionError("another school's group")
    if group.kind == GroupKind.BROADCAST_LIST and internal:
        raise ValidationError(
            "internal", _("Members of a broadcast list never write to each other.")
        )
    holding = holding_internal(group) if group.internal and not internal else []
    if holding:
        pairs = "; ".join(
            _("%(there)s or %(back)s", there=rule_words(there), back=rule_words(back))
            for there, back in holding
        )
        raise ValidationError(
            "internal",
            ngettext(
                "Rules open in both directions keep internal communication on. Remove one of "
                "them first: %(rules)s.",
                "Rules open in both directions keep internal communication on. Remove one rule "
                "of each pair first: %(rules)s.",
                len(holding),
                rules=pairs,
            ),
        )


def set_internal(actor: User, group: Group, internal: bool) -> None:
    """Turn a group's internal communication on or off, audited and told to the other admins.
    Raises ValidationError as check_internal() does."""
    check_internal(actor, group, internal)
    if group.internal == internal:
        return
    group.internal = internal
    db.session.flush()
    record(
        actor,
        AuditTag.INTERNAL_CHANGED,
        group.school_id,
        group_id=group.id,
        before=not internal,
        after=internal,
    )
    words = label_words(group)
    tell_other_admins(
        actor,
        group.school_id,
        deferred("Internal communication turned on in %(group)s", group=words)
        if internal
        else deferred("Internal communication turned off in %(group)s", group=words),
    )


def rules_of(group: Group) -> tuple[list[CommunicationRule], list[CommunicationRule]]:
    """The rules from the group and the rules to it."""
    outgoing = db.session.scalars(
        select(CommunicationRule).where(CommunicationRule.source_group_id == group.id)
    ).all()
    incoming = db.session.scalars(
        select(CommunicationRule).where(CommunicationRule.target_group_id == group.id)
    ).all()
    return list(outgoing), list(incoming)
