"""A SIECLE export of 50,000 pupils, each with two guardians: its preview, its application, and a
second import of the same file.

    python tests/perf/bench_import.py                              # private SQLite file and Redis
    BENCH_DATABASE=postgresql python tests/perf/bench_import.py    # private PostgreSQL
    DATABASE_URL=postgresql+psycopg://... python tests/perf/bench_import.py
    BENCH_ROWS=5000 python tests/perf/bench_import.py              # a smaller run
    BENCH_PROFILE=1 python tests/perf/bench_import.py              # cProfile of each phase

Starts its own Redis and SQLite file (or PostgreSQL) in a temporary folder and writes one school
with its classes (BENCH_CLASS_SIZE pupils each) and a few teaching groups, through the groups'
own service. Then writes the register's file: families of one to three children (about a third
of the pupils have a brother or sister on another line, sharing both guardians), each guardian
with an e-mail address and a mobile number, surnames from a few thousand, some pupils in
teaching groups, and one line in 500 wrong (an unknown class or a mobile number that is not
one).

Measures, in this process, with the imports' own services (IMPORT_INLINE_ROWS raised so the
preview and the application run here, as they would in the worker):
- preview_s: services.upload() of the file (read, headings, plan against the school, the
  preview's rows written) and its commit;
- apply_s: services.start_apply() (planned again, checked against the preview, written in one
  transaction) and its commit;
- reimport_preview_s: the same file uploaded again, which must find nothing to create or update.

The last line printed is one JSON object. A benchmark, not a test: it never fails on speed.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.imports.files import SIECLE_PUPILS, csv_bytes, guardian, pupil  # noqa: E402
from tests.perf.private import measured, private_stack  # noqa: E402 - after the path

ROWS = int(os.environ.get("BENCH_ROWS", 50_000))
CLASS_SIZE = int(os.environ.get("BENCH_CLASS_SIZE", 30))
PROFILE = bool(os.environ.get("BENCH_PROFILE"))
TEACHING = ["LATIN", "GREC", "ULIS", "SECTION EURO", "CHORALE", "THEATRE", "SEGPA", "UPE2A"]
WRONG_EVERY = 500


def _school(db) -> dict:
    """The school, its direction and its classes and teaching groups, through the services."""
    from portal.accounts.models import Profile
    from portal.groups import people
    from portal.groups import services as groups
    from portal.groups.models import GroupKind
    from portal.platform import services as platform

    school = platform.create_school("Bench school", "IMPORT01")
    admin = people.create_user(school, Profile.ADMIN, "Bench", "Direction")
    classes = [
        f"{6 - n % 4}e{n // 4 + 1:03d}" for n in range(-(-ROWS // CLASS_SIZE))
    ]  # '6e001', '5e001', '4e001', '3e001', '6e002'...
    for name in classes:
        groups.create_group(school, GroupKind.CLASS, name)
    for name in TEACHING:
        groups.create_group(school, GroupKind.TEACHING, name)
    db.session.commit()
    return {"school": school.id, "admin": admin.id, "classes": classes}


def _file(classes: list[str]) -> tuple[bytes, int, int]:
    """The export, the number of families and the number of wrong lines."""
    from portal.platform.demo_names import FIRST, LAST

    chance = random.Random(2026)
    surnames = LAST + [f"{a}-{b}" for a in LAST for b in LAST if a != b][: 4000 - len(LAST)]
    rows, families, wrong = [], 0, 0
    while len(rows) < ROWS:
        families += 1
        family = families
        surname = chance.choice(surnames)
        other = surname if chance.random() < 0.7 else chance.choice(surnames)
        guardians = [
            guardian(
                name,
                chance.choice(FIRST),
                f"famille{family}.{rank}@example.org",
                f"06 {rank}{family // 1_000_000 % 10} {family // 10_000 % 100:02d} "
                f"{family // 100 % 100:02d} {family % 100:02d}",
                financial="Oui" if rank == 1 else "Non",
                sms="Oui" if chance.random() < 0.4 else "Non",
            )
            for rank, name in ((1, surname), (2, other))
        ]
        for _ in range(min(chance.choice((1, 1, 1, 2, 2, 3)), ROWS - len(rows))):
            n = len(rows)
            division = classes[n // CLASS_SIZE]
            taught = ", ".join(chance.sample(TEACHING, chance.choice((0, 0, 0, 1, 2))))
            g1, g2 = guardians
            if n % WRONG_EVERY == WRONG_EVERY - 1:
                wrong += 1
                if wrong % 2:
                    division = "7e999"
                else:
                    g1 = guardian(*g1[:3], "01 23")
            rows.append(
                pupil(
                    f"{n:010d}{'ABCDEFGHJK'[n % 10]}",
                    surname,
                    chance.choice(FIRST),
                    f"{1 + chance.randrange(28):02d}/{1 + chance.randrange(12):02d}/"
                    f"{2008 + chance.randrange(8)}",
                    division,
                    taught,
                    g1,
                    g2,
                )
            )
    return csv_bytes(SIECLE_PUPILS, rows), families, wrong


class Statements:
    """How many SQL statements a phase sent (an executemany is one)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args, **kwargs) -> None:
        self.count += 1


