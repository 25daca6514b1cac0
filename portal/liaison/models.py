"""The carnet de liaison (SPEC §13, seed 003): notes to the guardians of some pupils, one per
pupil, that ask for a confirmation of reading, an answer among choices, or nothing."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.core import clock
from portal.core.db import CreatedAtMixin
from portal.extensions import db


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

    author: Mapped[User | None] = relationship()
    pupils: Mapped[list[NotePupil]] = relationship(
        cascade="all, delete-orphan", order_by="NotePupil.pupil_id"
    )

    @property
    def answers_open(self) -> bool:
        return self.answer_until is None or clock.now() < self.answer_until


class NotePupil(db.Model):
    """A pupil the note is for: the note is shown on this pupil's page of the carnet."""

    __tablename__ = "liaison_note_pupil"

    note_id: Mapped[int] = mapped_column(
        ForeignKey("liaison_note.id", ondelete="CASCADE"), primary_key=True
    )
    pupil_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )


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
