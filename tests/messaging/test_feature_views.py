"""Attachments, drafts, scheduling, recall and muting over HTTP, in French by default."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.accounts.models import AccountState, User
from portal.core.audit import AuditEntry
from portal.extensions import db
from portal.messaging.models import Attachment, Message, MessageState
from tests import factories as make
from tests.messaging.test_features import EXE, PDF
from tests.web import csrf_token, log_in, text


@pytest.fixture
def world(app):
    """5B: a teacher and three parents, one of whom never activated their account; a parent of
    another school."""
    with app.app_context():
        school = make.school()
        teacher = make.user(school, "teacher")
        class_5b = make.school_class(school, "5B", teacher)
        parents = [make.family(school, class_5b, guardians=1)[1][0] for _ in range(3)]
        parents[2].state = AccountState.INACTIVE
        stranger = make.user(make.school(), "teacher")
        db.session.commit()
        return {
            "teacher": (teacher.login, teacher.id),
            "parent": (parents[0].login, parents[0].id),
            "other": (parents[1].login, parents[1].id),
            "inactive": (parents[2].login, parents[2].id, parents[2].display_name),
            "stranger": (stranger.login, stranger.id),
        }


def _as(app, login: str):
    """A browser of its own, logged in as ``login``."""
    client = app.test_client()
    log_in(client, login)
    return client


def _download(client, url: str):
    """A file answer, read then closed (the file it streams from with it)."""
    with client.get(url) as answer:
        return answer.status_code, answer.data, answer.headers


def _upload(client, content: bytes, name: str):
    return client.post(
        "/messages/attachments",
        data={
            "csrf_token": csrf_token(client, "/messages/new"),
            "upload": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
        headers={"HX-Request": "true"},
    )


def _file_id(answer) -> int:
    return int(re.search(r'name="file" value="(\d+)"', text(answer)).group(1))


def _post(client, url: str, data: dict, **kwargs):
    return client.post(
        url, data={"csrf_token": csrf_token(client, "/messages/new"), **data}, **kwargs
    )


def test_a_file_goes_to_the_active_recipients_only_and_the_sender_is_told(
    app, client, world, worker
):
    client = _as(app, world["teacher"][0])
    refused = _upload(client, EXE, "devoirs.pdf")
    assert refused.status_code == 422 and refused.headers["HX-Retarget"] == "#file-error"
    assert "Ce type de fichier n&#39;est pas accepté" in text(refused)
    uploaded = _upload(client, PDF, "autorisation de sortie.pdf")
    assert uploaded.status_code == 200 and "autorisation de sortie.pdf" in text(uploaded)
    recipients = [f"user:{world[who][1]}" for who in ("parent", "inactive")]
    answer = _post(
        client,
        "/messages/new",
        {"to": recipients, "subject": "Sortie", "body": "À signer.", "file": _file_id(uploaded)},
    )
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"])
    assert "1 destinataire n&#39;a pas encore activé son compte" in text(page)
    worker()
    with app.app_context():
        message_id = db.session.scalar(select(Message.id))
        file_id = db.session.scalar(select(Attachment.id))
        inactive = db.session.get(User, world["inactive"][1])
        inactive.state = AccountState.ACTIVE  # activated afterwards: the file still isn't theirs
        db.session.commit()
    url = f"/messages/{message_id}/files/{file_id}"
    assert world["inactive"][2] in text(client.get(f"/messages/{message_id}"))
    assert _download(client, url)[1] == PDF  # the sender

    client = _as(app, world["parent"][0])
    status, data, headers = _download(client, url)
    assert status == 200 and data == PDF
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith("attachment;")
    assert headers["X-Content-Type-Options"] == "nosniff"
    for who in ("other", "inactive", "stranger"):
        client = _as(app, world[who][0])
        assert _download(client, url)[0] == 404, who
        if who == "inactive":
            page = text(client.get(f"/messages/{message_id}"))
            assert "ne vous ont pas été remises" in page and url not in page


def test_a_body_over_the_request_limit_is_refused_next_to_the_file_field(app, world):
    client = _as(app, world["teacher"][0])
    app.config["MAX_CONTENT_LENGTH"] = 4096
    try:
        answer = _upload(client, PDF + b"%" * 8192, "big.pdf")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 32 * 1024 * 1024
    assert answer.status_code == 413 and answer.headers["HX-Retarget"] == "#file-error"
    assert "dépasse la taille acceptée" in text(answer) and "<html" not in text(answer)


def test_a_refused_send_keeps_the_uploaded_files_on_the_form(app, world):
    client = _as(app, world["teacher"][0])
    file_id = _file_id(_upload(client, PDF, "menu.pdf"))
    answer = _post(client, "/messages/new", {"subject": "", "body": "", "file": file_id})
    assert answer.status_code == 400
    assert "menu.pdf" in text(answer) and f'name="file" value="{file_id}"' in text(answer)
    assert _post(client, "/messages/new", {"subject": "x", "file": "1x"}).status_code == 400


def test_a_draft_is_saved_through_htmx_then_opened_again_and_sent(app, world, worker):
    client = _as(app, world["teacher"][0])
    data = {"to": f"user:{world['parent'][1]}", "subject": "Réunion", "body": "Mardi 18 h"}
    saved = _post(client, "/messages/draft", data, headers={"HX-Request": "true"})
    assert saved.status_code == 200 and "Brouillon enregistré" in text(saved)
    draft_id = re.search(r'name="draft" id="draft" value="(\d+)"', text(saved)).group(1)
    again = _post(
        client,
        "/messages/draft",
        {**data, "body": "Mardi 18 h 30", "draft": draft_id},
        headers={"HX-Request": "true"},
    )
    assert again.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(Message.id))) == 1
    assert "Réunion" in text(client.get("/messages/folder/drafts"))
    page = text(client.get(f"/messages/new?draft={draft_id}"))
    assert "Mardi 18 h 30" in page and f'value="user:{world["parent"][1]}"' in page
    assert client.get(f"/messages/{draft_id}").headers["Location"].endswith(f"draft={draft_id}")

    client = _as(app, world["other"][0])  # somebody else's draft is not found
    assert client.get(f"/messages/new?draft={draft_id}").status_code == 404
    assert _post(client, "/messages/new", {**data, "draft": draft_id}).status_code == 404
    assert _post(client, f"/messages/{draft_id}/discard", {}).status_code == 404

    client = _as(app, world["teacher"][0])
    too_long = _post(client, "/messages/draft", {**data, "body": "x" * 200_001, "draft": draft_id})
    assert too_long.status_code == 400 and "trop long" in text(too_long)
    assert 'value="Réunion"' in text(too_long)  # the form is given back, not lost
    sent = _post(client, "/messages/new", {**data, "body": "Mardi 18 h 30", "draft": draft_id})
    assert sent.status_code == 302
    late = _post(
        client, "/messages/draft", {**data, "draft": draft_id}, headers={"HX-Request": "true"}
    )
    assert late.status_code == 409 and "envoyé ou supprimé" in text(late)
    assert "<html" not in text(late)
    worker()
    with app.app_context():
        [message] = db.session.scalars(select(Message)).all()
        assert (str(message.id), message.state) == (draft_id, MessageState.SENT)


def test_a_scheduled_message_is_listed_and_called_off_back_to_the_drafts(app, world):
    client = _as(app, world["teacher"][0])
    data = {"to": f"user:{world['parent'][1]}", "subject": "Grève jeudi", "body": "Pas de cours"}
    past = _post(client, "/messages/new", {**data, "send_at": "2020-01-01T08:00"})
    assert past.status_code == 400 and "Choisissez un moment à venir" in text(past)
    local = (dt.datetime.now() + dt.timedelta(days=60)).replace(hour=7, minute=30, second=0)
    answer = _post(client, "/messages/new", {**data, "send_at": local.strftime("%Y-%m-%dT%H:%M")})
    assert answer.status_code == 302
    follow = client.get(answer.headers["Location"])
    assert "sera envoyé le" in text(follow) and "07:30" in text(follow)
    assert "Grève jeudi" in text(client.get("/messages/folder/scheduled"))
    location = answer.headers["Location"]
    trashed = _post(client, f"{location}/trash", {})
    assert "Annulez l" in text(client.get(trashed.headers["Location"]))
    assert "Grève jeudi" in text(client.get("/messages/folder/scheduled"))  # still there
    with app.app_context():
        message = db.session.scalar(select(Message))
        assert message.state == MessageState.SCHEDULED
        # Read as the school's time (Paris), kept in UTC.
        in_paris = local.replace(microsecond=0, tzinfo=ZoneInfo("Europe/Paris"))
        assert message.scheduled_for == in_paris.astimezone(dt.UTC)
        message_id = message.id
    client = _as(app, world["parent"][0])
    assert client.get(f"/messages/{message_id}").status_code == 404
    assert _post(client, f"/messages/{message_id}/unschedule", {}).status_code == 404
    client = _as(app, world["teacher"][0])
    back = _post(client, f"/messages/{message_id}/unschedule", {})
    assert back.headers["Location"].endswith(f"/messages/new?draft={message_id}")
    assert "Grève jeudi" in text(client.get("/messages/folder/drafts"))


def test_a_recalled_message_shows_its_recipients_that_it_was_recalled(app, world, worker):
    client = _as(app, world["teacher"][0])
    data = {"to": f"user:{world['parent'][1]}", "subject": "Erreur", "body": "Mauvaise classe"}
    message_id = _post(client, "/messages/new", data).headers["Location"].rsplit("/", 1)[1]
    worker()
    assert "Rappeler" in text(client.get(f"/messages/{message_id}"))
    assert _post(client, f"/messages/{message_id}/recall", {}).status_code == 302
    assert "Vous avez rappelé ce message" in text(client.get(f"/messages/{message_id}"))
    client = _as(app, world["parent"][0])
    recalled = client.get(f"/messages/{message_id}")
    assert recalled.status_code == 410 and "rappelé ce message" in text(recalled)
    assert "Erreur" not in text(client.get("/messages/folder/inbox"))
    client = _as(app, world["other"][0])
    assert client.get(f"/messages/{message_id}").status_code == 404


def test_a_reader_mutes_and_unmutes_a_conversation(app, world, worker):
    client = _as(app, world["teacher"][0])
    data = {"to": f"user:{world['parent'][1]}", "subject": "Sortie", "body": "Vendredi"}
    message_id = _post(client, "/messages/new", data).headers["Location"].rsplit("/", 1)[1]
    worker()
    client = _as(app, world["parent"][0])
    assert "Ne plus être notifié" in text(client.get(f"/messages/{message_id}"))
    answer = _post(client, f"/messages/{message_id}/mute", {"muted": "1"})
    assert answer.status_code == 302
    assert 'aria-pressed="true"' in text(client.get(f"/messages/{message_id}"))
    _post(client, f"/messages/{message_id}/mute", {"muted": "0"})
    assert 'aria-pressed="false"' in text(client.get(f"/messages/{message_id}"))
    client = _as(app, world["other"][0])
    assert _post(client, f"/messages/{message_id}/mute", {"muted": "1"}).status_code == 404


def test_the_picker_names_nobody_out_of_reach(app, world):
    client = _as(app, world["teacher"][0])
    foreign = client.get(f"/messages/chip?field=to&token=user:{world['stranger'][1]}")
    assert foreign.status_code == 404 and world["stranger"][0] not in text(foreign)


def test_the_direction_exports_a_conversation_with_a_reason_and_it_is_audited(app, world, worker):
    teacher = _as(app, world["teacher"][0])
    bcc = [f"user:{world['parent'][1]}", f"user:{world['other'][1]}"]
    data = {"bcc": bcc, "subject": "Bulletin", "body": "Résultats"}
    message_id = _post(teacher, "/messages/new", data).headers["Location"].rsplit("/", 1)[1]
    worker()
    # The other parent's answer is in the same conversation, but not the first parent's.
    answer = {"to": f"user:{world['teacher'][1]}", "subject": "Re: Bulletin", "body": "Privé"}
    _post(_as(app, world["other"][0]), "/messages/new", {**answer, "reply_to": message_id})
    worker()
    with app.app_context():
        school = db.session.get(User, world["parent"][1]).school
        admin = make.user(school, "admin")
        outsider = make.user(make.school(), "admin")
        db.session.commit()
        logins = admin.login, outsider.login
    pupil_url = f"/messages/export/{world['parent'][1]}"
    # Nobody but the direction, and not another school's.
    assert _post(teacher, pupil_url, {"justification": "x" * 30}).status_code == 404
    assert _post(_as(app, logins[1]), pupil_url, {"justification": "x" * 30}).status_code == 404

    direction = _as(app, logins[0])
    assert "Exporter une conversation" in text(direction.get(f"/admin/users/{world['parent'][1]}"))
    short = _post(direction, pupil_url, {"justification": "parce que"})
    assert short.status_code == 400 and "en 20 à 2000 caractères" in text(short)
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEntry.id))) == 0
    reason = "Demande écrite de la famille du 3 mars, dossier 2026-14"
    listed = _post(direction, pupil_url, {"justification": reason})
    assert listed.status_code == 200 and "Bulletin" in text(listed)
    exported = _post(direction, f"{pupil_url}/{message_id}", {"justification": reason})
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"].startswith("attachment;")
    document = text(exported)
    assert "Résultats" in document and reason in document and "Cci" in document
    assert "Privé" not in document  # not a message the person wrote or received
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.tag for e in entries] == [
            "messaging:conversations:list",
            "messaging:conversation:export",
        ]
        assert {e.details["justification"] for e in entries} == {reason}
        assert entries[1].details["thread_id"] == int(message_id)
    # A conversation the person took no part in is not theirs to export.
    other_url = f"/messages/export/{world['inactive'][1]}/{message_id}"
    assert _post(direction, other_url, {"justification": reason}).status_code == 404
