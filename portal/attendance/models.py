"""Sessions of the timetable and the marks of their registers (SPEC §6).

A pupil with no mark on a session whose register is taken was present: only absences, late
arrivals and early departures are rows. Each mark keeps what alert rules count (the day, the
session's start and the minutes missed), so that counting never needs the sessions.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
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
    #: Set later by the staff (vie scolaire), or from a family's justification they accepted.
    reason: Mapped[str] = mapped_column(String(300), default="")
    #: The school's reason it is, when it is one of the list (a staff-only reason is never
    #: shown to the family); None for a reason typed by the staff.
    reason_id: Mapped[int | None] = mapped_column(
        ForeignKey("absence_reason.id", ondelete="SET NULL")
    )
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


class AbsenceReason(db.Model):
    """One of the school's reasons for an absence or a lateness (seed 004, 'Motifs'): families
    choose among some when they justify online; the others are the staff's alone and never
    shown to families."""

    __tablename__ = "absence_reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    families_choose: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    __table_args__ = (UniqueConstraint("school_id", "label"),)


class Excuse(CreatedAtMixin, db.Model):
    """An absence known ahead and accepted by the staff: the marks recorded for the pupil
    during its period take its reason and count as justified."""

    __tablename__ = "absence_excuse"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    pupil_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    #: The reason's words: the marks take them (and the school's reason they name, if any).
    reason: Mapped[str] = mapped_column(String(300))


class AlertRule(CreatedAtMixin, db.Model):
    """An automated alert on attendance (seed 000): whom it watches, what it counts over which
    period, when it fires, and what it then does."""

    __tablename__ = "alert_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    #: '#rrggbb', shown beside its alerts.
    colour: Mapped[str] = mapped_column(String(7), default="#b45309")
    enabled: Mapped[bool] = mapped_column(default=True)
    #: rules.Population, rules.Metric, rules.Counted, rules.Trigger.
    population: Mapped[str] = mapped_column(String(10))
    metric: Mapped[str] = mapped_column(String(20))
    counted: Mapped[str] = mapped_column(String(12), default="all")
    trigger: Mapped[str] = mapped_column(String(10))
    low: Mapped[int]
    #: The M of 'between N and M'.
    high: Mapped[int | None]
    period_amount: Mapped[int]
    period_unit: Mapped[str] = mapped_column(String(6))
    #: A recurring cycle of this many days from cycle_first; None: no cycle.
    cycle_days: Mapped[int | None]
    cycle_first: Mapped[dt.date | None]
    #: rules.Scope and its group.
    scope: Mapped[str] = mapped_column(String(12), default="everyone")
    scope_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("school_group.id", ondelete="SET NULL")
    )
    #: Actions besides the in-app notification, which is always on.
    email_person: Mapped[bool] = mapped_column(default=False)
    email_guardians: Mapped[bool] = mapped_column(default=False)
    #: Ids of the admins e-mailed.
    email_admin_ids: Mapped[list] = mapped_column(JSON, default=list)
    #: The school's webhook endpoint called when it fires; None: no webhook.
    webhook_endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="SET NULL")
    )
    #: The SMS action whose text goes to the pupil's guardians when it fires; None: no SMS.
    sms_action_id: Mapped[int | None] = mapped_column(
        ForeignKey("sms_action.id", ondelete="SET NULL")
    )
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    scope_group: Mapped[Group | None] = relationship()


class AlertState(db.Model):
    """Whether a rule's condition held for a person at its last evaluation, and in which cycle
    it last fired: what makes it fire once per crossing."""

    __tablename__ = "alert_state"

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("alert_rule.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    holding: Mapped[bool] = mapped_column(default=False)
    fired_cycle: Mapped[dt.date | None]
    changed_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class Alert(db.Model):
    """A rule fired for a person: listed under Alerts → Notifications until archived."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rule.id", ondelete="SET NULL"))
    person_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    #: The rule's name and colour when it fired (kept if the rule changes or goes).
    rule_name: Mapped[str] = mapped_column(String(120))
    colour: Mapped[str] = mapped_column(String(7))
    #: What the metric counted when it fired (hours, sessions, days or times).
    amount: Mapped[float]
    fired_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    archived_at: Mapped[dt.datetime | None]

    person: Mapped[User] = relationship()

    __table_args__ = (Index("ix_alert_school_archived", "school_id", "archived_at", "fired_at"),)


class PupilContact(db.Model):
    """A pupil's designated tutor (the seed's maître d'apprentissage): told like a guardian by
    the alerts that e-mail guardians, without an account."""

    __tablename__ = "pupil_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
