"""One import of a file: what it would do (the preview, row by row), then what it did."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from portal.core import clock
from portal.extensions import db


class RunState(StrEnum):
    PREVIEWING = "previewing"  # a worker is reading a large file
    PREVIEWED = "previewed"  # the preview is ready: apply or discard
    INCOMPLETE = "incomplete"  # a column it needs is missing: map one, or discard
    APPLYING = "applying"  # a worker is applying a large file
    APPLIED = "applied"
    FAILED = "failed"  # nothing was changed; `error` says why
    DISCARDED = "discarded"


#: What ImportRun.error holds when applying found the preview out of date.
STALE = "stale"


class RowStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


class ImportRun(db.Model):
    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: What the file holds (portal.imports.shapes.KINDS) and whose export it is (SHAPES).
    kind: Mapped[str] = mapped_column(String(20))
    shape: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    #: The file as uploaded, kept until it is applied or discarded.
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    encoding: Mapped[str] = mapped_column(String(20), default="")
    state: Mapped[RunState] = mapped_column(String(12), default=RunState.PREVIEWED)
    rows: Mapped[int] = mapped_column(default=0)
    #: {'created': n, 'updated': n, 'unchanged': n, 'rejected': n}
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    #: A digest of the previewed plan: applying refuses a plan the school's data changed since.
    plan_digest: Mapped[str] = mapped_column(String(64), default="")
    #: What each column of the file was taken as: [heading, field or None, how] (shapes.py).
    columns: Mapped[list] = mapped_column(JSON, default=list)
    job_id: Mapped[str | None] = mapped_column(String(60))
    #: The identity provider the file's identifiers (an ENT login column) are linked to.
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_provider.id", ondelete="SET NULL")
    )
    error: Mapped[str | None] = mapped_column(String(500))
    applied_at: Mapped[dt.datetime | None]


class ImportRow(db.Model):
    """One line of the file as the preview judged it."""

    __tablename__ = "import_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_run.id", ondelete="CASCADE"))
    line: Mapped[int]
    status: Mapped[RowStatus] = mapped_column(String(10))
    #: Who the row is about ('MARTIN Léa, 5B').
    label: Mapped[str] = mapped_column(String(200), default="")
    #: Rejected: the reasons; otherwise what changes ('class: 5A → 5B').
    notes: Mapped[list] = mapped_column(JSON, default=list)
    #: How many of the notes are warnings (a guardian's field left out, and why).
    warnings: Mapped[int] = mapped_column(default=0)

    __table_args__ = (Index("ix_import_row_run_status_line", "run_id", "status", "line"),)


class ImportMapping(db.Model):
    """A heading of a school's exports that Carnet does not recognise, and the field the
    direction said it holds: applied to every later file of that kind (SPEC §13)."""

    __tablename__ = "import_mapping"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    #: The export's shape key ('siecle-pupils', 'onde-guardians'...).
    shape: Mapped[str] = mapped_column(String(30))
    #: The heading folded as shapes.heading_key() folds it, and as the file wrote it.
    heading_key: Mapped[str] = mapped_column(String(200))
    heading: Mapped[str] = mapped_column(String(200))
    #: Our field ('guardian1.mobile').
    field: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    __table_args__ = (UniqueConstraint("school_id", "shape", "heading_key"),)
