"""Alert rules over a school year of attendance: a full evaluation and the evaluation that
follows one register.

    python tests/perf/bench_alerts.py                       # private PostgreSQL and Redis
    BENCH_DATABASE=sqlite python tests/perf/bench_alerts.py
    BENCH_MARKS=500000 BENCH_PUPILS=2000 python tests/perf/bench_alerts.py   # a smaller run

Starts its own PostgreSQL (or SQLite file) and Redis in a temporary folder. Writes one school of
BENCH_PUPILS pupils (20,000) in classes of 25, six one-hour sessions a weekday for each class
from 1 September 2025 to the frozen 'now' (Friday 12 June 2026, 16:00 in Paris), and
BENCH_MARKS marks (5,000,000) spread over the pupils and the sessions: absences (80 %, half of
them justified), late arrivals and early departures. Then 50 alert rules of every kind: the five
metrics, justified / unjustified / all, more than / fewer than / between, periods of days and
months, recurring cycles, scopes to a group or all but a group.

Measures, in this process, with Carnet's own code:
- full_eval_s: rq cron's evaluate_all() over every rule and everyone (the state of a school
  whose rules have already run: what the hourly evaluation costs); first_eval_s is the very
  first one, which also fires every crossing of the year (alerts, notifications).
- incremental_eval_ms_p50 / p95: a register of one class saved through take_register()
  (a few pupils absent or late), then the outbox row it wrote carried out as a worker does
  (run_item: every rule of the school over the pupils the register touched), 40 times.
- ratio: one day's increments over a full evaluation, the day's increments taken as the
  mean incremental evaluation times the registers of a day (classes x sessions).

The last line printed is one JSON object. A benchmark, not a test: it never fails on speed.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.private import measured, private_stack  # noqa: E402 - after the path

PUPILS = int(os.environ.get("BENCH_PUPILS", 20_000))
MARKS = int(os.environ.get("BENCH_MARKS", 5_000_000))
CLASS_SIZE = 25
SLOTS = (8, 9, 10, 13, 14, 15)  # session starts, UTC (an hour earlier than Paris in winter)
FIRST_DAY = dt.date(2025, 9, 1)
NOW = dt.datetime(2026, 6, 12, 14, 0, tzinfo=dt.UTC)
REGISTERS = 40
INCREMENTAL_GOAL_MS = 100
RATIO_GOAL = 0.05
BATCH = 20_000


def _school_days() -> list[dt.date]:
    days, day = [], FIRST_DAY
    while day < NOW.date():
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


# --- the data ----------------------------------------------------------------------------------


def _people(db) -> dict:
    from portal.accounts.models import Profile, User
    from portal.core import clock
    from portal.groups import people
    from portal.groups import services as groups
    from portal.groups.models import GroupKind, GroupMember
    from portal.platform import services as platform

    school = platform.create_school("Bench school", "ALERTS01")
    admin = people.create_user(school, Profile.ADMIN, "Bench", "Direction")
    people.create_user(school, Profile.STAFF, "Bench", "Vie scolaire")
    teacher = people.create_user(school, Profile.TEACHER, "Bench", "Teacher")
    classes = [
        groups.create_group(school, GroupKind.CLASS, f"C{n:03d}")
        for n in range(-(-PUPILS // CLASS_SIZE))
    ]
    db.session.commit()
    created = clock.now() - dt.timedelta(days=400)
    for start in range(0, PUPILS, BATCH):
        db.session.execute(
            User.__table__.insert(),
            [
                {
                    "school_id": school.id,
                    "profile": "pupil",
                    "state": "active",
                    "first_name": f"P{n}",
                    "last_name": f"Pupil{n}",
                    "search_key": f"pupil{n} p{n}",
                    "login": f"bench.pupil{n}",
                    "session_nonce": f"{n:032d}",
                    "refuses_email": False,
                    "created_at": created,
                }
                for n in range(start, min(start + BATCH, PUPILS))
            ],
        )
    db.session.commit()
    pupils = db.session.scalars(
        db.select(User.id)
        .where(User.school_id == school.id, User.profile == "pupil")
        .order_by(User.id)
    ).all()
    members = [
        {"group_id": classes[n // CLASS_SIZE].id, "user_id": pupil}
        for n, pupil in enumerate(pupils)
    ]
    for start in range(0, len(members), BATCH):
        db.session.execute(GroupMember.__table__.insert(), members[start : start + BATCH])
    db.session.commit()
    return {
        "school": school.id,
        "admin": admin.id,
        "teacher": teacher.id,
        "classes": [c.id for c in classes],
        "pupils": list(pupils),
    }


def _copy(db, table: str, columns: list[str], rows) -> None:
    """Bulk rows: COPY on PostgreSQL, executemany on SQLite."""
    if db.engine.dialect.name == "postgresql":
        connection = db.engine.raw_connection()
        try:
            with connection.cursor() as cursor:
                buffer = io.StringIO()
                names = ", ".join(columns)
                for count, row in enumerate(rows, 1):
                    buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
                    if count % 200_000 == 0:
                        _flush(cursor, table, names, buffer)
                        buffer = io.StringIO()
                _flush(cursor, table, names, buffer)
            connection.commit()
        finally:
            connection.close()
        return
    places = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({places})"  # noqa: S608
    connection = db.engine.raw_connection()
    try:
        chunk = []
        for row in rows:
            chunk.append(tuple(row))
            if len(chunk) == 200_000:
                connection.executemany(statement, chunk)
                chunk = []
        if chunk:
            connection.executemany(statement, chunk)
        connection.commit()
    finally:
        connection.close()


def _flush(cursor, table: str, names: str, buffer: io.StringIO) -> None:
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())


def _stamp(moment: dt.datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(sep=" ")


def _sessions_and_marks(db, ids: dict, days: list[dt.date]) -> int:
    """Every class's sessions of the year with ids we choose, then the marks over them."""
    per_class = len(days) * len(SLOTS)
    school, teacher = ids["school"], ids["teacher"]
    created = _stamp(NOW)

    def sessions():
        for c, group_id in enumerate(ids["classes"]):
            for d, day in enumerate(days):
                for s, hour in enumerate(SLOTS):
                    start = dt.datetime.combine(day, dt.time(hour))
                    yield (
                        c * per_class + d * len(SLOTS) + s + 1,
                        school,
                        group_id,
                        teacher,
                        _stamp(start),
                        _stamp(start + dt.timedelta(hours=1)),
                        _stamp(start + dt.timedelta(minutes=5)),
                        teacher,
                        created,
                    )

    _copy(
        db,
        "class_session",
        [
            "id",
            "school_id",
            "group_id",
            "teacher_id",
            "starts_at",
            "ends_at",
            "register_taken_at",
            "register_taken_by_id",
            "created_at",
        ],
        sessions(),
    )
    per_pupil, extra = divmod(MARKS, len(ids["pupils"]))
    chance = random.Random(2026)

    def marks():
        mark_id = 0
        for n, pupil in enumerate(ids["pupils"]):
            c = n // CLASS_SIZE
            count = per_pupil + (1 if n < extra else 0)
            for slot_index in chance.sample(range(per_class), count):
                d, s = divmod(slot_index, len(SLOTS))
                start = dt.datetime.combine(days[d], dt.time(SLOTS[s]))
                draw = chance.random()
                if draw < 0.8:
                    kind, minutes, justified = "absent", 60, chance.random() < 0.5
                elif draw < 0.95:
                    kind, minutes, justified = "late", chance.randint(5, 30), False
                else:
                    kind, minutes, justified = "left_early", chance.randint(10, 45), False
                mark_id += 1
                yield (
                    mark_id,
                    school,
                    c * per_class + slot_index + 1,
                    pupil,
                    kind,
                    minutes,
                    _stamp(start),
                    days[d].isoformat(),
                    "",
                    "t" if justified else "f",
                    teacher,
                    _stamp(start),
                    _stamp(start),
                )

    _copy(
        db,
        "attendance_mark",
        [
            "id",
            "school_id",
            "session_id",
            "person_id",
            "kind",
            "minutes",
            "starts_at",
            "day",
            "reason",
            "justified",
            "recorded_by_id",
            "recorded_at",
            "updated_at",
        ],
        marks(),
    )
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("class_session", "attendance_mark"):
                connection.exec_driver_sql(
                    f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"  # noqa: S608
                )
            connection.exec_driver_sql("VACUUM ANALYZE")
    return per_class


