"""When a notification is delivered and when its e-mail may leave: pure functions of the clock.

Every datetime here is aware; hours chosen by people are in their school's time zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def ceil_second(moment: dt.datetime) -> dt.datetime:
    """Whole seconds: windows ending in the same second are flushed by the same job."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + dt.timedelta(seconds=1)


def next_local_hour(after: dt.datetime, hour: int, zone: str) -> dt.datetime:
    """The first moment strictly after ``after`` at which the local clock shows hour:00."""
    local = after.astimezone(ZoneInfo(zone))
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate = (candidate + dt.timedelta(days=1)).replace(hour=hour)
    return candidate.astimezone(dt.UTC)


def due_at(
    now: dt.datetime,
    *,
    batched: bool,
    window: dt.timedelta,
    daily_hour: int | None = None,
    zone: str = "UTC",
    visible_from: dt.datetime | None = None,
) -> dt.datetime:
    """When a window opened now is delivered.

    Immediate types: now. Batched types: at the end of the window, or at the person's daily
    digest hour when they chose one. Never before the content is visible (seed 001)."""
    start = max(now, visible_from) if visible_from else now
    if not batched:
        return start if start == now else ceil_second(start)
    if daily_hour is not None:
        return next_local_hour(start, daily_hour, zone)
    return ceil_second(max(now + window, start))


def quiet_until(
    now: dt.datetime, quiet_from: int | None, quiet_until_hour: int | None, zone: str
) -> dt.datetime | None:
    """The end of the quiet hours the person is in now, or None when they are not in them.

    Quiet hours may run over midnight (21 -> 7). Equal hours mean no quiet hours."""
    if quiet_from is None or quiet_until_hour is None or quiet_from == quiet_until_hour:
        return None
    hour = now.astimezone(ZoneInfo(zone)).hour
    if quiet_from < quiet_until_hour:
        inside = quiet_from <= hour < quiet_until_hour
    else:
        inside = hour >= quiet_from or hour < quiet_until_hour
    return next_local_hour(now, quiet_until_hour, zone) if inside else None


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time ``months`` calendar months earlier (the last day of a shorter
    month when the day does not exist: 31 March -> 28 or 29 February)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))
