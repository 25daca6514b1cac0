"""Sessions, the register and the marks (SPEC §6): every state change of attendance.

Every function flushes and never commits. Recording an absence or a late arrival tells the
pupil's guardians at once (the immediate 'attendance' notification), or at the session's start
when it is recorded before (an absence announced in advance); taking the absence back before
that left withdraws it. A teacher marks pupils from the register's opening only (opening.py).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.contact import normalise_email
from portal.accounts.models import UNREACHABLE, Guardianship, Profile, School, User
from portal.attendance import absence_sms as sms
from portal.attendance import alerts, opening, reasons
from portal.attendance.models import AttendanceMark, ClassSession, MarkKind, PupilContact
from portal.attendance.permissions import can_record_marks
from portal.attendance.reasons import REASON_MAX
from portal.core import clock
from portal.core.errors import ValidationError
from portal.core.i18n import deferred, deferred_date
from portal.core.text import checked_line
from portal.extensions import db
from portal.groups.audience import GROUP_KINDS
from portal.groups.models import Group, GroupMember
from portal.notifications import services as notifications

#: A weekly session is repeated for a school year at most.
REPEAT_WEEKS_MAX = 53
#: The marks a guardian is told about at once (early departures are seen, not pushed).
TOLD = (MarkKind.ABSENT, MarkKind.LATE)


# --- the timetable ----------------------------------------------------------------------------


def schedule(
    actor: User,
    group: Group,
    teacher: User | None,
    day: dt.date | None,
    start: dt.time | None,
    end: dt.time | None,
    repeat_until: dt.date | None = None,
) -> list[ClassSession]:
    """A session, or one a week from ``day`` to ``repeat_until``; raises ValidationError."""
    errors: dict[str, str] = {}
    if group.school_id != actor.school_id or group.kind not in GROUP_KINDS:
        errors["group"] = _("Choose a class or a teaching group of the school.")
    if teacher is not None and (
        teacher.school_id != actor.school_id or teacher.profile != Profile.TEACHER
    ):
        errors["teacher"] = _("Choose a teacher of the school.")
    if day is None:
        errors["day"] = _("Give the day of the session.")
    if start is None:
        errors["start"] = _("Give the time the session starts.")
    if end is None:
        errors["end"] = _("Give the time the session ends.")
    elif start is not None and end <= start:
        errors["end"] = _("The session must end after it starts.")
    weeks = 1
    if repeat_until is not None and day is not None:
        if repeat_until < day:
            errors["repeat_until"] = _("The last week must come after the first.")
        else:
            weeks = (repeat_until - day).days // 7 + 1
            if weeks > REPEAT_WEEKS_MAX:
                errors["repeat_until"] = _("A session repeats for one year at most.")
    if errors:
        raise ValidationError.of(errors)
    school = actor.school
    sessions = [
        ClassSession(
            school_id=actor.school_id,
            group_id=group.id,
            teacher_id=teacher.id if teacher else None,
            starts_at=clock.local_moment(day + dt.timedelta(weeks=n), start, school.timezone),
            ends_at=clock.local_moment(day + dt.timedelta(weeks=n), end, school.timezone),
        )
        for n in range(weeks)
    ]
    db.session.add_all(sessions)
    db.session.flush()
    return sessions


def cancel(session: ClassSession) -> None:
    """Remove a session from the timetable; one whose register was taken stays (its marks are
    the school's record). Absences recorded in advance go with it, and what they were to tell
    the families is withdrawn."""
    if session.register_taken_at is not None:
        raise ValidationError("session", _("The register of this session was taken: it stays."))
    marks = marks_of(session)
    for person_id in marks:
        _untold(session, person_id)
    if marks:
        alerts.evaluate_later(session.school_id, list(marks))
    db.session.delete(session)
    db.session.flush()


def sessions_of_day(school: School, day: dt.date, *, teacher: User | None = None, group_id=None):
    start = clock.local_moment(day, dt.time(0), school.timezone)
    end = clock.local_moment(day + dt.timedelta(days=1), dt.time(0), school.timezone)
    query = select(ClassSession).where(
        ClassSession.school_id == school.id,
        ClassSession.starts_at >= start,
        ClassSession.starts_at < end,
    )
    if teacher is not None:
        query = query.where(ClassSession.teacher_id == teacher.id)
    if group_id is not None:
        query = query.where(ClassSession.group_id == group_id)
    return list(db.session.scalars(query.order_by(ClassSession.starts_at, ClassSession.id)))


# --- the register -----------------------------------------------------------------------------


def pupils_of(session: ClassSession) -> list[User]:
    """The pupils on the register: the group's pupils, blocked accounts left out."""
    return list(
        db.session.scalars(
            select(User)
            .join(GroupMember, GroupMember.user_id == User.id)
            .where(
                GroupMember.group_id == session.group_id,
                User.profile == Profile.PUPIL,
                User.state.not_in(UNREACHABLE),
            )
            .order_by(User.last_name, User.first_name, User.id)
        )
    )


def marks_of(session: ClassSession) -> dict[int, AttendanceMark]:
    rows = db.session.scalars(select(AttendanceMark).where(AttendanceMark.session_id == session.id))
    return {mark.person_id: mark for mark in rows}


def _checked_minutes(session: ClassSession, kind: MarkKind | None, minutes: int | None) -> int:
    if kind is None:
        return 0
    if kind == MarkKind.ABSENT:
        return session.minutes
    if minutes is None or not 1 <= minutes <= session.minutes:
        raise ValidationError(
            "minutes", _("Give the minutes, from 1 to %(max)d.", max=session.minutes)
        )
    return minutes


def record(
    recorder: User,
    session: ClassSession,
    pupil: User,
    kind: MarkKind | None,
    minutes: int | None = None,
) -> AttendanceMark | None:
    """Mark a pupil of the session absent, late or left early, or present again (``kind``
    None). The register counts as taken from the first mark once it is open: everyone else was
    present. Raises ValidationError for a pupil not on the register or minutes out of the
    session, and PermissionError for a teacher before the register opens."""
    if not can_record_marks(recorder, session):
        raise PermissionError("the register is not open to this person yet")
    if pupil.id not in {p.id for p in pupils_of(session)}:
        raise ValidationError("pupil", _("This pupil is not on the register of this session."))
    minutes = _checked_minutes(session, kind, minutes)
    mark = db.session.scalar(
        select(AttendanceMark)
        .where(AttendanceMark.session_id == session.id, AttendanceMark.person_id == pupil.id)
        .with_for_update()
    )
    _taken(recorder, session)
    key = _told_key(session.id, pupil.id)
    if kind is None:
        if mark is not None:
            db.session.delete(mark)
            _untold(session, pupil.id)
            alerts.evaluate_later(session.school_id, [pupil.id])
            db.session.flush()
        return None
    changed = mark is None or mark.kind != kind or mark.minutes != minutes
    if mark is not None and mark.kind != kind:
        sms.mark_changed(session.id, pupil.id, kind)
    if mark is None:
        mark = AttendanceMark(
            school_id=session.school_id,
            session_id=session.id,
            person_id=pupil.id,
            starts_at=session.starts_at,
            day=clock.local_day(session.starts_at, session.group.school.timezone),
            recorded_by_id=recorder.id,
        )
        db.session.add(mark)
    mark.kind, mark.minutes, mark.updated_at = kind, minutes, clock.now()
    db.session.flush()
    reasons.apply_excuse(mark)
    if changed:
        notifications.withdraw("attendance", key)
        if kind in TOLD:
            _tell_guardians(recorder, session, pupil, mark, key)
        _evaluate(session, [pupil.id])
    return mark


def _told_key(session_id: int, pupil_id: int) -> str:
    return f"attendance:{session_id}:{pupil_id}"


def _untold(session: ClassSession, pupil_id: int) -> None:
    """A pupil's mark goes: its notification and its SMS that have not left are withdrawn."""
    notifications.withdraw("attendance", _told_key(session.id, pupil_id))
    sms.mark_changed(session.id, pupil_id, None)


def _evaluate(session: ClassSession, person_ids: list[int]) -> None:
    """Alert rules count a mark from its session's start: a mark recorded before is evaluated
    now (a change may end a crossing) and again at the start, when it begins to count."""
    alerts.evaluate_later(session.school_id, person_ids)
    if (start := opening.told_from(session)) is not None:
        alerts.evaluate_later(session.school_id, person_ids, at=start)


def _taken(recorder: User, session: ClassSession) -> None:
    """A mark recorded before the register opens (an absence announced in advance) does not
    take the register: nobody was present yet."""
    if session.register_taken_at is None and opening.is_open(session):
        session.register_taken_at, session.register_taken_by_id = clock.now(), recorder.id


def take_register(
    recorder: User, session: ClassSession, states: dict[int, tuple[MarkKind | None, int | None]]
) -> None:
    """The whole register at once (the page without scripts): each pupil's state; pupils not
    named were present. Raises ValidationError naming the first pupil whose minutes are wrong,
    and nothing is saved; PermissionError for a teacher before the register opens."""
    if not can_record_marks(recorder, session):
        raise PermissionError("the register is not open to this person yet")
    marks = marks_of(session)
    for pupil in pupils_of(session):
        kind, minutes = states.get(pupil.id, (None, None))
        if _unchanged(marks.get(pupil.id), kind, minutes):
            continue
        try:
            record(recorder, session, pupil, kind, minutes)
        except ValidationError as error:
            raise ValidationError(f"minutes-{pupil.id}", error.errors["minutes"]) from None
    _taken(recorder, session)
    db.session.flush()


def _unchanged(mark: AttendanceMark | None, kind: MarkKind | None, minutes: int | None) -> bool:
    if mark is None:
        return kind is None
    return mark.kind == kind and (kind == MarkKind.ABSENT or mark.minutes == minutes)


def _tell_guardians(recorder, session, pupil, mark, key) -> None:
    school = session.group.school
    local = ZoneInfo(school.timezone)
    start = session.starts_at.astimezone(local).strftime("%H:%M")
    end = session.ends_at.astimezone(local).strftime("%H:%M")
    day = deferred_date(mark.day)
    if mark.kind == MarkKind.ABSENT:
        text = deferred("absent on %(day)s, %(start)s–%(end)s", day=day, start=start, end=end)
    else:
        text = deferred(
            "%(minutes)d minutes late on %(day)s (lesson at %(start)s)",
            minutes=mark.minutes,
            day=day,
            start=start,
        )
    guardians = db.session.scalars(
        select(Guardianship.parent_id).where(Guardianship.pupil_id == pupil.id)
    ).all()
    notifications.notify(
        "attendance",
        guardians,
        key,
        {"pupil": pupil.display_name, "text": text, "url": "/attendance/"},
        author=recorder,
        # Nothing about a session reaches its families before it starts.
        visible_from=session.starts_at,
    )


# --- teachers' absences -----------------------------------------------------------------------


def record_teacher_absence(
    actor: User, teacher: User, start: dt.datetime | None, end: dt.datetime | None, reason: str
) -> int:
    """A teacher absent from ``start`` to ``end``: each of their sessions then is marked;
    returns how many. Raises ValidationError."""
    errors: dict[str, str] = {}
    if teacher.school_id != actor.school_id or teacher.profile != Profile.TEACHER:
        errors["teacher"] = _("Choose a teacher of the school.")
    if start is None:
        errors["start"] = _("Give the start of the absence.")
    if end is None:
        errors["end"] = _("Give the end of the absence.")
    elif start is not None and end <= start:
        errors["end"] = _("The absence must end after it starts.")
    if len(" ".join((reason or "").split())) > REASON_MAX:
        errors["reason"] = _("At most %(n)d characters.", n=REASON_MAX)
    if errors:
        raise ValidationError.of(errors)
    sessions = db.session.scalars(
        select(ClassSession).where(
            ClassSession.teacher_id == teacher.id,
            ClassSession.starts_at < end,
            ClassSession.ends_at > start,
        )
    ).all()
    marked = {
        mark.session_id
        for mark in db.session.scalars(
            select(AttendanceMark).where(
                AttendanceMark.person_id == teacher.id,
                AttendanceMark.session_id.in_([s.id for s in sessions]),
            )
        )
    }
    school = actor.school
    for session in sessions:
        if session.id in marked:
            continue
        db.session.add(
            AttendanceMark(
                school_id=school.id,
                session_id=session.id,
                person_id=teacher.id,
                kind=MarkKind.ABSENT,
                minutes=session.minutes,
                starts_at=session.starts_at,
                day=clock.local_day(session.starts_at, school.timezone),
                reason=" ".join((reason or "").split()),
                recorded_by_id=actor.id,
            )
        )
    db.session.flush()
    if len(sessions) > len(marked):
        alerts.evaluate_later(school.id, [teacher.id])
    return len(sessions) - len(marked)


# --- reading ----------------------------------------------------------------------------------


def marks_of_person(person: User, viewer: User, page: int = 1, per_page: int = 50):
    """One page of a person's marks as ``viewer`` sees them, the latest first, and whether
    older ones follow. Families see a mark once its session has started, like its
    notification: an absence recorded in advance does not reach them before."""
    query = select(AttendanceMark).where(AttendanceMark.person_id == person.id)
    if viewer.profile in (Profile.PARENT, Profile.PUPIL):
        query = query.where(AttendanceMark.starts_at <= clock.now())
    rows = list(
        db.session.scalars(
            query.order_by(AttendanceMark.starts_at.desc(), AttendanceMark.id.desc())
            .offset((max(page, 1) - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page


def marks_of_day(school: School, day: dt.date, group_id: int | None = None):
    """The marks of a day, for the staff to add reasons: pupils' and teachers'."""
    query = select(AttendanceMark).where(
        AttendanceMark.school_id == school.id, AttendanceMark.day == day
    )
    if group_id is not None:
        query = query.join(ClassSession).where(ClassSession.group_id == group_id)
    return list(db.session.scalars(query.order_by(AttendanceMark.starts_at, AttendanceMark.id)))


TUTORS_MAX = 3


def tutors_of(pupil: User) -> list[PupilContact]:
    return list(
        db.session.scalars(
            select(PupilContact).where(PupilContact.pupil_id == pupil.id).order_by(PupilContact.id)
        )
    )


def add_tutor(pupil: User, name: str, email: str) -> PupilContact:
    """A pupil's designated tutor (an apprenticeship master): e-mailed like a guardian by the
    alerts that e-mail guardians; no account."""
    errors: dict[str, str] = {}
    name = checked_line("name", name, 200, _("Give the tutor's name."), errors)
    try:
        email = normalise_email(email or "")
    except ValidationError as error:
        errors["email"] = error.errors["email"]
    if pupil.profile != Profile.PUPIL:
        errors["name"] = _("Only a pupil has a tutor.")
    elif len(tutors_of(pupil)) >= TUTORS_MAX:
        errors["name"] = _("A pupil has at most %(max)d tutors.", max=TUTORS_MAX)
    if errors:
        raise ValidationError.of(errors)
    tutor = PupilContact(pupil_id=pupil.id, name=name, email=email)
    db.session.add(tutor)
    db.session.flush()
    return tutor


def remove_tutor(tutor: PupilContact) -> None:
    db.session.delete(tutor)
    db.session.flush()
