"""The one clock. Code asks now() and never datetime.now(); tests move it with set()/advance().

And the school's calendar: the day a moment falls on, and the moment a wall-clock time of a day
is, in a time zone (times are stored in UTC, days and hours are the school's)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

_offset = dt.timedelta(0)
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time, aware, in UTC."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(dt.UTC) + _offset


def freeze(at: dt.datetime) -> None:
    global _frozen
    _frozen = at


def advance(delta: dt.timedelta) -> None:
    global _offset, _frozen
    if _frozen is not None:
        _frozen += delta
    else:
        _offset += delta


def reset() -> None:
    global _offset, _frozen
    _offset, _frozen = dt.timedelta(0), None


def local_day(moment: dt.datetime, zone: str) -> dt.date:
    """The day ``moment`` falls on in ``zone``."""
    return moment.astimezone(ZoneInfo(zone)).date()


def today(zone: str) -> dt.date:
    return local_day(now(), zone)


def local_moment(day: dt.date, time: dt.time, zone: str) -> dt.datetime:
    """The wall-clock ``time`` of ``day`` in ``zone``, in UTC."""
    return dt.datetime.combine(day, time, tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)
