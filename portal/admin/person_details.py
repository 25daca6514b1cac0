"""What the school knows of a person besides their contact details, and how what the direction
types is checked before anything is written (portal.admin.lifecycle): every field is checked
and each message is put under its own field."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts import contact
from portal.accounts import services as accounts
from portal.accounts.models import Profile, School, User
from portal.core import clock
from portal.core.errors import ValidationError
from portal.core.text import checked_line
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import Group, GroupKind

LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{2,119}")
#: What a former user's login is made of (accounts.erase_account); nobody else may take it.
DELETED_LOGIN = "deleted-"
NATIONAL_ID_MAX = 40


@dataclass
class PersonDetails:
    """What the school knows of a person besides their contact details, as typed."""

    first_name: str = ""
    last_name: str = ""
    birth_date: dt.date | None = None
    national_id: str = ""
    #: A pupil's class of this school year ('' for none).
    class_id: str = ""
    #: The classes a teacher teaches this school year.
    taught_class_ids: list[str] = field(default_factory=list)


def current_classes(school_id: int) -> list[Group]:
    """The school's classes of the current year (the archived ones are past years')."""
    return groups.school_groups(school_id, GroupKind.CLASS)


def classes_now(person: User) -> list[Group]:
    return [group for group in groups.classes_of(person) if group.archived_at is None]


# --- checking what was typed -----------------------------------------------------------------


def checked_login(login: str, errors: dict[str, str]) -> str | None:
    login = (login or "").strip().lower()
    if not login:
        return None  # made from the name
    if not LOGIN.fullmatch(login) or login.startswith(DELETED_LOGIN):
        errors["login"] = _(
            "3 to 120 lower-case letters, digits, dots, dashes or underscores, "
            "not starting with 'deleted-'."
        )
    elif db.session.scalar(select(User.id).where(User.login == login)):
        errors["login"] = _("This login is already used.")
    return login


def checked_contact(
    email: str, mobile: str, errors: dict[str, str], school: School | None = None
) -> tuple[str, str]:
    email, mobile = (email or "").strip(), (mobile or "").strip()
    home = contact.school_territory(school)
    for value, normalise in (
        (email, contact.normalise_email),
        (mobile, lambda number: contact.normalise_mobile(number, home)),
    ):
        if value:
            try:
                normalise(value)
            except ValidationError as error:
                errors.update(error.errors)
    return email, mobile


def _checked_national_id(
    school_id: int, value: str, person: User | None, errors: dict[str, str]
) -> str | None:
    """Upper case, spaces removed; unique in the school (how an import finds the person)."""
    value = "".join((value or "").split()).upper()
    if not value:
        return None
    if len(value) > NATIONAL_ID_MAX or not value.isalnum():
        errors["national_id"] = _("At most %(n)d letters and digits.", n=NATIONAL_ID_MAX)
        return value
    taken = select(User.id).where(User.school_id == school_id, User.national_id == value)
    if person is not None:
        taken = taken.where(User.id != person.id)
    if db.session.scalar(taken):
        errors["national_id"] = _("Another person of the school has this national identifier.")
    return value


def _checked_birth_date(
    profile: Profile | None, day: dt.date | None, school_timezone: str, errors: dict[str, str]
) -> dt.date | None:
    if day is None or profile is None:
        return day
    if profile != Profile.PUPIL:
        errors["birth_date"] = _("The school keeps a birth date for pupils only.")
    elif day > clock.today(school_timezone) or day.year < 1900:
        errors["birth_date"] = _("This birth date is not possible.")
    return day


def _class_by_id(school_id: int, class_id: str) -> Group | None:
    by_id = {str(group.id): group for group in current_classes(school_id)}
    return by_id.get(str(class_id).strip())


def _checked_classes(
    school_id: int, profile: Profile | None, details: PersonDetails, errors: dict[str, str]
) -> list[Group]:
    """The classes the person is to be a direct member of: a pupil's class, a teacher's."""
    chosen: list[Group] = []
    if profile is None:
        return chosen  # the profile is asked for first
    if details.class_id:
        found = _class_by_id(school_id, details.class_id)
        if profile != Profile.PUPIL:
            errors["class_id"] = _("Only a pupil is in a class; a teacher's classes are below.")
        elif found is None:
            errors["class_id"] = _("Choose one of this year's classes.")
        else:
            chosen.append(found)
    taught = [t for t in details.taught_class_ids if str(t).strip()]
    if taught:
        found_taught = [_class_by_id(school_id, class_id) for class_id in taught]
        if profile != Profile.TEACHER:
            errors["taught_class_ids"] = _("Only a teacher teaches classes.")
        elif None in found_taught:
            errors["taught_class_ids"] = _("Choose among this year's classes.")
        else:
            chosen.extend(dict.fromkeys(found_taught))
    return chosen


def checked_details(school, profile: Profile, details: PersonDetails, person, errors):
    first = checked_line(
        "first_name", details.first_name, accounts.NAME_MAX, _("This field is required."), errors
    )
    last = checked_line(
        "last_name", details.last_name, accounts.NAME_MAX, _("This field is required."), errors
    )
    birth = _checked_birth_date(profile, details.birth_date, school.timezone, errors)
    national_id = _checked_national_id(school.id, details.national_id, person, errors)
    classes = _checked_classes(school.id, profile, details, errors)
    return first, last, birth, national_id, classes
