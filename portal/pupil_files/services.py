"""The events of a pupil's file and what they trigger (SPEC §7, seed 002); the types they are
of are event_types'.

The file's status is the one set by its latest event in effect (by day, then by the order of
entry): an event dated before today is recorded after the fact, takes its place in the history
and sets the status it says, but fires no date-bound action (no notification); an event dated
in the future waits for its day, when an outbox row scheduled for the school's midnight applies
it. Deleting an event undoes nothing it triggered without saying so: ``consequences`` lists what
may need a correction by hand before anything is deleted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select, update

from portal.accounts.models import Guardianship, Profile, School, User
from portal.core import audit, clock, outbox
from portal.core.audit import AuditTag
from portal.core.db import among
from portal.core.errors import ValidationError
from portal.core.i18n import deferred, deferred_date
from portal.extensions import db
from portal.groups.models import Group, GroupKind, GroupMember
from portal.notifications import services as notifications
from portal.pupil_files import labels
from portal.pupil_files.models import (
    REASON_REQUIRED,
    EventKind,
    ExtraField,
    FileEvent,
    FileEventType,
    FileStatus,
    Party,
    PupilFile,
)

COMMENT_MAX = 2000
REASON_MAX = 300
VALUE_MAX = 120


# --- the file and its events ------------------------------------------------------------------


def file_of(pupil: User) -> PupilFile | None:
    return db.session.scalar(select(PupilFile).where(PupilFile.pupil_id == pupil.id))


def statuses_of(pupil_ids: list[int]) -> dict[int, str]:
    """Each pupil's file status, for a class list (pupils without a file have not started)."""
    rows = db.session.execute(
        select(PupilFile.pupil_id, PupilFile.status).where(among(PupilFile.pupil_id, pupil_ids))
    )
    return {pupil_id: status for pupil_id, status in rows}


def _open_file(pupil: User) -> PupilFile:
    found = file_of(pupil)
    if found is None:
        found = PupilFile(school_id=pupil.school_id, pupil_id=pupil.id)
        db.session.add(found)
        db.session.flush()
    return found


def events_of(pupil_file: PupilFile | None, newest_first: bool = False) -> list[FileEvent]:
    """The history: by day, events of one day in the order they were entered."""
    if pupil_file is None:
        return []
    order = (
        (FileEvent.day.desc(), FileEvent.id.desc())
        if newest_first
        else (FileEvent.day, FileEvent.id)
    )
    return list(
        db.session.scalars(
            select(FileEvent).where(FileEvent.file_id == pupil_file.id).order_by(*order)
        )
    )


@dataclass
class EventInput:
    day: dt.date | None = None
    comment: str = ""
    reason: str = ""
    phase_from: str = ""
    phase_to: str = ""
    status: str = ""
    funder: str = ""
    custom: dict[str, str] = field(default_factory=dict)


def _squeezed(value: str | None) -> str:
    return " ".join((value or "").split())


def _checked_event(event_type: FileEventType, given: EventInput) -> dict:
    """The event's columns from what was typed; every field's problem at once."""
    errors: dict[str, str] = {}
    if given.day is None:
        errors["day"] = _("Give the date of the event.")
    comment = (given.comment or "").strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"] = _("At most %(n)d characters.", n=COMMENT_MAX)
    reason = _squeezed(given.reason)
    if len(reason) > REASON_MAX:
        errors["reason"] = _("At most %(n)d characters.", n=REASON_MAX)
    elif not reason and (event_type.reason_required or event_type.kind in REASON_REQUIRED):
        errors["reason"] = _("Give the reason: it is mandatory for this event.")
    values: dict = {}
    if ExtraField.PHASE in event_type.fields:
        for name in ("phase_from", "phase_to"):
            value = _squeezed(getattr(given, name))
            if len(value) > VALUE_MAX:
                errors[name] = _("At most %(n)d characters.", n=VALUE_MAX)
            values[name] = value
        if not values["phase_to"]:
            errors["phase_to"] = _("Give the new phase.")
    if ExtraField.STATUS in event_type.fields:
        if given.status not in set(FileStatus) - {FileStatus.NOT_STARTED}:
            errors["status"] = _("Choose the new status from the list.")
        values["status"] = given.status
    if ExtraField.FUNDER in event_type.fields:
        funder = _squeezed(given.funder)
        if len(funder) > VALUE_MAX:
            errors["funder"] = _("At most %(n)d characters.", n=VALUE_MAX)
        values["funder"] = funder
    if event_type.custom_fields:
        custom = {}
        for label in event_type.custom_fields:
            value = _squeezed(given.custom.get(label))
            if len(value) > VALUE_MAX:
                errors["custom"] = _("At most %(n)d characters a field.", n=VALUE_MAX)
            custom[label] = value
        values["custom"] = custom
    if errors:
        raise ValidationError.of(errors)
    return {"day": given.day, "comment": comment, "reason": reason, "values": values}


