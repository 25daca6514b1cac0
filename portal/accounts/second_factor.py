"""A second factor for the accounts that can do the most (SPEC §13): a code from an
authenticator app (TOTP, RFC 6238, with pyotp) after the password.

Anyone may turn it on from My account; a school may require it of its direction and staff,
who are then sent to set it up before anything else. Setting up shows a QR code once (segno) and
asks for a first code; ten recovery codes, shown once, each replace the phone once. A code is
taken once: the time step it was made for is remembered. A browser may be trusted for some days
(``SECOND_FACTOR_TRUST_DAYS``). The direction resets a person's second factor (a lost phone):
audited, and the person is told by e-mail.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets

import pyotp
import segno
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from portal.accounts import contact
from portal.accounts.models import (
    Profile,
    RecoveryCode,
    SecondFactor,
    TrustedDevice,
    User,
)
from portal.core import audit, clock, mail, security, vault
from portal.core.audit import AuditTag
from portal.core.errors import ValidationError
from portal.extensions import db

RECOVERY_CODES = 10
#: The profiles a school may require it of.
REQUIRED_OF = (Profile.ADMIN, Profile.STAFF)
#: The cookie of a trusted browser.
DEVICE_COOKIE = "carnet_device"
#: A code's steps on either side of now that are still accepted (a phone's clock drifts).
DRIFT = 1


def required(user: User) -> bool:
    """The person's school asks them for a second factor."""
    school = user.school
    return user.profile in REQUIRED_OF and school is not None and school.second_factor_required


def of(user: User) -> SecondFactor | None:
    return db.session.get(SecondFactor, user.id)


def new_secret() -> str:
    return pyotp.random_base32()


def enrolment_picture(user: User, secret: str) -> str:
    """The QR code an authenticator app reads, as a data: URI for an <img>."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.login, issuer_name="Carnet")
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _step(secret: str, code: str) -> int | None:
    """The time step ``code`` was made for, within the drift; None when it is not one."""
    totp = pyotp.TOTP(secret)
    now = clock.now()
    for drift in range(-DRIFT, DRIFT + 1):
        moment = now + dt.timedelta(seconds=drift * totp.interval)
        if hmac.compare_digest(totp.at(moment), code):
            return totp.timecode(moment)
    return None


def _digits(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isdigit())


def enrol(user: User, secret: str, code: str) -> list[str]:
    """The app is set up once its first code is right; returns the recovery codes, to show
    once. ValidationError on 'code' otherwise."""
    step = _step(secret, _digits(code))
    if step is None:
        raise ValidationError(
            "code", _("This code is not right. Type the 6 digits your app shows now.")
        )
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    db.session.add(SecondFactor(user_id=user.id, secret=vault.seal(secret), last_step=step))
    codes = new_recovery_codes(user)
    audit.record(user, AuditTag.SECOND_FACTOR_ENROLLED, user.school_id, person_id=user.id)
    return codes


def new_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes; the earlier ones stop working."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [security.new_code(10) for _n in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, digest=security.digest(code)))
    db.session.flush()
    return codes


def recovery_codes_left(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def check(user: User, code: str) -> None:
    """A login's second step: a code of the app, never one already taken, or an unused
    recovery code (used up by this). ValidationError on 'code' otherwise."""
    found = of(user)
    if found is None:
        raise ValidationError("code", _("This code is not right."))
    typed = "".join((code or "").split())
    if typed.isdigit() and len(typed) == 6:  # a recovery code may hold six digits too
        step = _step(vault.unseal(found.secret), typed)
        if step is not None and step > found.last_step:
            # A conditional write: two requests with one code can't both pass.
            taken = db.session.execute(
                update(SecondFactor)
                .where(SecondFactor.user_id == user.id, SecondFactor.last_step < step)
                .values(last_step=step)
            ).rowcount
            if taken:
                return
        raise ValidationError("code", _("This code is not right, or was used already."))
    recovery = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.digest == security.digest(security.normalise_code(code)),
            RecoveryCode.used_at.is_(None),
        )
    )
    if recovery is None:
        raise ValidationError("code", _("This code is not right, or was used already."))
    recovery.used_at = clock.now()
    audit.record(user, AuditTag.SECOND_FACTOR_RECOVERY_USED, user.school_id, person_id=user.id)


def remove(actor: User, user: User) -> None:
    """The second factor goes (a lost phone, or turned off by its owner when not required):
    its recovery codes and trusted browsers with it; audited, and the person is e-mailed
    when it was someone else."""
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TrustedDevice).where(TrustedDevice.user_id == user.id))
    audit.record(actor, AuditTag.SECOND_FACTOR_REMOVED, user.school_id, person_id=user.id)
    if actor.id != user.id and contact.may_email(user):
        _tell_reset(user)


def _tell_reset(user: User) -> None:
    with force_locale(user.language or (user.school.default_language if user.school else "fr")):
        subject = _("Carnet: your second factor was reset")
        context = {"user": user, "unsubscribe_url": contact.unsubscribe_url(user)}
        text = render_template("accounts/mail/second_factor_reset.txt", **context)
        html = render_template("accounts/mail/second_factor_reset.html", **context)
    mail.queue_mail(user.email, subject, text, html, unsubscribe_url=contact.unsubscribe_url(user))


def trust(user: User) -> str:
    """This browser is not asked again for some days: the cookie's token."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["SECOND_FACTOR_TRUST_DAYS"]
    db.session.add(
        TrustedDevice(
            user_id=user.id,
            token_digest=security.digest(token),
            expires_at=clock.now() + dt.timedelta(days=days),
        )
    )
    db.session.flush()
    return token


def trusted(user: User, token: str | None) -> bool:
    if not token:
        return False
    return (
        db.session.scalar(
            select(TrustedDevice.id).where(
                TrustedDevice.user_id == user.id,
                TrustedDevice.token_digest == security.digest(token),
                TrustedDevice.expires_at > clock.now(),
            )
        )
        is not None
    )
