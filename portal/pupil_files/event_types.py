"""A school's event types for pupil files (seed 002): the defaults every school starts with,
and the direction creating, changing, switching off and deleting them.

Every function flushes and never commits. Bad input raises ValidationError(field, message)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import School, User
from portal.core import audit
from portal.core.audit import AuditTag
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.pupil_files import labels
from portal.pupil_files.models import (
    REASON_REQUIRED,
    EventKind,
    ExtraField,
    FileEvent,
    FileEventType,
    FileStatus,
    Party,
)

NAME_MAX = 80


CUSTOM_MAX = 3


#: The types every school starts with (seed 002); the direction changes them as it likes.
DEFAULT_TYPES = (
    (EventKind.ENTRY, FileStatus.IN_PROGRESS, [], [Party.TEACHERS]),
    (EventKind.POSITIVE_EXIT, FileStatus.COMPLETED, [], [Party.GUARDIANS, Party.TEACHERS]),
    (EventKind.ABANDONMENT, FileStatus.ABANDONED, [], [Party.GUARDIANS, Party.STAFF]),
    (EventKind.RUPTURE, FileStatus.BROKEN_OFF, [], [Party.GUARDIANS, Party.STAFF, Party.ADMINS]),
    (EventKind.PHASE_CHANGE, None, [ExtraField.PHASE], [Party.TEACHERS]),
    (EventKind.STEP_VALIDATED, None, [], []),
)


def install_default_types(school: School) -> None:
    for position, (kind, status, fields, parties) in enumerate(DEFAULT_TYPES):
        db.session.add(
            FileEventType(
                school_id=school.id,
                kind=kind,
                sets_status=status,
                reason_required=kind in REASON_REQUIRED,
                fields=[str(f) for f in fields],
                notify=[str(p) for p in parties],
                position=position,
            )
        )
    db.session.flush()


def types_of(school_id: int, enabled_only: bool = False) -> list[FileEventType]:
    query = select(FileEventType).where(FileEventType.school_id == school_id)
    if enabled_only:
        query = query.where(FileEventType.enabled)
    return list(db.session.scalars(query.order_by(FileEventType.position, FileEventType.id)))


@dataclass
class TypeInput:
    name: str = ""
    sets_status: str | None = None
    reason_required: bool = False
    fields: list[str] = field(default_factory=list)
    custom_fields: list[str] = field(default_factory=list)
    notify: list[str] = field(default_factory=list)


def _checked_type(given: TypeInput, kind: EventKind) -> dict:
    errors: dict[str, str] = {}
    name = " ".join((given.name or "").split())
    if len(name) > NAME_MAX:
        errors["name"] = _("At most %(n)d characters.", n=NAME_MAX)
    if not name and kind == EventKind.CUSTOM:
        errors["name"] = _("Give the type a name.")
    if given.sets_status and given.sets_status not in set(FileStatus):
        errors["sets_status"] = _("Choose a status from the list.")
    if any(f not in set(ExtraField) for f in given.fields):
        errors["fields"] = _("Choose fields from the list.")
    if any(p not in set(Party) for p in given.notify):
        errors["notify"] = _("Choose whom to tell from the list.")
    custom = [" ".join(label.split()) for label in given.custom_fields if label.strip()]
    if len(custom) > CUSTOM_MAX:
        errors["custom_fields"] = _("At most %(n)d fields of your own.", n=CUSTOM_MAX)
    elif any(len(label) > NAME_MAX for label in custom):
        errors["custom_fields"] = _("At most %(n)d characters a field.", n=NAME_MAX)
    elif len(set(custom)) < len(custom):
        errors["custom_fields"] = _("Two fields have the same name.")
    if errors:
        raise ValidationError.of(errors)
    return {
        "name": name,
        "sets_status": given.sets_status or None,
        # Abandonment and rupture always ask for their reason (seed 002).
        "reason_required": bool(given.reason_required) or kind in REASON_REQUIRED,
        "fields": [str(f) for f in ExtraField if f in given.fields],
        "custom_fields": custom,
        "notify": [str(p) for p in Party if p in given.notify],
    }


def create_type(actor: User, given: TypeInput) -> FileEventType:
    values = _checked_type(given, EventKind.CUSTOM)
    last = max((t.position for t in types_of(actor.school_id)), default=-1)
    event_type = FileEventType(
        school_id=actor.school_id, kind=EventKind.CUSTOM, position=last + 1, **values
    )
    db.session.add(event_type)
    db.session.flush()
    audit.record(actor, AuditTag.EVENT_TYPE_SAVED, actor.school_id, type_id=event_type.id, **values)
    return event_type


def change_type(actor: User, event_type: FileEventType, given: TypeInput) -> None:
    values = _checked_type(given, EventKind(event_type.kind))
    before = {name: getattr(event_type, name) for name in values}
    for name, value in values.items():
        setattr(event_type, name, value)
    db.session.flush()
    audit.record(
        actor,
        AuditTag.EVENT_TYPE_SAVED,
        actor.school_id,
        type_id=event_type.id,
        before=before,
        after=values,
    )


def set_type_enabled(actor: User, event_type: FileEventType, enabled: bool) -> None:
    event_type.enabled = enabled
    db.session.flush()
    audit.record(
        actor, AuditTag.EVENT_TYPE_SAVED, actor.school_id, type_id=event_type.id, enabled=enabled
    )


def type_in_use(event_type: FileEventType) -> bool:
    return (
        db.session.scalar(select(FileEvent.id).where(FileEvent.type_id == event_type.id).limit(1))
        is not None
    )


def delete_type(actor: User, event_type: FileEventType) -> None:
    """Only a type no event uses: the history keeps the types it names (switch it off)."""
    if type_in_use(event_type):
        raise ValidationError(
            "type", _("Events of this type are recorded: switch it off rather than delete it.")
        )
    audit.record(
        actor,
        AuditTag.EVENT_TYPE_DELETED,
        actor.school_id,
        type_id=event_type.id,
        name=labels.type_label(event_type),
    )
    db.session.delete(event_type)
    db.session.flush()
