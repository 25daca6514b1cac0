"""Announcements (SPEC §5; seed 001 'message d'accueil', seed 003 'actualités'): shown between
publication and expiry to their audience, told once published, discreet mode, comments."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from portal.accounts import contact
from portal.accounts.models import EmailSource
from portal.content import announcements
from portal.content.announcements import AnnouncementInput
from portal.content.models import Announcement, AnnouncementComment
from portal.core import clock
from portal.extensions import db
from portal.notifications import choices
from portal.notifications.present import present
from tests.notifications.helpers import deliver_due, delivered_to
from tests.school import MONDAY, in_english, person
from tests.web import csrf_token, logged_in, text

HOUR = dt.timedelta(hours=1)


def _publish(world, author="admin", **changes) -> int:
    asked = AnnouncementInput(
        title="Réunion parents-professeurs",
        body="<p>Jeudi à 18 h, en salle polyvalente.</p>",
        profiles=["parent"],
        group_ids=[],
        publish_at=None,
        expires_at=None,
    )
    for key, value in changes.items():
        setattr(asked, key, value)
    announcement = announcements.publish(person(world, author), asked)
    db.session.commit()
    return announcement.id


def _home(app, world, name: str) -> str:
    return text(logged_in(app, world.logins[name]).get("/", follow_redirects=True))


def test_an_announcement_shows_from_publication_to_expiry_then_disappears(app, world):
    with in_english(app):
        _publish(
            world,
            publish_at=MONDAY + dt.timedelta(days=1),
            expires_at=MONDAY + dt.timedelta(days=3),
        )
    assert "Réunion parents-professeurs" not in _home(app, world, "carole")
    clock.freeze(MONDAY + dt.timedelta(days=2))
    assert "Réunion parents-professeurs" in _home(app, world, "carole")
    assert "Réunion parents-professeurs" not in _home(app, world, "léa")  # for parents only
    clock.freeze(MONDAY + dt.timedelta(days=3))
    assert "Réunion parents-professeurs" not in _home(app, world, "carole")
    assert "Réunion parents-professeurs" not in text(
        logged_in(app, world.logins["carole"]).get("/announcements/")
    )


def test_a_planned_announcement_notifies_nobody_until_it_is_published(app, world):
    with in_english(app):
        _publish(world, publish_at=MONDAY + dt.timedelta(days=1))
        clock.freeze(MONDAY + dt.timedelta(hours=5))
        assert deliver_due() == 0
        clock.freeze(MONDAY + dt.timedelta(days=1))
        assert deliver_due() == 4  # the four parents of the school (Anne has two children)
        (told,) = delivered_to(person(world, "carole"), "announcement")
        shown = present(told)
        assert shown.headline == "Announcement: Réunion parents-professeurs"
        assert shown.lines == ["Jeudi à 18 h, en salle polyvalente."]
        assert delivered_to(person(world, "other_parent"), "announcement") == []


def test_a_change_is_told_once_and_a_discreet_change_is_not_told(app, world):
    with in_english(app):
        announcement_id = _publish(world)
        clock.freeze(MONDAY + HOUR)
        assert deliver_due() == 4
        for minutes, discreet in ((70, True), (80, False)):
            clock.freeze(MONDAY + dt.timedelta(minutes=minutes))
            announcements.change(
                person(world, "admin"),
                db.session.get(Announcement, announcement_id),
                AnnouncementInput(
                    title=f"Réunion ({minutes})",
                    body="<p>Jeudi à 18 h 30.</p>",
                    profiles=["parent"],
                    group_ids=[],
                    publish_at=None,
                    expires_at=None,
                    discreet=discreet,
                ),
            )
            db.session.commit()
        clock.freeze(MONDAY + dt.timedelta(hours=3))
        assert deliver_due() == 4
        latest = delivered_to(person(world, "anne"), "announcement")[-1]
        assert latest.events == 1
        assert present(latest).headline == "Announcement: Réunion (80)"


def test_a_discreet_new_date_still_holds_back_what_was_not_told_yet(app, world):
    with in_english(app):
        announcement_id = _publish(world, publish_at=MONDAY + dt.timedelta(days=1))
        announcements.change(
            person(world, "admin"),
            db.session.get(Announcement, announcement_id),
            AnnouncementInput(
                title="Réunion parents-professeurs",
                body="<p>Reportée.</p>",
                profiles=["parent"],
                group_ids=[],
                publish_at=MONDAY + dt.timedelta(days=4),
                expires_at=None,
                discreet=True,
            ),
        )
        db.session.commit()
        clock.freeze(MONDAY + dt.timedelta(days=2))
        assert deliver_due() == 0
        clock.freeze(MONDAY + dt.timedelta(days=4))
        assert deliver_due() == 4


def test_class_audience_reaches_its_parents_and_labels_a_parents_children(app, world):
    with in_english(app):
        _publish(
            world,
            author="teacher",
            title="Sortie au musée",
            profiles=["parent", "pupil"],
            group_ids=[world.groups["5B"]],
        )
        _publish(world, title="Grève des transports")  # all parents of the school
        shown = announcements.shown_to(person(world, "anne"))
        labels = {a.title: [child.first_name for child in children] for a, children in shown}
        assert labels == {"Sortie au musée": ["Léa"], "Grève des transports": ["Léa", "Zoé"]}
        assert [a.title for a, _ in announcements.shown_to(person(world, "carole"))] == [
            "Grève des transports"
        ]
        assert [a.title for a, _ in announcements.shown_to(person(world, "hugo"))] == [
            "Sortie au musée"
        ]
    home = _home(app, world, "anne")
    assert "Pour Léa, Zoé" in home and "Pour Léa</p>" in home


def test_a_teacher_addresses_only_the_classes_they_teach(app, world):
    teacher = logged_in(app, world.logins["teacher"])
    data = {
        "csrf_token": csrf_token(teacher, "/announcements/new"),
        "title": "Sortie",
        "body": "Départ 8 h",
        "profiles": ["parent"],
        "groups": [str(world.groups["4A"])],  # crafted: 4A is not theirs
    }
    answer = teacher.post("/announcements/new", data=data)
    assert answer.status_code == 400
    data["groups"] = []
    answer = teacher.post("/announcements/new", data=data)
    assert answer.status_code == 400
    assert "Choisissez les classes ou groupes auxquels vous vous adressez." in text(answer)
    with app.app_context():
        assert db.session.scalar(select(func.count(Announcement.id))) == 0
    for name in ("béatrice", "léa"):
        assert logged_in(app, world.logins[name]).get("/announcements/new").status_code == 403


def test_a_parent_cant_comment_where_comments_are_off(app, world):
    with in_english(app):
        closed = _publish(world, title="Sans commentaires")
        opened = _publish(world, title="Avec commentaires", comments_allowed=True)
    parent = logged_in(app, world.logins["carole"])
    token = csrf_token(parent, f"/announcements/{opened}")
    answer = parent.post(
        f"/announcements/{closed}/comments", data={"csrf_token": token, "comment": "Merci"}
    )
    assert answer.status_code == 403
    assert 'name="comment"' not in text(parent.get(f"/announcements/{closed}"))
    answer = parent.post(
        f"/announcements/{opened}/comments", data={"csrf_token": token, "comment": " "}
    )
    assert answer.status_code == 400
    assert "Écrivez votre commentaire." in text(answer)
    answer = parent.post(
        f"/announcements/{opened}/comments", data={"csrf_token": token, "comment": "Merci !"}
    )
    assert answer.status_code == 302
    with app.app_context():
        (comment,) = db.session.scalars(select(AnnouncementComment)).all()
        assert (comment.announcement_id, comment.body) == (opened, "Merci !")
        comment_id = comment.id
    assert "Merci !" in text(logged_in(app, world.logins["anne"]).get(f"/announcements/{opened}"))
    # Another parent can't moderate; the author (the direction) can.
    other = logged_in(app, world.logins["anne"])
    remove = f"/announcements/comments/{comment_id}/remove"
    answer = other.post(remove, data={"csrf_token": csrf_token(other, "/announcements/")})
    assert answer.status_code == 403
    direction = logged_in(app, world.logins["admin"])
    answer = direction.post(remove, data={"csrf_token": csrf_token(direction, "/announcements/")})
    assert answer.status_code == 302
    assert "Merci !" not in text(parent.get(f"/announcements/{opened}"))
    with app.app_context():
        assert db.session.get(AnnouncementComment, comment_id).removed_by_id == world.ids["admin"]


def test_people_outside_the_audience_and_other_schools_dont_find_it(app, world):
    with in_english(app):
        announcement_id = _publish(world, profiles=["parent"], group_ids=[world.groups["5B"]])
    url = f"/announcements/{announcement_id}"
    assert logged_in(app, world.logins["anne"]).get(url).status_code == 200
    for name in ("carole", "léa", "other_parent", "other_admin", "colleague"):
        assert logged_in(app, world.logins[name]).get(url).status_code == 404, name
    assert logged_in(app, world.logins["other_admin"]).get(url + "/edit").status_code == 404


def test_the_directions_forced_email_overrides_choices_but_not_a_refusal(app, world, worker, smtp):
    with in_english(app):
        for name in ("anne", "alain", "béatrice"):
            parent = person(world, name)
            contact.set_email(parent, f"{name.replace('é', 'e')}@example.org", EmailSource.ADMIN)
        choices.set_choices(person(world, "anne"), {"announcement": "none"})
        contact.set_refuses_email(person(world, "alain"), True)
        db.session.commit()
        _publish(world, title="Fermeture exceptionnelle", forced=True)
        clock.freeze(MONDAY + HOUR)
        deliver_due(worker)
    to = sorted(address for message in smtp.messages for address in message.rcpt_tos)
    assert to == ["anne@example.org", "beatrice@example.org"]


def test_removing_an_announcement_withdraws_what_was_not_told_yet(app, world):
    """Two announcements due tomorrow for the same parents: the one removed today is told to
    nobody, the one kept is told to each parent, so the same set-up does deliver."""
    with in_english(app):
        removed = _publish(world, publish_at=MONDAY + dt.timedelta(days=1))
        _publish(world, title="Cantine", publish_at=MONDAY + dt.timedelta(days=1))
        announcements.remove(db.session.get(Announcement, removed))
        db.session.commit()
        clock.freeze(MONDAY + dt.timedelta(days=2))
        assert deliver_due() == 4  # the four parents, told of the one kept
        for name in ("anne", "carole"):
            told = delivered_to(person(world, name), "announcement")
            assert [n.payload["text"] for n in told] == ["Cantine"], name


def test_the_announcement_form_in_english_and_french(app, world):
    direction = logged_in(app, world.logins["admin"])
    english = text(direction.get("/announcements/new", headers={"Accept-Language": "en"}))
    assert "Discreet mode: tell nobody of this change" in english
    assert "Readers may comment" in english
    french = text(direction.get("/announcements/new"))
    assert "Mode discret" in french
    assert "Les lecteurs peuvent commenter" in french


def test_nobody_is_told_of_an_announcement_that_will_have_expired_by_then(app, world):
    with in_english(app):
        _publish(world, expires_at=MONDAY + dt.timedelta(minutes=30))  # told at 11:00: gone
        _publish(world, title="Cantine", expires_at=MONDAY + dt.timedelta(days=2))
        clock.freeze(MONDAY + dt.timedelta(days=1))
        assert deliver_due() == 4
        assert [present(n).headline for n in delivered_to(person(world, "anne"))] == [
            "Announcement: Cantine"
        ]
