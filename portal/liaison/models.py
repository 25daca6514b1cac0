"""The carnet de liaison (SPEC §13, seed 003): notes to the guardians of some pupils, one per
pupil, that ask for a confirmation of reading, an answer among choices, or nothing; and the
justifications families give for absences, which the staff accept or refuse."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.attendance.models import AttendanceMark
from portal.core import clock
from portal.core.db import CreatedAtMixin
from portal.extensions import db
from portal.messaging.models import Attachment


class Asks(StrEnum):
    """What a note asks of the guardians."""

    #: 'Vu / lu et signé': one tap.
    CONFIRMATION = "confirmation"
    #: A coupon-réponse: one of the author's choices, with an optional comment.
    ANSWER = "answer"
    #: Information only.
    NOTHING = "nothing"


class LiaisonNote(CreatedAtMixin, db.Model):
    __tablename__ = "liaison_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    #: Kept when the author's account goes: the school is accountable for what it asked.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    #: HTML cleaned on the server (portal.core.bodies).
    body: Mapped[str] = mapped_column(Text, default="")
    asks: Mapped[Asks] = mapped_column(String(12))
    #: The coupon's choices, in the author's order (an answer keeps the index of its choice).
    choices: Mapped[list] = mapped_column(JSON, default=list)
    #: Answers may change until then; None: until the author closes nothing.
    answer_until: Mapped[dt.datetime | None]
    #: The pupils read the note too.
    pupils_see: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: The school day the families still waiting were last reminded: never twice a day.
    reminded_on: Mapped[dt.date | None]

    author: Mapped[User | None] = relationship()
    pupils: Mapped[list[NotePupil]] = relationship(
        cascade="all, delete-orphan", order_by="NotePupil.pupil_id"
    )
    files: Mapped[list[Attachment]] = relationship(
        secondary="liaison_note_file", order_by="Attachment.id"
    )

    @property
    def answers_open(self) -> bool:
        return self.answer_until is None or clock.now() < self.answer_until


class NoteFile(db.Model):
    """A file joined to a note, read by those who read the note."""

    __tablename__ = "liaison_note_file"

    note_id: Mapped[int] = mapped_column(
        ForeignKey("liaison_note.id", ondelete="CASCADE"), primary_key=True
    )
    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachment.id", ondelete="CASCADE"), primary_key=True
    )


class NotePupil(db.Model):
    """A pupil the note is for: the note is shown on this pupil's page of the carnet."""

    __tablename__ = "liaison_note_pupil"

    note_id: Mapped[int] = mapped_column(
        ForeignKey("liaison_note.id", ondelete="CASCADE"), primary_key=True
    )
    pupil_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    pupil: Mapped[User] = relationship()


class NoteReply(db.Model):
    """One guardian's confirmation or answer for one pupil."""

    __tablename__ = "liaison_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(
        ForeignKey("liaison_note.id", ondelete="CASCADE"), index=True
    )
    pupil_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    guardian_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    replied_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: The index of the chosen answer in the note's choices; None for a confirmation.
    choice: Mapped[int | None]
    comment: Mapped[str] = mapped_column(String(500), default="")

    guardian: Mapped[User] = relationship(foreign_keys=[guardian_id])

    __table_args__ = (UniqueConstraint("note_id", "pupil_id", "guardian_id"),)


class Outcome(StrEnum):
    """Where a family's justification stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    #: The staff asked for a document; the family adds it and the justification waits again.
    DOCUMENT_ASKED = "document_asked"


class Justification(CreatedAtMixin, db.Model):
    """A guardian's reason for an absence or a lateness, or for an absence known ahead (a
    period, no mark yet), with a comment and a document; the staff decide."""

    __tablename__ = "justification"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    pupil_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    guardian_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    #: The absence or lateness it justifies; None for an absence known ahead.
    mark_id: Mapped[int | None] = mapped_column(
        ForeignKey("attendance_mark.id", ondelete="CASCADE"), index=True
    )
    #: An absence known ahead: from the start of one day to the end of another (UTC).
    starts_at: Mapped[dt.datetime | None]
    ends_at: Mapped[dt.datetime | None]
    reason_id: Mapped[int | None] = mapped_column(
        ForeignKey("absence_reason.id", ondelete="SET NULL")
    )
    #: The reason's words when given: they stay if the school renames or removes it.
    reason: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(String(500), default="")
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachment.id", ondelete="SET NULL")
    )
    outcome: Mapped[Outcome] = mapped_column(String(16), default=Outcome.PENDING, index=True)
    #: The staff's words to the family: why it is refused, which document they need.
    answer: Mapped[str] = mapped_column(String(500), default="")
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_at: Mapped[dt.datetime | None]

    pupil: Mapped[User] = relationship(foreign_keys=[pupil_id])
    guardian: Mapped[User | None] = relationship(foreign_keys=[guardian_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    mark: Mapped[AttendanceMark | None] = relationship()
    attachment: Mapped[Attachment | None] = relationship()

    @property
    def open(self) -> bool:
        return self.outcome in (Outcome.PENDING, Outcome.DOCUMENT_ASKED)

    @property
    def last_moment(self) -> dt.datetime | None:
        """The end of an absence known ahead, within its last day."""
        return self.ends_at - dt.timedelta(seconds=1) if self.ends_at else None
