"""A long file is read and applied by a worker while the page shows its progress; a worker killed
halfway through applying it leaves the school as it was, and the import is then applied once."""

from __future__ import annotations

import io
import re
import time

from rq.job import Job
from sqlalchemy import func, select

from portal.accounts.models import Guardianship, User
from portal.core import clock, outbox
from portal.core.audit import AuditEntry, AuditTag
from portal.core.jobs import redis_connection
from portal.extensions import db
from portal.imports.models import ImportRun, RunState
from tests import workers
from tests.imports.files import SIECLE_PUPILS, csv_bytes, guardian, pupil
from tests.web import csrf_token, logged_in, text

PUPILS = 4000
LEASE = 3  # seconds before the killed worker's claim is taken to be dead


def _file() -> bytes:
    rows = [
        pupil(
            f"{n:010d}K",
            f"ÉLÈVE{n}",
            "Camille",
            f"{1 + n % 28:02d}/{1 + n % 12:02d}/2013",
            "5B" if n % 2 else "4A",
            "",
            guardian(f"PARENT{n}", "Dominique", f"parent{n}.a@example.org"),
            guardian(f"PARENT{n}", "Claude", f"parent{n}.b@example.org", sms="Oui"),
        )
        for n in range(PUPILS)
    ]
    return csv_bytes(SIECLE_PUPILS, rows)


def _run(app, run_id: int) -> ImportRun:
    with app.app_context():
        run = db.session.get(ImportRun, run_id)
        db.session.expunge(run)
        return run


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _meta(app, job_id: str) -> dict:
    with app.app_context():
        return Job.fetch(job_id, connection=redis_connection()).get_meta()


def _wait(app, run_id: int, state: RunState, seconds: float, sweep: bool = False) -> ImportRun:
    deadline = time.monotonic() + seconds
    while (run := _run(app, run_id)).state != state:
        if time.monotonic() > deadline:
            with app.app_context():
                item = db.session.get(outbox.OutboxItem, int(run.job_id.split("-")[1]))
                raise AssertionError(
                    f"import still {run.state} after {seconds} s: outbox row {item.state} after "
                    f"{item.attempts} attempts ({item.last_error})"
                )
        if sweep:
            with app.app_context():
                outbox.sweep()  # what `rq cron` does every minute
        time.sleep(0.2)
    return run


def test_a_long_file_is_applied_by_a_worker_and_survives_its_worker_being_killed(
    app, world, monkeypatch
):
    clock.reset()  # the workers, like the sweep below, read the real clock
    monkeypatch.setitem(app.config, "IMPORT_INLINE_ROWS", 100)
    monkeypatch.setitem(app.config, "OUTBOX_LEASE", LEASE)
    monkeypatch.setitem(app.config, "OUTBOX_SWEEP_GRACE", 0)
    admin = logged_in(app, world.logins["admin"])
    answer = admin.post(
        "/admin/imports/",
        data={
            "csrf_token": csrf_token(admin, "/admin/imports/"),
            "kind": "pupils",
            "register": "",
            "file": (io.BytesIO(_file()), "siecle-eleves.csv"),
        },
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    # The test client spools an upload this large to a temporary file it never closes itself.
    answer.request.environ["wsgi.input"].close()
    assert answer.status_code == 302
    run_url = answer.headers["Location"]
    run_id = int(run_url.rstrip("/").rsplit("/", 1)[1])
    page = text(admin.get(run_url, headers={"Accept-Language": "en"}))
    assert "Waiting for a worker." in page and f"/admin/imports/{run_id}/progress" in page

    environment = {"OUTBOX_LEASE": LEASE}
    running = [workers.start(app, "importer", **environment)]
    try:
        # The progress bar, as HTMX asks for it every second, until the worker is done.
        deadline = time.monotonic() + 120
        while True:
            answer = admin.get(f"{run_url}/progress", headers={"HX-Request": "true"})
            if "HX-Redirect" in answer.headers:
                break
            assert time.monotonic() < deadline, "the preview took more than 120 s"
            time.sleep(0.1)
        assert answer.headers["HX-Redirect"] == f"/admin/imports/{run_id}"
        run = _run(app, run_id)
        assert run.state == RunState.PREVIEWED
        assert run.counts == {
            "created": PUPILS,
            "updated": 0,
            "unchanged": 0,
            "rejected": 0,
            "warnings": 0,
        }
        # How far the worker got, as it told RQ along the way.
        assert _meta(app, run.job_id) == {"phase": "reading", "done": PUPILS, "total": PUPILS}

        users_before = _count(app, User)
        token = csrf_token(admin, run_url)
        assert admin.post(f"{run_url}/apply", data={"csrf_token": token}).status_code == 302
        run = _run(app, run_id)
        assert run.state == RunState.APPLYING
        deadline = time.monotonic() + 120
        while _meta(app, run.job_id).get("phase") != "writing":
            assert time.monotonic() < deadline, "the worker did not start writing in 120 s"
            time.sleep(0.005)
        workers.kill(running.pop())  # halfway through writing 12,000 people
        assert _count(app, User) == users_before, "a killed import left part of itself behind"
        assert _run(app, run_id).state == RunState.APPLYING
        answer = admin.get(
            f"{run_url}/progress", headers={"HX-Request": "true", "Accept-Language": "en"}
        )
        # Where the killed worker got to, as it last told RQ: some thousands of the 12,000.
        assert re.search(r"Writing the changes: \d+000 of 12001\.", text(answer)), text(answer)

        running.append(workers.start(app, "second", **environment))
        _wait(app, run_id, RunState.APPLIED, 180, sweep=True)
    finally:
        workers.stop(running)

    assert _count(app, User) == users_before + 3 * PUPILS
    assert _count(app, User, User.national_id.like("%K")) == PUPILS
    assert _count(app, Guardianship, Guardianship.accepts_sms.is_(True)) == PUPILS
    assert _count(app, AuditEntry, AuditEntry.tag == AuditTag.IMPORT_APPLIED.value) == 1
    page = text(admin.get(run_url, headers={"Accept-Language": "en"}))
    assert "The import is applied." in page
