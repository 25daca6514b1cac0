"""Families out of reach (SPEC §12): per class, the guardians whom no channel reaches, so that the
direction completes their details before an urgent message has to go out.

A guardian of a pupil is reached by:
- e-mail, when they have an address and have not refused all e-mail;
- SMS about that pupil, when they have a mobile number and consent to SMS for that pupil;
- the home page, when their account is activated (they see messages and flash messages there).

A guardian none of these reach is out of reach for that pupil. One reached by a single channel
is shown apart: one change (an address that bounces, a withdrawn consent) puts them out of reach.
Blocked and deleted guardians and pupils are left out: the school has chosen not to reach them.

The page (reach_views) is the direction's: every fix is on a person's record, which only the
direction opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.orm import aliased

from portal.accounts.models import UNREACHABLE, AccountState, Guardianship, Profile, User
from portal.extensions import db
from portal.groups.models import Group, GroupKind, GroupMember
from portal.notifications.types import Channel


class Missing(StrEnum):
    """What keeps a channel from reaching a guardian, as the page names it."""

    EMAIL = "email"
    REFUSES_EMAIL = "refuses_email"
    MOBILE = "mobile"
    SMS_CONSENT = "sms_consent"
    ACTIVATION = "activation"


def missing_label(missing: Missing) -> str:
    return {
        Missing.EMAIL: _("No e-mail address"),
        Missing.REFUSES_EMAIL: _("Refuses all e-mail"),
        Missing.MOBILE: _("No mobile number"),
        Missing.SMS_CONSENT: _("No consent to SMS for this pupil"),
        Missing.ACTIVATION: _("Account never activated"),
    }[missing]


def reach(
    *, email: bool, refuses_email: bool, mobile: bool, accepts_sms: bool, activated: bool
) -> tuple[frozenset[Channel], tuple[Missing, ...]]:
    """The channels that reach a guardian about one pupil, and what is missing for the others."""
    channels, missing = set(), []
    if email and not refuses_email:
        channels.add(Channel.EMAIL)
    else:
        missing.append(Missing.REFUSES_EMAIL if email else Missing.EMAIL)
    if mobile and accepts_sms:
        channels.add(Channel.SMS)
    else:
        if not mobile:
            missing.append(Missing.MOBILE)
        if not accepts_sms:
            missing.append(Missing.SMS_CONSENT)
    if activated:
        channels.add(Channel.HOMEPAGE)
    else:
        missing.append(Missing.ACTIVATION)
    return frozenset(channels), tuple(missing)


# --- the queries: a handful whatever the school's size ----------------------------------------

Guardian = aliased(User, name="guardian")
Pupil = aliased(User, name="pupil")

#: The same three channels as reach(), in SQL.
BY_EMAIL = and_(Guardian.email.is_not(None), Guardian.refuses_email.is_(False))
BY_SMS = and_(Guardian.mobile.is_not(None), Guardianship.accepts_sms.is_(True))
BY_HOME_PAGE = Guardian.state == AccountState.ACTIVE


def _class_pupils(query, school_id: int, class_id: int | None):
    """``query`` over the pupils of the school's classes of the current year (or of one),
    blocked and deleted pupils aside."""
    query = (
        query.join(GroupMember, GroupMember.group_id == Group.id)
        .join(Pupil, Pupil.id == GroupMember.user_id)
        .where(
            Group.school_id == school_id,
            Group.kind == GroupKind.CLASS,
            Group.archived_at.is_(None),
            Pupil.profile == Profile.PUPIL,
            Pupil.state.not_in(UNREACHABLE),
        )
    )
    return query.where(Group.id == class_id) if class_id is not None else query


def _links(school_id: int, class_id: int | None = None):
    """Every (class, pupil, guardian) of the school's classes of the current year, blocked and
    deleted people aside."""
    return (
        _class_pupils(select().select_from(Group), school_id, class_id)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .join(Guardian, Guardian.id == Guardianship.parent_id)
        .where(Guardian.state.not_in(UNREACHABLE))
    )


def count_out_of_reach(school_id: int) -> int:
    """How many guardians no channel reaches about at least one pupil of a current class."""
    return db.session.scalar(
        _links(school_id)
        .add_columns(func.count(Guardian.id.distinct()))
        .where(not_(or_(BY_EMAIL, BY_SMS, BY_HOME_PAGE)))
    )


@dataclass(frozen=True)
class Gap:
    """A guardian of one pupil whom one channel at most reaches."""

    guardian_id: int
    guardian_name: str
    #: The guardian's record opens only if they belong to the school (a parent may have a
    #: child in another school).
    guardian_in_school: bool
    pupil_id: int
    pupil_name: str
    rank: int
    channels: frozenset[Channel]
    missing: tuple[Missing, ...]


@dataclass
class ClassReach:
    class_id: int
    name: str
    out_of_reach: list[Gap] = field(default_factory=list)
    one_channel: list[Gap] = field(default_factory=list)
    #: Pupils with no guardian to contact at all: (id, name).
    without_guardian: list[tuple[int, str]] = field(default_factory=list)

    @property
    def guardians_out_of_reach(self) -> int:
        return len({gap.guardian_id for gap in self.out_of_reach})

    @property
    def guardians_one_channel(self) -> int:
        return len({gap.guardian_id for gap in self.one_channel})


def classes_reach(
    school_id: int, classes: list[tuple[int, str]], class_id: int | None = None
) -> list[ClassReach]:
    """Each of the current ``classes`` (or the one asked for) with its guardians out of reach,
    those one channel reaches, and its pupils without any guardian; two queries."""
    found = {
        cid: ClassReach(cid, name) for cid, name in classes if class_id is None or cid == class_id
    }
    rows = db.session.execute(
        _links(school_id, class_id)
        .add_columns(
            Group.id.label("class_id"),
            Guardian.id.label("guardian_id"),
            Guardian.first_name.label("guardian_first"),
            Guardian.last_name.label("guardian_last"),
            Guardian.school_id.label("guardian_school"),
            Guardian.email.is_not(None).label("email"),
            Guardian.refuses_email,
            Guardian.mobile.is_not(None).label("mobile"),
            Guardianship.accepts_sms,
            BY_HOME_PAGE.label("activated"),
            Pupil.id.label("pupil_id"),
            Pupil.first_name.label("pupil_first"),
            Pupil.last_name.label("pupil_last"),
            Guardianship.rank,
        )
        .where(not_(and_(BY_EMAIL, BY_SMS, BY_HOME_PAGE)))
        .order_by(Pupil.last_name, Pupil.first_name, Pupil.id, Guardianship.rank)
    )
    for row in rows:
        channels, missing = reach(
            email=bool(row.email),
            refuses_email=bool(row.refuses_email),
            mobile=bool(row.mobile),
            accepts_sms=bool(row.accepts_sms),
            activated=bool(row.activated),
        )
        if len(channels) > 1:
            continue
        gap = Gap(
            guardian_id=row.guardian_id,
            guardian_name=f"{row.guardian_first} {row.guardian_last}",
            guardian_in_school=row.guardian_school == school_id,
            pupil_id=row.pupil_id,
            pupil_name=f"{row.pupil_first} {row.pupil_last}",
            rank=row.rank,
            channels=channels,
            missing=missing,
        )
        lists = found[row.class_id]
        (lists.one_channel if channels else lists.out_of_reach).append(gap)
    for cid, pid, first, last in _without_guardian(school_id, class_id):
        found[cid].without_guardian.append((pid, f"{first} {last}"))
    return list(found.values())


def _without_guardian(school_id: int, class_id: int | None):
    """Pupils of the current classes none of whose guardians can be contacted (none recorded,
    or every one blocked or deleted)."""
    Parent = aliased(User, name="parent")  # noqa: N806 - an alias reads like the table
    guardian_left = exists().where(
        Guardianship.pupil_id == Pupil.id,
        Parent.id == Guardianship.parent_id,
        Parent.state.not_in(UNREACHABLE),
    )
    query = _class_pupils(
        select(Group.id, Pupil.id, Pupil.first_name, Pupil.last_name), school_id, class_id
    )
    query = query.where(~guardian_left).order_by(Pupil.last_name, Pupil.first_name, Pupil.id)
    return db.session.execute(query).all()
