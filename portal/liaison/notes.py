"""Writing liaison notes and replying to them (SPEC §13, seed 003).

A note goes to the guardians of some pupils: the pupils of classes and groups the author may
address, or pupils named one by one; it is shown on each pupil's page of the carnet. A pupil's
note counts as confirmed, or answered, when one guardian has done it, or both when the school
asks for both. A reply is a fact about the family, not a message: it needs no communication
rule, and it reaches the author whatever the rules say by the time it is given (seed 003).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import UNREACHABLE, Guardianship, Profile, School, User
from portal.core import bodies, clock
from portal.core.db import among
from portal.core.errors import ValidationError
from portal.core.text import checked_line
from portal.extensions import db
from portal.groups.audience import groups_for_author
from portal.groups.models import Group, GroupKind, GroupMember
from portal.groups.permissions import can_view_user
from portal.liaison.models import Asks, LiaisonNote, NotePupil, NoteReply
from portal.liaison.permissions import can_write_notes
from portal.messaging import attachments
from portal.messaging.models import Attachment
from portal.notifications import services as notifications

TITLE_MAX = 200
CHOICE_MAX = 80
CHOICES_MAX = 6
COMMENT_MAX = 500


def _checked_choices(asks: Asks, choices: list[str], errors: dict[str, str]) -> list[str]:
    if asks != Asks.ANSWER:
        return []
    kept = list(dict.fromkeys(" ".join(choice.split()) for choice in choices if choice.strip()))
    if len(kept) < 2:
        errors["choices"] = _("Give at least two answers to choose from.")
    elif len(kept) > CHOICES_MAX:
        errors["choices"] = _("At most %(n)d answers.", n=CHOICES_MAX)
    elif any(len(choice) > CHOICE_MAX for choice in kept):
        errors["choices"] = _("An answer has at most %(n)d characters.", n=CHOICE_MAX)
    return kept


def addressable_groups(author: User) -> list[Group]:
    """The groups whose pupils an author may write to: the classes and teaching groups they
    may address (a teacher, those they teach), and for the direction and staff the school's
    manual groups too."""
    found = groups_for_author(author)
    if author.profile in (Profile.ADMIN, Profile.STAFF):
        found += db.session.scalars(
            select(Group)
            .where(
                Group.school_id == author.school_id,
                Group.kind == GroupKind.MANUAL,
                Group.archived_at.is_(None),
            )
            .order_by(Group.name)
        ).all()
    return found


def addressed_pupils(
    author: User, group_ids: list[int], pupil_ids: list[int], errors: dict[str, str]
) -> list[int]:
    """The pupils a note is for: those of the groups (classes, teaching and manual groups the
    author may address) and those named, each one the author may see; what can't be addressed
    goes in ``errors`` under 'groups' or 'pupils'."""
    allowed = {group.id for group in addressable_groups(author)}
    if set(group_ids) - allowed:
        errors["groups"] = _("You can't address one of these groups.")
    found = set()
    if group_ids:
        found |= set(
            db.session.scalars(
                select(GroupMember.user_id)
                .join(User, User.id == GroupMember.user_id)
                .where(among(GroupMember.group_id, group_ids), User.profile == Profile.PUPIL)
            )
        )
    named = db.session.scalars(select(User).where(among(User.id, pupil_ids))).all()
    if len(named) != len(set(pupil_ids)) or any(
        pupil.profile != Profile.PUPIL or not can_view_user(author, pupil) for pupil in named
    ):
        errors["pupils"] = _("You can't address one of these pupils.")
    found |= {pupil.id for pupil in named}
    if not found and not {"groups", "pupils"} & set(errors):
        errors["groups"] = _("Choose the classes, groups or pupils the note is for.")
    return sorted(found)


def write(
    author: User,
    *,
    title: str,
    body: str,
    asks: Asks,
    choices: list[str] = (),
    answer_until: dt.datetime | None = None,
    group_ids: list[int] = (),
    pupil_ids: list[int] = (),
    pupils_see: bool = False,
    files: list[Attachment] = (),
) -> LiaisonNote:
    """A new note, told to the guardians who receive it (and to its pupils when they read it
    too); ``files`` are the author's uploads it carries. Raises ValidationError with a message
    per field, nothing kept, when anything is wrong."""
    if not can_write_notes(author):
        raise PermissionError("only the school's adults write liaison notes")
    errors: dict[str, str] = {}
    title = checked_line("title", title, TITLE_MAX, _("Give the note a title."), errors)
    cleaned = bodies.checked(body, "body", _("Write something in the note."), errors)
    kept = _checked_choices(asks, list(choices), errors)
    if answer_until is not None and answer_until <= clock.now():
        errors["answer_until"] = _("Choose a time in the future.")
    pupils = addressed_pupils(author, list(group_ids), list(pupil_ids), errors)
    if errors:
        raise ValidationError.of(errors)
    note = LiaisonNote(
        school_id=author.school_id,
        author_id=author.id,
        title=title,
        body=cleaned,
        asks=asks,
        choices=kept,
        answer_until=answer_until if asks == Asks.ANSWER else None,
        pupils_see=pupils_see,
    )
    note.pupils = [NotePupil(pupil_id=pupil_id) for pupil_id in pupils]
    note.files = list(files)
    attachments.keep(note.files)
    db.session.add(note)
    db.session.flush()
    _tell_families(note, author, pupils)
    return note


def _tell_families(note: LiaisonNote, author: User, pupil_ids: list[int], **extra) -> int:
    """One notification per reader, whatever the number of their children the note is for."""
    readers = {guardian.id for found in guardians_of(pupil_ids).values() for guardian in found}
    if note.pupils_see:
        readers |= set(pupil_ids)
    payload = {"text": note.title, "url": "/liaison/", **extra}
    return notifications.notify(
        "liaison_note", sorted(readers), f"liaison_note:{note.id}", payload, author=author
    )


def guardians_of(pupil_ids: list[int]) -> dict[int, list[User]]:
    """Each pupil's guardians who receive notes: inactive ones too (they confirm once active),
    blocked and deleted ones not; by rank."""
    rows = db.session.execute(
        select(Guardianship.pupil_id, User)
        .join(User, User.id == Guardianship.parent_id)
        .where(among(Guardianship.pupil_id, pupil_ids), User.state.not_in(UNREACHABLE))
        .order_by(Guardianship.rank)
    ).all()
    found: dict[int, list[User]] = {pupil_id: [] for pupil_id in pupil_ids}
    for pupil_id, guardian in rows:
        found[pupil_id].append(guardian)
    return found


def is_for(note: LiaisonNote, pupil: User) -> bool:
    return any(row.pupil_id == pupil.id for row in note.pupils)


def reply(
    guardian: User, note: LiaisonNote, pupil: User, *, choice: int | None = None, comment: str = ""
) -> NoteReply:
    """The guardian confirms the note for this pupil, or gives their answer (changed as often
    as they like until the note's deadline). LookupError when the note is not for this pupil
    or the person is not one of its guardians who receive it (the caller answers 404)."""
    if not is_for(note, pupil) or guardian not in guardians_of([pupil.id])[pupil.id]:
        raise LookupError("not a note of this family")
    if note.asks == Asks.NOTHING:
        raise ValidationError("choice", _("This note asks for nothing."))
    if note.asks == Asks.ANSWER:
        if not note.answers_open:
            raise ValidationError("choice", _("Answers to this note are closed."))
        if choice is None or not 0 <= choice < len(note.choices):
            raise ValidationError("choice", _("Choose one of the answers."))
        comment = " ".join((comment or "").split())
        if len(comment) > COMMENT_MAX:
            raise ValidationError("comment", _("At most %(n)d characters.", n=COMMENT_MAX))
    else:
        choice, comment = None, ""
    found = db.session.scalar(
        select(NoteReply).where(
            NoteReply.note_id == note.id,
            NoteReply.pupil_id == pupil.id,
            NoteReply.guardian_id == guardian.id,
        )
    )
    if found is None:
        found = NoteReply(note_id=note.id, pupil_id=pupil.id, guardian_id=guardian.id)
        db.session.add(found)
    elif note.asks == Asks.CONFIRMATION or (found.choice, found.comment) == (choice, comment):
        return found  # confirmed already, or the same answer: the first time stays
    found.choice, found.comment, found.replied_at = choice, comment, clock.now()
    db.session.flush()
    if note.author_id is not None:
        # Whatever the communication rules now say (seed 003): a reply is not a message.
        notifications.notify(
            "liaison_reply",
            [note.author_id],
            f"liaison_reply:{note.id}",
            {
                "title": note.title,
                "guardian": guardian.display_name,
                "pupil": pupil.display_name,
                "choice": note.choices[choice] if choice is not None else "",
                "url": f"/liaison/{note.id}",
            },
            author=guardian,
        )
    return found


@dataclass
class PupilStatus:
    """Where a note stands for one pupil: their guardians, who replied, and whether the note
    counts as done for them."""

    pupil: User
    guardians: list[User]
    replies: list[NoteReply] = field(default_factory=list)
    done: bool = False


def status(note: LiaisonNote, school: School) -> list[PupilStatus]:
    """The note's pupils by name, each with their guardians and replies: done when one guardian
    replied, or every guardian when the school asks for both (a pupil with one guardian needs
    that one). A pupil without a guardian who receives notes is never done."""
    pupil_ids = [row.pupil_id for row in note.pupils]
    pupils = db.session.scalars(
        select(User)
        .where(among(User.id, pupil_ids))
        .order_by(User.last_name, User.first_name, User.id)
    ).all()
    guardians = guardians_of(pupil_ids)
    replies: dict[int, list[NoteReply]] = {pupil_id: [] for pupil_id in pupil_ids}
    for found in db.session.scalars(select(NoteReply).where(NoteReply.note_id == note.id)):
        replies[found.pupil_id].append(found)
    result = []
    for pupil in pupils:
        receiving = {guardian.id for guardian in guardians[pupil.id]}
        replied = {r.guardian_id for r in replies[pupil.id]} & receiving
        needed = receiving if school.liaison_both_guardians else set()
        done = bool(replied) and replied >= needed if note.asks != Asks.NOTHING else True
        result.append(PupilStatus(pupil, guardians[pupil.id], replies[pupil.id], done))
    return result


def written_by(author: User) -> list[LiaisonNote]:
    """The notes an author follows, newest first: their own, or the school's for the
    direction."""
    query = select(LiaisonNote).where(LiaisonNote.school_id == author.school_id)
    if author.profile != Profile.ADMIN:
        query = query.where(LiaisonNote.author_id == author.id)
    return list(db.session.scalars(query.order_by(LiaisonNote.created_at.desc())))


def counts(found: list[LiaisonNote], school: School) -> dict[int, tuple[int, int]]:
    """(pupils done, pupils) for each note."""
    result = {}
    for note in found:
        rows = status(note, school)
        result[note.id] = (sum(row.done for row in rows), len(rows))
    return result


def remind(actor: User, note: LiaisonNote) -> int:
    """Remind the guardians who have not replied, for the pupils whose note is not done; once a
    school day. Returns how many are told; ValidationError on 'remind' otherwise."""
    if note.asks == Asks.NOTHING:
        raise ValidationError("remind", _("This note asks for nothing."))
    if note.asks == Asks.ANSWER and not note.answers_open:
        raise ValidationError("remind", _("Answers to this note are closed."))
    today = clock.today(actor.school.timezone)
    if note.reminded_on == today:
        raise ValidationError("remind", _("The families were reminded today already."))
    rows = [row for row in status(note, actor.school) if not row.done]
    replied = {(row.pupil.id, r.guardian_id) for row in rows for r in row.replies}
    waiting_ids = sorted(
        {
            guardian.id
            for row in rows
            for guardian in row.guardians
            if (row.pupil.id, guardian.id) not in replied
        }
    )
    if not waiting_ids:
        raise ValidationError("remind", _("Nobody is waited for."))
    note.reminded_on = today
    db.session.flush()
    payload = {"text": note.title, "reminder": True, "url": "/liaison/"}
    return notifications.notify(
        "liaison_note", waiting_ids, f"liaison_note:{note.id}", payload, author=actor
    )


def table(note: LiaisonNote, school: School) -> tuple[list[str], list[list[str]]]:
    """The note's list for the class's folder: a header and, per pupil, their class, whether
    the note is done, and each guardian with their reply."""
    classes = dict(
        db.session.execute(
            select(GroupMember.user_id, Group.name)
            .join(Group, Group.id == GroupMember.group_id)
            .where(
                among(GroupMember.user_id, [row.pupil_id for row in note.pupils]),
                Group.kind == GroupKind.CLASS,
                Group.archived_at.is_(None),
            )
        ).all()
    )
    header = [
        _("Pupil"),
        _("Class"),
        _("Done"),
        _("Guardian"),
        _("Replied"),
        _("Answer"),
        _("Comment"),
    ]
    lines = []
    for row in status(note, school):
        by_guardian = {r.guardian_id: r for r in row.replies}
        people = row.guardians or [None]
        for guardian in people:
            found = by_guardian.get(guardian.id) if guardian is not None else None
            lines.append(
                [
                    row.pupil.sort_name,
                    classes.get(row.pupil.id, ""),
                    _("yes") if row.done else _("no"),
                    guardian.sort_name if guardian is not None else _("No guardian"),
                    format_datetime(found.replied_at, "short") if found else "",
                    (note.choices[found.choice] if found.choice is not None else _("Confirmed"))
                    if found
                    else "",
                    found.comment if found else "",
                ]
            )
    return header, lines


@dataclass
class CarnetEntry:
    """A note on a pupil's page of the carnet, with the replies of the reader's family."""

    note: LiaisonNote
    mine: NoteReply | None
    done: bool


def carnet(reader: User, pupil: User) -> list[CarnetEntry]:
    """The notes for this pupil that ``reader`` sees (a guardian: every one; the pupil: those
    the author let pupils read), those still waiting for the reader first, newest first."""
    query = (
        select(LiaisonNote)
        .join(NotePupil, NotePupil.note_id == LiaisonNote.id)
        .where(NotePupil.pupil_id == pupil.id)
        .order_by(LiaisonNote.created_at.desc(), LiaisonNote.id.desc())
    )
    if reader.id == pupil.id:
        query = query.where(LiaisonNote.pupils_see.is_(True))
    found = db.session.scalars(query).all()
    replies = {
        reply.note_id: reply
        for reply in db.session.scalars(
            select(NoteReply).where(
                NoteReply.pupil_id == pupil.id,
                NoteReply.guardian_id == reader.id,
                among(NoteReply.note_id, [note.id for note in found]),
            )
        )
    }
    entries = [
        CarnetEntry(note, replies.get(note.id), note.asks == Asks.NOTHING or note.id in replies)
        for note in found
    ]
    return sorted(entries, key=lambda entry: entry.done)  # stable: newest first within each


def waiting(parent: User, pupil: User | None = None) -> int:
    """How many notes wait for this guardian's reply, over their children or for one."""
    pupils = select(Guardianship.pupil_id).where(Guardianship.parent_id == parent.id)
    if pupil is not None:
        pupils = pupils.where(Guardianship.pupil_id == pupil.id)
    asked = db.session.execute(
        select(NotePupil.note_id, NotePupil.pupil_id)
        .join(LiaisonNote, LiaisonNote.id == NotePupil.note_id)
        .where(NotePupil.pupil_id.in_(pupils), LiaisonNote.asks != Asks.NOTHING)
    ).all()
    if not asked:
        return 0
    replied = set(
        db.session.execute(
            select(NoteReply.note_id, NoteReply.pupil_id).where(NoteReply.guardian_id == parent.id)
        ).all()
    )
    return sum(1 for pair in asked if tuple(pair) not in replied)
