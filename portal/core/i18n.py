"""Language and time zone of the person looking at the page."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime
from flask_login import current_user


def select_locale() -> str:
    """The user's saved choice, else the choice made before logging in, else the browser's,
    else the school's default language, else French."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a job or a command: callers use force_locale()
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.language:
        return current_user.language
    if session.get("language") in languages:
        return session["language"]
    best = request.accept_languages.best_match(languages)
    if best:
        return best
    if current_user and current_user.is_authenticated and current_user.school:
        return current_user.school.default_language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    if (
        has_request_context()
        and current_user
        and current_user.is_authenticated
        and current_user.school
    ):
        return current_user.school.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def local_datetime(value, fmt: str = "medium") -> str:
    """A UTC datetime shown in the school's time zone, in the reader's language."""
    return "" if value is None else format_datetime(value, fmt)


def local_date(value, fmt: str = "medium") -> str:
    return "" if value is None else format_date(value, fmt)


def deferred(msgid: str, **args) -> dict:
    """Words to translate later, in the reader's language (a notification written by a worker
    for people who read French or English). Extracted for the catalogs like gettext."""
    return {"msgid": msgid, "args": args}


def deferred_date(day) -> dict:
    """A calendar day to show later in the reader's language ('Tuesday 24 November 2026')."""
    return {"date": day.isoformat()}


def translate(value):
    """A value kept with ``deferred()`` or ``deferred_date()`` in the current language; anything
    else as it is."""
    import datetime as dt

    from flask_babel import gettext

    if isinstance(value, dict) and "date" in value:
        return format_date(dt.date.fromisoformat(value["date"]), "full")
    if isinstance(value, dict) and "msgid" in value:
        words = value["msgid"]
        args = {key: translate(arg) for key, arg in value.get("args", {}).items()}
        return gettext(words, **args)
    return value
