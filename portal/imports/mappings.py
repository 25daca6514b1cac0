"""Headings of a school's exports that Carnet does not recognise, and the field the direction
said each holds (SPEC §13): kept per school and kind of export, applied to every later file of
that kind, undone at will, audited. A school's mappings are its own: never read for another.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import User
from portal.core import audit
from portal.core.audit import AuditTag
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.imports.models import ImportMapping
from portal.imports.shapes import Reading, heading_key

HEADING_MAX = 200


def mapped_for(school_id: int) -> Callable[[str], dict[str, str]]:
    """shape key -> {folded heading: field} of the school, read once."""
    by_shape: dict[str, dict[str, str]] = {}
    for shape, key, field in db.session.execute(
        select(ImportMapping.shape, ImportMapping.heading_key, ImportMapping.field).where(
            ImportMapping.school_id == school_id
        )
    ):
        by_shape.setdefault(shape, {})[key] = field
    return lambda shape_key: by_shape.get(shape_key, {})


def of_school(school_id: int) -> list[ImportMapping]:
    return list(
        db.session.scalars(
            select(ImportMapping)
            .where(ImportMapping.school_id == school_id)
            .order_by(ImportMapping.shape, ImportMapping.heading)
        )
    )


def set_fields(actor: User, reading: Reading, choices: dict[int, str]) -> int:
    """Map each ignored column (by position) to the field chosen for it; '' leaves it ignored.
    A field must be one of the shape's and not read from another column, nor chosen twice.
    Returns how many mappings were saved. Raises ValidationError on 'columns'."""
    taken = set(reading.positions)
    wanted: dict[str, tuple[str, str]] = {}
    for position, field in choices.items():
        if not field:
            continue
        if not 0 <= position < len(reading.columns) or reading.columns[position].how != "ignored":
            raise ValidationError("columns", _("Only a column Carnet ignores can be mapped."))
        if field not in reading.shape.fields or field in taken:
            raise ValidationError(
                "columns", _("Choose what the column holds among what the file does not give.")
            )
        taken.add(field)
        heading = reading.columns[position].heading[:HEADING_MAX]
        wanted[heading_key(heading)[:HEADING_MAX]] = (heading, field)
    for key, (heading, field) in wanted.items():
        mapping = _find(actor.school_id, reading.shape.key, key)
        before = mapping.field if mapping else None
        if mapping is None:
            mapping = ImportMapping(
                school_id=actor.school_id, shape=reading.shape.key, heading_key=key
            )
            db.session.add(mapping)
        mapping.heading, mapping.field, mapping.actor_id = heading, field, actor.id
        _audit(actor, mapping, before, field)
    db.session.flush()
    return len(wanted)


def undo(actor: User, mapping: ImportMapping) -> None:
    """The heading is ignored again in the school's next files of that kind."""
    _audit(actor, mapping, mapping.field, None)
    db.session.delete(mapping)
    db.session.flush()


def find(school_id: int, shape_key: str, heading: str) -> ImportMapping | None:
    return _find(school_id, shape_key, heading_key(heading)[:HEADING_MAX])


def _find(school_id: int, shape_key: str, key: str) -> ImportMapping | None:
    return db.session.scalar(
        select(ImportMapping).where(
            ImportMapping.school_id == school_id,
            ImportMapping.shape == shape_key,
            ImportMapping.heading_key == key,
        )
    )


def _audit(actor: User, mapping: ImportMapping, before: str | None, after: str | None) -> None:
    audit.record(
        actor,
        AuditTag.IMPORT_MAPPING_CHANGED,
        actor.school_id,
        export=mapping.shape,
        heading=mapping.heading,
        before=before,
        after=after,
    )