def _today(school_id: int) -> dt.date:
    return clock.today(db.session.get(School, school_id).timezone)


def current_phase_of(pupil_file: PupilFile | None) -> str:
    """The phase of the latest phase change in effect."""
    phase = ""
    for event in events_in_effect(pupil_file):
        phase = event.values.get("phase_to") or phase
    return phase


def events_in_effect(pupil_file: PupilFile | None) -> list[FileEvent]:
    """The events whose day has come, oldest first."""
    if pupil_file is None:
        return []
    today = _today(pupil_file.school_id)
    return [event for event in events_of(pupil_file) if event.day <= today]


def record(actor: User, pupil: User, event_type: FileEventType, given: EventInput) -> FileEvent:
    """Record an event; its actions run now, on its day if it lies ahead, or never for the
    date-bound ones when it is entered after the fact."""
    if event_type.school_id != pupil.school_id or not event_type.enabled:
        raise ValidationError("type_id", _("Choose a type from the list."))
    columns = _checked_event(event_type, given)
    pupil_file = _open_file(pupil)
    today = _today(pupil.school_id)
    event = FileEvent(
        school_id=pupil.school_id,
        file_id=pupil_file.id,
        type_id=event_type.id,
        author_id=actor.id,
        after_the_fact=columns["day"] < today,
        triggered={},
        **columns,
    )
    db.session.add(event)
    db.session.flush()
    audit.record(
        actor,
        AuditTag.FILE_EVENT_RECORDED,
        pupil.school_id,
        event_id=event.id,
        pupil_id=pupil.id,
        type=labels.type_label(event_type),
        day=event.day.isoformat(),
    )
    if event.day > today:
        _apply_on_its_day(event)
    else:
        apply(event)
    return event


def _apply_on_its_day(event: FileEvent) -> None:
    school = db.session.get(School, event.school_id)
    at = clock.local_moment(event.day, dt.time(0), school.timezone)
    event.due_item_id = outbox.add("file_event_due", {"event_id": event.id}, available_at=at).id


