"""Outgoing e-mail: built in the request, sent by a worker through the outbox.

With ``SMTP_URL`` set (smtp://user:pass@host:port, smtps://..., ?starttls=1) mail goes over SMTP;
without it, each message is written as an .eml file under instance/mail/ for development.
The envelope sender is the webmaster's bounce address when one is set.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from portal.core import clock, outbox, settings

log = logging.getLogger(__name__)

#: Header lines up to the limit of RFC 5322: a long List-Unsubscribe link must stay one
#: plain <https://...> value, not be cut into encoded words that unsubscribe agents can't read.
MAIL_POLICY = policy.default.clone(max_line_length=998)
#: The .eml files of development: message ids become file names, nothing else does.
EML_NAME = re.compile(r"[A-Za-z0-9._-]+\.eml")


class Refused(Exception):
    """The SMTP server refused the message for good (a 5xx answer): retrying will not help."""

    def __init__(self, code: int, answer: str):
        super().__init__(f"{code} {answer}")
        self.code, self.answer = code, answer


def queue_mail(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    unsubscribe_url: str | None = None,
) -> None:
    """Send after the current transaction commits (outbox kind 'mail')."""
    outbox.add(
        "mail",
        {
            "to": to,
            "subject": subject,
            "text": text,
            "html": html,
            "unsubscribe_url": unsubscribe_url,
        },
    )


def build(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    message_id: str | None = None,
    unsubscribe_url: str | None = None,
) -> EmailMessage:
    """A multipart text + HTML message. With ``unsubscribe_url`` it carries the one-click
    unsubscribe headers of RFC 8058 (the link itself is in the footer of the text)."""
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(clock.now().timestamp(), localtime=False)
    msg["Message-ID"] = message_id or make_msgid(domain="carnet")
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def _connect() -> smtplib.SMTP:
    parts = urlsplit(current_app.config["SMTP_URL"])
    query = parse_qs(parts.query)
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    if parts.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(
            parts.hostname, port, timeout=30, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(parts.hostname, port, timeout=30)
    smtp.ehlo()
    if query.get("starttls", ["0"])[0] == "1":
        smtp.starttls(context=ssl.create_default_context())
        smtp.ehlo()
    if parts.username:
        smtp.login(unquote(parts.username), unquote(parts.password or ""))
    return smtp


def _expect(answer: tuple[int, bytes], *accepted: int) -> str:
    code, text = answer
    message = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    if code in accepted:
        return f"{code} {message}"
    if 500 <= code < 600:
        raise Refused(code, message)
    raise smtplib.SMTPResponseException(code, message)  # 4xx: try again later


def undeliverable(address: str) -> bool:
    """An address under the top-level domain reserved for examples (RFC 2606), such as the demo
    platform's: nothing is ever sent to it, whatever the SMTP server configured."""
    domain = address.rpartition("@")[2].lower().rstrip(".")
    return domain == "example" or domain.endswith(".example")


def deliver(msg: EmailMessage) -> str:
    """Hand the message to the SMTP server (or write it as .eml) and return its answer. Without
    an SMTP server, and for an address that can't exist (undeliverable()), the message is
    written to MAIL_DIR as an .eml file.

    Raises Refused on a permanent refusal; a temporary one (4xx, no connection) raises
    SMTPException or OSError, for the outbox to try again later."""
    envelope_from = settings.current().bounce_address or parseaddr(msg["From"])[1]
    if not current_app.config["SMTP_URL"] or undeliverable(parseaddr(msg["To"])[1]):
        folder = Path(current_app.config["MAIL_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9._-]", "_", msg["Message-ID"].strip("<>")) + ".eml"
        msg["X-Envelope-From"] = envelope_from
        (folder / name).write_bytes(bytes(msg))
        return f"written to {name}"
    data = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    with _connect() as smtp:
        _expect(smtp.mail(envelope_from), 250)
        _expect(smtp.rcpt(parseaddr(msg["To"])[1]), 250, 251)
        return _expect(smtp.data(data), 250)


@outbox.handler("mail")
def _send(payload: dict) -> None:
    message = build(
        payload["to"],
        payload["subject"],
        payload["text"],
        payload.get("html"),
        unsubscribe_url=payload.get("unsubscribe_url"),
    )
    try:
        deliver(message)
    except Refused as refusal:
        log.warning("mail to %s refused: %s", payload["to"], refusal)
