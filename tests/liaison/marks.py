"""Absences of the ``world`` school's pupils, for the justification tests."""

from __future__ import annotations

import datetime as dt

from portal.attendance import services as attendance
from portal.attendance.models import AttendanceMark, ClassSession, MarkKind
from portal.extensions import db
from tests.school import person


def absent(world, name: str, at: dt.datetime) -> AttendanceMark:
    """``name`` absent from a one-hour 5B session starting at ``at``, recorded by the
    direction (who may record any session, past or to come)."""
    session = ClassSession(
        school_id=world.school,
        group_id=world.groups["5B"],
        teacher_id=world.ids["teacher"],
        starts_at=at,
        ends_at=at + dt.timedelta(hours=1),
    )
    db.session.add(session)
    db.session.flush()
    return attendance.record(person(world, "admin"), session, person(world, name), MarkKind.ABSENT)
