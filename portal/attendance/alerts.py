"""Evaluating alert rules against the marks, and what a rule does when it fires (SPEC §6).

After an attendance change, the people it touches are evaluated by a worker (outbox kind
'alert_evaluation'); every rule is evaluated on the schedule too (rq cron), for periods that
slide and cycles that turn. Rules that hold for someone with nothing counted ('fewer than N')
are evaluated on the schedule only, over the people present in the population for the whole
period. Firing is claimed with a conditional write on the person's state, so two workers never
fire one crossing twice.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict

from flask import current_app
from sqlalchemy import distinct, func, literal, select, union_all, update

from portal.accounts.models import UNREACHABLE, School, User
from portal.attendance import alert_actions, rules
from portal.attendance.models import (
    Alert,
    AlertRule,
    AlertState,
    AttendanceMark,
    MarkKind,
)
from portal.attendance.rules import Counted, Metric, Totals, Trigger, Window
from portal.core import clock, outbox
from portal.core.db import after_commit, among, defer, insert_new
from portal.extensions import db
from portal.groups.models import GroupMember

_KINDS = {
    Metric.ABSENCE_HOURS: MarkKind.ABSENT,
    Metric.SESSIONS_MISSED: MarkKind.ABSENT,
    Metric.ABSENCE_DAYS: MarkKind.ABSENT,
    Metric.LATE_ARRIVALS: MarkKind.LATE,
    Metric.EARLY_DEPARTURES: MarkKind.LEFT_EARLY,
}


def window_of(rule: AlertRule, school: School) -> Window | None:
    return rules.window(
        clock.now(),
        amount=rule.period_amount,
        unit=rules.PeriodUnit(rule.period_unit),
        zone=school.timezone,
        cycle_days=rule.cycle_days,
        cycle_first=rule.cycle_first,
    )


def _population(rule: AlertRule):
    """The ids of the people the rule watches: its profile in the school, within its scope."""
    query = select(User.id).where(
        User.school_id == rule.school_id,
        User.profile == rule.population,
        User.state.not_in(UNREACHABLE),
    )
    if rule.scope != rules.Scope.EVERYONE:
        # A group deleted since: nobody is a member of it any more.
        members = select(GroupMember.user_id).where(
            GroupMember.group_id == (rule.scope_group_id or 0)
        )
        member = User.id.in_(members)
        query = query.where(member if rule.scope == rules.Scope.MEMBERS else ~member)
    return query


def _totals(rule: AlertRule, win: Window) -> dict[int, Totals]:
    """Everyone watched: their marks of the rule's kind over the window, in one query."""
    metric = Metric(rule.metric)
    return {
        person_id: _as_totals(metric, minutes, count, days)
        for person_id, minutes, count, days in db.session.execute(_counting(rule, win))
    }


def _as_totals(metric: Metric, minutes, count: int, days: int) -> Totals:
    if metric == Metric.LATE_ARRIVALS:
        return Totals(late=count)
    if metric == Metric.EARLY_DEPARTURES:
        return Totals(early=count)
    return Totals(minutes=int(minutes or 0), sessions=count, days=days)


def _counting(rule: AlertRule, win: Window):
    """The query counting each watched person's marks of the rule's kind over the window."""
    metric = Metric(rule.metric)
    query = (
        select(
            AttendanceMark.person_id,
            func.sum(AttendanceMark.minutes),
            func.count(),
            func.count(distinct(AttendanceMark.day)),
        )
        .where(
            AttendanceMark.school_id == rule.school_id,
            AttendanceMark.kind == _KINDS[metric],
            AttendanceMark.starts_at >= win.start,
            # The window ends now: a mark recorded in advance counts from its session's start.
            AttendanceMark.starts_at <= win.end,
            AttendanceMark.person_id.in_(_population(rule)),
        )
        .group_by(AttendanceMark.person_id)
    )
    if metric in rules.ABSENCE_METRICS and rule.counted != Counted.ALL:
        query = query.where(AttendanceMark.justified == (rule.counted == Counted.JUSTIFIED))
    return query


def _candidates(rule: AlertRule, win: Window, totals) -> set[int]:
    """Whom the schedule decides for: everyone with something counted or still holding; for
    rules that hold at zero, everyone watched for the whole period."""
    holding = db.session.scalars(
        select(AlertState.person_id).where(AlertState.rule_id == rule.id, AlertState.holding)
    )
    found = set(totals) | set(holding)
    if rules.holds_at_zero(Trigger(rule.trigger), rule.low, rule.high):
        found |= set(db.session.scalars(_population(rule).where(User.created_at <= win.start)))
    return found


