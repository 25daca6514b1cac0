"""An import from upload to result: read and check the file, say what each of its columns is
taken as, preview it, apply it in one transaction, or discard it. A file that lacks a column it
needs is kept, refused, until the direction maps one of its columns to what is missing (or
discards it). Short files are read and applied in the request; long ones (IMPORT_INLINE_ROWS)
by a worker, whose progress the page follows through RQ's job meta.
"""

from __future__ import annotations

import contextlib
import logging

import redis.exceptions
from flask import current_app
from flask_babel import gettext as _
from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import delete, func, insert, select, update

from portal.accounts import sso
from portal.accounts.models import School, User
from portal.core import audit, clock, outbox
from portal.core.audit import AuditTag
from portal.core.errors import ValidationError
from portal.core.i18n import deferred
from portal.core.jobs import redis_connection
from portal.extensions import db
from portal.imports import apply, lines, mappings
from portal.imports.labels import missing_text
from portal.imports.models import STALE, ImportMapping, ImportRow, ImportRun, RowStatus, RunState
from portal.imports.read import read
from portal.imports.shapes import (
    KINDS,
    REGISTERS,
    SHAPES,
    Reading,
    detect,
    kept_reading,
    read_columns,
)
from portal.notifications.services import tell_admins

log = logging.getLogger(__name__)

FILENAME_MAX = 200
#: The states in which the file is kept and may be read again, mapped or discarded.
AGAIN = (RunState.PREVIEWED, RunState.FAILED, RunState.INCOMPLETE)


class ColumnsMissing(ValidationError):
    """The file lacks a column it needs: kept as an incomplete import (``run``), so that the
    direction can map one of its columns to what is missing."""

    def __init__(self, run: ImportRun, message: str):
        super().__init__("file", message)
        self.run = run


def upload(
    actor: User,
    kind: str,
    register: str,
    filename: str,
    content: bytes,
    provider_id: int | None = None,
) -> ImportRun:
    """A new import of ``content``: checked (size, columns), then previewed here or queued for
    a worker. Raises ValidationError on 'file', 'kind', 'register' or 'provider'; ColumnsMissing
    (on 'file') when a column it needs is missing, the import kept to map its columns. A file
    with a column of identifiers at an identity provider (an ENT login) names the provider
    (``provider_id``) they are linked to."""
    offered = {provider.id for provider in sso.offered(actor.school)}
    if provider_id is not None and provider_id not in offered:
        raise ValidationError("provider", _("Choose one of the school's providers."))
    if kind not in KINDS:
        raise ValidationError("kind", _("Choose what the file holds."))
    if register and register not in REGISTERS:
        raise ValidationError("register", _("Choose the register the file comes from."))
    if not content:
        raise ValidationError("file", _("The file is empty."))
    if len(content) > current_app.config["IMPORT_MAX_BYTES"]:
        raise ValidationError(
            "file",
            _(
                "The file is larger than %(mb)d MB.",
                mb=current_app.config["IMPORT_MAX_BYTES"] // 1_000_000,
            ),
        )
    table = read(content)
    reading = detect(kind, register, table.headings, mappings.mapped_for(actor.school_id))
    if reading is None:
        raise ValidationError(
            "file",
            _(
                "The headings of this file are not those of an export of “%(kind)s”: "
                "check the file, or choose its register.",
                kind=KINDS[kind],
            ),
        )
    if provider_id is None and any(f.endswith("sso_login") for f in reading.positions):
        raise ValidationError(
            "provider",
            _("This file has a column of identifiers: choose the identity provider they come from.")
            if offered
            else _(
                "This file has a column of identifiers at an identity provider: add the provider "
                "first (Administration → Identity providers)."
            ),
        )
    run = ImportRun(
        school_id=actor.school_id,
        actor_id=actor.id,
        provider_id=provider_id,
        kind=reading.shape.kind,
        shape=reading.shape.register,
        filename=(filename or "import.csv")[-FILENAME_MAX:],
        content=content,
        encoding=table.encoding,
        rows=len(table.lines),
        columns=_columns_kept(reading),
    )
    db.session.add(run)
    db.session.flush()
    if reading.missing:
        _incomplete(run)
        raise ColumnsMissing(run, missing_text(reading))
    if _by_worker(run):
        _hand_over(run, "preview", RunState.PREVIEWING)
    else:
        _preview(run, reading, table)
    return run


def _columns_kept(reading: Reading) -> list:
    return [[c.heading, c.field, c.how] for c in reading.columns]


def reading_of(run: ImportRun) -> Reading:
    """What the run's columns were taken as when it was last read."""
    return kept_reading(f"{run.shape}-{run.kind}", run.columns)


