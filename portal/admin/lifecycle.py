"""The life of an account as the direction runs it (SPEC §1, §10): creating a person, changing
what the school knows of them, blocking, unblocking and deleting.

Each function takes the acting admin, applies the school's rules, writes its audit entry in the
same transaction and tells the school's other admins (the 'action by another administrator'
notification). They flush and never commit; bad input raises ValidationError with a message per
field, and the caller rolls back: nothing is half-saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts import credentials
from portal.accounts import services as accounts
from portal.accounts.models import (
    SCHOOL_PROFILES,
    AccountState,
    ActivationCode,
    EmailSource,
    Profile,
    User,
)
from portal.admin import person_details
from portal.admin.person_details import PersonDetails, classes_now
from portal.core.audit import AuditEntry, AuditTag, record
from portal.core.errors import ValidationError
from portal.core.i18n import deferred
from portal.extensions import db
from portal.groups import people
from portal.groups import services as groups
from portal.groups.models import Group
from portal.notifications.services import admin_ids, tell_admins
from portal.sms import services as sms

REASON_MAX = 500
#: Profiles as the other admins read them in their notification, in their own language.
PROFILE_WORDS = {
    Profile.ADMIN: deferred("Direction"),
    Profile.TEACHER: deferred("Teacher"),
    Profile.STAFF: deferred("Staff"),
    Profile.PARENT: deferred("Parent"),
    Profile.PUPIL: deferred("Pupil"),
}


# --- creating and changing -------------------------------------------------------------------


def create_person(
    actor: User,
    profile: str,
    details: PersonDetails,
    *,
    email: str = "",
    mobile: str = "",
    login: str = "",
) -> User:
    """A new person of the actor's school, inactive until activated, in their classes. Every
    field is checked before anything is written; ValidationError names each field at fault."""
    school = actor.school
    errors: dict[str, str] = {}
    if profile not in [p.value for p in SCHOOL_PROFILES]:
        errors["profile"] = _("Choose a profile.")
        profile = ""
    chosen_profile = Profile(profile) if profile else None
    first, last, birth, national_id, classes = person_details.checked_details(
        school, chosen_profile, details, None, errors
    )
    email, mobile = person_details.checked_contact(email, mobile, errors, school)
    login = person_details.checked_login(login, errors)
    if errors:
        raise ValidationError.of(errors)
    person = people.create_user(
        school,
        chosen_profile,
        first,
        last,
        login=login,
        email=email or None,
        email_source=EmailSource.ADMIN,
        mobile=mobile or None,
    )
    person.birth_date, person.national_id = birth, national_id
    for class_group in classes:
        groups.add_member(class_group, person)
    db.session.flush()
    _recorded(
        actor,
        person,
        AuditTag.USER_CREATED,
        deferred(
            "%(actor)s created the account of %(name)s (%(profile)s).", **_words(actor, person)
        ),
        login=person.login,
        classes=[group.name for group in classes],
    )
    return person


PRIVATE_FACTS = ("birth_date", "national_id")


def _facts(person: User) -> dict:
    """What an edit may change, as the audit entry keeps it (dates as ISO text)."""
    return {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "national_id": person.national_id,
        "classes": sorted(group.name for group in classes_now(person)),
    }


def update_person(actor: User, person: User, details: PersonDetails) -> dict:
    """Change a person's names, birth date, national identifier and classes of this year (a
    pupil's class, a teacher's classes). Returns what changed, as {field: [before, after]},
    written to the audit log; nothing changed, nothing written."""
    if person.state == AccountState.DELETED:
        raise ValidationError("user", _("A deleted account can't be changed."))
    errors: dict[str, str] = {}
    first, last, birth, national_id, classes = person_details.checked_details(
        actor.school, person.profile, details, person, errors
    )
    if errors:
        raise ValidationError.of(errors)
    before = _facts(person)
    person.first_name, person.last_name = first, last
    person.birth_date, person.national_id = birth, national_id
    if person.profile in (Profile.PUPIL, Profile.TEACHER):
        wanted = {group.id for group in classes}
        for group in classes_now(person):
            if group.id not in wanted:
                groups.remove_member(group, person)
        for group in classes:
            groups.add_member(group, person)
    db.session.flush()
    after = _facts(person)
    # The audit log is kept for ever: it says that a birth date or an identifier changed, not
    # what they are.
    changes = {
        key: "changed" if key in PRIVATE_FACTS else [before[key], after[key]]
        for key in before
        if before[key] != after[key]
    }
    if changes:
        record(actor, AuditTag.USER_CHANGED, person.school_id, user_id=person.id, **changes)
    return changes


# --- blocking, unblocking, deleting ----------------------------------------------------------


def _refuse_self_or_last_admin(actor: User, person: User, yourself: str, last: str) -> None:
    """Nobody locks themself out, and a school always keeps an active administrator."""
    if person.id == actor.id:
        raise ValidationError("user", yourself)
    if (
        person.profile == Profile.ADMIN
        and person.state == AccountState.ACTIVE
        and not set(admin_ids(person.school_id, active_only=True)) - {person.id}
    ):
        raise ValidationError("user", last)


def block_person(actor: User, person: User, reason: str = "") -> None:
    """SPEC §1: a blocked person can't log in (their open sessions end at once), vanishes from
    every directory and receives nothing new. The optional reason is kept in the audit log."""
    if person.state == AccountState.DELETED:
        raise ValidationError("user", _("A deleted account can't be changed."))
    if person.state == AccountState.BLOCKED:
        raise ValidationError("user", _("This account is already blocked."))
    reason = " ".join((reason or "").split())
    if len(reason) > REASON_MAX:
        raise ValidationError("reason", _("At most %(n)d characters.", n=REASON_MAX))
    _refuse_self_or_last_admin(
        actor,
        person,
        _("You can't block your own account."),
        _("This is the school's last active administrator: their account can't be blocked."),
    )
    accounts.block(person)
    sms.withdraw_for(person.id, _("The person's account was blocked."))
    _recorded(
        actor,
        person,
        AuditTag.USER_BLOCKED,
        deferred(
            "%(actor)s blocked the account of %(name)s (%(profile)s).", **_words(actor, person)
        ),
        reason=reason,
    )


def unblock_person(actor: User, person: User) -> None:
    """Back to active, or to 'not activated' for an account that never was."""
    if person.state != AccountState.BLOCKED:
        raise ValidationError("user", _("This account is not blocked."))
    accounts.unblock(person)
    _recorded(
        actor,
        person,
        AuditTag.USER_UNBLOCKED,
        deferred(
            "%(actor)s unblocked the account of %(name)s (%(profile)s).", **_words(actor, person)
        ),
    )


def delete_person(actor: User, person: User) -> None:
    """SPEC §10: the person becomes 'former user' (groups.people.delete_account says what goes and
    what stays). The audit entry keeps the name, so that the log still says whom it concerned."""
    if person.state == AccountState.DELETED:
        raise ValidationError("user", _("This account is already deleted."))
    _refuse_self_or_last_admin(
        actor,
        person,
        _("You can't delete your own account."),
        _("This is the school's last active administrator: their account can't be deleted."),
    )
    name, classes = person.display_name, [group.name for group in classes_now(person)]
    told = deferred(
        "%(actor)s deleted the account of %(name)s (%(profile)s).", **_words(actor, person)
    )
    sms.withdraw_for(person.id, _("The person's account was deleted."))
    people.delete_account(person)
    _recorded(actor, person, AuditTag.USER_DELETED, told, name=name, classes=classes)


def _words(actor: User, person: User) -> dict:
    return {
        "actor": actor.display_name,
        "name": person.display_name,
        "profile": PROFILE_WORDS[person.profile],
    }


def _recorded(
    actor: User, person: User, tag: AuditTag, told: dict, name: str = "", **details
) -> None:
    """An action on a person's account: its audit entry (naming them, so that the log still
    says whom it concerned once they are deleted), and the 'action by another administrator'
    notification (SPEC §4, grouped over the hour) with the words ``told``."""
    record(
        actor,
        tag,
        person.school_id,
        user_id=person.id,
        name=name or person.display_name,
        profile=person.profile,
        **details,
    )
    payload = {"text": told, "url": f"/admin/users/{person.id}"}
    tell_admins("admin_action", person.school_id, "people", payload, author=actor)


# --- what the record page says ---------------------------------------------------------------


@dataclass
class AccountFacts:
    """What a person's record shows of their account's life."""

    blocked: AuditEntry | None = None
    pending_code: ActivationCode | None = None
    classes: list[Group] = field(default_factory=list)


def account_facts(person: User) -> AccountFacts:
    """The latest blocking (when and why) of a blocked person, the code waiting to be used by an
    inactive one (or by an active one, to choose a new password), and the classes of this year."""
    facts = AccountFacts(classes=classes_now(person))
    if person.state == AccountState.BLOCKED:
        facts.blocked = db.session.scalar(
            select(AuditEntry)
            .where(
                AuditEntry.school_id == person.school_id,
                AuditEntry.tag == AuditTag.USER_BLOCKED.value,
                AuditEntry.details["user_id"].as_integer() == person.id,
            )
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(1)
        )
    if person.state in credentials.CODE_STATES:
        facts.pending_code = credentials.pending_activation(person)
    return facts
