"""Families justify absences online (SPEC §13, seeds 000 and 004).

A guardian gives a reason among those the school lets families choose, for an absence or a
lateness already recorded or for an absence known ahead (a period of days), with a comment and
a document checked as message attachments are. The direction and the staff accept it (the
mark takes the reason and counts as justified, which alert rules then count), refuse it with a
reply, or ask for a document; the guardian is told the outcome.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.accounts.models import Profile, User
from portal.attendance import reasons
from portal.attendance.models import AttendanceMark
from portal.core import clock
from portal.core.db import among
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.liaison.models import Justification, Outcome
from portal.liaison.permissions import can_reply_for
from portal.messaging import attachments
from portal.notifications import services as notifications

COMMENT_MAX = 500
ANSWER_MAX = 500
#: How far back a family may justify, and how long an absence known ahead may last.
BACK = dt.timedelta(days=60)
AHEAD_MAX_DAYS = 31
#: Where a justification still waits for the staff.
OPEN = (Outcome.PENDING, Outcome.DOCUMENT_ASKED)
#: What the staff may decide, by the word of their form.
DECISIONS = (Outcome.ACCEPTED, Outcome.REFUSED, Outcome.DOCUMENT_ASKED)


def _words(field: str, text: str, limit: int, errors: dict) -> str:
    text = " ".join((text or "").split())
    if len(text) > limit:
        errors[field] = _("At most %(n)d characters.", n=limit)
    return text


def open_for(mark: AttendanceMark) -> Justification | None:
    """The justification of a mark still waiting for the staff, if there is one."""
    return db.session.scalar(
        select(Justification).where(
            Justification.mark_id == mark.id,
            Justification.outcome.in_(OPEN),
        )
    )


def waiting_marks(marks: list[AttendanceMark]) -> set[int]:
    """Which of these marks have a justification waiting for the staff."""
    return set(
        db.session.scalars(
            select(Justification.mark_id).where(
                among(Justification.mark_id, [mark.id for mark in marks]),
                Justification.outcome.in_(OPEN),
            )
        )
    )


def sent_since(mark: AttendanceMark, since: dt.datetime) -> bool:
    """A guardian justified this mark online after ``since`` (an absence SMS is answered)."""
    return (
        db.session.scalar(
            select(Justification.id)
            .where(Justification.mark_id == mark.id, Justification.created_at >= since)
            .limit(1)
        )
        is not None
    )


def to_justify(pupil: User) -> list[AttendanceMark]:
    """The pupil's absences and lateness of the last weeks that are not justified, newest
    first."""
    return list(
        db.session.scalars(
            select(AttendanceMark)
            .where(
                AttendanceMark.person_id == pupil.id,
                AttendanceMark.justified.is_(False),
                AttendanceMark.starts_at >= clock.now() - BACK,
                AttendanceMark.starts_at <= clock.now(),
            )
            .order_by(AttendanceMark.starts_at.desc())
        )
    )


def _tell_staff(found: Justification, guardian: User) -> None:
    notifications.notify(
        "justification",
        _office(found.school_id),
        f"justifications:{found.school_id}",
        {
            "pupil": found.pupil.display_name,
            "reason": found.reason,
            "url": f"/liaison/justifications/{found.id}",
        },
        author=guardian,
    )


def _office(school_id: int) -> list[int]:
    """Who reviews justifications: the school's direction and staff."""
    return list(
        db.session.scalars(
            select(User.id).where(
                User.school_id == school_id, User.profile.in_((Profile.ADMIN, Profile.STAFF))
            )
        )
    )


def _document(guardian: User, upload: FileStorage | None):
    if upload is None or not upload.filename:
        return None
    found = attachments.store(guardian, upload)
    attachments.keep([found])
    return found


def submit(
    guardian: User,
    pupil: User,
    *,
    reason_id: int | None,
    comment: str = "",
    mark: AttendanceMark | None = None,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
    document: FileStorage | None = None,
) -> Justification:
    """A guardian's justification of ``mark``, or of an absence from ``first_day`` to
    ``last_day`` when there is no mark. LookupError when this is not their child's (the
    caller answers 404); ValidationError with a message per field, nothing kept, otherwise."""
    if not can_reply_for(guardian, pupil) or (mark is not None and mark.person_id != pupil.id):
        raise LookupError("not this family's")
    errors: dict[str, str] = {}
    reason = reasons.reason_of_school(pupil.school_id, reason_id)
    if reason is None or not reason.families_choose:
        errors["reason"] = _("Choose one of the reasons.")
    comment = _words("comment", comment, COMMENT_MAX, errors)
    starts_at = ends_at = None
    if mark is not None:
        if mark.justified:
            errors["reason"] = _("The school has already justified this absence.")
        elif open_for(mark) is not None:
            errors["reason"] = _("A justification of this absence is already waiting.")
    else:
        starts_at, ends_at = _period(pupil, first_day, last_day, errors)
    if errors:
        raise ValidationError.of(errors)
    found = Justification(
        school_id=pupil.school_id,
        pupil=pupil,
        guardian_id=guardian.id,
        mark_id=mark.id if mark is not None else None,
        starts_at=starts_at,
        ends_at=ends_at,
        reason_id=reason.id,
        reason=reason.label,
        comment=comment,
        attachment=_document(guardian, document),
    )
    db.session.add(found)
    db.session.flush()
    _tell_staff(found, guardian)
    return found


