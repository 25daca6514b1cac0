"""What a file's history and the registers say (seed 002): how long the schooling has lasted,
the hours attended and the attendance rate, the current phase and the time spent in each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from portal.accounts.models import School, User
from portal.attendance.models import AttendanceMark, ClassSession
from portal.core import clock
from portal.extensions import db
from portal.groups.models import Group, GroupKind, GroupMember
from portal.pupil_files.models import ENDED, FileEvent, FileStatus, PupilFile
from portal.pupil_files.services import events_in_effect


@dataclass
class Phase:
    name: str
    days: int


@dataclass
class Indicators:
    status: str
    entered_on: dt.date | None = None
    #: The day the schooling ended (completed, abandoned or broken off); None while it goes on.
    left_on: dt.date | None = None
    days: int | None = None
    scheduled_minutes: int = 0
    attended_minutes: int = 0
    phase: str = ""
    phases: list[Phase] = field(default_factory=list)

    @property
    def hours_attended(self) -> float:
        return round(self.attended_minutes / 60, 1)

    @property
    def attendance_rate(self) -> float | None:
        """Per cent of the minutes of registered sessions attended; None without any."""
        if not self.scheduled_minutes:
            return None
        return round(100 * self.attended_minutes / self.scheduled_minutes, 1)


def indicators_of(pupil: User, pupil_file: PupilFile | None) -> Indicators:
    events = events_in_effect(pupil_file)
    found = Indicators(status=pupil_file.status if pupil_file else FileStatus.NOT_STARTED)
    school = db.session.get(School, pupil.school_id)
    today = clock.today(school.timezone)
    entered_on, left_on = _bounds(events)
    found.entered_on, found.left_on = entered_on, left_on
    if entered_on is None:
        return found
    end = left_on or today
    found.days = (end - entered_on).days
    found.scheduled_minutes, found.attended_minutes = _attendance(pupil, school, entered_on, end)
    found.phase, found.phases = _phases(events, entered_on, end)
    return found


def _bounds(events: list[FileEvent]) -> tuple[dt.date | None, dt.date | None]:
    """The entry (the first event setting 'in progress') and, if the schooling has ended since,
    the day of the event that ended it."""
    entered_on = left_on = None
    for event in events:
        status = event.status_set
        if status == FileStatus.IN_PROGRESS:
            entered_on, left_on = entered_on or event.day, None
        elif status in ENDED and entered_on is not None:
            left_on = event.day
    return entered_on, left_on


def _attendance(pupil: User, school: School, first: dt.date, last: dt.date) -> tuple[int, int]:
    """Minutes of the registered sessions of the pupil's classes and groups between two days
    (both included), and of them the minutes attended (absences, late arrivals and early
    departures taken off)."""
    start = clock.local_moment(first, dt.time(0), school.timezone)
    end = clock.local_moment(last + dt.timedelta(days=1), dt.time(0), school.timezone)
    groups = (
        select(GroupMember.group_id)
        .join(Group, Group.id == GroupMember.group_id)
        .where(
            GroupMember.user_id == pupil.id,
            Group.kind.in_((GroupKind.CLASS, GroupKind.TEACHING)),
        )
    )
    sessions = db.session.execute(
        select(ClassSession.id, ClassSession.starts_at, ClassSession.ends_at).where(
            ClassSession.group_id.in_(groups),
            ClassSession.register_taken_at.is_not(None),
            ClassSession.starts_at >= start,
            ClassSession.starts_at < end,
        )
    ).all()
    scheduled = sum(int((ends - starts).total_seconds() // 60) for _id, starts, ends in sessions)
    missed = 0
    if sessions:
        ids = [session_id for session_id, _s, _e in sessions]
        lengths = {
            sid: int((ends - starts).total_seconds() // 60) for sid, starts, ends in sessions
        }
        for session_id, minutes in db.session.execute(
            select(AttendanceMark.session_id, AttendanceMark.minutes).where(
                AttendanceMark.person_id == pupil.id, AttendanceMark.session_id.in_(ids)
            )
        ):
            missed += min(minutes or 0, lengths[session_id])
    return scheduled, scheduled - missed


def _phases(events: list[FileEvent], entered_on: dt.date, end: dt.date) -> tuple[str, list[Phase]]:
    """The current phase and the days spent in each phase, in the order first reached. The
    phase before the first change is the one it names as previous, from the entry."""
    changes = [e for e in events if e.values.get("phase_to") and e.day >= entered_on]
    if not changes:
        return "", []
    spans: list[tuple[str, dt.date]] = []
    first = changes[0].values.get("phase_from")
    if first:
        spans.append((first, entered_on))
    spans += [(e.values["phase_to"], min(e.day, end)) for e in changes]
    totals: dict[str, int] = {}
    for (name, since), following in zip(spans, [*spans[1:], ("", end)], strict=True):
        totals[name] = totals.get(name, 0) + max(0, (following[1] - since).days)
    return spans[-1][0], [Phase(name, days) for name, days in totals.items()]
