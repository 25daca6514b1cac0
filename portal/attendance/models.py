"""Sessions of the timetable and the marks of their registers (SPEC §6).

A pupil with no mark on a session whose register is taken was present: only absences, late
arrivals and early departures are rows. Each mark keeps what alert rules count (the day, the
session's start and the minutes missed), so that counting never needs the sessions.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.core import clock
from portal.core.db import CreatedAtMixin
from portal.extensions import db
from portal.groups.models import Group


class ClassSession(CreatedAtMixin, db.Model):
    """A timetabled slot: a class or teaching group, its teacher, a start and an end."""

    __tablename__ = "class_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("school_group.id", ondelete="CASCADE"))
    teacher_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    #: When the register was taken (every pupil without a mark was present); None: not yet.
    register_taken_at: Mapped[dt.datetime | None]
    register_taken_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    group: Mapped[Group] = relationship()
    teacher: Mapped[User | None] = relationship(foreign_keys=[teacher_id])

    __table_args__ = (
        Index("ix_class_session_school_start", "school_id", "starts_at"),
        Index("ix_class_session_group_start", "group_id", "starts_at"),
    )

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class MarkKind(StrEnum):
    ABSENT = "absent"
    LATE = "late"
    LEFT_EARLY = "left_early"


class AttendanceMark(db.Model):
    """A pupil absent, late or leaving early on one session; or a teacher absent from one."""

    __tablename__ = "attendance_mark"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("class_session.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[MarkKind] = mapped_column(String(12))
    #: Minutes missed: the whole session for an absence, else the minutes late or left early.
    minutes: Mapped[int]
    #: The session's start and its day in the school's time zone (what alert rules count).
    starts_at: Mapped[dt.datetime]
    day: Mapped[dt.date]
    #: Set later by the staff (vie scolaire).
    reason: Mapped[str] = mapped_column(String(300), default="")
    justified: Mapped[bool] = mapped_column(default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    session: Mapped[ClassSession] = relationship()
    person: Mapped[User] = relationship(foreign_keys=[person_id])

    __table_args__ = (
        UniqueConstraint("session_id", "person_id"),
        # Counting one person's marks over a period: what alert rules do.
        Index("ix_attendance_mark_person_start", "person_id", "starts_at"),
        Index("ix_attendance_mark_school_day", "school_id", "day"),
    )
