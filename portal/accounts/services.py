"""Schools, accounts, activation, passwords, contact details and guardianship (SPEC §1, §4).

Every function flushes and never commits. Bad input raises ValidationError(field, message).
"""

from __future__ import annotations

import re
import zoneinfo

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from portal.accounts import contact, logins, session_store
from portal.accounts.models import (
    AccountState,
    ActivationCode,
    EmailPriority,
    EmailSource,
    Guardianship,
    Profile,
    School,
    User,
)
from portal.core import audit, clock
from portal.core.audit import AuditTag
from portal.core.errors import ValidationError
from portal.core.text import fold, one_line
from portal.extensions import db

NAME_MAX = 100
LANGUAGES = ("fr", "en")


def add_school(
    name: str, code: str, timezone: str = "Europe/Paris", language: str = "fr"
) -> School:
    """The school's row, its fields checked. Opening a school whole (its groups, its file event
    types) is portal.platform.services.create_school."""
    name, code = " ".join(name.split()), code.strip().upper()
    if not name:
        raise ValidationError("name", _("Give the school a name."))
    if not re.fullmatch(r"[0-9A-Z]{6,20}", code):
        raise ValidationError("code", _("The school code is 6 to 20 letters or digits."))
    if db.session.scalar(select(School.id).where(School.code == code)):
        raise ValidationError("code", _("Another school already has this code."))
    if timezone not in zoneinfo.available_timezones():
        raise ValidationError("timezone", _("Unknown time zone."))
    if language not in LANGUAGES:
        raise ValidationError("language", _("Choose French or English."))
    school = School(name=name, code=code, timezone=timezone, default_language=language)
    db.session.add(school)
    db.session.flush()
    return school


def _clean_name(field: str, value: str) -> str:
    return one_line(field, value, NAME_MAX, _("This field is required."))


def name_filter(text: str) -> list:
    """Conditions matching people whose name contains every word of ``text``, whatever the case
    and accents ('lefevre' finds Lefèvre)."""
    return [User.search_key.like(f"%{word}%") for word in fold(text).split()[:5]]


def new_account(
    school: School | None,
    profile: Profile,
    first_name: str,
    last_name: str,
    *,
    login: str | None = None,
    email: str | None = None,
    email_source: EmailSource = EmailSource.ADMIN,
    mobile: str | None = None,
) -> User:
    """A new account, inactive until activated. In no group yet: portal.groups.people.create_user
    also puts it in its school's profile group."""
    if (profile == Profile.WEBMASTER) != (school is None):
        raise ValueError("webmasters, and only they, belong to no school")
    first_name = _clean_name("first_name", first_name)
    last_name = _clean_name("last_name", last_name)
    if login is not None:
        login = login.strip().lower()
        if db.session.scalar(select(User.id).where(User.login == login)):
            raise ValidationError("login", _("This login is already used."))
    user = User(
        school_id=school.id if school else None,
        profile=profile,
        first_name=first_name,
        last_name=last_name,
        login=login or logins.login_for(first_name, last_name),
        language=None,
    )
    if email:
        user.email, user.email_source = contact.normalise_email(email), email_source
    if mobile:
        user.mobile = contact.normalise_mobile(mobile, contact.school_territory(school))
    db.session.add(user)
    db.session.flush()
    return user


# --- sessions --------------------------------------------------------------------------------


# --- activation, login, passwords -------------------------------------------------------------


def set_language(user: User, language: str) -> None:
    if language not in LANGUAGES:
        raise ValidationError("language", _("Choose French or English."))
    user.language = language
    db.session.flush()


# --- contact details ------------------------------------------------------------------------


def set_email_priority(school: School, priority: EmailPriority) -> None:
    school.email_priority = EmailPriority(priority)
    db.session.flush()


#: The school's yes/no settings (Settings): whether guardians and pupils read the pupil's file
#: (SPEC §7), whether staff make and fill groups, whether a liaison note waits for both
#: guardians of a pupil, whether the direction and staff confirm logins with a second factor.
SCHOOL_SWITCHES = (
    "families_see_file",
    "staff_manage_groups",
    "liaison_both_guardians",
    "second_factor_required",
    "trust_provider_mfa",
)


def set_school_switch(actor: User, school: School, name: str, on: bool) -> None:
    """One of the school's yes/no settings; audited when it changes."""
    if name not in SCHOOL_SWITCHES:
        raise ValueError(f"{name} is not a setting of the school")
    if getattr(school, name) != on:
        setattr(school, name, on)
        db.session.flush()
        audit.record(actor, AuditTag.SCHOOL_SETTINGS_CHANGED, school.id, **{name: on})


# --- refusing all e-mail --------------------------------------------------------------------


# --- account states -------------------------------------------------------------------------


def block(user: User) -> None:
    """A blocked person can't log in, vanishes from directories and receives nothing new."""
    user.state = AccountState.BLOCKED
    session_store.end_everywhere(user)
    db.session.flush()


def unblock(user: User) -> None:
    user.state = AccountState.ACTIVE if user.activated_at else AccountState.INACTIVE
    db.session.flush()


def erase_account(user: User) -> None:
    """The person becomes a 'former user' (SPEC §1, §10). The row stays, so that what they wrote
    stays readable to the others and nothing of theirs cascades away; their personal details,
    guardianships and pending activation codes go, and every session ends. Their groups are
    portal.groups.people.delete_account's part. Who may do it is the caller's check."""
    db.session.execute(
        delete(Guardianship).where(
            or_(Guardianship.parent_id == user.id, Guardianship.pupil_id == user.id)
        )
    )
    now = clock.now()
    db.session.execute(
        update(ActivationCode)
        .where(ActivationCode.user_id == user.id, ActivationCode.used_at.is_(None))
        .values(used_at=now)
    )
    user.first_name = user.last_name = ""
    user.login = logins.placeholder_login(user)
    user.email = user.email_source = user.mobile = None
    user.password_hash = user.national_id = user.register_number = user.birth_date = None
    session_store.end_everywhere(user)
    user.state, user.deleted_at = AccountState.DELETED, now
    db.session.flush()


# --- guardianship ----------------------------------------------------------------------------


def count_users(school: School, **filters) -> int:
    query = select(func.count(User.id)).where(User.school_id == school.id)
    for column, value in filters.items():
        query = query.where(getattr(User, column) == value)
    return db.session.scalar(query)
