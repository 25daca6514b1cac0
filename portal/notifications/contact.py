"""Writing to one's school from the login page (SPEC §4, 'contact from the login page').

Someone who can't log in (a lost activation code, no account yet) writes to the direction of
their school. The school is found from its code (UAI) or its exact name as the visitor types
it, never picked from a list: an anonymous visitor does not learn which schools use Carnet.
The message reaches the school's active administrators as the mandatory, immediate
notification 'login_contact', so by e-mail unless they chose the home page.
"""

from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts.contact import normalise_email
from portal.accounts.models import School
from portal.core.errors import ValidationError
from portal.core.i18n import deferred
from portal.core.text import checked_line
from portal.extensions import db
from portal.notifications.services import admin_ids, notify

SCHOOL_MAX = 200
NAME_MAX = 100
EMAIL_MAX = 254
PUPIL_MAX = 100
TEXT_MAX = 2000


def _matching(words: str) -> list[School]:
    """The school whose code is ``words``, else the schools (two at most) of that name."""
    school = db.session.scalar(select(School).where(School.code == words.upper()))
    if school is not None:
        return [school]
    return list(
        db.session.scalars(select(School).where(func.lower(School.name) == words.lower()).limit(2))
    )


def allowance_key(typed: str | None) -> str:
    """What a school's allowance of messages is counted on: the school, however it was typed
    (its code or its name), or the words typed when they name no single school."""
    words = " ".join((typed or "").split())[:SCHOOL_MAX]
    found = _matching(words) if words else []
    return f"school:{found[0].id}" if len(found) == 1 else f"typed:{words.lower()}"


def find_school(typed: str | None) -> School:
    """The school whose code (UAI) is ``typed``, else the one school whose name it is (case
    aside). ValidationError on 'school' when none is, when several schools share the name, or
    when the webmaster has suspended the school (nobody there could read the message)."""
    words = " ".join((typed or "").split())
    if not words:
        raise ValidationError("school", _("Type your school's code or its name."))
    if len(words) > SCHOOL_MAX:
        raise ValidationError("school", _("At most %(n)d characters.", n=SCHOOL_MAX))
    found = _matching(words)
    if len(found) > 1:
        raise ValidationError(
            "school",
            _("Several schools have this name: type your school's code (UAI) instead."),
        )
    if not found:
        raise ValidationError(
            "school",
            _(
                "No school on Carnet has this code or name. The school's code (UAI) is on "
                "its letters, for example 0751234A."
            ),
        )
    if found[0].suspended_at is not None:
        raise ValidationError(
            "school",
            _("This school can't receive messages on Carnet for now. Contact it directly."),
        )
    return found[0]


def _text(value: str | None, errors: dict[str, str]) -> str:
    """The message as typed, line breaks kept; it is shown as plain text, never as HTML."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        errors["text"] = _("This field is required.")
    elif len(text) > TEXT_MAX:
        errors["text"] = _("At most %(n)d characters.", n=TEXT_MAX)
    return text


def _email(value: str | None, errors: dict[str, str]) -> str:
    address = (value or "").strip()
    if not address:
        errors["email"] = _("This field is required.")
    elif len(address) > EMAIL_MAX:
        errors["email"] = _("At most %(n)d characters.", n=EMAIL_MAX)
    else:
        try:
            return normalise_email(address)
        except ValidationError as error:
            errors.update(error.errors)
    return address


def write_to_school(
    school_typed: str | None,
    name: str | None,
    email: str | None,
    pupil: str | None,
    text: str | None,
) -> School:
    """Tell the school's active administrators what a visitor wrote from the login page;
    returns the school. Every field is checked and each reason is given with its field
    (ValidationError carrying them all); nothing is recorded then."""
    errors: dict[str, str] = {}
    try:
        school = find_school(school_typed)
    except ValidationError as error:
        school = None
        errors.update(error.errors)
    name = checked_line("name", name, NAME_MAX, _("This field is required."), errors)
    address = _email(email, errors)
    pupil = " ".join((pupil or "").split())
    if len(pupil) > PUPIL_MAX:
        errors["pupil"] = _("At most %(n)d characters.", n=PUPIL_MAX)
    message = _text(text, errors)
    if errors:
        raise ValidationError.of(errors)
    details = deferred("About %(pupil)s: %(text)s", pupil=pupil, text=message) if pupil else message
    notify(
        "login_contact",
        admin_ids(school.id, active_only=True),
        f"login_contact:{secrets.token_hex(12)}",
        {"sender": f"{name} ({address})", "text": message, "details": details},
    )
    return school