def _incomplete(run: ImportRun) -> None:
    db.session.execute(delete(ImportRow).where(ImportRow.run_id == run.id))
    run.state, run.counts, run.plan_digest, run.error = RunState.INCOMPLETE, {}, "", None
    db.session.flush()


def _by_worker(run: ImportRun) -> bool:
    return run.rows > current_app.config["IMPORT_INLINE_ROWS"]


def _hand_over(run: ImportRun, step: str, state: RunState) -> None:
    run.state = state
    item = outbox.add("import", {"run_id": run.id, "step": step})
    run.job_id = outbox.job_id(item.id)
    db.session.flush()


def _progress(phase: str):
    """A callback telling the page how far a worker is in ``phase`` ('reading' or 'writing'),
    through RQ's job meta: outside the database transaction, which shows nothing until the end."""
    job = get_current_job()

    def tell(done: int, total: int) -> None:
        if job is not None:
            job.meta.update(phase=phase, done=done, total=total)
            with contextlib.suppress(redis.exceptions.RedisError):
                job.save_meta()

    return tell


class Stale(Exception):
    """The school's data changed since the preview: the plan is no longer the one shown."""


def _read(run: ImportRun):
    """The run's file read again with the school's mappings as they are now."""
    table = read(run.content)
    shape = SHAPES[f"{run.shape}-{run.kind}"]
    reading = read_columns(shape, table.headings, mappings.mapped_for(run.school_id)(shape.key))
    run.columns = _columns_kept(reading)
    return reading, table


def run_school(run: ImportRun) -> School:
    return db.session.get(School, run.school_id)


def _preview(run: ImportRun, reading: Reading | None = None, table=None) -> None:
    if reading is None:
        reading, table = _read(run)
    if reading.missing:
        _incomplete(run)
        return
    world, outcomes = lines.plan(
        run_school(run), reading, table, _progress("reading"), run.provider_id
    )
    db.session.execute(delete(ImportRow).where(ImportRow.run_id == run.id))
    for batch in apply._batches(outcomes):
        db.session.execute(
            insert(ImportRow),
            [
                {
                    "run_id": run.id,
                    "line": o.line,
                    "status": o.status.value,
                    "label": o.label[:200],
                    "notes": [list(note) for note in o.notes],
                    "warnings": sum(code == "warning" for code, _values in o.notes),
                }
                for o in batch
            ],
        )
    counts = {status.value: 0 for status in RowStatus}
    for outcome in outcomes:
        counts[outcome.status.value] += 1
    counts["warnings"] = sum(any(c == "warning" for c, _v in o.notes) for o in outcomes)
    run.counts, run.plan_digest = counts, world.digest()
    run.state, run.error = RunState.PREVIEWED, None
    db.session.flush()


def start_apply(actor: User, run: ImportRun) -> None:
    """Apply a previewed import: here for a short file, by a worker for a long one."""
    if not run.counts.get("created") and not run.counts.get("updated"):
        raise ValidationError("run", _("This file changes nothing: there is nothing to apply."))
    # Taken with a conditional update: of two clicks on Apply, one applies, the other is refused.
    taken = db.session.execute(
        update(ImportRun)
        .where(ImportRun.id == run.id, ImportRun.state == RunState.PREVIEWED)
        .values(state=RunState.APPLYING, actor_id=actor.id)
    ).rowcount
    if not taken:
        raise ValidationError("run", _("This import can't be applied any more."))
    db.session.refresh(run)
    if _by_worker(run):
        _hand_over(run, "apply", RunState.APPLYING)
    else:
        _apply(run)


def _apply(run: ImportRun) -> None:
    """Plan again against the school as it is now, refuse if that is not the plan previewed,
    then write everything in the caller's transaction."""
    reading, table = _read(run)
    if reading.missing:
        raise Stale
    world, _outcomes = lines.plan(
        run_school(run), reading, table, _progress("reading"), run.provider_id
    )
    if world.digest() != run.plan_digest:
        raise Stale
    world.actor_id = run.actor_id
    apply.write(world, progress=_progress("writing"))
    run.state, run.applied_at, run.error = RunState.APPLIED, clock.now(), None
    run.content = None  # the people's data is in the school now; the file is not kept
    db.session.flush()
    actor = db.session.get(User, run.actor_id) if run.actor_id else None
    audit.record(
        actor,
        AuditTag.IMPORT_APPLIED,
        run.school_id,
        run_id=run.id,
        filename=run.filename,
        kind=run.kind,
        register=run.shape,
        counts=run.counts,
    )
    text = deferred(
        "%(name)s imported “%(file)s”: created %(created)d, updated %(updated)d, "
        "rejected %(rejected)d",
        name=actor.display_name if actor else "Carnet",
        file=run.filename,
        created=run.counts.get("created", 0),
        updated=run.counts.get("updated", 0),
        rejected=run.counts.get("rejected", 0),
    )
    tell_admins(
        "admin_action",
        run.school_id,
        "imports",
        {"text": text, "url": f"/admin/imports/{run.id}"},
        author=actor,
    )


