"""The schools of the platform, as the webmaster runs them: opening a school with its first
direction account, suspending and resuming it (SPEC §10).

Every function flushes and never commits. Bad input raises ValidationError(field, message).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts import contact, credentials
from portal.accounts import services as accounts
from portal.accounts.models import EmailSource, Profile, School, User
from portal.attendance import reasons
from portal.core import audit, clock
from portal.core.audit import AuditTag
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups import people
from portal.groups import services as groups
from portal.pupil_files.event_types import install_default_types


def create_school(
    name: str, code: str, timezone: str = "Europe/Paris", language: str = "fr"
) -> School:
    """A school ready to use: its row (accounts.add_school checks the fields), its profile
    groups with the default communication rules, its pupil file's event types and its reasons
    for absences."""
    school = accounts.add_school(name, code, timezone, language)
    groups.create_school_groups(school)
    install_default_types(school)
    reasons.add_defaults(school)
    return school


def schools() -> list[tuple[School, int]]:
    """Every school of the platform with its number of accounts, by name."""
    return db.session.execute(
        select(School, func.count(User.id))
        .outerjoin(User, User.school_id == School.id)
        .group_by(School.id)
        .order_by(School.name)
    ).all()


def open_school(
    actor: User,
    *,
    name: str,
    code: str,
    timezone: str,
    language: str,
    first_name: str,
    last_name: str,
    email: str | None = None,
) -> tuple[School, User, str]:
    """A new school and its first direction account, inactive until activated with the one-time
    code returned here (shown once; e-mailed after the commit when an address is given).

    The school's fields and the address are checked together, so that every mistake shows at
    once; a refusal raises ValidationError and the caller rolls back: nothing is kept."""
    errors: dict[str, str] = {}
    address = None
    if email and email.strip():
        try:
            address = contact.normalise_email(email)
        except ValidationError as error:
            errors.update(error.errors)
    try:
        school = create_school(name, code, timezone, language)
    except ValidationError as error:
        raise ValidationError.of(error.errors | errors) from error
    if errors:
        raise ValidationError.of(errors)
    person = people.create_user(
        school,
        Profile.ADMIN,
        first_name,
        last_name,
        email=address,
        email_source=EmailSource.ADMIN,
    )
    code_issued = credentials.issue_activation_code(person)
    if contact.may_email(person):
        credentials.send_activation_code(person, code_issued)  # after the commit, by the outbox
    audit.record(
        actor,
        AuditTag.SCHOOL_CREATED,
        school.id,
        name=school.name,
        code=school.code,
        direction_id=person.id,
        direction_login=person.login,
        emailed=bool(address),
    )
    return school, person, code_issued


def suspend_school(actor: User, school: School) -> None:
    """Nobody of the school can log in any more, open sessions end at their next request and
    no e-mail notification leaves for them; nothing is deleted."""
    if school.suspended_at is not None:
        raise ValidationError("school", _("This school is already suspended."))
    school.suspended_at = clock.now()
    db.session.flush()
    audit.record(actor, AuditTag.SCHOOL_SUSPENDED, school.id, name=school.name)


def resume_school(actor: User, school: School) -> None:
    """The school's people log in again and find everything as they left it."""
    if school.suspended_at is None:
        raise ValidationError("school", _("This school is not suspended."))
    since = school.suspended_at
    school.suspended_at = None
    db.session.flush()
    audit.record(
        actor, AuditTag.SCHOOL_RESUMED, school.id, name=school.name, suspended_at=since.isoformat()
    )