def _timed(name: str, statements: Statements, action) -> tuple[object, float, int]:
    """``action()``, its duration in seconds and its statements; with BENCH_PROFILE, the
    functions where the time went, on the error output."""
    before = statements.count
    profiler = cProfile.Profile() if PROFILE else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    result = action()
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(r"portal|sqlalchemy/orm/session|csv|json|copy", 40)
        stats.sort_stats("tottime").print_stats(25)
        print(f"--- {name}: {seconds:.1f} s\n{out.getvalue()}", file=sys.stderr, flush=True)
    return result, seconds, statements.count - before


def _measure(app, db) -> dict:
    from flask_babel import force_locale
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal.accounts.models import Guardianship, Profile, User
    from portal.imports import services

    upgrade()
    started = time.perf_counter()
    ids = _school(db)
    build_s = time.perf_counter() - started
    content, families, wrong = _file(ids["classes"])
    app.config["IMPORT_INLINE_ROWS"] = ROWS + 1
    app.config["IMPORT_MAX_BYTES"] = max(app.config["IMPORT_MAX_BYTES"], len(content) + 1)
    statements = Statements(db.engine)

    def people(*profiles) -> int:
        return db.session.scalar(
            select(func.count(User.id)).where(
                User.school_id == ids["school"], User.profile.in_(profiles)
            )
        )

    def upload():
        admin = db.session.get(User, ids["admin"])
        run = services.upload(admin, "pupils", "", "siecle-eleves.csv", content)
        db.session.commit()
        return run.id, dict(run.counts)

    def apply(run_id):
        from portal.imports.models import ImportRun

        run = db.session.get(ImportRun, run_id)
        services.start_apply(db.session.get(User, ids["admin"]), run)
        db.session.commit()
        return run.state

    with force_locale("en"):
        people_before = people(Profile.PUPIL, Profile.PARENT)
        (run_id, counts), preview_s, preview_sql = _timed("preview", statements, upload)
        state, apply_s, apply_sql = _timed("apply", statements, lambda: apply(run_id))
        people_created = people(Profile.PUPIL, Profile.PARENT) - people_before
        pupils, parents = people(Profile.PUPIL), people(Profile.PARENT)
        links = db.session.scalar(select(func.count(Guardianship.id)))
        (_, again), reimport_s, reimport_sql = _timed("reimport preview", statements, upload)
    return {
        "db": db.engine.dialect.name,
        "rows": ROWS,
        "file_mb": round(len(content) / 1e6, 1),
        "classes": len(ids["classes"]),
        "families": families,
        "build_s": round(build_s, 1),
        "preview_s": round(preview_s, 1),
        "preview_statements": preview_sql,
        "preview_counts": counts,
        "apply_s": round(apply_s, 1),
        "apply_statements": apply_sql,
        "applied": state == "applied",
        "people_created": people_created,
        "pupils": pupils,
        "parents": parents,
        "guardianships": links,
        "reimport_preview_s": round(reimport_s, 1),
        "reimport_statements": reimport_sql,
        "reimport_counts": again,
        "reimport_changes_nothing": again["created"] == 0 and again["updated"] == 0,
        "wrong_lines": wrong,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    os.environ.setdefault("BENCH_DATABASE", "sqlite")
    with private_stack("import", external_database=True):
        result = measured(_measure)
    print(json.dumps(result), flush=True)  # last, after the servers' own farewells


if __name__ == "__main__":
    main()
