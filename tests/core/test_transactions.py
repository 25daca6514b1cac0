"""One commit per request and one per job, in one place each (portal.core.web.end_transaction,
portal.core.jobs): what a view wrote is kept when its answer is not an error, dropped when it
is (a refusal, an error page, an exception), unless the view kept it although it refuses; a job
keeps what it wrote once it returns and drops it when it raises. No view commits on its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import abort
from sqlalchemy import select

from portal import create_app
from portal.accounts.models import School
from portal.core.jobs import job
from portal.core.web import keep_refused
from portal.extensions import db
from portal.platform.services import create_school

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def _names() -> set[str]:
    """The schools the database holds, read afresh."""
    db.session.remove()
    return set(db.session.scalars(select(School.name)))


@pytest.fixture(scope="module")
def writing_app(app):
    """Carnet with four more pages, each writing a school and answering its own way."""
    writing = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False})

    @writing.post("/written/<answer>")
    def written(answer: str):
        create_school(f"Written {answer}", "0999999X")
        if answer == "refused":
            return "refused", 400
        if answer == "kept-refused":
            keep_refused()
            return "kept although refused", 409
        if answer == "missing":
            abort(404)
        if answer == "raises":
            raise RuntimeError("the view broke half-way")
        return "saved", 200

    yield writing
    with writing.app_context():
        db.engine.dispose()  # its own pool, closed before the database stops


@pytest.mark.parametrize(
    ("answer", "status", "kept"),
    [
        ("saved", 200, True),
        ("refused", 400, False),
        ("missing", 404, False),
        ("raises", 500, False),
        ("kept-refused", 409, True),
    ],
)
def test_a_request_keeps_what_it_wrote_only_when_its_answer_is_not_an_error(
    writing_app, answer, status, kept
):
    writing_app.config["PROPAGATE_EXCEPTIONS"] = False  # a broken view is a 500 page here
    response = writing_app.test_client().post(f"/written/{answer}")
    assert response.status_code == status
    with writing_app.app_context():
        assert (f"Written {answer}" in _names()) is kept


@job(queue="default")
def _writing_job(name: str, code: str, fails: bool) -> None:
    create_school(name, code)
    if fails:
        raise RuntimeError("the job broke half-way")


def test_a_job_keeps_what_it_wrote_when_it_returns_and_drops_it_when_it_raises(app):
    with app.app_context():
        _writing_job("Job that returns", "0999998X", fails=False)
        with pytest.raises(RuntimeError):
            _writing_job("Job that raises", "0999997X", fails=True)
        names = _names()
    assert "Job that returns" in names
    assert "Job that raises" not in names


def commits_in(source: str) -> list[int]:
    """The lines of ``source`` that call ``….commit()``."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def test_no_view_commits():
    found = [
        f"{path.relative_to(PORTAL.parent)}:{line}"
        for path in sorted(PORTAL.rglob("*views.py"))
        for line in commits_in(path.read_text())
    ]
    assert found == []


def test_a_view_that_commits_is_found():
    source = "def save():\n    thing.name = 'x'\n    db.session.commit()\n"
    assert commits_in(source) == [3]