def evaluate(rule: AlertRule, person_ids: list[int] | None = None) -> list[Alert]:
    """Decide for the people named (after an attendance change) or for everyone (on the
    schedule); fire where a crossing happened. Returns the alerts fired."""
    if person_ids is not None:
        return evaluate_people([rule], person_ids)
    school = db.session.get(School, rule.school_id)
    win = window_of(rule, school) if rule.enabled else None
    if win is None:
        return []
    totals = _totals(rule, win)
    known = select(AlertState).where(AlertState.rule_id == rule.id)
    states = {s.person_id: s for s in db.session.scalars(known)}
    candidates = _candidates(rule, win, totals)
    return _decide(
        rule, school, win, totals, states, candidates, alert_actions.watchers_of(school.id)
    )


def evaluate_people(rule_list: list[AlertRule], person_ids: list[int]) -> list[Alert]:
    """Several rules of one school over the few people an attendance change touched: each
    question (their marks, who is watched, states) is one round trip for every rule together."""
    if not rule_list or not person_ids:
        return []
    school = db.session.get(School, rule_list[0].school_id)
    windows = {}
    for rule in rule_list:
        win = window_of(rule, school) if rule.enabled else None
        # 'Fewer than' rules hold with nothing counted: they are for the schedule only.
        if win is not None and not rules.holds_at_zero(Trigger(rule.trigger), rule.low, rule.high):
            windows[rule.id] = win
    chosen = [rule for rule in rule_list if rule.id in windows]
    if not chosen:
        return []
    totals = named_totals(chosen, windows, person_ids)
    watched: dict[int, set[int]] = {rule.id: set() for rule in chosen}
    named = union_all(
        *(
            _population(r).add_columns(literal(r.id)).where(among(User.id, person_ids))
            for r in chosen
        )
    )
    for person_id, rule_id in db.session.execute(named):
        watched[rule_id].add(person_id)
    states: dict[int, dict[int, AlertState]] = {rule.id: {} for rule in chosen}
    for state in db.session.scalars(
        select(AlertState).where(
            AlertState.rule_id.in_(list(windows)), among(AlertState.person_id, person_ids)
        )
    ):
        states[state.rule_id][state.person_id] = state
    fired, watchers = [], alert_actions.watchers_of(school.id)
    for rule in chosen:
        win, counted = windows[rule.id], totals[rule.id]
        fired += _decide(rule, school, win, counted, states[rule.id], watched[rule.id], watchers)
    return fired


def named_totals(chosen: list[AlertRule], windows: dict, person_ids: list[int]) -> dict:
    """Each rule's totals for the people named, by rule id then person id: their marks are read
    once over the longest window and every rule counts its own window from them."""
    marks = _marks_of(chosen[0].school_id, person_ids, min(w.start for w in windows.values()))
    totals: dict[int, dict[int, Totals]] = {}
    for rule in chosen:
        metric, win = Metric(rule.metric), windows[rule.id]
        counted = rule.counted if metric in rules.ABSENCE_METRICS else Counted.ALL
        totals[rule.id] = {
            person_id: _as_totals(metric, *series[_KINDS[metric], counted].within(win))
            for person_id, series in marks.items()
        }
    return totals


class _Series:
    """One person's marks of one kind (and justification), in time order, with running sums:
    what any window holds is two binary searches away."""

    def __init__(self) -> None:
        self.times: list = []
        self.minutes = [0]  # minutes of the marks before each position
        self.days = [0]  # days begun by the marks before each position
        self._last_day = None

    def add(self, starts_at, minutes: int | None, day) -> None:
        self.times.append(starts_at)
        self.minutes.append(self.minutes[-1] + (minutes or 0))
        self.days.append(self.days[-1] + (day != self._last_day))
        self._last_day = day

    def within(self, win: Window) -> tuple[int, int, int]:
        """Minutes, marks and distinct days between the window's bounds (both included): the
        window ends now, so a mark recorded in advance counts from its session's start."""
        first = bisect_left(self.times, win.start)
        end = bisect_right(self.times, win.end)
        if end <= first:
            return 0, 0, 0
        # The first mark in the window begins a day even when an earlier one shared it.
        days = 1 + self.days[end] - self.days[first + 1]
        return self.minutes[end] - self.minutes[first], end - first, days


