"""Flash messages (SPEC §3, seed 003): written by the direction and staff only, a banner on every
page of their audience until each reader acknowledges it, the author's view of who has, and the
e-mail that bypasses choices and digests but never a refusal of all e-mail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from portal.accounts import contact
from portal.accounts.models import EmailSource
from portal.core import clock
from portal.extensions import db
from portal.messaging import flash
from portal.messaging.flash import FlashInput
from portal.messaging.models import FlashAcknowledgement, FlashMessage
from portal.notifications import choices
from tests.notifications.helpers import deliver_due, delivered_to
from tests.school import MONDAY, in_english, person
from tests.web import csrf_token, logged_in, text

DAY = dt.timedelta(days=1)


def _create(world, author="staff", **changes) -> int:
    asked = FlashInput(
        title="Grève des bus demain",
        body="<p>Le ramassage scolaire ne sera pas assuré.</p>",
        profiles=["parent"],
        group_ids=[world.groups["5B"]],
        starts_at=None,
        ends_at=MONDAY + DAY,
    )
    for key, value in changes.items():
        setattr(asked, key, value)
    message = flash.create(person(world, author), asked)
    db.session.commit()
    return message.id


def _banner(client) -> str:
    return text(client.get("/flash/banner", headers={"HX-Request": "true"}))


def test_a_teacher_cant_create_a_flash_message(app, world):
    teacher = logged_in(app, world.logins["teacher"])
    assert teacher.get("/flash/new").status_code == 403
    data = {
        "csrf_token": csrf_token(teacher, "/flash/"),
        "title": "Absence",
        "body": "M. Prof est absent",
        "profiles": ["parent"],
        "ends_at": "2026-11-24T18:00",
    }
    assert teacher.post("/flash/new", data=data).status_code == 403
    with in_english(app):
        assert db.session.scalar(select(func.count(FlashMessage.id))) == 0
    for name in ("béatrice", "hugo"):
        client = logged_in(app, world.logins[name])
        data["csrf_token"] = csrf_token(client, "/flash/")
        assert client.post("/flash/new", data=data).status_code == 403


def test_staff_create_one_through_the_form_and_bad_input_is_refused_by_each_field(app, world):
    staff = logged_in(app, world.logins["staff"])
    data = {"csrf_token": csrf_token(staff, "/flash/new"), "title": "", "body": ""}
    answer = staff.post("/flash/new", data=data)
    assert answer.status_code == 400
    for message in (
        "Donnez un titre au message flash.",
        "Écrivez le message flash.",
        "Choisissez au moins un profil.",
        "Donnez la fin du message flash.",
    ):
        assert message in text(answer)
    data |= {
        "title": "Absence de M. Prof",
        "body": "Pas de cours de mathématiques cet après-midi.",
        "profiles": ["parent", "pupil"],
        "groups": [str(world.groups["5B"])],
        "ends_at": "2026-11-23T18:00",
    }
    answer = staff.post("/flash/new", data=data)
    assert answer.status_code == 302
    assert "Absence de M. Prof" in _banner(logged_in(app, world.logins["léa"]))
    assert "Absence de M. Prof" not in _banner(logged_in(app, world.logins["carole"]))


def test_the_banner_stays_until_each_reader_acknowledges_it(app, world):
    with in_english(app):
        flash_id = _create(world)
    alain, anne = logged_in(app, world.logins["alain"]), logged_in(app, world.logins["anne"])
    assert "Grève des bus demain" in _banner(alain)
    answer = alain.post(
        f"/flash/{flash_id}/acknowledge",
        data={"csrf_token": csrf_token(alain, "/flash/"), "next": "/messages/"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert "Grève des bus demain" not in text(answer).split("</p>", 1)[1]
    assert "Grève des bus demain" not in _banner(alain)
    assert "Grève des bus demain" in _banner(anne)  # the other guardian of Léa
    # Without scripts: the same form sends the reader back where they were.
    answer = anne.post(
        f"/flash/{flash_id}/acknowledge",
        data={"csrf_token": csrf_token(anne, "/flash/"), "next": "/messages/"},
    )
    assert answer.headers["Location"] == "/messages/"
    assert "Grève des bus demain" not in _banner(anne)


def test_two_guardians_acknowledge_separately_and_the_author_sees_who_per_class(app, world):
    with in_english(app):
        flash_id = _create(world, profiles=["parent"], group_ids=[])  # every parent
        message = db.session.get(FlashMessage, flash_id)
        clock.freeze(MONDAY + dt.timedelta(minutes=5))
        flash.acknowledge(person(world, "alain"), message)
        flash.acknowledge(person(world, "alain"), message)  # twice: still one
        db.session.commit()
        clock.freeze(MONDAY + dt.timedelta(minutes=9))
        flash.acknowledge(person(world, "carole"), message)
        db.session.commit()
        sections = {
            section.group.name: (
                sorted(user.first_name for user, _at in section.acknowledged),
                sorted(user.first_name for user in section.waiting),
            )
            for section in flash.sections(message)
        }
        assert sections == {
            "5B": (["Alain"], ["Anne", "Béatrice"]),
            "4A": (["Carole"], ["Anne"]),  # Anne is a parent in 5B and in 4A
        }
        assert db.session.scalar(select(func.count()).select_from(FlashAcknowledgement)) == 2
    page = text(logged_in(app, world.logins["admin"]).get(f"/flash/{flash_id}"))
    assert "5B · 1 sur 3" in page and "4A · 1 sur 2" in page
    assert logged_in(app, world.logins["teacher"]).get(f"/flash/{flash_id}").status_code == 404


def test_it_is_told_at_once_and_emailed_through_quiet_hours_but_never_despite_a_refusal(
    app, world, worker, smtp
):
    with in_english(app):
        for name in ("anne", "alain", "béatrice"):
            address = f"{name.replace('é', 'e')}@example.org"
            contact.set_email(person(world, name), address, EmailSource.ADMIN)
        choices.set_timing(person(world, "anne"), 18, 8, 12)  # quiet hours now
        contact.set_refuses_email(person(world, "alain"), True)
        db.session.commit()
        _create(world, emailed=True)
        assert deliver_due(worker) == 3  # immediate: no window, no digest
        (told,) = delivered_to(person(world, "alain"), "flash_message")
        assert told.channel == "homepage"  # refused all e-mail: the home page only
    to = sorted(address for message in smtp.messages for address in message.rcpt_tos)
    assert to == ["anne@example.org", "beatrice@example.org"]


def test_a_planned_flash_message_shows_and_is_told_at_its_start_and_ends_on_time(app, world):
    with in_english(app):
        _create(world, starts_at=MONDAY + dt.timedelta(hours=6), ends_at=MONDAY + DAY)
        assert deliver_due() == 0
    beatrice = logged_in(app, world.logins["béatrice"])
    assert "Grève des bus demain" not in _banner(beatrice)
    clock.freeze(MONDAY + dt.timedelta(hours=6))
    assert "Grève des bus demain" in _banner(beatrice)
    with in_english(app):
        assert deliver_due() == 3
    clock.freeze(MONDAY + DAY)
    assert "Grève des bus demain" not in _banner(beatrice)


def test_ending_it_early_removes_the_banner_and_only_managers_may(app, world):
    with in_english(app):
        flash_id = _create(world)
    beatrice = logged_in(app, world.logins["béatrice"])
    token = csrf_token(beatrice, "/flash/")
    assert beatrice.post(f"/flash/{flash_id}/end", data={"csrf_token": token}).status_code == 403
    direction = logged_in(app, world.logins["admin"])
    answer = direction.post(
        f"/flash/{flash_id}/end", data={"csrf_token": csrf_token(direction, "/flash/")}
    )
    assert answer.status_code == 302
    assert "Grève des bus demain" not in _banner(beatrice)


def test_people_outside_the_audience_cant_read_or_acknowledge_it(app, world):
    with in_english(app):
        flash_id = _create(world)
    for name in ("carole", "léa", "other_parent", "other_admin"):
        client = logged_in(app, world.logins[name])
        assert client.get(f"/flash/{flash_id}").status_code == 404, name
        answer = client.post(
            f"/flash/{flash_id}/acknowledge", data={"csrf_token": csrf_token(client, "/flash/")}
        )
        assert answer.status_code == 404, name


def test_the_banner_in_french_and_english(app, world):
    with in_english(app):
        _create(world)
    parent = logged_in(app, world.logins["béatrice"])
    assert "J'ai lu ce message" in _banner(parent)
    english = text(
        parent.get("/flash/banner", headers={"HX-Request": "true", "Accept-Language": "en"})
    )
    assert "I have read it" in english


def test_a_planned_flash_message_ended_before_its_start_is_never_shown(app, world):
    with in_english(app):
        flash_id = _create(world, starts_at=MONDAY + dt.timedelta(hours=2))
        flash.end(db.session.get(FlashMessage, flash_id))
        db.session.commit()
    clock.freeze(MONDAY + dt.timedelta(hours=3))
    assert "Terminé" in text(logged_in(app, world.logins["staff"]).get("/flash/"))
    beatrice = logged_in(app, world.logins["béatrice"])
    assert "Grève des bus demain" not in _banner(beatrice)
    assert beatrice.get(f"/flash/{flash_id}").status_code == 404
    with in_english(app):
        assert deliver_due() == 0
