"""A pupil's file and the events of their schooling (SPEC §7, seed 002).

Event types are the school's own: what status each sets, whether a reason is mandatory, the
extra fields it asks for and whom it tells. An event keeps what it triggered (the status it set,
who was told) so that the history can say so, and so that deleting it can list what may need a
correction by hand.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.core import clock
from portal.core.db import CreatedAtMixin
from portal.extensions import db


class FileStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ABANDONED = "abandoned"
    BROKEN_OFF = "broken_off"


#: The statuses that end the schooling the file follows: durations stop counting.
ENDED = (FileStatus.COMPLETED, FileStatus.ABANDONED, FileStatus.BROKEN_OFF)


class EventKind(StrEnum):
    ENTRY = "entry"
    POSITIVE_EXIT = "positive_exit"
    ABANDONMENT = "abandonment"
    RUPTURE = "rupture"
    PHASE_CHANGE = "phase_change"
    STEP_VALIDATED = "step_validated"
    CUSTOM = "custom"


#: Kinds whose reason is always mandatory, whatever the type says (seed 002).
REASON_REQUIRED = (EventKind.ABANDONMENT, EventKind.RUPTURE)


class ExtraField(StrEnum):
    """Fields an event type may ask for beyond the date, comment and reason."""

    PHASE = "phase"  # previous and new phase
    STATUS = "status"  # a new status chosen when the event is recorded
    FUNDER = "funder"  # the new funder


class Party(StrEnum):
    """Whom an event type tells, through the 'pupil file event' notification."""

    GUARDIANS = "guardians"
    TEACHERS = "teachers"
    STAFF = "staff"
    ADMINS = "admins"


class FileEventType(CreatedAtMixin, db.Model):
    __tablename__ = "file_event_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EventKind] = mapped_column(String(20))
    #: The school's own name; empty for a built-in type named in the reader's language.
    name: Mapped[str] = mapped_column(String(80), default="")
    #: The status an event of this type sets; None: it leaves the status alone.
    sets_status: Mapped[FileStatus | None] = mapped_column(String(20))
    reason_required: Mapped[bool] = mapped_column(default=False)
    #: ExtraField values.
    fields: Mapped[list] = mapped_column(JSON, default=list)
    #: Labels of free-text fields of the school's own (at most three).
    custom_fields: Mapped[list] = mapped_column(JSON, default=list)
    #: Party values.
    notify: Mapped[list] = mapped_column(JSON, default=list)
    #: Switched off, a type is no longer offered; events already recorded keep it.
    enabled: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class PupilFile(db.Model):
    """One per pupil, opened by their first event: the status their events set."""

    __tablename__ = "pupil_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    pupil_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[FileStatus] = mapped_column(String(20), default=FileStatus.NOT_STARTED)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    pupil: Mapped[User] = relationship()


class FileEvent(CreatedAtMixin, db.Model):
    """One event of a pupil's file. Events of one day keep the order they were entered in
    (their id)."""

    __tablename__ = "file_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    file_id: Mapped[int] = mapped_column(ForeignKey("pupil_file.id", ondelete="CASCADE"))
    type_id: Mapped[int] = mapped_column(ForeignKey("file_event_type.id"))
    #: The day it happened or will happen, in the school's time zone.
    day: Mapped[dt.date]
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    comment: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(300), default="")
    #: The extra fields' values: phase_from, phase_to, status, funder, and custom {label: value}.
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Dated before the day it was entered: date-bound actions (notifications) never fire.
    after_the_fact: Mapped[bool] = mapped_column(default=False)
    #: When its day came and its actions ran; None while it lies in the future.
    applied_at: Mapped[dt.datetime | None]
    #: The outbox row that applies a future event on its day.
    due_item_id: Mapped[int | None]
    #: What it did: {"status": [before, after]} and {"notified": {party: [[id, name], ...]}}.
    triggered: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    type: Mapped[FileEventType] = relationship()
    file: Mapped[PupilFile] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])

    __table_args__ = (Index("ix_file_event_file_day", "file_id", "day", "id"),)

    @property
    def status_set(self) -> FileStatus | None:
        """The status this event sets: the one chosen on it, else its type's."""
        return self.values.get("status") or self.type.sets_status
