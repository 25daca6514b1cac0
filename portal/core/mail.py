"""Outgoing e-mail: built in the request, sent by a worker through the outbox.

With ``SMTP_URL`` set (smtp://user:pass@host:port, smtps://..., ?starttls=1) mail goes over SMTP;
without it, each message is written as an .eml file under instance/mail/ for development.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from portal.core import clock, outbox


def queue_mail(to: str, subject: str, text: str, html: str | None = None) -> None:
    """Send after the current transaction commits (outbox kind 'mail')."""
    outbox.add("mail", {"to": to, "subject": subject, "text": text, "html": html})


def build(to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(clock.now().timestamp(), localtime=False)
    msg["Message-ID"] = make_msgid(domain="carnet")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def deliver(msg: EmailMessage) -> None:
    url = current_app.config["SMTP_URL"]
    if not url:
        folder = Path(current_app.config["MAIL_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        name = msg["Message-ID"].strip("<>").replace("@", "_")
        (folder / f"{name}.eml").write_bytes(bytes(msg))
        return
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    if parts.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(
            parts.hostname, port, timeout=30, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(parts.hostname, port, timeout=30)
    with smtp:
        if query.get("starttls", ["0"])[0] == "1":
            smtp.starttls(context=ssl.create_default_context())
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(msg)


@outbox.handler("mail")
def _send(payload: dict) -> None:
    deliver(build(payload["to"], payload["subject"], payload["text"], payload.get("html")))
