"""Activation codes handed out by the direction (SPEC §1): for one person, or for the pupils
and guardians of a class, printed on a sheet or e-mailed to each person.

A code is shown once, when it is issued, and issuing one voids the person's earlier codes: the
screens confirm before issuing, and the sheet is made in the request that issues its codes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts import contact, credentials, guardianship
from portal.accounts.models import UNREACHABLE, AccountState, Guardianship, Profile, User
from portal.admin.lifecycle import PROFILE_WORDS
from portal.admin.person_details import classes_now
from portal.core.audit import AuditTag, record
from portal.core.errors import ValidationError
from portal.core.i18n import deferred
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import Group
from portal.notifications.services import tell_admins


class Who(StrEnum):
    PUPILS = "pupils"
    GUARDIANS = "guardians"
    BOTH = "both"


class Delivery(StrEnum):
    PRINT = "print"
    EMAIL = "email"


@dataclass
class Entry:
    """A person who may get a code, and what their block of the sheet says under their name
    (kept with deferred() to be written in the sheet's or the page's language)."""

    person: User
    about: dict


@dataclass
class Roster:
    """The people of a class a batch of codes concerns, by what will happen to them."""

    #: Never activated: each gets a new code.
    waiting: list[Entry] = field(default_factory=list)
    #: Already active: nothing to do.
    activated: list[Entry] = field(default_factory=list)
    #: Blocked or deleted: left out.
    skipped: list[Entry] = field(default_factory=list)
    #: Guardians whose account belongs to another school: that school gives their code.
    elsewhere: list[Entry] = field(default_factory=list)


@dataclass
class Issued:
    #: (entry, code, valid until) for every code issued.
    codes: list[tuple[Entry, str, dt.datetime]] = field(default_factory=list)
    #: Waiting people left without a code because no e-mail can reach them.
    without_email: list[Entry] = field(default_factory=list)


def _class_words(group_names: list[str]) -> dict:
    if not group_names:
        return deferred("Pupil")
    return deferred("Class: %(group)s", group=", ".join(group_names))


def _children_words(children: list[tuple[User, list[str]]]) -> dict:
    named = [
        f"{child.display_name} ({', '.join(names)})" if names else child.display_name
        for child, names in children
    ]
    return deferred("Guardian of %(pupils)s", pupils=", ".join(named))


def person_entry(person: User) -> Entry:
    """One person's block: a pupil's class, a guardian's children of the school, a profile."""
    if person.profile == Profile.PUPIL:
        return Entry(person, _class_words([g.name for g in classes_now(person)]))
    if person.profile == Profile.PARENT:
        children = [
            (child, [g.name for g in classes_now(child)])
            for child in guardianship.children_of(person)
            if child.school_id == person.school_id and child.state not in UNREACHABLE
        ]
        if children:
            return Entry(person, _children_words(children))
    return Entry(person, deferred("Profile: %(profile)s", profile=PROFILE_WORDS[person.profile]))


def _place(roster: Roster, entry: Entry, school_id: int) -> None:
    person = entry.person
    if person.school_id != school_id:
        roster.elsewhere.append(entry)
    elif person.state in UNREACHABLE:
        roster.skipped.append(entry)
    elif person.state == AccountState.ACTIVE:
        roster.activated.append(entry)
    else:
        roster.waiting.append(entry)


def class_roster(class_group: Group, who: Who) -> Roster:
    """The class's pupils and/or their guardians, each pupil followed by their guardians by
    rank; a guardian of two pupils of the class comes once."""
    pupils = [member for member in groups.members(class_group) if member.profile == Profile.PUPIL]
    links = db.session.scalars(
        select(Guardianship)
        .where(Guardianship.pupil_id.in_([pupil.id for pupil in pupils]))
        .order_by(Guardianship.rank)
    ).all()
    roster, seen = Roster(), set()
    for pupil in pupils:
        if who in (Who.PUPILS, Who.BOTH):
            _place(roster, Entry(pupil, _class_words([class_group.name])), class_group.school_id)
        if who == Who.PUPILS:
            continue
        for link in links:
            if link.pupil_id == pupil.id and link.parent_id not in seen:
                seen.add(link.parent_id)
                about = _children_words([(pupil, [class_group.name])])
                _place(roster, Entry(link.parent, about), class_group.school_id)
    return roster


def issue_codes(
    actor: User,
    entries: list[Entry],
    delivery: Delivery,
    *,
    class_group: Group | None = None,
    who: Who | None = None,
    new_password: bool = False,
) -> Issued:
    """A new code for each never-activated person of ``entries`` (earlier codes stop working);
    with ``new_password``, for each active one, to choose a new password with.
    To print: every one of them. To e-mail: those an e-mail can reach, each sent their own code
    after the commit; the others get none and are returned to be printed. One audit entry; a
    batch for a class is also told to the school's other admins."""
    state = AccountState.ACTIVE if new_password else AccountState.INACTIVE
    waiting = [entry for entry in entries if entry.person.state == state]
    if not waiting:
        if new_password:
            raise ValidationError("who", _("Only an active account can be given a new password."))
        raise ValidationError("who", _("Nobody here is waiting for an activation code."))
    issued = Issued()
    for entry in waiting:
        person = entry.person
        if person.school_id != actor.school_id:
            raise PermissionError("codes are issued by the person's own school")
        if delivery == Delivery.EMAIL and not contact.may_email(person):
            issued.without_email.append(entry)
            continue
        code = credentials.issue_activation_code(person)
        valid_until = credentials.pending_activation(person).expires_at
        issued.codes.append((entry, code, valid_until))
        if delivery == Delivery.EMAIL:
            credentials.send_activation_code(person, code)
    if not issued.codes:
        return issued
    record(
        actor,
        AuditTag.ACTIVATION_CODES_ISSUED,
        actor.school_id,
        user_ids=[entry.person.id for entry, _code, _until in issued.codes],
        delivery=delivery.value,
        group_id=class_group.id if class_group else None,
        group=class_group.name if class_group else None,
        who=who.value if who else None,
        new_password=new_password or None,
    )
    if class_group is not None:
        _tell_other_admins(actor, class_group, len(issued.codes))
    return issued


def _tell_other_admins(actor: User, class_group: Group, count: int) -> None:
    text = deferred(
        "%(actor)s issued activation codes for %(group)s: %(count)d.",
        actor=actor.display_name,
        group=class_group.name,
        count=count,
    )
    tell_admins(
        "admin_action", actor.school_id, "people", {"text": text, "url": "/admin/classes"}, actor
    )
