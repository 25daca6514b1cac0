"""The webmaster's mail settings: the notification e-mail switch, the bounce address, a test
e-mail with the SMTP server's answer, and the .eml files written in development (SPEC §4)."""

from __future__ import annotations

import datetime as dt
import smtplib
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from portal.accounts.contact import normalise_email
from portal.accounts.models import User
from portal.core import mail, settings
from portal.core.audit import AuditTag, record
from portal.core.errors import ValidationError


def _address(value: str, field: str) -> str:
    try:
        return normalise_email(value)
    except ValidationError as error:
        raise ValidationError(field, error.errors["email"]) from error


def save_settings(actor: User, notification_email: bool, bounce_address: str | None) -> None:
    bounce = _address(bounce_address, "bounce_address") if (bounce_address or "").strip() else None
    before = settings.current()
    was = {"notification_email": before.notification_email, "bounce_address": before.bounce_address}
    settings.save(notification_email=notification_email, bounce_address=bounce)
    now = {"notification_email": notification_email, "bounce_address": bounce}
    if now != was:
        record(actor, AuditTag.MAIL_SETTINGS_CHANGED, None, before=was, after=now)


def send_test(to: str) -> tuple[bool, str]:
    """Send a test e-mail now, in the request, and return whether it left and what the SMTP
    server answered (or where the development .eml file was written)."""
    address = _address(to, "to")
    message = mail.build(
        address,
        _("Carnet: test e-mail"),
        _("This test e-mail was sent from Carnet's platform settings."),
    )
    try:
        return True, mail.deliver(message)
    except mail.Refused as refusal:
        return False, str(refusal)
    except (smtplib.SMTPException, OSError) as exc:
        return False, f"{type(exc).__name__}: {exc}"


def _folder() -> Path:
    return Path(current_app.config["MAIL_DIR"])


def written_files(limit: int = 100) -> list[dict]:
    """The newest .eml files of development, with their date, recipient and subject."""
    folder = _folder()
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)[:limit]
    found = []
    for path in paths:
        with path.open("rb") as handle:
            headers = BytesParser(policy=policy.default).parse(handle, headersonly=True)
        found.append(
            {
                "name": path.name,
                "written": dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC),
                "to": headers["To"],
                "subject": headers["Subject"],
            }
        )
    return found


def read_file(name: str) -> EmailMessage | None:
    """One written e-mail, by its file name only (no path leaves the mail folder)."""
    if not mail.EML_NAME.fullmatch(name):
        return None
    path = _folder() / name
    if not path.is_file():
        return None
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())
