"""Who may do what with sessions and marks: one named predicate per action."""

from __future__ import annotations

from portal.accounts.models import Profile, User
from portal.attendance import opening
from portal.attendance.models import AttendanceMark, ClassSession
from portal.groups.permissions import can_view_user


def can_manage_attendance(user: User) -> bool:
    """The direction and the staff keep the timetable, reasons and teachers' absences."""
    return user.profile in (Profile.ADMIN, Profile.STAFF)


def can_manage_reasons(user: User) -> bool:
    """The direction sets the school's reasons and which of them families may choose."""
    return user.profile == Profile.ADMIN


def can_take_register(user: User, session: ClassSession) -> bool:
    """The session's teacher, or the direction and staff of its school."""
    if user.school_id != session.school_id:
        return False
    return session.teacher_id == user.id or can_manage_attendance(user)


def can_record_marks(user: User, session: ClassSession) -> bool:
    """Marking pupils on the register: its teacher once the register opens (some minutes before
    the session, never hours before); the direction and staff at any time, for the absences
    families announce in advance."""
    if not can_take_register(user, session):
        return False
    return can_manage_attendance(user) or opening.is_open(session)


def can_explain_mark(user: User, mark: AttendanceMark) -> bool:
    return user.school_id == mark.school_id and can_manage_attendance(user)


def can_view_attendance_of(user: User, person: User) -> bool:
    """The person, their guardians, their teachers, the direction and staff of their school."""
    return can_view_user(user, person)


def can_manage_alert_rules(user: User) -> bool:
    """The direction sets the scheduled alerts and the webhooks they call."""
    return user.profile == Profile.ADMIN


def template_globals() -> dict:
    return {
        "can_manage_alert_rules": can_manage_alert_rules,
        "can_manage_attendance": can_manage_attendance,
        "can_manage_reasons": can_manage_reasons,
        "can_take_register": can_take_register,
        "can_record_marks": can_record_marks,
        "register_opens_at": opening.opens_at,
        "can_explain_mark": can_explain_mark,
    }
