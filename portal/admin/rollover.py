"""The annual rollover: the year's classes and teaching groups become last year's.

They are archived, not deleted: messages, homework, attendance and files that name them stay
readable, and a class keeps its name for the year it was ('5B, 2025-2026'). What ends is the
year's organisation: who is in which class or teaching group (and so which parents are 'parents
of 5B') and the communication rules between those groups. People, their accounts and their
guardianships stay; the new year's classes are imported or created afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from portal.accounts.models import School, User
from portal.core import audit
from portal.core.audit import AuditTag
from portal.core.errors import ValidationError
from portal.core.i18n import deferred
from portal.extensions import db
from portal.groups import lists, manage
from portal.groups.models import CommunicationRule, Group, GroupKind, GroupMember
from portal.messaging.models import MessageAddress
from portal.notifications.services import tell_admins

#: What the rollover archives: the year's classes (with their profile sub-groups) and teaching
#: groups. Manual groups and broadcast lists are the school's own and stay.
YEAR_KINDS = (GroupKind.CLASS, GroupKind.TEACHING)
YEAR = re.compile(r"(\d{4})-(\d{4})")


@dataclass
class Report:
    """What the rollover does, or did."""

    school_year: str
    classes: list[str]
    teaching_groups: list[str]
    #: Places in classes and teaching groups that end (pupils and teachers).
    memberships: int
    #: Guardians who stop being 'parents of' a class.
    parent_places: int
    rules: int
    #: Messages that named one of these groups: they stay, as they are.
    messages: int


def check_year(text: str) -> str:
    found = YEAR.fullmatch((text or "").strip())
    if found is None or int(found.group(2)) != int(found.group(1)) + 1:
        raise ValidationError("school_year", _("Write the school year as 2025-2026."))
    return found.group(0)


def _year_groups(school_id: int):
    """The year's groups and their profile sub-groups, as (top-level groups, every id)."""
    tops = list(
        db.session.scalars(
            select(Group)
            .where(
                Group.school_id == school_id,
                Group.kind.in_(YEAR_KINDS),
                Group.archived_at.is_(None),
            )
            .order_by(Group.name)
        )
    )
    top_ids = [g.id for g in tops]
    subs = list(db.session.scalars(select(Group.id).where(Group.class_id.in_(top_ids))))
    return tops, top_ids + subs


def dry_run(school: School, school_year: str) -> Report:
    """What the rollover would do, counted without changing anything."""
    school_year = check_year(school_year)
    tops, ids = _year_groups(school.id)
    top_ids = [g.id for g in tops]

    def count(query) -> int:
        return db.session.scalar(query) or 0

    return Report(
        school_year=school_year,
        classes=[g.name for g in tops if g.kind == GroupKind.CLASS],
        teaching_groups=[g.name for g in tops if g.kind == GroupKind.TEACHING],
        memberships=count(
            select(func.count()).select_from(GroupMember).where(GroupMember.group_id.in_(top_ids))
        ),
        parent_places=count(
            select(func.count())
            .select_from(GroupMember)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.class_id.in_(top_ids), Group.profile == "parent")
        ),
        rules=count(
            select(func.count())
            .select_from(CommunicationRule)
            .where(
                or_(
                    CommunicationRule.source_group_id.in_(ids),
                    CommunicationRule.target_group_id.in_(ids),
                )
            )
        ),
        messages=count(
            select(func.count(func.distinct(MessageAddress.message_id))).where(
                MessageAddress.group_id.in_(ids)
            )
        ),
    )


def run(actor: User, school: School, school_year: str) -> Report:
    """Archive the year's groups, end their memberships and rules; in the caller's transaction,
    audited and told to the other members of the direction. Raises ValidationError when there
    is nothing to archive."""
    report = dry_run(school, school_year)
    if not report.classes and not report.teaching_groups:
        raise ValidationError(
            "school_year", _("There are no classes or teaching groups of this year to archive.")
        )
    _tops, ids = _year_groups(school.id)
    manage.end_groups(ids, school_year=report.school_year)
    lists.refresh(school.id)
    audit.record(
        actor,
        AuditTag.ROLLOVER_DONE,
        school.id,
        school_year=report.school_year,
        classes=report.classes,
        teaching_groups=report.teaching_groups,
        memberships=report.memberships,
        rules=report.rules,
    )
    text = deferred(
        "%(name)s closed the school year %(year)s: %(classes)d classes and %(groups)d teaching "
        "groups archived",
        name=actor.display_name,
        year=report.school_year,
        classes=len(report.classes),
        groups=len(report.teaching_groups),
    )
    payload = {"text": text, "url": "/admin/classes"}
    tell_admins("admin_action", school.id, "rollover", payload, actor)
    return report