def _marks_of(school_id: int, person_ids: list[int], since) -> dict:
    """The named people's marks since ``since``, read once, kept per person as series by kind
    and by justification (every rule then counts its own window from them)."""
    found: dict[int, dict] = {
        person_id: defaultdict(_Series) for person_id in sorted(set(person_ids))
    }
    rows = db.session.execute(
        select(
            AttendanceMark.person_id,
            AttendanceMark.kind,
            AttendanceMark.justified,
            AttendanceMark.starts_at,
            AttendanceMark.minutes,
            AttendanceMark.day,
        )
        .where(
            AttendanceMark.school_id == school_id,
            among(AttendanceMark.person_id, person_ids),
            AttendanceMark.starts_at >= since,
        )
        .order_by(AttendanceMark.person_id, AttendanceMark.starts_at)
    )
    for person_id, kind, justified, starts_at, minutes, day in rows:
        series = found[person_id]
        series[kind, Counted.ALL].add(starts_at, minutes, day)
        chosen = Counted.JUSTIFIED if justified else Counted.UNJUSTIFIED
        series[kind, chosen].add(starts_at, minutes, day)
    return found


def _decide(rule, school, win: Window, totals, states, candidates, watchers) -> list[Alert]:
    """Each candidate's count against the rule; fire once per crossing, note recoveries."""
    trigger = Trigger(rule.trigger)
    fired = []
    for person_id in sorted(candidates):
        amount = rules.value(Metric(rule.metric), totals.get(person_id, Totals()))
        state = states.get(person_id)
        decision = rules.decide(
            rules.holds(trigger, rule.low, rule.high, amount),
            state is not None and state.holding,
            state.fired_cycle if state else None,
            win.cycle,
        )
        if decision == rules.Decision.FIRE and _claim(rule, person_id, win, state is None):
            fired.append(alert_actions.fire_alert(rule, school, person_id, amount, watchers))
        elif decision == rules.Decision.RECOVER:
            state.holding, state.changed_at = False, clock.now()
    db.session.flush()
    return fired


def _claim(rule: AlertRule, person_id: int, win: Window, new: bool) -> bool:
    """Take the crossing for this worker; False when another one took it first."""
    now = clock.now()
    if new:
        claimed = db.session.execute(
            insert_new(AlertState.__table__)
            .values(
                rule_id=rule.id,
                person_id=person_id,
                holding=True,
                fired_cycle=win.cycle,
                changed_at=now,
            )
            .on_conflict_do_nothing()
            .returning(AlertState.__table__.c.person_id)
        ).first()
        return claimed is not None
    not_yet = (AlertState.holding.is_(False)) | (AlertState.fired_cycle.is_distinct_from(win.cycle))
    return bool(
        db.session.execute(
            update(AlertState)
            .where(AlertState.rule_id == rule.id, AlertState.person_id == person_id, not_yet)
            .values(holding=True, fired_cycle=win.cycle, changed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


# --- when ---------------------------------------------------------------------------------


def evaluate_later(school_id: int, person_ids: list[int], at: dt.datetime | None = None) -> None:
    """After an attendance change, in its transaction: the people it touches are evaluated
    by a worker once it commits, or from ``at`` (the start of a session marked in advance,
    when its marks begin to count). A whole register is one evaluation: the changes of one
    transaction share one outbox row per school and time."""
    for noted_school, noted_at, item in db.session.info.get(_NOTED, []):
        if noted_school == school_id and noted_at == at and item in db.session:
            touched = sorted(set(item.payload["person_ids"]) | set(person_ids))
            item.payload = {"school_id": school_id, "person_ids": touched}
            return
    item = outbox.add(
        "alert_evaluation",
        {"school_id": school_id, "person_ids": sorted(set(person_ids))},
        available_at=at,
    )
    defer(db.session, _NOTED, (school_id, at, item))


#: The evaluation rows of the current transaction, forgotten when it ends.
_NOTED = "alert_evaluation_rows"


@after_commit(_NOTED)
def _forget(noted: list) -> None:
    """Committed, a row is the worker's: later changes get a row of their own."""


def evaluate_school(school_id: int, person_ids: list[int]) -> None:
    """Every enabled rule of the school over these people (their marks changed)."""
    school_rules = db.session.scalars(
        select(AlertRule)
        .where(AlertRule.school_id == school_id, AlertRule.enabled)
        .order_by(AlertRule.id)
    ).all()
    evaluate_people(list(school_rules), person_ids)


def evaluate_all() -> int:
    """Every enabled rule over everyone it watches, one transaction per rule (rq cron)."""
    fired = 0
    rule_ids = db.session.scalars(
        select(AlertRule.id)
        .join(School, School.id == AlertRule.school_id)
        .where(AlertRule.enabled, School.suspended_at.is_(None))  # a suspended school rests
    ).all()
    for rule_id in rule_ids:
        fired += len(evaluate(db.session.get(AlertRule, rule_id)))
        db.session.commit()
    current_app.logger.info("alert rules evaluated: %d fired", fired)
    return fired
