"""Credentials: sessions, activation codes, logging in, passwords and their reset.

Every function flushes and never commits. Bad input raises ValidationError(field, message)."""

from __future__ import annotations

import datetime as dt

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal.accounts import contact, identities, session_store
from portal.accounts.models import (
    AccountState,
    ActivationCode,
    User,
)
from portal.core import clock, mail, security
from portal.core.errors import ValidationError
from portal.extensions import db

PASSWORD_MIN = 10


PASSWORD_MAX = 128


#: The accounts a code may be issued to and used for: never activated, or active (a new password).
CODE_STATES = (AccountState.INACTIVE, AccountState.ACTIVE)


def issue_activation_code(user: User) -> str:
    """A new one-time code: it activates an account that was never activated, or lets the holder
    of an active account choose a new password (the school's answer to a forgotten password when
    no e-mail can reach the person). Earlier codes stop working. The code is returned once, to be
    printed or sent; only its digest is kept. ValidationError for a blocked or deleted account."""
    if user.state not in CODE_STATES:
        raise ValidationError("user", _("A blocked or deleted account can't be given a code."))
    now = clock.now()
    db.session.execute(
        update(ActivationCode)
        .where(ActivationCode.user_id == user.id, ActivationCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = security.new_code()
    days = current_app.config["ACTIVATION_CODE_DAYS"]
    db.session.add(
        ActivationCode(
            user_id=user.id,
            code_digest=security.digest(code),
            expires_at=now + dt.timedelta(days=days),
        )
    )
    db.session.flush()
    return code


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < PASSWORD_MIN:
        raise ValidationError(field, _("At least %(n)d characters.", n=PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        raise ValidationError(field, _("At most %(n)d characters.", n=PASSWORD_MAX))


def find_activation(code: str) -> ActivationCode:
    """The unused, unexpired code; ValidationError on 'code' otherwise (one message for all)."""
    digest = security.digest(security.normalise_code(code or ""))
    found = db.session.scalar(select(ActivationCode).where(ActivationCode.code_digest == digest))
    if (
        found is None
        or found.used_at is not None
        or found.expires_at <= clock.now()
        or found.user.state not in CODE_STATES
    ):
        raise ValidationError(
            "code",
            _("This activation code is not valid. Check it, or ask the school for a new one."),
        )
    return found


def activate(code: str, password: str) -> User:
    """The code's account, active with ``password``; for an account already active, its new
    password, every other session ended."""
    activation = find_activation(code)
    if activation.user.school_suspended:
        raise ValidationError("code", SUSPENDED)
    if identities.password_off_for(activation.user):
        raise ValidationError("code", PASSWORD_OFF)
    check_password_rules(password)
    user = activation.user
    activation.used_at = clock.now()
    user.activated_at = user.activated_at or activation.used_at
    user.state = AccountState.ACTIVE
    _set_password(user, password)
    db.session.flush()
    return user


def _set_password(user: User, password: str) -> None:
    user.password_hash = security.hash_password(password)
    session_store.end_everywhere(user)


#: What the people of a suspended school are told when they log in or activate (SPEC §10).
SUSPENDED = _l(
    "Your school's access to Carnet is suspended for now. Nothing is lost: you can log in "
    "again as soon as it is resumed."
)


#: What the holder of a blocked account is told, after a right password or a provider's word.
BLOCKED = _l("This account is blocked. Contact your school.")


class LoginRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


#: What a person whose school switched passwords off for their profile is told.
PASSWORD_OFF = _l(
    "Your school asks you to log in through its identity provider: use one of the buttons on "
    "this page."
)


def authenticate(login: str, password: str, *, linking: bool = False) -> User:
    """The active account with this login and password. Unknown login and wrong password get
    the same answer, in the same time; only the holder of the right password of a blocked account
    learns that it is blocked. ``linking``: the password proves the account to link it to an
    identity provider, even where the school switched passwords off."""
    user = db.session.scalar(select(User).where(User.login == (login or "").strip().lower()))
    if not security.verify_password(user.password_hash if user else None, password or ""):
        raise LoginRefused(_("Login or password incorrect."))
    if user.state == AccountState.BLOCKED:
        raise LoginRefused(str(BLOCKED))
    if user.school_suspended:
        raise LoginRefused(SUSPENDED)
    if not linking and identities.password_off_for(user):
        raise LoginRefused(PASSWORD_OFF)
    user.last_login_at = clock.now()
    db.session.flush()
    return user


def _reset_fingerprint(user: User) -> str:
    # The token dies with the password it was issued for: a used link can't be used again.
    return security.digest(user.session_nonce)[:16]


def request_password_reset(login: str) -> None:
    """E-mail a reset link if the login is an active account with an address that accepts e-mail.
    Says nothing either way: the page shows the same answer."""
    user = db.session.scalar(select(User).where(User.login == (login or "").strip().lower()))
    if user is None or user.state != AccountState.ACTIVE or not user.email or user.refuses_email:
        return
    if user.school_suspended or identities.password_off_for(user):
        return
    token = security.sign("reset", [user.id, _reset_fingerprint(user)])
    link = current_app.config["PUBLIC_URL"].rstrip("/") + url_for(
        "accounts.reset_password", token=token
    )
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    with force_locale(user.language or (user.school.default_language if user.school else "fr")):
        subject = _("Carnet: choose a new password")
        context = {"user": user, "link": link, "minutes": minutes}
        context["unsubscribe_url"] = contact.unsubscribe_url(user)
        text = render_template("accounts/mail/reset.txt", **context)
        html = render_template("accounts/mail/reset.html", **context)
    mail.queue_mail(user.email, subject, text, html, unsubscribe_url=contact.unsubscribe_url(user))


def read_reset_token(token: str) -> tuple[int, str]:
    """The user id and password fingerprint a reset link carries; ValidationError on 'token'
    when it was tampered with or is too old."""
    return contact.read_signed_link(
        "reset",
        token,
        current_app.config["PASSWORD_RESET_MAX_AGE"],
        expired=_("This link has expired. Ask for a new one."),
        invalid=_("This link is not valid. Ask for a new one."),
    )


def reset_password(token: str, password: str) -> User:
    user_id, fingerprint = read_reset_token(token)
    user = db.session.get(User, user_id)
    if user is None or user.state != AccountState.ACTIVE or _reset_fingerprint(user) != fingerprint:
        raise ValidationError("token", _("This link has already been used. Ask for a new one."))
    check_password_rules(password)
    _set_password(user, password)
    db.session.flush()
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not security.verify_password(user.password_hash, current):
        raise ValidationError("current_password", _("This is not your current password."))
    check_password_rules(new, "new_password")
    _set_password(user, new)
    db.session.flush()


def pending_activation(user: User) -> ActivationCode | None:
    """The code that would activate the account now (unused, unexpired), if there is one."""
    return db.session.scalar(
        select(ActivationCode)
        .where(
            ActivationCode.user_id == user.id,
            ActivationCode.used_at.is_(None),
            ActivationCode.expires_at > clock.now(),
        )
        .order_by(ActivationCode.created_at.desc(), ActivationCode.id.desc())
        .limit(1)
    )


def activation_link(code: str) -> str:
    """The activation page with the code filled in."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for("accounts.activate", code=code)


def send_activation_code(user: User, code: str) -> None:
    """E-mail a code just issued, with the link that fills it in, in the person's language
    (the school's until they choose one). Activation e-mail leaves even when the webmaster
    turned notification e-mail off; the caller checks contact.may_email() first."""
    activation = pending_activation(user)
    with force_locale(user.language or (user.school.default_language if user.school else "fr")):
        subject = _("Carnet: your activation code")
        context = {
            "user": user,
            "code": code,
            "link": activation_link(code),
            "page": current_app.config["PUBLIC_URL"].rstrip("/") + url_for("accounts.activate"),
            "valid_until": activation.expires_at if activation else None,
            "unsubscribe_url": contact.unsubscribe_url(user),
        }
        text = render_template("accounts/mail/activation.txt", **context)
        html = render_template("accounts/mail/activation.html", **context)
    mail.queue_mail(user.email, subject, text, html, unsubscribe_url=contact.unsubscribe_url(user))
