from __future__ import annotations

from portal.audit.models import AuditEntry, AuditTag
from portal.extensions import db


def record(actor, tag: AuditTag, school_id: int | None, **details) -> AuditEntry:
    """Write one audit entry in the current transaction (it stands or falls with the change)."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        school_id=school_id,
        tag=tag.value,
        details=details,
    )
    db.session.add(entry)
    db.session.flush()
    return entry
