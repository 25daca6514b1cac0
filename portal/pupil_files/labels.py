"""Names of file statuses, event kinds, extra fields and parties, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.core.i18n import deferred, translate
from portal.pupil_files.models import EventKind, ExtraField, FileEventType, FileStatus, Party

_STATUSES = {
    FileStatus.NOT_STARTED: _l("Not started"),
    FileStatus.IN_PROGRESS: _l("In progress"),
    FileStatus.COMPLETED: _l("Completed"),
    FileStatus.ABANDONED: _l("Abandoned"),
    FileStatus.BROKEN_OFF: _l("Broken off"),
}

#: The names of the built-in kinds, translated where they are read (a notification is read
#: later, in its reader's language).
KIND_NAMES = {
    EventKind.ENTRY: deferred("Entry"),
    EventKind.POSITIVE_EXIT: deferred("Positive exit"),
    EventKind.ABANDONMENT: deferred("Abandonment"),
    EventKind.RUPTURE: deferred("Rupture"),
    EventKind.PHASE_CHANGE: deferred("Phase change"),
    EventKind.STEP_VALIDATED: deferred("Step validated"),
    EventKind.CUSTOM: deferred("Event"),
}


def status_label(status: str | None) -> str:
    return str(_STATUSES[FileStatus(status or FileStatus.NOT_STARTED)])


def kind_label(kind: str) -> str:
    return translate(KIND_NAMES[EventKind(kind)])


def type_label(event_type: FileEventType) -> str:
    """A type's name: the school's own, else its kind's in the reader's language."""
    return event_type.name or kind_label(event_type.kind)


def type_name_later(event_type: FileEventType):
    """A type's name for a notification, translated when it is read."""
    return event_type.name or KIND_NAMES[EventKind(event_type.kind)]


def field_label(field: str) -> str:
    return {
        ExtraField.PHASE: _("Previous and new phase"),
        ExtraField.STATUS: _("New status"),
        ExtraField.FUNDER: _("New funder"),
    }[ExtraField(field)]


def party_label(party: str) -> str:
    return {
        Party.GUARDIANS: _("Guardians"),
        Party.TEACHERS: _("The class's teachers"),
        Party.STAFF: _("Staff"),
        Party.ADMINS: _("Direction"),
    }[Party(party)]


def template_globals() -> dict:
    return {
        "file_status_label": status_label,
        "event_type_label": type_label,
        "event_field_label": field_label,
        "event_party_label": party_label,
    }
