"""The preview says what each column is taken as; a column Carnet ignores is mapped by the
direction from the preview, remembered for the school's next files of that kind and never for
another school; a file lacking a column it needs is refused next to the file field, naming the
column and the file's columns, in the reader's language, and nothing is written (SPEC §13)."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.core.audit import AuditEntry, AuditTag
from portal.extensions import db
from portal.imports.models import ImportMapping, ImportRun, RunState
from tests.imports.files import csv_bytes
from tests.web import csrf_token, field_error, logged_in, text

EN, FR = {"Accept-Language": "en"}, {"Accept-Language": "fr"}
#: A SIECLE extraction whose guardian 1 mobile heading no register writes.
HEADINGS = [
    "Nom",
    "Prénom 1",
    "Date de naissance",
    "Division",
    "Nom resp. légal1",
    "Prénom resp. légal1",
    "Portable maman",
]
LINE = ["DURAND", "Jules", "14/03/2013", "5B", "DURAND", "Sophie", "06 12 34 56 78"]


def _upload(client, content: bytes, headers=EN, kind="pupils"):
    return client.post(
        "/admin/imports/",
        data={
            "csrf_token": csrf_token(client, "/admin/imports/"),
            "kind": kind,
            "register": "",
            "file": (io.BytesIO(content), "eleves.csv"),
        },
        headers=headers,
        content_type="multipart/form-data",
    )


def _columns(page: str) -> list[tuple[str, str]]:
    """The 'Columns read' table: (column of the file, what it is taken as), as read."""
    table = page.split('id="import-columns"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", table, re.S)
    return [(heading, " ".join(re.sub(r"<[^>]+>", " ", taken).split())) for heading, taken in rows]


def _users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def test_a_mapping_set_on_the_preview_is_remembered_and_is_the_schools_own(app, world):
    admin = logged_in(app, world.logins["admin"])
    answer = _upload(admin, csv_bytes(HEADINGS, [LINE]))
    assert answer.status_code == 302
    run_url = answer.headers["Location"]
    page = text(admin.get(run_url, headers=EN))
    columns = _columns(page)
    assert columns[2] == ("Date de naissance", "Pupil · birth date")
    assert columns[4] == ("Nom resp. légal1", "Guardian 1 · last name")
    assert columns[6][0] == "Portable maman" and columns[6][1].startswith("ignored")
    assert page.index("Columns read") < page.index("Lines by result")

    answer = admin.post(
        f"{run_url}/columns",
        data={"csrf_token": csrf_token(admin, run_url), "column-6": "guardian1.mobile"},
    )
    assert answer.status_code == 302
    page = text(admin.get(run_url, headers=EN))
    assert _columns(page)[6] == ("Portable maman", "Guardian 1 · mobile · mapped by you Undo")
    with app.app_context():
        assert db.session.get(ImportRun, int(run_url.rsplit("/", 1)[1])).state == "previewed"
        (mapping,) = db.session.scalars(select(ImportMapping)).all()
        assert (mapping.school_id, mapping.shape, mapping.heading_key, mapping.field) == (
            world.school,
            "siecle-pupils",
            "portable maman",
            "guardian1.mobile",
        )
        mapping_id = mapping.id
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.tag == AuditTag.IMPORT_MAPPING_CHANGED.value)
        ).one()
        assert (entry.actor_id, entry.details["after"]) == (world.ids["admin"], "guardian1.mobile")
    token = csrf_token(admin, run_url)
    assert admin.post(f"{run_url}/apply", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        sophie = db.session.scalars(select(User).where(User.first_name == "Sophie")).one()
        assert sophie.mobile == "+33612345678"

    # The next file of that kind is read with the mapping, shown as the school's.
    again = _upload(admin, csv_bytes(HEADINGS, [LINE]))
    page = text(admin.get(again.headers["Location"], headers=EN))
    assert _columns(page)[6] == ("Portable maman", "Guardian 1 · mobile · mapped by you Undo")

    # Another school neither uses nor sees it, nor can undo it.
    other = logged_in(app, world.logins["other_admin"])
    answer = _upload(other, csv_bytes(HEADINGS, [LINE]))
    assert answer.status_code == 302
    page = text(other.get(answer.headers["Location"], headers=EN))
    assert _columns(page)[6][1].startswith("ignored")
    assert "Portable maman" not in text(other.get("/admin/imports/", headers=EN))
    token = csrf_token(other, "/admin/imports/")
    undo = other.post(f"/admin/imports/mappings/{mapping_id}/undo", data={"csrf_token": token})
    assert undo.status_code == 404

    # Undone from the preview: the column is ignored again, here and in the next files.
    again_url = again.headers["Location"]
    token = csrf_token(admin, again_url)
    assert admin.post(f"{again_url}/columns/6/undo", data={"csrf_token": token}).status_code == 302
    assert _columns(text(admin.get(again_url, headers=EN)))[6][1].startswith("ignored")
    with app.app_context():
        assert db.session.scalar(select(func.count(ImportMapping.id))) == 0


def test_a_missing_column_is_refused_by_name_in_both_languages_and_nothing_is_written(app, world):
    """Guardian 1's first name and mobile, but no last name: refused next to the file field;
    the file is kept, and mapping its column to the last name lets it be read."""
    headings = [h if h != "Nom resp. légal1" else "Nom du papa" for h in HEADINGS]
    headings[-1] = "Tel mobile resp. légal1"
    admin = logged_in(app, world.logins["admin"])
    users = _users(app)
    for headers, words in (
        (
            EN,
            "This column is missing: Guardian 1 · last name (“Nom resp. légal1”). The file's "
            "columns: “Nom”, “Prénom 1”, “Date de naissance”, “Division”, “Nom du papa”, "
            "“Prénom resp. légal1”, “Tel mobile resp. légal1”.",
        ),
        (
            FR,
            "Cette colonne manque : Responsable 1 · nom (« Nom resp. légal1 »). "
            "Colonnes du fichier : "
            "« Nom », « Prénom 1 », « Date de naissance », « Division », « Nom du papa », "
            "« Prénom resp. légal1 », « Tel mobile resp. légal1 ».",
        ),
    ):
        answer = _upload(admin, csv_bytes(headings, [LINE]), headers)
        assert answer.status_code == 400
        assert field_error(answer, "file") == words
        assert 'id="import-columns"' in text(answer)  # what was read, to map a column
    assert _users(app) == users
    # Without the class, a pupils file is refused too.
    answer = _upload(admin, csv_bytes(HEADINGS[:3], [LINE[:3]]))
    assert "Pupil · class (“Division”)" in field_error(answer, "file")
    assert _users(app) == users

    with app.app_context():
        run = db.session.scalars(select(ImportRun).order_by(ImportRun.id)).first()
        assert run.state == RunState.INCOMPLETE and run.counts == {}
        run_url = f"/admin/imports/{run.id}"
    page = text(admin.get(run_url, headers=EN))
    assert "This column is missing: Guardian 1 · last name" in page
    answer = admin.post(
        f"{run_url}/columns",
        data={"csrf_token": csrf_token(admin, run_url), "column-4": "guardian1.last_name"},
    )
    assert answer.status_code == 302
    with app.app_context():
        run = db.session.get(ImportRun, run.id)
        assert run.state == RunState.PREVIEWED and run.counts["created"] == 1
    assert _users(app) == users