def _expected(metric: str, counted: str, school_days: float) -> float:
    """What an ordinary pupil of this data counts over so many school days."""
    marks_a_day = MARKS / PUPILS / len(_school_days())
    absent = 0.8 * marks_a_day * (0.5 if counted != "all" else 1)
    share = absent / len(SLOTS)  # of a day's sessions
    return (
        school_days
        * {
            "absence_hours": absent,
            "sessions_missed": absent,
            "absence_days": 1 - (1 - share) ** len(SLOTS),
            "late_arrivals": 0.15 * marks_a_day,
            "early_departures": 0.05 * marks_a_day,
        }[metric]
    )


def _rules(db, ids: dict) -> int:
    """50 rules of every kind the seed lists, set as a school sets them: to catch the pupils
    well above (or, for 'fewer than', well below) what an ordinary pupil counts."""
    from portal.attendance.models import AlertRule

    chance = random.Random(50)
    metrics = [
        "absence_hours",
        "sessions_missed",
        "absence_days",
        "late_arrivals",
        "early_departures",
    ]
    absences = ("absence_hours", "sessions_missed", "absence_days")
    group_ids = ids["classes"][:40]
    made = 0
    for n in range(50):
        metric = metrics[n % len(metrics)]
        unit = "months" if n % 3 == 0 else "days"
        amount = chance.choice([1, 2, 3, 6]) if unit == "months" else chance.choice([7, 14, 30, 60])
        counted = ("all", "justified", "unjustified")[n % 3] if metric in absences else "all"
        cycle = n % 5
        school_days = (amount * 21 if unit == "months" else amount * 5 / 7) if cycle != 1 else 8
        expected = _expected(metric, counted, school_days)
        trigger = ("more", "more", "between", "fewer")[n % 4]
        low = {
            "more": math.ceil(expected * 1.3) + 1,
            "between": math.ceil(expected * 1.25) + 1,
            "fewer": max(1, math.floor(expected * 0.7)),
        }[trigger]
        scope = ("everyone", "everyone", "members", "not_members")[n % 4]
        db.session.add(
            AlertRule(
                school_id=ids["school"],
                name=f"Rule {n}",
                population="pupil",
                metric=metric,
                counted=counted,
                trigger=trigger,
                low=low,
                high=math.ceil(expected * 1.6) + 2 if trigger == "between" else None,
                period_amount=amount,
                period_unit=unit,
                cycle_days={0: 365, 1: 30}.get(cycle),
                cycle_first={0: dt.date(2025, 9, 1), 1: dt.date(2026, 6, 1)}.get(cycle),
                scope=scope,
                scope_group_id=chance.choice(group_ids) if scope != "everyone" else None,
                email_admin_ids=[ids["admin"]] if n % 10 == 0 else [],
            )
        )
        made += 1
    db.session.commit()
    return made


