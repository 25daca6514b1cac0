"""Groups of a school (SPEC §1). Communication rules are set between groups, never people.

Membership is materialised: a class's profile sub-groups and the school profile groups hold
rows kept in sync by the services, so that 'who is in parents of 5B' is one indexed lookup.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Profile, School
from portal.core.db import CreatedAtMixin
from portal.extensions import db


class GroupKind(StrEnum):
    CLASS = "class"  # direct members: the class's pupils and teachers
    CLASS_PROFILE = "class_profile"  # pupils / parents / teachers of one class (derived)
    SCHOOL_PROFILE = "school_profile"  # all teachers, staff, parents, pupils, direction (derived)
    TEACHING = "teaching"  # groupe d'enseignement: ULIS, options...
    MANUAL = "manual"  # made by admins; no communication rule by default
    BROADCAST_LIST = "broadcast_list"  # one profile; members hidden, cannot write to each other


#: Kinds whose members the services compute; nobody adds or removes them by hand.
DERIVED_KINDS = (GroupKind.CLASS_PROFILE, GroupKind.SCHOOL_PROFILE)
#: The profile sub-groups each class has.
CLASS_SUB_PROFILES = (Profile.PUPIL, Profile.PARENT, Profile.TEACHER)


class Group(CreatedAtMixin, db.Model):
    __tablename__ = "school_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    kind: Mapped[GroupKind] = mapped_column(String(20))
    #: The name people gave it (5B, ULIS); profile groups are named on screen from their profile.
    name: Mapped[str] = mapped_column(String(120), default="")
    #: For profile groups and broadcast lists: whose group it is.
    profile: Mapped[Profile | None] = mapped_column(String(10))
    #: For a class's profile sub-groups: the class.
    class_id: Mapped[int | None] = mapped_column(
        ForeignKey("school_group.id", ondelete="CASCADE"), index=True
    )
    #: Internal communication: members may write to each other (SPEC §2).
    internal: Mapped[bool] = mapped_column(default=False)
    #: Set by the annual rollover: the group of a past school year ('2025-2026'), kept with its
    #: messages, out of every directory, audience and list of the current year.
    archived_at: Mapped[dt.datetime | None]
    school_year: Mapped[str | None] = mapped_column(String(9))

    school_class: Mapped[Group | None] = relationship(remote_side=[id])
    school: Mapped[School] = relationship()

    __table_args__ = (UniqueConstraint("school_id", "kind", "name", "profile", "class_id"),)

    def __repr__(self) -> str:
        return f"<Group {self.id} {self.kind} {self.name or self.profile}>"


class GroupMember(db.Model):
    __tablename__ = "group_member"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("school_group.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CommunicationRule(CreatedAtMixin, db.Model):
    """Every member of the source group may start a conversation with every member of the target
    group (SPEC §2). Rules are between groups, never between people."""

    __tablename__ = "communication_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_group_id: Mapped[int] = mapped_column(
        ForeignKey("school_group.id", ondelete="CASCADE"), index=True
    )
    target_group_id: Mapped[int] = mapped_column(
        ForeignKey("school_group.id", ondelete="CASCADE"), index=True
    )

    source: Mapped[Group] = relationship(foreign_keys=[source_group_id])
    target: Mapped[Group] = relationship(foreign_keys=[target_group_id])

    __table_args__ = (UniqueConstraint("source_group_id", "target_group_id"),)
