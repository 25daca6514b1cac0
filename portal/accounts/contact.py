"""A person's contact details: e-mail address and mobile (checked and normalised), who may
change them, refusing all e-mail and the one-click unsubscribe link.

Every function flushes and never commits. Bad input raises ValidationError(field, message)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _

from portal.accounts.models import (
    EmailPriority,
    EmailSource,
    Profile,
    School,
    User,
)
from portal.core import phones, security
from portal.core.errors import ValidationError
from portal.extensions import db


def read_signed_link(purpose: str, token: str, max_age: int, *, expired: str, invalid: str):
    """What a signed link carries; ValidationError on 'token', saying why, when it can't be read."""
    try:
        return security.unsign(purpose, token, max_age)
    except security.TokenError as exc:
        raise ValidationError("token", expired if exc.expired else invalid) from exc


def normalise_email(address: str) -> str:
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError("email", _("This e-mail address is not valid.")) from exc


def normalise_mobile(number: str, home: str | None = None) -> str:
    """E.164 form of a mobile number of France or any French territory, however it is written
    (portal.core.phones); ``home`` is the school's territory. ValidationError on 'mobile' saying
    why the number was refused."""
    try:
        return phones.e164(number, home=home)
    except phones.PhoneRefused as refused:
        not_valid = _("This mobile number is not valid.")
        why = phones.refusal_text(refused.number, refused.reason)
        raise ValidationError("mobile", f"{not_valid} {why}") from refused


def school_territory(school: School | None) -> str | None:
    """The French territory of the school's time zone: its short numbers are read first."""
    return phones.home_territory(school.timezone) if school is not None else None


def user_may_change_email(user: User) -> bool:
    """Seed 001: a person may always enter an address when none is set and change one they
    entered; one entered by an admin or an import only if the school gives the user priority."""
    if user.email is None or user.email_source == EmailSource.USER:
        return True
    return user.school is not None and user.school.email_priority == EmailPriority.USER


def import_may_replace_email(
    current: str | None, source: EmailSource | None, priority: EmailPriority
) -> bool:
    """Whether an imported file may replace the address a person has (SPEC §4): not one the
    person entered themselves when the school gives the user priority."""
    return not (
        current is not None and source == EmailSource.USER and priority == EmailPriority.USER
    )


def set_email(user: User, address: str | None, source: EmailSource) -> bool:
    """Change a person's e-mail address as ``source`` (the user, an admin, an import).

    An admin may always change it. An import never overwrites an address the user entered when
    the school gives the user priority (returns False, nothing changes). Two people may share
    one address. Raises ValidationError when the user may not change it or it is not valid."""
    new = normalise_email(address) if address and address.strip() else None
    if new == user.email:
        return False
    if source == EmailSource.USER and not user_may_change_email(user):
        raise ValidationError(
            "email", _("Your school manages this address: ask the school to change it.")
        )
    if source == EmailSource.IMPORT and not import_may_replace_email(
        user.email, user.email_source, user.school.email_priority
    ):
        return False
    user.email = new
    user.email_source = source if new else None
    db.session.flush()
    return True


def set_mobile(user: User, number: str | None) -> None:
    if number and number.strip():
        user.mobile = normalise_mobile(number, school_territory(user.school))
    else:
        user.mobile = None
    db.session.flush()


def set_contact(user: User, email: str | None, mobile: str | None, source: EmailSource) -> None:
    """Both contact details at once, as the person or an admin typed them: either both are
    saved or, on a ValidationError, the caller rolls back and neither is."""
    set_email(user, email, source)
    set_mobile(user, mobile)


def may_refuse_email(user: User) -> bool:
    """Administrators (and the webmaster) must stay reachable: they can't refuse e-mail."""
    return user.profile not in (Profile.ADMIN, Profile.WEBMASTER)


def set_refuses_email(user: User, refuses: bool) -> None:
    """Refusing covers every e-mail, notifications and password recovery alike (seed 001)."""
    if refuses and not may_refuse_email(user):
        raise ValidationError(
            "refuses_email", _("Administrators can't refuse e-mail from the platform.")
        )
    user.refuses_email = refuses
    db.session.flush()


def unsubscribe_url(user: User) -> str | None:
    """The footer link that refuses all e-mail without logging in (a signed token naming the
    person); None for those who can't refuse."""
    if not may_refuse_email(user):
        return None
    token = security.sign("unsubscribe", user.id)
    return current_app.config["PUBLIC_URL"].rstrip("/") + f"/unsubscribe/{token}"


def read_unsubscribe_token(token: str) -> User:
    """The person a footer link was made for; ValidationError on 'token' when the link was
    tampered with, is too old or names nobody."""
    user_id = read_signed_link(
        "unsubscribe",
        token,
        current_app.config["UNSUBSCRIBE_MAX_AGE"],
        expired=_("This link has expired. You can refuse e-mail from your account page."),
        invalid=_("This link is not valid. You can refuse e-mail from your account page."),
    )
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        raise ValidationError(
            "token", _("This link is not valid. You can refuse e-mail from your account page.")
        )
    return user


def may_email(user: User) -> bool:
    """The person has an address and has not refused every e-mail from the platform."""
    return bool(user.email) and not user.refuses_email
