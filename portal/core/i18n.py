"""Language and time zone of the person looking at the page."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_time, get_locale
from flask_login import current_user

#: Babel's named widths of a date and time.
WIDTHS = ("full", "long", "medium", "short")


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
    """A UTC datetime shown in the school's time zone, in the reader's language.

    A named width sets the date's width only: the time is always the short one ('08:00'), as a
    school writes it. Babel's own widths would add the seconds and, from 'long' up, the zone
    ('08:00:00 heure normale d'Europe centrale'). A pattern ('HH:mm') is used as it is."""
    if value is None:
        return ""
    if fmt not in WIDTHS:
        return format_datetime(value, fmt)
    pattern = str(get_locale().datetime_formats[fmt]).replace("'", "")
    return pattern.replace("{0}", format_time(value, "short")).replace(
        "{1}", format_date(value, fmt)
    )


def local_time(value) -> str:
    """The wall-clock time of a UTC datetime in the school's time zone: '08:00', in both
    languages, as timetables write it."""
    return "" if value is None else format_time(value, "HH:mm")


def local_hours(start, end) -> str:
    """A session's hours in the school's time zone: '08:00–09:00'."""
    return f"{local_time(start)}–{local_time(end)}"


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