def _period(pupil: User, first_day, last_day, errors: dict) -> tuple:
    """An absence known ahead: from today on, for a month at most, whole days of the school."""
    zone = pupil.school.timezone
    if first_day is None:
        errors["first_day"] = _("Give the first day of the absence.")
        return None, None
    last_day = last_day or first_day
    if first_day < clock.today(zone):
        errors["first_day"] = _("For a past absence, justify it from the list of absences.")
    elif last_day < first_day:
        errors["last_day"] = _("The last day comes after the first.")
    elif (last_day - first_day).days >= AHEAD_MAX_DAYS:
        errors["last_day"] = _("At most %(n)d days at a time.", n=AHEAD_MAX_DAYS)
    start = clock.local_moment(first_day, dt.time(0), zone)
    end = clock.local_moment(last_day + dt.timedelta(days=1), dt.time(0), zone)
    return start, end


def add_document(guardian: User, found: Justification, document: FileStorage | None) -> None:
    """The document the staff asked for: the justification waits for them again."""
    if not can_reply_for(guardian, found.pupil):
        raise LookupError("not this family's")
    if found.outcome != Outcome.DOCUMENT_ASKED:
        raise ValidationError("file", _("The school has not asked for a document."))
    if document is None or not document.filename:
        raise ValidationError("file", _("Choose the file to send."))
    found.attachment = _document(guardian, document)
    found.outcome = Outcome.PENDING
    db.session.flush()
    _tell_staff(found, guardian)


def decide(staff: User, found: Justification, outcome: str, answer: str = "") -> None:
    """Accept (the mark, or the marks of the period, take the reason and count as justified),
    refuse with a reply, or ask for a document; the guardian is told."""
    errors: dict[str, str] = {}
    if not found.open:
        raise ValidationError("outcome", _("This justification has been answered already."))
    if outcome not in {decision.value for decision in DECISIONS}:
        errors["outcome"] = _("Choose what to answer.")
    answer = _words("answer", answer, ANSWER_MAX, errors)
    if outcome == Outcome.REFUSED and not answer:
        errors["answer"] = _("Tell the family why.")
    if errors:
        raise ValidationError.of(errors)
    if outcome == Outcome.ACCEPTED:
        if found.mark is not None:
            reasons.explain(found.mark, found.reason, True)
        elif found.starts_at is not None:
            reasons.excuse(found.pupil, found.starts_at, found.ends_at, found.reason)
    found.outcome, found.answer = Outcome(outcome), answer
    found.decided_by_id, found.decided_at = staff.id, clock.now()
    db.session.flush()
    if found.guardian_id is not None:
        notifications.notify(
            "justification_outcome",
            [found.guardian_id],
            f"justification:{found.id}",
            {
                "pupil": found.pupil.display_name,
                "outcome": outcome,
                "answer": answer,
                "url": f"/liaison/children/{found.pupil_id}#justifications",
            },
            author=staff,
        )


def waiting(school_id: int) -> list[Justification]:
    """What the staff have to review, oldest first: those waiting for a document come last."""
    return list(
        db.session.scalars(
            select(Justification)
            .where(
                Justification.school_id == school_id,
                Justification.outcome.in_(OPEN),
            )
            .order_by(Justification.outcome.desc(), Justification.created_at)
        )
    )


def answered(school_id: int, limit: int = 50) -> list[Justification]:
    return list(
        db.session.scalars(
            select(Justification)
            .where(
                Justification.school_id == school_id,
                Justification.outcome.in_((Outcome.ACCEPTED, Outcome.REFUSED)),
            )
            .order_by(Justification.decided_at.desc())
            .limit(limit)
        )
    )


def of_pupil(pupil: User) -> list[Justification]:
    """A pupil's justifications, newest first, for their family."""
    return list(
        db.session.scalars(
            select(Justification)
            .where(Justification.pupil_id == pupil.id)
            .order_by(Justification.created_at.desc())
            .limit(50)
        )
    )
