"""Reachability at district scale: 500 schools, 1,000,000 users, default rules, manual groups.

    DATABASE_URL=postgresql+psycopg://... python tests/perf/bench_reachability.py
    python tests/perf/bench_reachability.py            # SQLite file under instance/bench/

Builds its own platform in an empty database (rows written in bulk, as an import would), then
samples 1,000 users and times may_write() against a random person of their school and the first
page of their directory, counting the SQL statements each page takes. The last line printed is
one JSON object. A benchmark, not a test: it never fails on speed.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SCHOOLS = int(os.environ.get("BENCH_SCHOOLS", 500))
PER_SCHOOL = 2000  # 2 direction, 4 staff, 80 teachers, 800 pupils in 30 classes, 1,114 parents
CLASSES, PUPILS, TEACHERS, PARENTS = 30, 800, 80, 1114
SAMPLE = int(os.environ.get("BENCH_SAMPLE", 1000))
BATCH = 20_000


def p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=100)[94], 3)


class Ids:
    def __init__(self):
        self.user = self.group = self.rule = self.guardian = 0

    def next(self, kind: str) -> int:
        setattr(self, kind, getattr(self, kind) + 1)
        return getattr(self, kind)


def build(connection, tables, rng: random.Random) -> int:
    """Write the platform with SQLAlchemy Core in batches; returns the number of users."""
    from portal.core import clock
    from portal.core.text import fold
    from portal.groups.defaults import CLASS_DEFAULTS, SCHOOL_DEFAULTS
    from portal.platform.demo_names import FIRST, LAST

    now = clock.now()
    ids = Ids()
    buffers: dict[str, list[dict]] = {name: [] for name in tables}

    def add(table: str, row: dict) -> None:
        buffers[table].append(row)
        if len(buffers[table]) >= BATCH:
            flush(table)

    def flush(table: str) -> None:
        """Write the table's rows, after those of the tables they refer to."""
        for name in order[: order.index(table) + 1]:
            if buffers[name]:
                connection.execute(tables[name].insert(), buffers[name])
                buffers[name] = []

    order = [
        "school",
        "user_account",
        "school_group",
        "group_member",
        "guardianship",
        "communication_rule",
    ]
    for s in range(SCHOOLS):
        school_id = s + 1
        add(
            "school",
            {
                "id": school_id,
                "name": f"School {s}",
                "code": f"{s:07d}B",
                "timezone": "Europe/Paris",
                "default_language": "fr",
                "email_priority": "user",
                "created_at": now,
            },
        )
        profile_group = {}
        for profile in ("admin", "teacher", "staff", "parent", "pupil"):
            gid = ids.next("group")
            profile_group[profile] = gid
            add(
                "school_group",
                {
                    "id": gid,
                    "school_id": school_id,
                    "kind": "school_profile",
                    "name": "",
                    "profile": profile,
                    "class_id": None,
                    "internal": profile in ("admin", "staff", "teacher"),
                    "created_at": now,
                },
            )
        for source, targets in SCHOOL_DEFAULTS.items():
            for target in targets:
                if source != target:
                    add(
                        "communication_rule",
                        {
                            "id": ids.next("rule"),
                            "created_at": now,
                            "source_group_id": profile_group[source],
                            "target_group_id": profile_group[target],
                        },
                    )

        def person(profile: str, school_id=school_id, profile_group=profile_group) -> int:
            uid = ids.next("user")
            first, last = rng.choice(FIRST), rng.choice(LAST)
            add(
                "user_account",
                {
                    "id": uid,
                    "school_id": school_id,
                    "profile": profile,
                    "state": "blocked" if rng.random() < 0.002 else "active",
                    "first_name": first,
                    "last_name": last,
                    "search_key": fold(f"{last} {first}"),
                    "login": f"u{uid}",
                    "password_hash": None,
                    "session_nonce": f"n{uid}",
                    "email": None,
                    "email_source": None,
                    "mobile": None,
                    "language": None,
                    "refuses_email": False,
                    "activated_at": now,
                    "last_login_at": None,
                    "created_at": now,
                },
            )
            add("group_member", {"group_id": profile_group[profile], "user_id": uid})
            return uid

        for _ in range(2):
            person("admin")
        for _ in range(4):
            person("staff")
        teachers = [person("teacher") for _ in range(TEACHERS)]
        parents = [person("parent") for _ in range(PARENTS)]
        for c in range(CLASSES):
            class_id = ids.next("group")
            add(
                "school_group",
                {
                    "id": class_id,
                    "school_id": school_id,
                    "kind": "class",
                    "name": f"C{c}",
                    "profile": None,
                    "class_id": None,
                    "internal": False,
                    "created_at": now,
                },
            )
            subs = {}
            for profile in ("pupil", "parent", "teacher"):
                gid = ids.next("group")
                subs[profile] = gid
                add(
                    "school_group",
                    {
                        "id": gid,
                        "school_id": school_id,
                        "kind": "class_profile",
                        "name": "",
                        "profile": profile,
                        "class_id": class_id,
                        "internal": profile == "pupil",
                        "created_at": now,
                    },
                )
            for source, target in CLASS_DEFAULTS:
                add(
                    "communication_rule",
                    {
                        "id": ids.next("rule"),
                        "created_at": now,
                        "source_group_id": subs[source],
                        "target_group_id": subs[target],
                    },
                )
            class_teachers = rng.sample(teachers, 3)
            for tid in class_teachers:
                add("group_member", {"group_id": class_id, "user_id": tid})
                add("group_member", {"group_id": subs["teacher"], "user_id": tid})
            size = PUPILS // CLASSES + (1 if c < PUPILS % CLASSES else 0)
            class_parents = set()
            for _ in range(size):
                pid = person("pupil")
                add("group_member", {"group_id": class_id, "user_id": pid})
                add("group_member", {"group_id": subs["pupil"], "user_id": pid})
                for rank, parent in enumerate(rng.sample(parents, rng.choice((1, 2))), 1):
                    add(
                        "guardianship",
                        {
                            "id": ids.next("guardian"),
                            "parent_id": parent,
                            "pupil_id": pid,
                            "rank": rank,
                            "financial": rank == 1,
                            "contact": True,
                            "accepts_sms": False,
                        },
                    )
                    class_parents.add(parent)
            for parent in class_parents:
                add("group_member", {"group_id": subs["parent"], "user_id": parent})
        for m in range(2):  # manual groups, with a rule from the direction
            gid = ids.next("group")
            add(
                "school_group",
                {
                    "id": gid,
                    "school_id": school_id,
                    "kind": "manual",
                    "name": f"Manual {m}",
                    "profile": None,
                    "class_id": None,
                    "internal": m == 0,
                    "created_at": now,
                },
            )
            for uid in rng.sample(teachers + parents, 25):
                add("group_member", {"group_id": gid, "user_id": uid})
            add(
                "communication_rule",
                {
                    "id": ids.next("rule"),
                    "created_at": now,
                    "source_group_id": profile_group["admin"],
                    "target_group_id": gid,
                },
            )
        if s % 50 == 49:
            print(f"  {s + 1} schools written", file=sys.stderr, flush=True)
    flush(order[-1])
    return ids.user