# --- the measures ------------------------------------------------------------------------------


def _full(db) -> float:
    from portal.attendance import alerts

    started = time.perf_counter()
    alerts.evaluate_all()
    return time.perf_counter() - started


def _registers(db, ids: dict, per_class: int, days: list[dt.date]) -> list[float]:
    """Registers of the last session of the day before 'now', one class at a time; each one's outbox
    evaluation carried out as a worker does. Milliseconds each."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.attendance import services
    from portal.attendance.models import ClassSession, MarkKind
    from portal.core import outbox
    from portal.core.outbox import OutboxItem

    chance = random.Random(7)
    teacher = db.session.get(User, ids["teacher"])
    timings = []
    last = len(days) - 1
    for c in chance.sample(range(len(ids["classes"])), min(REGISTERS, len(ids["classes"]))):
        session = db.session.get(ClassSession, c * per_class + last * len(SLOTS) + len(SLOTS))
        pupils = ids["pupils"][c * CLASS_SIZE : (c + 1) * CLASS_SIZE]
        states = {p: (MarkKind.ABSENT, None) for p in chance.sample(pupils, 3)}
        states |= {p: (MarkKind.LATE, 10) for p in chance.sample(pupils, 2) if p not in states}
        services.take_register(teacher, session, states)
        db.session.commit()
        item_id = db.session.scalars(
            select(OutboxItem.id)
            .where(OutboxItem.kind == "alert_evaluation", OutboxItem.state == "pending")
            .order_by(OutboxItem.id.desc())
        ).first()
        started = time.perf_counter()
        outbox.run_item(item_id)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _measure(app, db) -> dict:
    from flask_migrate import upgrade

    from portal.core import clock

    upgrade()
    clock.freeze(NOW)
    days = _school_days()
    started = time.perf_counter()
    ids = _people(db)
    per_class = _sessions_and_marks(db, ids, days)
    rules = _rules(db, ids)
    build_s = time.perf_counter() - started
    first = _full(db)
    clock.advance(dt.timedelta(minutes=1))
    full = _full(db)
    timings = sorted(_registers(db, ids, per_class, days))
    p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
    registers_per_day = len(ids["classes"]) * len(SLOTS)
    day_s = statistics.mean(timings) / 1000 * registers_per_day
    ratio = day_s / full
    return {
        "database": db.engine.dialect.name,
        "marks": db.session.execute(db.text("SELECT count(*) FROM attendance_mark")).scalar(),
        "pupils": len(ids["pupils"]),
        "classes": len(ids["classes"]),
        "school_days": len(days),
        "rules": rules,
        "build_s": round(build_s, 1),
        "first_eval_s": round(first, 2),
        "full_eval_s": round(full, 2),
        "incremental_eval_ms_p50": round(statistics.median(timings), 1),
        "incremental_eval_ms_p95": round(p95, 1),
        "registers_per_day": registers_per_day,
        "day_increment_s": round(day_s, 2),
        "ratio": round(ratio, 3),
        "goals": {"incremental_eval_ms_p95": INCREMENTAL_GOAL_MS, "ratio": RATIO_GOAL},
        "met": p95 <= INCREMENTAL_GOAL_MS and ratio <= RATIO_GOAL,
    }


def main() -> None:
    with private_stack("alerts"):
        result = measured(_measure)
    print(json.dumps(result), flush=True)  # last, after the servers' own farewells


if __name__ == "__main__":
    main()
