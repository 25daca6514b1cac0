"""Groups of a school (SPEC §1). Communication rules are set between groups, never people.

Membership is materialised: a class's profile sub-groups and the school profile groups hold
rows kept in sync by the services, so that 'who is in parents of 5B' is one indexed lookup.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Profile, School, User
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
    #: What the group is for, as its makers wrote it (manual and teaching groups, lists).
    description: Mapped[str] = mapped_column(String(500), default="", server_default="")
    #: Set when the direction deletes the group: it leaves every screen, its rules and members
    #: go, and the messages that named it keep showing its name (the row stays for them).
    deleted_at: Mapped[dt.datetime | None]
    #: When its members last changed (shown for broadcast lists).
    members_changed_at: Mapped[dt.datetime | None]
    #: A broadcast list defined by a rule keeps its members itself (portal.groups.lists): the
    #: people of its profile in its source groups (or the whole school without any), for
    #: parents only the guardians of this rank when one is set. A fixed list is picked by hand.
    list_defined: Mapped[bool] = mapped_column(default=False, server_default=false())
    list_rank: Mapped[int | None]

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


class ListSource(db.Model):
    """A class or teaching group whose people a rule-defined broadcast list takes."""

    __tablename__ = "list_source"

    list_id: Mapped[int] = mapped_column(
        ForeignKey("school_group.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("school_group.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SavedList(CreatedAtMixin, db.Model):
    """A sender's own named set of people and groups (seed 003's 'favori de partage'), picked
    in To, Cc or Bcc; every member is checked against the rules again at each send."""

    __tablename__ = "saved_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))

    entries: Mapped[list[SavedListEntry]] = relationship(
        cascade="all, delete-orphan", order_by="SavedListEntry.id"
    )

    __table_args__ = (UniqueConstraint("owner_id", "name"),)


class SavedListEntry(db.Model):
    __tablename__ = "saved_list_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    saved_list_id: Mapped[int] = mapped_column(
        ForeignKey("saved_list.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("school_group.id", ondelete="CASCADE"))

    user: Mapped[User | None] = relationship()
    group: Mapped[Group | None] = relationship()

    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_member"),
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
