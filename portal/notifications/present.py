"""A notification as people read it, in their language: a headline, lines and a link."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from portal.core.i18n import translate
from portal.notifications import types
from portal.notifications.models import Notification
from portal.notifications.types import Channel, Grouping


@dataclass(frozen=True)
class Presented:
    headline: str
    lines: list[str]
    #: Path inside Carnet of what the notification is about, if anything.
    url: str | None
    #: Events not listed (a listing keeps the latest ones).
    more: int


def _values(payload: dict) -> dict:
    return {key: translate(value) for key, value in payload.items()}


def present(notification: Notification) -> Presented:
    kind = types.get(notification.type)
    if kind.grouping == Grouping.LIST:
        items = [_values(item) for item in notification.payload.get("items", [])]
        lines = [str(kind.line(item)) for item in items]
        latest = items[-1] if items else {}
    else:
        latest = _values(notification.payload)
        details = latest.get("details")  # optional longer text of the content
        lines = [str(details)] if details else []
    url = latest.get("url")
    if not (isinstance(url, str) and url.startswith("/") and not url.startswith("//")):
        url = None  # only paths inside Carnet are followed
    return Presented(
        headline=str(kind.headline(latest, notification.events)),
        lines=lines,
        url=url,
        more=max(0, notification.events - len(lines)) if kind.grouping == Grouping.LIST else 0,
    )


def absolute(url: str | None) -> str | None:
    return current_app.config["PUBLIC_URL"].rstrip("/") + url if url else None


def channel_label(channel: str) -> str:
    """A channel (how a notification reached its recipient, what reaches a guardian), in the
    reader's language."""
    return {
        Channel.HOMEPAGE: _("Home page"),
        Channel.EMAIL: _("E-mail"),
        Channel.DAILY: _("Daily e-mail"),
        Channel.SMS: _("SMS"),
    }.get(channel, _("Not notified"))
