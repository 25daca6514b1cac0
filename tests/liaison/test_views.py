"""The carnet de liaison over HTTP: a teacher writes a note, a guardian confirms or answers in
one tap without JavaScript, the teacher's table follows; bad input is told next to its field;
another family's note is not found."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.core import clock
from portal.extensions import db
from portal.liaison.models import LiaisonNote, NoteReply
from tests import factories as make
from tests.foreign import PDF
from tests.web import field_error, log_in, post, text

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(app):
    with app.app_context():
        school = make.school()
        teacher = make.user(school, "teacher")
        six_a = make.school_class(school, "6A", teacher)
        lea, (anne, alain) = make.family(school, six_a)
        tom, (claire, _) = make.family(school, six_a)
        five_b = make.school_class(school, "5B")
        make.family(school, five_b)
        db.session.commit()
        return {
            "teacher": teacher.login,
            "six_a": six_a.id,
            "five_b": five_b.id,
            "lea": lea.id,
            "tom": tom.id,
            "anne": anne.login,
            "claire": claire.login,
            "lea_login": lea.login,
        }


def _as(app, login):
    client = app.test_client()
    log_in(client, login)
    return client


def _write(client, world, **fields):
    data = {
        "title": "Sortie au musée",
        "body": "Jeudi, départ 9 h.",
        "asks": "answer",
        "choices": "J'autorise\nJe n'autorise pas",
        "answer_until": "",
        "groups": str(world["six_a"]),
        **fields,
    }
    data = {name: value for name, value in data.items() if value is not None}  # unticked
    return post(client, "/liaison/new", data, "/liaison/new", headers=EN)


def test_a_guardian_answers_in_one_tap_and_the_teachers_table_follows(app, world):
    teacher = _as(app, world["teacher"])
    sent = _write(teacher, world)
    assert sent.status_code == 302
    with app.app_context():
        note_id = db.session.scalar(select(LiaisonNote.id))
    table = teacher.get(f"/liaison/{note_id}", headers=EN)
    assert "0 of 2 pupils" in text(table)
    parent = _as(app, world["anne"])
    page = parent.get("/liaison/", headers=EN, follow_redirects=True)
    assert "Sortie au musée" in text(page) and 'name="choice" value="0"' in text(page)
    answered = post(
        parent,
        f"/liaison/{note_id}/children/{world['lea']}",
        {"choice": "1", "comment": "Il a rendez-vous chez le dentiste."},
        f"/liaison/children/{world['lea']}",
        headers=EN,
    )
    assert answered.status_code == 302
    refreshed = teacher.get(f"/liaison/{note_id}", headers={"HX-Request": "true", **EN})
    assert "Je n&#39;autorise pas" in text(refreshed) and "dentiste" in text(refreshed)
    assert "<html" not in text(refreshed)  # the table alone, for the refresh
    assert "1 of 2 pupils" in text(teacher.get(f"/liaison/{note_id}", headers=EN))


def test_bad_input_is_told_next_to_its_field_and_nothing_is_kept(app, world):
    teacher = _as(app, world["teacher"])
    past = (clock.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    for fields, field, expected in (
        ({"title": ""}, "title", "Give the note a title."),
        ({"title": "x" * 201}, "title", "At most 200 characters."),
        ({"body": "  "}, "body", "Write something in the note."),
        ({"choices": "Oui"}, "choices", "at least two answers"),
        ({"answer_until": past}, "answer_until", "in the future"),
        ({"groups": str(world["five_b"])}, "groups", "not a valid choice"),
        ({"groups": None}, "groups", "Choose the classes"),
        ({"asks": "sometimes"}, "asks", "Not a valid choice"),
    ):
        answer = _write(teacher, world, **fields)
        assert answer.status_code == 400, fields
        assert expected in (field_error(answer, field) or ""), (fields, text(answer)[:200])
    with app.app_context():
        assert db.session.scalar(select(func.count(LiaisonNote.id))) == 0


def test_another_familys_note_is_not_found_and_a_closed_coupon_says_so(app, world):
    teacher = _as(app, world["teacher"])
    _write(teacher, world)
    with app.app_context():
        note = db.session.scalars(select(LiaisonNote)).one()
        note_id = note.id
    claire = _as(app, world["claire"])
    crafted = post(
        claire, f"/liaison/{note_id}/children/{world['lea']}", {"choice": "0"}, "/account"
    )
    assert crafted.status_code == 404
    assert claire.get(f"/liaison/children/{world['lea']}").status_code == 404
    assert claire.get(f"/liaison/{note_id}").status_code == 404  # an author's page
    with app.app_context():
        db.session.get(LiaisonNote, note_id).answer_until = clock.now() - dt.timedelta(minutes=1)
        db.session.commit()
    closed = post(
        claire,
        f"/liaison/{note_id}/children/{world['tom']}",
        {"choice": "0"},
        "/account",
        headers=EN,
    )
    assert closed.status_code == 400 and "Answers to this note are closed." in text(closed)
    with app.app_context():
        assert db.session.scalar(select(func.count(NoteReply.id))) == 0
    # The pupil sees only notes the author let pupils read.
    pupil = _as(app, world["lea_login"])
    assert "Sortie au musée" not in text(pupil.get("/liaison/", follow_redirects=True))


def test_a_pupil_reads_a_note_the_author_let_pupils_read_and_cannot_reply(app, world):
    teacher = _as(app, world["teacher"])
    _write(teacher, world, title="Rentrée des classes", asks="nothing", pupils_see="y")
    pupil = _as(app, world["lea_login"])
    page = text(pupil.get("/liaison/", headers=EN, follow_redirects=True))
    assert "Rentrée des classes" in page and 'name="choice"' not in page
    assert "I have read this note" not in page
    assert pupil.get(f"/liaison/children/{world['tom']}").status_code == 404


def test_pupils_picked_by_name_with_a_file_reminded_and_listed_for_the_folder(app, world):
    teacher = _as(app, world["teacher"])
    group_list = text(teacher.get(f"/liaison/groups/{world['six_a']}/pupils", headers=EN))
    assert f'name="pupils" value="{world["lea"]}"' in group_list
    assert teacher.get(f"/liaison/groups/{world['five_b']}/pupils").status_code == 404
    refused = _write(
        teacher, world, groups=None, pupils=str(world["lea"]), title="", asks="confirmation"
    )
    assert refused.status_code == 400
    assert f'value="{world["lea"]}" checked' in text(refused)  # the pick is kept on the page
    sent = post(
        teacher,
        "/liaison/new",
        {
            "title": "Réunion",
            "body": "Mardi 18 h.",
            "asks": "confirmation",
            "pupils": str(world["lea"]),
            "files": (io.BytesIO(PDF), "ordre-du-jour.pdf"),
        },
        "/liaison/new",
        headers=EN,
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302, text(sent)[:300]
    with app.app_context():
        note = db.session.scalars(select(LiaisonNote)).one()
        note_id, file_id = note.id, note.files[0].id
        assert [row.pupil_id for row in note.pupils] == [world["lea"]]
    anne, claire = _as(app, world["anne"]), _as(app, world["claire"])
    carnet = text(anne.get(f"/liaison/children/{world['lea']}", headers=EN))
    assert "ordre-du-jour.pdf" in carnet, carnet[carnet.find("<main") :][:3000]
    assert '<span class="badge">1</span>' in carnet  # the navigation counts it
    with anne.get(f"/liaison/{note_id}/files/{file_id}") as download:
        assert (download.status_code, download.data) == (200, PDF)
    assert claire.get(f"/liaison/{note_id}/files/{file_id}").status_code == 404
    reminded = post(teacher, f"/liaison/{note_id}/remind", {}, f"/liaison/{note_id}", headers=EN)
    assert reminded.status_code == 302
    again = post(teacher, f"/liaison/{note_id}/remind", {}, f"/liaison/{note_id}", headers=EN)
    assert again.status_code == 400 and "reminded today already" in text(again)
    csv = teacher.get(f"/liaison/{note_id}/list.csv", headers=EN)
    assert csv.mimetype == "text/csv" and "Pupil;Class;Done" in text(csv)
    assert text(csv).count("6A;no;") == 2  # one line per guardian of Léa
    pdf = teacher.get(f"/liaison/{note_id}/list.pdf", headers=EN)
    words = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Réunion" in words and "Guardian" in words
    assert claire.get(f"/liaison/{note_id}/list.csv").status_code == 404
