"""Messaging over HTTP: compose, the server's check of every recipient, reading, replies, folders
and the unread counter."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.accounts.models import Profile, User
from portal.extensions import db
from portal.groups import reachability
from portal.groups import services as groups
from portal.messaging.models import InboxEntry, Message
from tests import factories as make
from tests.web import csrf_token, field_error, log_in, logged_in, text


@pytest.fixture
def world(app):
    """5B: a teacher and two families; 4A: a family. Logins and ids."""
    with app.app_context():
        school = make.school()
        teacher = make.user(school, "teacher")
        class_5b = make.school_class(school, "5B", teacher)
        (_p1, (parent,)), (_p2, (other,)) = (
            make.family(school, class_5b, guardians=1) for _ in range(2)
        )
        _p3, (parent_4a,) = make.family(
            school, make.school_class(school, "4A", make.user(school, "teacher")), guardians=1
        )
        db.session.commit()
        return {
            "teacher": (teacher.login, teacher.id),
            "parent": (parent.login, parent.id),
            "other": (other.login, other.id),
            "parent_4a": (parent_4a.login, parent_4a.id),
            "parents_5b": groups.sub_groups(class_5b)[Profile.PARENT].id,
        }


def _send(client, data: dict):
    return client.post(
        "/messages/new", data={"csrf_token": csrf_token(client, "/messages/new"), **data}
    )


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_teacher_sends_in_bcc_and_a_parent_reads_and_answers_the_teacher_only(
    app, client, world, worker
):
    log_in(client, world["teacher"][0])
    answer = _send(
        client,
        {
            "bcc": f"group:{world['parents_5b']}",
            "subject": "Outing on Friday",
            "body": "Dear parents,\n\nBring a coat.",
        },
    )
    assert answer.status_code == 302
    message_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    worker()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/messages/folder/inbox")})

    log_in(client, world["parent"][0])
    assert '<span class="badge">1</span>' in text(client.get("/messages/counter"))
    page = text(client.get(f"/messages/{message_id}"))
    assert "<p>Dear parents,</p><p>Bring a coat.</p>" in page
    assert "ne pouvez répondre qu'à son expéditeur" in page  # people read French by default
    assert "Répondre à tous" not in page
    assert world["other"][0] not in page
    assert '<span class="badge">' not in text(client.get("/messages/counter"))
    # Reply-all is refused; the reply form names the teacher alone.
    refused = client.get(f"/messages/new?reply={message_id}&all=1")
    assert refused.status_code == 302
    reply_form = text(client.get(f"/messages/new?reply={message_id}"))
    assert re.findall(r'name="to" value="([^"]+)"', reply_form) == [f"user:{world['teacher'][1]}"]
    sent = _send(
        client,
        {
            "to": f"user:{world['teacher'][1]}",
            "subject": "Re: Outing on Friday",
            "body": "We will be there.",
            "reply_to": str(message_id),
        },
    )
    assert sent.status_code == 302
    worker()
    with app.app_context():
        readers = set(
            db.session.scalars(
                select(InboxEntry.recipient_id)
                .join(Message, Message.id == InboxEntry.message_id)
                .where(Message.parent_id == message_id)
            )
        )
    assert readers == {world["teacher"][1]}


def test_a_crafted_post_naming_someone_out_of_the_rules_sends_nothing(app, client, world):
    log_in(client, world["parent"][0])
    answer = _send(
        client,
        {
            "to": [f"user:{world['teacher'][1]}", f"user:{world['parent_4a'][1]}"],
            "subject": "Hello",
            "body": "Hi",
        },
    )
    assert answer.status_code == 400
    page = text(answer)
    assert field_error(answer, "to") == (
        "Vous ne pouvez pas écrire à l'un de ces destinataires : retirez-le."
    )
    # What was picked is shown again, so nothing has to be typed twice.
    assert f'value="user:{world["teacher"][1]}"' in page
    assert _count(app, Message) == 0


def test_errors_are_given_next_to_their_field_in_french(app, client, world):
    log_in(client, world["teacher"][0])
    client.post(
        "/language",
        data={"csrf_token": csrf_token(client, "/messages/folder/inbox"), "language": "fr"},
    )
    answer = _send(client, {"subject": "", "body": ""})
    assert answer.status_code == 400
    page = text(answer)
    assert "Ajoutez au moins un destinataire" in page
    assert "Donnez un objet au message." in page
    assert _count(app, Message) == 0


def test_nobody_else_opens_a_message_and_folders_list_it(app, client, world, worker):
    log_in(client, world["teacher"][0])
    answer = _send(
        client,
        {"to": f"user:{world['parent'][1]}", "subject": "Library day", "body": "Return books"},
    )
    message_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    worker()
    assert "Library day" in text(client.get("/messages/folder/sent"))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/messages/folder/inbox")})

    log_in(client, world["other"][0])
    assert client.get(f"/messages/{message_id}").status_code == 404
    assert client.get(f"/messages/new?reply={message_id}").status_code == 404
    assert client.get("/messages/folder/nowhere").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/messages/folder/inbox")})

    log_in(client, world["parent"][0])
    assert "Library day" in text(client.get("/messages/folder/inbox?q=books"))
    assert "Library day" not in text(client.get("/messages/folder/inbox?q=swimming"))
    token = csrf_token(client, f"/messages/{message_id}")
    client.post(f"/messages/{message_id}/trash", data={"csrf_token": token})
    assert "Library day" not in text(client.get("/messages/folder/inbox"))
    assert "Library day" in text(client.get("/messages/folder/trash"))
    client.post(f"/messages/{message_id}/restore", data={"csrf_token": token})
    assert "Library day" in text(client.get("/messages/folder/inbox"))


def test_the_chip_endpoint_refuses_what_it_cannot_read(client, world):
    log_in(client, world["teacher"][0])
    assert client.get("/messages/chip?field=to&token=user:x").status_code == 400
    assert client.get("/messages/chip?field=xx&token=user:1").status_code == 400
    chip = client.get(f"/messages/chip?field=bcc&token=group:{world['parents_5b']}")
    assert 'name="bcc"' in text(chip)


def test_a_garbled_or_foreign_reply_to_is_refused(app, client, world):
    log_in(client, world["parent"][0])
    data = {"to": f"user:{world['teacher'][1]}", "subject": "Hi", "body": "Hello"}
    assert _send(client, {**data, "reply_to": "abc"}).status_code == 400
    assert _send(client, {**data, "reply_to": "999999"}).status_code == 404
    assert _count(app, Message) == 0


def test_a_pupil_may_answer_the_staff_member_who_wrote_but_not_write_to_them_afresh(
    app, world, worker
):
    """SPEC §2, the reply right: no rule lets pupils write to staff (the default rules open
    staff → everyone only), yet a pupil answers a message the staff sent them; a new message to
    the same person is refused. Both go through the send path a crafted request would take."""
    with app.app_context():
        school = db.session.get(User, world["teacher"][1]).school
        staff = make.user(school, "staff")
        pupil = db.session.scalars(
            select(User).where(User.school_id == school.id, User.profile == Profile.PUPIL)
        ).first()
        db.session.commit()
        staff_id, staff_login, pupil_id, pupil_login = staff.id, staff.login, pupil.id, pupil.login
        assert not reachability.may_write(pupil, staff)
    cpe, pupil_browser = logged_in(app, staff_login), logged_in(app, pupil_login)
    asked = _send(cpe, {"to": f"user:{pupil_id}", "subject": "Your timetable", "body": "Come."})
    assert asked.status_code == 302
    message_id = int(asked.headers["Location"].rsplit("/", 1)[1])
    worker()

    fresh = _send(pupil_browser, {"to": f"user:{staff_id}", "subject": "Hello", "body": "Hi"})
    assert fresh.status_code == 400
    assert field_error(fresh, "to")
    crafted_reply_to_nothing = _send(
        pupil_browser,
        {"to": f"user:{staff_id}", "subject": "Re", "body": "Hi", "reply_to": "999999"},
    )
    assert crafted_reply_to_nothing.status_code in (400, 404)
    assert _count(app, Message) == 1

    answered = _send(
        pupil_browser,
        {
            "to": f"user:{staff_id}",
            "subject": "Re: Your timetable",
            "body": "I will come at noon.",
            "reply_to": str(message_id),
        },
    )
    assert answered.status_code == 302
    worker()
    with app.app_context():
        reply = db.session.scalars(select(Message).where(Message.parent_id == message_id)).one()
        readers = set(
            db.session.scalars(
                select(InboxEntry.recipient_id).where(InboxEntry.message_id == reply.id)
            )
        )
    assert readers == {staff_id}


def test_a_send_to_anyone_out_of_reach_is_refused_alike_and_names_nobody(app, client, world):
    """SPEC §2: whether the id is someone out of the rules, someone of another school, a blocked
    account or nobody, the refusal is the same and never says who is behind the id; the chip
    the picker would ask for is not found either. Someone the sender may reach keeps a name."""
    with app.app_context():
        other_school = make.school()
        stranger = make.user(other_school, "parent", first_name="Zéphyrin", last_name="Lointain")
        blocked = make.user(
            db.session.get(User, world["teacher"][1]).school,
            "teacher",
            first_name="Barnabé",
            last_name="Bloqué",
        )
        accounts.block(blocked)
        out_of_rules = db.session.get(User, world["parent_4a"][1])
        out_of_rules.first_name, out_of_rules.last_name = "Octave", "Horsrègles"
        names = {
            "out of the rules": (out_of_rules.id, out_of_rules.first_name, out_of_rules.last_name),
            "another school": (stranger.id, "Zéphyrin", "Lointain"),
            "blocked": (blocked.id, "Barnabé", "Bloqué"),
            "nobody": (999_999, None, None),
        }
        teacher_name = db.session.get(User, world["teacher"][1]).last_name
        db.session.commit()
    log_in(client, world["parent"][0])
    refusals = set()
    for case, (user_id, first, last) in names.items():
        answer = _send(
            client,
            {
                "to": [f"user:{world['teacher'][1]}", f"user:{user_id}"],
                "subject": "Hello",
                "body": "Hi",
            },
        )
        assert answer.status_code == 400, case
        refusals.add(field_error(answer, "to"))
        page = text(answer)
        for word in (first, last):
            assert word is None or word not in page, case
        assert "Un destinataire à qui vous ne pouvez pas écrire" in page, case
        assert teacher_name in page  # the one the parent may write to keeps a name
        chip = client.get(f"/messages/chip?field=to&token=user:{user_id}")
        assert chip.status_code == 404, case
        for word in (first, last):
            assert word is None or word not in text(chip), case
    assert refusals == {"Vous ne pouvez pas écrire à l'un de ces destinataires : retirez-le."}
    assert _count(app, Message) == 0
