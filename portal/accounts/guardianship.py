"""Guardianship: a parent guardian 1 or 2 of a pupil, and reading who is whose.

Every function flushes and never commits. Bad input raises ValidationError(field, message)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import (
    Guardianship,
    Profile,
    User,
)
from portal.core.errors import ValidationError
from portal.extensions import db


def add_guardian(
    parent: User,
    pupil: User,
    rank: int,
    *,
    financial: bool = False,
    contact: bool = True,
    accepts_sms: bool = False,
) -> Guardianship:
    """Make ``parent`` guardian ``rank`` (1 or 2) of ``pupil``. A parent may have children in
    several classes and schools. portal.groups.people.link_guardian also brings the parents'
    groups of the pupil's classes in step."""
    if parent.profile != Profile.PARENT:
        raise ValidationError("parent", _("Only a parent account can be a guardian."))
    if pupil.profile != Profile.PUPIL:
        raise ValidationError("pupil", _("A guardian is linked to a pupil."))
    if rank not in (1, 2):
        raise ValidationError("rank", _("The rank is 1 or 2."))
    existing = db.session.scalars(
        select(Guardianship).where(Guardianship.pupil_id == pupil.id)
    ).all()
    if any(g.parent_id == parent.id for g in existing):
        raise ValidationError("parent", _("This parent is already a guardian of this pupil."))
    if any(g.rank == rank for g in existing):
        raise ValidationError("rank", _("This pupil already has a guardian of this rank."))
    link = Guardianship(
        parent_id=parent.id,
        pupil_id=pupil.id,
        rank=rank,
        financial=financial,
        contact=contact,
        accepts_sms=accepts_sms,
    )
    db.session.add(link)
    db.session.flush()
    return link


def remove_guardian(link: Guardianship) -> None:
    db.session.delete(link)
    db.session.flush()


def children_of(parent: User) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Guardianship, Guardianship.pupil_id == User.id)
            .where(Guardianship.parent_id == parent.id)
            .order_by(User.first_name)
        )
    )


def guardianships_of(pupil: User) -> list[Guardianship]:
    return list(
        db.session.scalars(
            select(Guardianship)
            .where(Guardianship.pupil_id == pupil.id)
            .order_by(Guardianship.rank)
        )
    )