def apply(event: FileEvent) -> bool:
    """The event's day has come: claim it, set the status its file now has, tell the parties
    (unless entered after the fact). False if it was applied already (a duplicated job)."""
    claimed = db.session.execute(
        update(FileEvent)
        .where(FileEvent.id == event.id, FileEvent.applied_at.is_(None))
        .values(applied_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return False
    db.session.refresh(event)
    triggered: dict = {}
    before, after = refresh_status(event.file)
    if before != after:
        triggered["status"] = [before, after]
    if not event.after_the_fact:
        triggered["notified"] = _notify(event)
    event.triggered = triggered
    db.session.flush()
    return True


def refresh_status(pupil_file: PupilFile) -> tuple[str, str]:
    """The file's status from its events in effect; (before, after)."""
    before = pupil_file.status
    status = _status_of(events_in_effect(pupil_file))
    if status != before:
        pupil_file.status, pupil_file.updated_at = status, clock.now()
        db.session.flush()
    return str(before), str(status)


def parties_of(event: FileEvent) -> dict[str, list[User]]:
    """Whom the event's type tells, by party; blocked accounts are left out by notify()."""
    pupil = event.file.pupil
    found: dict[str, list[User]] = {}
    for party in event.type.notify:
        if party == Party.GUARDIANS:
            query = (
                select(User)
                .join(Guardianship, Guardianship.parent_id == User.id)
                .where(Guardianship.pupil_id == pupil.id)
            )
        elif party == Party.TEACHERS:
            classes = (
                select(GroupMember.group_id)
                .join(Group, Group.id == GroupMember.group_id)
                .where(GroupMember.user_id == pupil.id, Group.kind == GroupKind.CLASS)
            )
            query = (
                select(User)
                .join(GroupMember, GroupMember.user_id == User.id)
                .where(GroupMember.group_id.in_(classes), User.profile == Profile.TEACHER)
                .distinct()
            )
        else:
            profile = Profile.STAFF if party == Party.STAFF else Profile.ADMIN
            query = select(User).where(User.school_id == pupil.school_id, User.profile == profile)
        found[party] = list(db.session.scalars(query.order_by(User.last_name, User.first_name)))
    return found


def _notify(event: FileEvent) -> dict[str, list]:
    pupil = event.file.pupil
    told: dict[str, list] = {}
    for party, people in parties_of(event).items():
        people = [p for p in people if p.id != event.author_id]
        if not people:
            continue
        notifications.notify(
            "pupil_file_event",
            people,
            f"file_event:{event.id}",
            {
                "pupil": pupil.display_name,
                "text": deferred(
                    "%(type)s on %(day)s",
                    type=labels.type_name_later(event.type),
                    day=deferred_date(event.day),
                ),
                "url": f"/files/{pupil.id}/events",
            },
        )
        told[party] = [[p.id, p.display_name] for p in people]
    return told


def apply_when_due(event_id: int) -> None:
    """A future event whose day has come takes effect (its status, what it triggers)."""
    event = db.session.get(FileEvent, event_id)
    if event is not None and event.day <= _today(event.school_id):
        apply(event)


def change(actor: User, event: FileEvent, given: EventInput) -> None:
    """Correct an event: nothing it triggered runs again; the status follows the history, and a
    future event moved follows its new day."""
    columns = _checked_event(event.type, given)
    before = _snapshot(event)
    for name, value in columns.items():
        setattr(event, name, value)
    event.updated_at, event.updated_by_id = clock.now(), actor.id
    today = _today(event.school_id)
    if event.applied_at is None:
        if event.due_item_id is not None:
            outbox.cancel(event.due_item_id)
            event.due_item_id = None
        event.after_the_fact = event.day < today
        if event.day > today:
            _apply_on_its_day(event)
        else:
            apply(event)
    else:
        refresh_status(event.file)
    db.session.flush()
    audit.record(
        actor,
        AuditTag.FILE_EVENT_CHANGED,
        event.school_id,
        event_id=event.id,
        pupil_id=event.file.pupil_id,
        before=before,
        after=_snapshot(event),
    )


def _snapshot(event: FileEvent) -> dict:
    """What a correction may change, for the audit log."""
    return {
        "day": event.day.isoformat(),
        "comment": event.comment,
        "reason": event.reason,
        "values": event.values,
    }


@dataclass
class Consequence:
    """Something an event did that deleting it does not undo by itself."""

    text: str
    people: list[str] = field(default_factory=list)


def consequences(event: FileEvent) -> list[Consequence]:
    """What deleting this event leaves to be corrected by hand, shown before it is deleted."""
    found = []
    if event.applied_at is None:
        return found
    status = event.triggered.get("status")
    if status:
        after_deletion = _status_without(event)
        if after_deletion != status[1]:
            found.append(
                Consequence(
                    _(
                        "It set the file's status to “%(after)s”: without it the status goes "
                        "back to “%(back)s”. Check it is right and tell whoever relied on it.",
                        after=labels.status_label(status[1]),
                        back=labels.status_label(after_deletion),
                    )
                )
            )
        else:
            found.append(
                Consequence(
                    _(
                        "It set the file's status to “%(after)s”, which a later event keeps: "
                        "nothing changes, but check the history still says what happened.",
                        after=labels.status_label(status[1]),
                    )
                )
            )
    for party, people in event.triggered.get("notified", {}).items():
        found.append(
            Consequence(
                _(
                    "%(party)s were notified and are not told of the deletion: tell them if "
                    "it matters.",
                    party=labels.party_label(party),
                ),
                [name for _id, name in people],
            )
        )
    if event.type.kind == EventKind.POSITIVE_EXIT and status:
        found.append(
            Consequence(
                _(
                    "A certificate of attendance could be printed after this exit: copies "
                    "already handed out are not withdrawn."
                )
            )
        )
    return found


def _status_of(events: list[FileEvent]) -> FileStatus:
    """The status the last of these events to set one set."""
    status = FileStatus.NOT_STARTED
    for event in events:
        status = event.status_set or status
    return status


def _status_without(event: FileEvent) -> str:
    return str(_status_of([e for e in events_in_effect(event.file) if e.id != event.id]))


def delete(actor: User, event: FileEvent) -> list[Consequence]:
    """Delete an event: a future one's scheduled actions are called off; the status follows the
    remaining history. Returns what was listed to the user before."""
    listed = consequences(event)
    if event.due_item_id is not None:
        outbox.cancel(event.due_item_id)
    pupil_file = event.file
    audit.record(
        actor,
        AuditTag.FILE_EVENT_DELETED,
        event.school_id,
        event_id=event.id,
        pupil_id=pupil_file.pupil_id,
        type=labels.type_label(event.type),
        **_snapshot(event),
        triggered=event.triggered,
        to_correct=[c.text for c in listed],
    )
    db.session.delete(event)
    db.session.flush()
    refresh_status(pupil_file)
    return listed


def ready_for_certificate(pupil_file: PupilFile | None) -> FileEvent | None:
    """The positive exit that completed the file, if its status is completed."""
    if pupil_file is None or pupil_file.status != FileStatus.COMPLETED:
        return None
    exits = [
        e
        for e in events_in_effect(pupil_file)
        if e.type.kind == EventKind.POSITIVE_EXIT and e.status_set == FileStatus.COMPLETED
    ]
    return exits[-1] if exits else None
