"""Announcements with their audience and comments, and homework (SPEC §5, seeds 001 and 003)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.core import clock
from portal.core.db import CreatedAtMixin
from portal.extensions import db
from portal.groups.audience import AudienceRow, HasAudience
from portal.groups.models import Group


class Announcement(HasAudience, CreatedAtMixin, db.Model):
    """The home-page message and news: shown on the home pages of its audience from its
    publication until its expiry."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    #: Kept when the author's account goes: the school is accountable for what it published.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    #: HTML cleaned on the server (portal.core.bodies).
    body: Mapped[str] = mapped_column(Text, default="")
    publish_at: Mapped[dt.datetime] = mapped_column(index=True)
    #: None: shown until someone removes it.
    expires_at: Mapped[dt.datetime | None]
    #: Readers may comment (seed 003: news with comments instead of replies).
    comments_allowed: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    author: Mapped[User | None] = relationship()
    audience_rows: Mapped[list[AnnouncementAudience]] = relationship(
        cascade="all, delete-orphan", order_by="AnnouncementAudience.id"
    )

    def is_live(self, at: dt.datetime) -> bool:
        return self.publish_at <= at and (self.expires_at is None or at < self.expires_at)


class AnnouncementAudience(AudienceRow, db.Model):
    """One target of an announcement: a profile, in one group or in the whole school."""

    __tablename__ = "announcement_audience"

    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcement.id", ondelete="CASCADE"), index=True
    )

    __table_args__ = (UniqueConstraint("announcement_id", "profile", "group_id"),)


class AnnouncementComment(CreatedAtMixin, db.Model):
    """A reader's comment. Moderators (the author and the direction) remove comments; a removed
    comment is kept, hidden from readers."""

    __tablename__ = "announcement_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcement.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    #: Plain text, shown escaped.
    body: Mapped[str] = mapped_column(Text)
    removed_at: Mapped[dt.datetime | None]
    removed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class Homework(CreatedAtMixin, db.Model):
    """Homework a teacher sets for a class or a teaching group they teach; its pupils and their
    guardians see it from its visible-from date."""

    __tablename__ = "homework"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("school_group.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(200))
    #: HTML cleaned on the server (portal.core.bodies).
    description: Mapped[str] = mapped_column(Text, default="")
    #: The day it is due, in the school's calendar.
    due_on: Mapped[dt.date]
    #: Midnight of its visible-from day in the school's time zone, in UTC: pupils and parents
    #: see it, and are told of it, from then on.
    visible_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    group: Mapped[Group] = relationship()
    author: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_homework_group_due", "group_id", "due_on"),)
