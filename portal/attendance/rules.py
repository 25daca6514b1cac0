"""What an alert rule decides, as pure functions (SPEC §6, seed 000): the window it counts over,
the value of its metric, whether its trigger holds, and whether it fires.

A rule fires once per person per crossing: not again until the condition has stopped holding
and holds again, or a new cycle has begun.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from portal.core.clock import local_day, local_moment
from portal.notifications.timing import months_before


class Population(StrEnum):
    PUPILS = "pupil"
    TEACHERS = "teacher"


class Metric(StrEnum):
    ABSENCE_HOURS = "absence_hours"
    SESSIONS_MISSED = "sessions_missed"
    ABSENCE_DAYS = "absence_days"
    LATE_ARRIVALS = "late_arrivals"
    EARLY_DEPARTURES = "early_departures"


#: The metrics that count absences (and so may count justified or unjustified ones only).
ABSENCE_METRICS = (Metric.ABSENCE_HOURS, Metric.SESSIONS_MISSED, Metric.ABSENCE_DAYS)


class Counted(StrEnum):
    ALL = "all"
    JUSTIFIED = "justified"
    UNJUSTIFIED = "unjustified"


class Trigger(StrEnum):
    FEWER = "fewer"  # fewer than N
    MORE = "more"  # more than N
    BETWEEN = "between"  # from N to M, both included


class PeriodUnit(StrEnum):
    DAYS = "days"
    MONTHS = "months"


class Scope(StrEnum):
    EVERYONE = "everyone"
    MEMBERS = "members"  # members of a group
    NOT_MEMBERS = "not_members"  # everyone but the members of a group


@dataclass(frozen=True)
class Totals:
    """One person's marks over the window: minutes and sessions missed and days with an
    absence (of the absences counted), late arrivals, early departures."""

    minutes: int = 0
    sessions: int = 0
    days: int = 0
    late: int = 0
    early: int = 0


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime
    #: The first day of the current cycle, for rules that recur; None otherwise.
    cycle: dt.date | None


def cycle_start(today: dt.date, first: dt.date, days: int) -> dt.date | None:
    """The first day of the cycle ``today`` is in, for cycles of ``days`` days from ``first``;
    None before the first cycle begins. A 30-day cycle from 1 June: 1 July starts the next."""
    if today < first:
        return None
    return first + dt.timedelta(days=(today - first).days // days * days)


def window(
    now: dt.datetime,
    *,
    amount: int,
    unit: PeriodUnit,
    zone: str,
    cycle_days: int | None = None,
    cycle_first: dt.date | None = None,
) -> Window | None:
    """What a rule counts now: the period back from now, cut at the start of the current cycle
    (a 365-day cycle from 1 September ignores everything before the last 1 September). None
    while the first cycle has not begun."""
    if unit == PeriodUnit.DAYS:
        start = now - dt.timedelta(days=amount)
    else:
        start = months_before(now, amount)
    cycle = None
    if cycle_days and cycle_first is not None:
        cycle = cycle_start(local_day(now, zone), cycle_first, cycle_days)
        if cycle is None:
            return None
        start = max(start, local_moment(cycle, dt.time(0), zone))
    return Window(start, now, cycle)


def value(metric: Metric, totals: Totals) -> float:
    return {
        Metric.ABSENCE_HOURS: totals.minutes / 60,
        Metric.SESSIONS_MISSED: totals.sessions,
        Metric.ABSENCE_DAYS: totals.days,
        Metric.LATE_ARRIVALS: totals.late,
        Metric.EARLY_DEPARTURES: totals.early,
    }[metric]


def holds(trigger: Trigger, low: int, high: int | None, amount: float) -> bool:
    if trigger == Trigger.FEWER:
        return amount < low
    if trigger == Trigger.MORE:
        return amount > low
    return low <= amount <= (high if high is not None else low)


def holds_at_zero(trigger: Trigger, low: int, high: int | None) -> bool:
    """Rules that hold for someone with nothing counted ('fewer than 3 late arrivals'): they
    are evaluated on the schedule only, over the whole population."""
    return holds(trigger, low, high, 0)


class Decision(StrEnum):
    FIRE = "fire"
    #: The condition stopped holding: the next crossing fires again.
    RECOVER = "recover"
    KEEP = "keep"


def decide(holding_now: bool, was_holding: bool, fired_cycle, cycle) -> Decision:
    """Fire on a crossing: the condition holds and did not, or a new cycle has begun."""
    if holding_now:
        if not was_holding or fired_cycle != cycle:
            return Decision.FIRE
        return Decision.KEEP
    return Decision.RECOVER if was_holding else Decision.KEEP
