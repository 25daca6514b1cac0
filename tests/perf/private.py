"""What a benchmark runs on: its own Redis and database (PostgreSQL unless BENCH_DATABASE=sqlite)
in a temporary folder, stopped and removed at the end whatever happened."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def private_stack(name: str, *, external_database: bool = False, **environment):
    """Start the servers and point Carnet's configuration at them (each keyword is one more
    environment variable). With ``external_database``, a DATABASE_URL given by the caller is
    used instead of a private database. Yields the run folder."""
    from portal import stack

    run_dir = Path(tempfile.mkdtemp(prefix=f"carnet-bench-{name}-"))
    stops = []
    try:
        if external_database and os.environ.get("DATABASE_URL"):
            redis_process, redis_url = stack.start_redis(run_dir)
            stops.append(lambda: (redis_process.terminate(), redis_process.wait()))
            started = {
                "CARNET_ENV": "test",
                "CARNET_INSTANCE": str(run_dir / "instance"),
                "REDIS_URL": redis_url,
            }
        else:
            database = os.environ.get("BENCH_DATABASE", "postgresql")
            started, stops = stack.start_private(run_dir, database)
        os.environ.update(started, SECRET_KEY="benchmark", **environment)
        yield run_dir
    finally:
        for stop in reversed(stops):
            stop()
        shutil.rmtree(run_dir, ignore_errors=True)


def measured(measure) -> dict:
    """``measure(app, db)`` inside the application, its connections closed afterwards."""
    from portal import create_app
    from portal.extensions import db

    app = create_app()
    with app.app_context():
        try:
            return measure(app, db)
        finally:
            db.session.remove()
            db.engine.dispose()
