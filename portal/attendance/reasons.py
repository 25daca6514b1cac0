"""The school's reasons for absences and lateness, and absences known ahead (seed 004, 'Motifs').

Families justify online with a reason of the school's list they may choose; the staff have
them all, and may still type another. A reason the staff keep to themselves (an exclusion, a
summons) is never shown to a family: on a mark it reads as 'justified' or not, nothing more.
An absence a family announced and the staff accepted is an excuse: the marks recorded during
its period take its reason and count as justified.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts.models import School, User
from portal.attendance import alerts
from portal.attendance.models import AbsenceReason, AttendanceMark, Excuse
from portal.core import audit, clock
from portal.core.audit import AuditTag
from portal.core.errors import ValidationError
from portal.core.text import checked_line
from portal.extensions import db

LABEL_MAX = 100
REASON_MAX = 300

#: A new school's list, in its language: (label, families may choose it).
DEFAULTS = {
    "fr": (
        ("Maladie", True),
        ("Rendez-vous médical", True),
        ("Raison familiale", True),
        ("Problème de transport", True),
        ("Convocation officielle", True),
        ("Sortie ou voyage scolaire", False),
        ("Exclusion", False),
        ("Motif non recevable", False),
    ),
    "en": (
        ("Illness", True),
        ("Medical appointment", True),
        ("Family reason", True),
        ("Transport problem", True),
        ("Official summons", True),
        ("School trip", False),
        ("Exclusion", False),
        ("Reason not accepted", False),
    ),
}


def add_defaults(school: School) -> None:
    """A new school's list of reasons, which its direction then changes."""
    for position, (label, families) in enumerate(
        DEFAULTS.get(school.default_language, DEFAULTS["fr"])
    ):
        db.session.add(
            AbsenceReason(
                school_id=school.id, label=label, families_choose=families, position=position
            )
        )
    db.session.flush()


def reasons_of(school_id: int, *, families: bool = False) -> list[AbsenceReason]:
    """The school's reasons in their order; with ``families``, those families may choose."""
    query = select(AbsenceReason).where(AbsenceReason.school_id == school_id)
    if families:
        query = query.where(AbsenceReason.families_choose.is_(True))
    return list(db.session.scalars(query.order_by(AbsenceReason.position, AbsenceReason.id)))


def reason_of_school(school_id: int, reason_id: int | None) -> AbsenceReason | None:
    found = db.session.get(AbsenceReason, reason_id) if reason_id is not None else None
    return found if found is not None and found.school_id == school_id else None


def _label(school_id: int, label: str, errors: dict, reason: AbsenceReason | None = None) -> str:
    label = checked_line("label", label, LABEL_MAX, _("Give the reason a name."), errors)
    taken = db.session.scalar(
        select(AbsenceReason.id).where(
            AbsenceReason.school_id == school_id,
            func.lower(AbsenceReason.label) == label.lower(),
        )
    )
    if label and taken is not None and (reason is None or taken != reason.id):
        errors["label"] = _("The school already has this reason.")
    return label


def add(actor: User, label: str, families_choose: bool) -> AbsenceReason:
    """A new reason at the end of the school's list; audited."""
    school = actor.school
    errors: dict[str, str] = {}
    label = _label(school.id, label, errors)
    if errors:
        raise ValidationError.of(errors)
    last = db.session.scalar(
        select(func.max(AbsenceReason.position)).where(AbsenceReason.school_id == school.id)
    )
    reason = AbsenceReason(
        school_id=school.id,
        label=label,
        families_choose=families_choose,
        position=(last or 0) + 1,
    )
    db.session.add(reason)
    db.session.flush()
    _audit(actor, AuditTag.ABSENCE_REASON_SAVED, reason)
    return reason


def _audit(actor: User, tag: AuditTag, reason: AbsenceReason) -> None:
    audit.record(
        actor,
        tag,
        reason.school_id,
        reason_id=reason.id,
        label=reason.label,
        families_choose=reason.families_choose,
    )


def change(actor: User, reason: AbsenceReason, label: str, families_choose: bool) -> None:
    """A new name or who may choose it; marks that had it keep the words they were given."""
    errors: dict[str, str] = {}
    label = _label(reason.school_id, label, errors, reason)
    if errors:
        raise ValidationError.of(errors)
    if (reason.label, reason.families_choose) != (label, families_choose):
        reason.label, reason.families_choose = label, families_choose
        db.session.flush()
        _audit(actor, AuditTag.ABSENCE_REASON_SAVED, reason)


def remove(actor: User, reason: AbsenceReason) -> None:
    """Marks that had it keep its words, no longer linked to the list; audited."""
    _audit(actor, AuditTag.ABSENCE_REASON_DELETED, reason)
    db.session.delete(reason)
    db.session.flush()


def matching(school_id: int, text: str) -> AbsenceReason | None:
    """The school's reason these words name, whatever their case."""
    return db.session.scalar(
        select(AbsenceReason).where(
            AbsenceReason.school_id == school_id,
            func.lower(AbsenceReason.label) == text.lower(),
        )
    )


def for_family(mark: AttendanceMark) -> str:
    """The reason a family may read on a mark: nothing when it is one the staff keep."""
    if mark.reason_id is not None:
        reason = db.session.get(AbsenceReason, mark.reason_id)
        if reason is not None and not reason.families_choose:
            return ""
    return mark.reason


def explain(mark: AttendanceMark, reason: str, justified: bool) -> None:
    """The reason of a mark and whether it is justified; alert rules that count justified or
    unjustified absences look again."""
    reason = " ".join((reason or "").split())
    if len(reason) > REASON_MAX:
        raise ValidationError("reason", _("At most %(n)d characters.", n=REASON_MAX))
    found = matching(mark.school_id, reason) if reason else None
    if justified != mark.justified:
        alerts.evaluate_later(mark.school_id, [mark.person_id])
    mark.reason, mark.justified, mark.updated_at = reason, justified, clock.now()
    mark.reason_id = found.id if found is not None else None
    db.session.flush()


def excuse(pupil: User, starts_at: dt.datetime, ends_at: dt.datetime, reason: str) -> Excuse:
    """An absence known ahead, accepted: the pupil's marks over the period, already there or
    recorded later, take the reason and count as justified."""
    found = Excuse(
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
    )
    db.session.add(found)
    db.session.flush()
    marks = db.session.scalars(
        select(AttendanceMark).where(
            AttendanceMark.person_id == pupil.id,
            AttendanceMark.starts_at >= starts_at,
            AttendanceMark.starts_at < ends_at,
            AttendanceMark.justified.is_(False),
        )
    )
    for mark in marks:
        explain(mark, reason, True)
    return found


def apply_excuse(mark: AttendanceMark) -> None:
    """A mark recorded during an accepted excuse takes its reason, once."""
    if mark.justified or mark.reason:
        return
    found = db.session.scalar(
        select(Excuse)
        .where(
            Excuse.pupil_id == mark.person_id,
            Excuse.starts_at <= mark.starts_at,
            Excuse.ends_at > mark.starts_at,
        )
        .order_by(Excuse.id.desc())
        .limit(1)
    )
    if found is not None:
        explain(mark, found.reason, True)