def preview_again(run: ImportRun) -> None:
    if run.state not in AGAIN or run.content is None:
        raise ValidationError("run", _("This import can't be previewed again."))
    if _by_worker(run):
        _hand_over(run, "preview", RunState.PREVIEWING)
    else:
        _preview(run)


def map_columns(actor: User, run: ImportRun, choices: dict[int, str]) -> None:
    """Map ignored columns of the run's file to fields (remembered for the school's next files
    of that kind), then preview the file again. Raises ValidationError on 'columns'."""
    if run.state not in AGAIN or run.content is None:
        raise ValidationError("columns", _("This import can't be changed any more."))
    if not mappings.set_fields(actor, reading_of(run), choices):
        raise ValidationError("columns", _("Choose what at least one column holds."))
    preview_again(run)


def unmap_column(actor: User, run: ImportRun, position: int) -> None:
    """Undo the school's mapping of the run's column at ``position``, then preview again."""
    if run.state not in AGAIN or run.content is None:
        raise ValidationError("columns", _("This import can't be changed any more."))
    columns = reading_of(run).columns
    column = columns[position] if 0 <= position < len(columns) else None
    mapping = column and mappings.find(run.school_id, f"{run.shape}-{run.kind}", column.heading)
    if mapping is None:
        raise ValidationError("columns", _("This column is not mapped."))
    mappings.undo(actor, mapping)
    preview_again(run)


def undo_mapping(actor: User, mapping: ImportMapping) -> None:
    mappings.undo(actor, mapping)


def discard(run: ImportRun) -> None:
    if run.state not in AGAIN:
        raise ValidationError("run", _("This import can't be discarded now."))
    run.state, run.content = RunState.DISCARDED, None
    db.session.flush()


def run_step(payload: dict) -> None:
    """A long import's preview or application, in the worker. Whatever goes wrong, nothing is
    half-written: the transaction is rolled back and the import says why it was not applied. A
    worker killed meanwhile leaves the outbox row to be run again."""
    run = db.session.get(ImportRun, payload["run_id"])
    expected = RunState.PREVIEWING if payload["step"] == "preview" else RunState.APPLYING
    if run is None or run.state != expected:
        return
    try:
        if payload["step"] == "preview":
            _preview(run)
        else:
            _apply(run)
    except Exception as exc:  # noqa: BLE001 - told on the page, logged in full
        db.session.rollback()
        if not isinstance(exc, Stale):
            log.exception("import %s failed", payload["run_id"])
        run = db.session.get(ImportRun, payload["run_id"])
        # What went wrong is in the log; the page says only that nothing was changed.
        run.state, run.error = RunState.FAILED, STALE if isinstance(exc, Stale) else "error"
        db.session.flush()


def progress_of(run: ImportRun) -> dict | None:
    """{'phase', 'done', 'total'} of the worker reading or applying ``run``; None until a worker
    has started on it (or while Redis can't be reached)."""
    if run.job_id is None:
        return None
    try:
        job = Job.fetch(run.job_id, connection=redis_connection())
    except (NoSuchJobError, redis.exceptions.RedisError):
        return None
    return job.meta if "total" in job.meta else None


def runs_of(school_id: int, limit: int = 30) -> list[ImportRun]:
    return list(
        db.session.scalars(
            select(ImportRun)
            .where(ImportRun.school_id == school_id)
            .order_by(ImportRun.created_at.desc(), ImportRun.id.desc())
            .limit(limit)
        )
    )


def rows_of(run: ImportRun, status: str | None, page: int, per_page: int = 100):
    query = select(ImportRow).where(ImportRow.run_id == run.id)
    if status == "warnings":
        query = query.where(ImportRow.warnings > 0)
    elif status:
        query = query.where(ImportRow.status == status)
    rows = db.session.scalars(
        query.order_by(ImportRow.line).offset((page - 1) * per_page).limit(per_page + 1)
    ).all()
    return rows[:per_page], len(rows) > per_page


def count_rows(run: ImportRun) -> int:
    return db.session.scalar(select(func.count()).where(ImportRow.run_id == run.id))
