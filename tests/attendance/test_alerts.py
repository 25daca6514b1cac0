"""Alert rules (SPEC §6), each example of seed 000 as a test: the three triggers, justified or
unjustified absences, hours / sessions / days, the two recurrence examples, a group included or
excluded, teachers' absences, once per crossing, disabled rules; and their actions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.accounts import contact
from portal.accounts.models import EmailSource, School
from portal.attendance import alerts, reasons, services
from portal.attendance.models import (
    Alert,
    AlertRule,
    AttendanceMark,
    ClassSession,
    MarkKind,
    PupilContact,
)
from portal.attendance.rules import Totals, cycle_start
from portal.core import clock
from portal.extensions import db
from portal.groups.models import Group
from tests.notifications.helpers import deliver_due, delivered_to
from tests.school import MONDAY, in_english, person, schedule_5b
from tests.web import csrf_token, logged_in

DAY = dt.timedelta(days=1)


def _rule(world, **fields) -> AlertRule:
    values = {
        "school_id": world.school,
        "name": "Absences répétées",
        "population": "pupil",
        "metric": "sessions_missed",
        "counted": "all",
        "trigger": "more",
        "low": 1,
        "high": None,
        "period_amount": 30,
        "period_unit": "days",
        **fields,
    }
    rule = AlertRule(**values)
    db.session.add(rule)
    db.session.commit()
    return rule


def _mark(world, name, kind=MarkKind.ABSENT, *, at=None, hours=1, minutes=None, group="5B"):
    """``name`` absent (or late, or left early) on a session starting at ``at`` (now)."""
    start = at or clock.now()
    session = ClassSession(
        school_id=world.school,
        group_id=world.groups[group],
        teacher_id=world.ids["teacher"],
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
    )
    db.session.add(session)
    db.session.flush()
    mark = services.record(person(world, "teacher"), session, person(world, name), kind, minutes)
    db.session.commit()
    return mark


def _fired(rule) -> list[str]:
    db.session.expire_all()
    return [
        person.first_name
        for person in db.session.scalars(
            select(Alert).where(Alert.rule_id == rule.id).order_by(Alert.id)
        ).all()
        for person in [person.person]
    ]


@pytest.fixture
def ctx(app, world):
    with in_english(app):
        yield world


def test_more_than_n_fires_on_the_crossing_only(ctx):
    rule = _rule(ctx, trigger="more", low=1)
    _mark(ctx, "léa")
    assert alerts.evaluate(rule, [ctx.ids["léa"]]) == []
    _mark(ctx, "léa", at=MONDAY - dt.timedelta(hours=2))
    assert len(alerts.evaluate(rule, [ctx.ids["léa"]])) == 1
    _mark(ctx, "léa", at=MONDAY - dt.timedelta(hours=4))
    assert alerts.evaluate(rule, [ctx.ids["léa"]]) == []  # still holding: no second alert
    assert _fired(rule) == ["Léa"]


def test_between_n_and_m_fires_inside_and_recovers_above(ctx):
    rule = _rule(ctx, trigger="between", low=2, high=3)
    for n in range(4):
        _mark(ctx, "hugo", at=MONDAY - dt.timedelta(hours=n))
        alerts.evaluate(rule, [ctx.ids["hugo"]])
        db.session.commit()
    assert _fired(rule) == ["Hugo"]  # at 2; 3 still holds; 4 is above: recovered


def test_fewer_than_n_is_evaluated_on_the_schedule_for_people_there_all_period(ctx):
    rule = _rule(ctx, metric="late_arrivals", trigger="fewer", low=1, period_amount=7)
    _mark(ctx, "léa", MarkKind.LATE, minutes=5)
    assert alerts.evaluate(rule, [ctx.ids["hugo"]]) == []  # never after a change
    # Everyone was created 'now': nobody has been watched for the whole week yet.
    assert alerts.evaluate(rule) == []
    clock.freeze(MONDAY + 8 * DAY)
    fired = sorted(a.person.first_name for a in alerts.evaluate(rule))
    assert fired == ["Chloé", "Hugo", "Léa", "Zoé"]  # Léa's late arrival is 8 days old


def test_only_unjustified_absences_count_and_justifying_one_recovers(ctx):
    rule = _rule(ctx, counted="unjustified", trigger="more", low=0)
    mark = _mark(ctx, "léa")
    reasons.explain(mark, "Malade", True)
    db.session.commit()
    assert alerts.evaluate(rule, [ctx.ids["léa"]]) == []
    reasons.explain(db.session.get(AttendanceMark, mark.id), "", False)
    assert len(alerts.evaluate(rule, [ctx.ids["léa"]])) == 1
    justified = _rule(ctx, counted="justified", trigger="more", low=0)
    assert alerts.evaluate(justified, [ctx.ids["léa"]]) == []


def test_hours_sessions_and_days_count_differently(ctx):
    hours = _rule(ctx, metric="absence_hours", trigger="more", low=3)
    sessions = _rule(ctx, metric="sessions_missed", trigger="more", low=1)
    days = _rule(ctx, metric="absence_days", trigger="more", low=1)
    _mark(ctx, "léa", at=MONDAY - dt.timedelta(minutes=1), hours=2)
    _mark(ctx, "léa", at=MONDAY - dt.timedelta(hours=3), hours=2)  # same day: 4 h, 2 sessions
    for rule, expected in ((hours, ["Léa"]), (sessions, ["Léa"]), (days, [])):
        alerts.evaluate(rule)
        assert _fired(rule) == expected, rule.metric


def test_a_365_day_cycle_from_1_september_ignores_what_came_before(ctx):
    rule = _rule(
        ctx,
        trigger="more",
        low=1,
        period_amount=12,
        period_unit="months",
        cycle_days=365,
        cycle_first=dt.date(2025, 9, 1),
    )
    for n in range(3):
        _mark(ctx, "hugo", at=dt.datetime(2026, 6, 1 + n, 8, tzinfo=dt.UTC))
    clock.freeze(dt.datetime(2026, 8, 31, 20, tzinfo=dt.UTC))
    assert len(alerts.evaluate(rule)) == 1
    db.session.commit()
    clock.freeze(dt.datetime(2026, 9, 1, 8, tzinfo=dt.UTC))  # a new cycle: June is ignored
    assert alerts.evaluate(rule) == []
    _mark(ctx, "hugo")
    _mark(ctx, "hugo", at=clock.now() - dt.timedelta(hours=1))
    assert len(alerts.evaluate(rule)) == 1  # fires again in the new cycle


def test_a_30_day_cycle_from_1_june_ignores_june_on_1_july(ctx):
    assert cycle_start(dt.date(2023, 6, 30), dt.date(2023, 6, 1), 30) == dt.date(2023, 6, 1)
    assert cycle_start(dt.date(2023, 7, 1), dt.date(2023, 6, 1), 30) == dt.date(2023, 7, 1)
    rule = _rule(
        ctx, trigger="more", low=0, period_amount=60, cycle_days=30, cycle_first=dt.date(2026, 6, 1)
    )
    _mark(ctx, "léa", at=dt.datetime(2026, 6, 20, 8, tzinfo=dt.UTC))
    clock.freeze(dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC))
    assert len(alerts.evaluate(rule)) == 1
    db.session.commit()
    clock.freeze(dt.datetime(2026, 7, 1, 12, tzinfo=dt.UTC))
    alerts.evaluate(rule)
    db.session.commit()
    assert _fired(rule) == ["Léa"]  # June is no longer counted: nothing holds in July


def test_a_group_included_or_excluded(ctx):
    ulis = db.session.get(Group, ctx.groups["ULIS"])
    included = _rule(ctx, trigger="more", low=0, scope="members", scope_group_id=ulis.id)
    excluded = _rule(ctx, trigger="more", low=0, scope="not_members", scope_group_id=ulis.id)
    _mark(ctx, "léa")
    _mark(ctx, "hugo")
    alerts.evaluate(included)
    alerts.evaluate(excluded)
    assert (_fired(included), _fired(excluded)) == (["Hugo"], ["Léa"])


def test_teachers_absences(ctx):
    rule = _rule(ctx, population="teacher", metric="absence_hours", trigger="more", low=1)
    for hour in (6, 8):  # 07:00 and 09:00 in Paris, before now
        start = dt.datetime(2026, 11, 23, hour, tzinfo=dt.UTC)
        db.session.add(
            ClassSession(
                school_id=ctx.school,
                group_id=ctx.groups["5B"],
                teacher_id=ctx.ids["teacher"],
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
            )
        )
    services.record_teacher_absence(
        person(ctx, "staff"), person(ctx, "teacher"), MONDAY - 4 * DAY / 24, MONDAY, ""
    )
    db.session.commit()
    pupils_only = _rule(ctx, trigger="more", low=0)
    alerts.evaluate(rule)
    alerts.evaluate(pupils_only)
    assert (_fired(rule), _fired(pupils_only)) == (["Paul"], [])


def test_fires_again_after_the_condition_stopped_holding(ctx):
    rule = _rule(ctx, trigger="more", low=1, period_amount=7)
    _mark(ctx, "léa")
    _mark(ctx, "léa", at=MONDAY - dt.timedelta(hours=1))
    alerts.evaluate(rule)
    db.session.commit()
    clock.freeze(MONDAY + 8 * DAY)
    alerts.evaluate(rule)  # the week slid: recovered
    db.session.commit()
    _mark(ctx, "léa")
    _mark(ctx, "léa", at=clock.now() - dt.timedelta(hours=1))
    alerts.evaluate(rule, [ctx.ids["léa"]])
    assert _fired(rule) == ["Léa", "Léa"]


def test_a_disabled_rule_fires_nothing_and_fires_once_enabled_again(ctx):
    rule = _rule(ctx, trigger="more", low=0, enabled=False)
    _mark(ctx, "léa")
    assert alerts.evaluate_all() == 0
    rule.enabled = True
    db.session.commit()
    assert alerts.evaluate_all() == 1
    assert _fired(rule) == ["Léa"]


def test_a_tap_on_the_register_fires_through_a_worker_with_every_action(app, world, worker, smtp):
    with in_english(app):
        for name in ("anne", "alain", "admin"):
            contact.set_email(person(world, name), f"{name}@example.org", EmailSource.ADMIN)
        contact.set_refuses_email(person(world, "alain"), True)
        db.session.add(PupilContact(pupil_id=world.ids["léa"], name="M. Tuteur", email="t@x.org"))
        rule = _rule(
            world,
            trigger="more",
            low=0,
            colour="#1d4ed8",
            email_guardians=True,
            email_admin_ids=[world.ids["admin"]],
        )
        session_id, rule_id = schedule_5b(world), rule.id
    teacher = logged_in(app, world.logins["teacher"])
    url = f"/attendance/sessions/{session_id}/register"
    teacher.post(
        f"/attendance/sessions/{session_id}/pupils/{world.ids['léa']}",
        data={"csrf_token": csrf_token(teacher, url), f"state-{world.ids['léa']}": "absent"},
        headers={"HX-Request": "true"},
    )
    worker()  # the outbox row of the change: evaluation, then the e-mails it queued
    worker()
    with in_english(app):
        (alert,) = db.session.scalars(select(Alert)).all()
        assert (alert.rule_id, alert.person_id) == (rule_id, world.ids["léa"])
        assert alert.colour == "#1d4ed8"
        deliver_due()
        assert delivered_to(person(world, "staff"), "attendance_alert")
    to = sorted(a for message in smtp.messages for a in message.rcpt_tos)
    assert {"admin@example.org", "anne@example.org", "t@x.org"} <= set(to)
    assert "alain@example.org" not in to


def test_a_whole_register_is_one_evaluation_of_the_people_it_touched(app, world):
    from portal.core.outbox import OutboxItem

    with in_english(app):
        session = db.session.get(ClassSession, schedule_5b(world))
        absent, late = (MarkKind.ABSENT, None), (MarkKind.LATE, 10)
        states = {world.ids["léa"]: absent, world.ids["hugo"]: late}
        services.take_register(person(world, "teacher"), session, states)
        db.session.commit()
        # A later change is a transaction of its own, with its own evaluation.
        services.record(person(world, "teacher"), session, person(world, "hugo"), None, None)
        db.session.commit()
        payloads = db.session.scalars(
            select(OutboxItem.payload)
            .where(OutboxItem.kind == "alert_evaluation")
            .order_by(OutboxItem.id)
        ).all()
    assert payloads == [
        {"school_id": world.school, "person_ids": sorted([world.ids["léa"], world.ids["hugo"]])},
        {"school_id": world.school, "person_ids": [world.ids["hugo"]]},
    ]


def test_a_change_counts_each_rule_as_the_schedule_does(ctx):
    """After a change, the touched people's marks are read once and every rule counts its own
    window from them: the same totals as the schedule's counting in the database."""
    marks = [
        ("léa", MarkKind.ABSENT, 1, 2, None),
        ("léa", MarkKind.ABSENT, 1, 1, None),  # the same day
        ("léa", MarkKind.ABSENT, 9, 3, None),
        ("léa", MarkKind.LATE, 2, 1, 10),
        ("léa", MarkKind.LEFT_EARLY, 40, 1, 20),
        ("hugo", MarkKind.ABSENT, 5, 1, None),
        ("hugo", MarkKind.ABSENT, 31, 2, None),
        ("hugo", MarkKind.LATE, 5, 1, 5),
    ]
    for n, (name, kind, days_ago, hours, minutes) in enumerate(marks):
        at = MONDAY - days_ago * DAY - dt.timedelta(hours=2 * (n % 3))
        _mark(ctx, name, kind, at=at, hours=hours, minutes=minutes)
    for hours in (-1, 1):  # one day, cut by the start of the 7-day windows
        _mark(ctx, "hugo", at=MONDAY - 7 * DAY + dt.timedelta(hours=hours))
    justified = db.session.scalars(
        select(AttendanceMark).where(AttendanceMark.person_id == ctx.ids["léa"]).limit(2)
    )
    for mark in justified:
        mark.justified = True
    db.session.commit()
    school = db.session.get(School, ctx.school)
    shapes = (
        [
            {"metric": metric, "counted": counted, "period_amount": amount, "period_unit": unit}
            for metric in ("absence_hours", "sessions_missed", "absence_days")
            for counted in ("all", "justified", "unjustified")
            for amount, unit in ((7, "days"), (30, "days"), (2, "months"))
        ]
        + [
            {"metric": metric, "period_amount": 60}
            for metric in ("late_arrivals", "early_departures")
        ]
        + [{"period_amount": 60, "cycle_days": 30, "cycle_first": dt.date(2026, 10, 1)}]
    )
    chosen = [_rule(ctx, **shape) for shape in shapes]
    windows = {rule.id: alerts.window_of(rule, school) for rule in chosen}
    people = [ctx.ids["léa"], ctx.ids["hugo"]]
    named = alerts.named_totals(chosen, windows, people)
    nonzero = 0
    for rule in chosen:
        counted = alerts._totals(rule, windows[rule.id])
        for person_id in people:
            expected = counted.get(person_id, Totals())
            assert named[rule.id][person_id] == expected, (rule.metric, rule.counted, person_id)
            nonzero += expected != Totals()
    assert nonzero > len(chosen)  # the comparison is over marks, not over empty windows
