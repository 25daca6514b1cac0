"""When a register opens, and from when what it records may reach families (SPEC §6).

A school's registers open a set number of minutes before their session (the direction's
setting): a teacher takes the register from then on, never hours before. The staff and the
direction record absences announced in advance (a parent phoned) at any time; what such a mark
tells families — notifications, SMS — leaves no earlier than the session's start.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _

from portal.accounts.models import School, User
from portal.attendance.models import ClassSession
from portal.core import clock
from portal.core.audit import AuditTag
from portal.core.audit import record as audit
from portal.core.errors import ValidationError
from portal.extensions import db

#: The longest a register may open before its session: four hours.
OPENS_MINUTES_MAX = 240


def opens_at(session: ClassSession) -> dt.datetime:
    """When the session's register opens for its teacher."""
    return session.starts_at - dt.timedelta(minutes=session.group.school.register_opens_minutes)


def is_open(session: ClassSession) -> bool:
    return clock.now() >= opens_at(session)


def told_from(session: ClassSession) -> dt.datetime | None:
    """When families may hear of a mark on the session: its start, while it is to come; None
    once it has started (at once)."""
    return session.starts_at if session.starts_at > clock.now() else None


def set_opens_minutes(actor: User, school: School, minutes: int | None) -> None:
    """How many minutes before their session the school's registers open, 0 to 240; audited
    when it changes. Raises ValidationError."""
    if minutes is None or not 0 <= minutes <= OPENS_MINUTES_MAX:
        raise ValidationError(
            "register_opens_minutes",
            _("Give a number of minutes from 0 to %(max)d.", max=OPENS_MINUTES_MAX),
        )
    if school.register_opens_minutes != minutes:
        school.register_opens_minutes = minutes
        db.session.flush()
        audit(actor, AuditTag.SCHOOL_SETTINGS_CHANGED, school.id, register_opens_minutes=minutes)