def main() -> None:
    if not os.environ.get("DATABASE_URL"):
        folder = Path(tempfile.mkdtemp(prefix="carnet-bench-", dir=ROOT / "instance"))
        os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite'}"
    os.environ.setdefault("CARNET_ENV", "test")
    os.environ.setdefault("SECRET_KEY", "benchmark")
    from flask_migrate import upgrade
    from sqlalchemy import event, func, select

    from portal import create_app
    from portal.accounts.models import School, User
    from portal.extensions import db
    from portal.groups.reachability import may_write, reachable

    app = create_app()
    rng = random.Random(1)
    with app.app_context():
        upgrade()
        engine = db.engine
        started = time.perf_counter()
        if not db.session.scalar(select(func.count(User.id))):
            tables = {t.name: t for t in db.metadata.sorted_tables}
            with engine.begin() as connection:
                if engine.dialect.name == "sqlite":
                    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                users = build(connection, tables, rng)
            if engine.dialect.name == "postgresql":
                with engine.connect() as connection:
                    connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                        "VACUUM ANALYZE"
                    )
            else:
                with engine.begin() as connection:
                    connection.exec_driver_sql("ANALYZE")
        build_s = round(time.perf_counter() - started, 1)
        users = db.session.scalar(select(func.count(User.id)))
        schools = db.session.scalar(select(func.count(School.id)))
        statements = []
        event.listen(engine, "before_cursor_execute", lambda *args, **kwargs: statements.append(1))
        sample_ids = rng.sample(range(1, users + 1), SAMPLE)
        may_write_ms, directory_ms, queries = [], [], set()
        for user_id in sample_ids:
            sender = db.session.get(User, user_id)
            lo = (sender.school_id - 1) * PER_SCHOOL + 1
            recipient = db.session.get(User, rng.randint(lo, lo + PER_SCHOOL - 1))
            t0 = time.perf_counter()
            may_write(sender, recipient)
            may_write_ms.append((time.perf_counter() - t0) * 1000)
            statements.clear()
            t0 = time.perf_counter()
            reachable(sender)
            directory_ms.append((time.perf_counter() - t0) * 1000)
            queries.add(len(statements))
            db.session.expunge_all()
        print(
            json.dumps(
                {
                    "db": engine.dialect.name,
                    "users": users,
                    "schools": schools,
                    "sample": SAMPLE,
                    "build_s": build_s,
                    "may_write_p95_ms": p95(may_write_ms),
                    "may_write_median_ms": round(statistics.median(may_write_ms), 3),
                    "directory_first_page_p95_ms": p95(directory_ms),
                    "directory_first_page_median_ms": round(statistics.median(directory_ms), 3),
                    "directory_queries_per_page": max(queries),
                    "directory_queries_per_page_min": min(queries),
                }
            )
        )


if __name__ == "__main__":
    main()
