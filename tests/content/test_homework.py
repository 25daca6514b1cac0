"""Homework (SPEC §5, seed 001 'devoir préparé'): visibility, notifications, permissions, the
week per child, and deletion as a sensitive action. Over HTTP, in French unless said."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from portal.content import homework as service
from portal.content.homework import HomeworkInput
from portal.content.models import Homework
from portal.core import clock
from portal.core.audit import AuditEntry
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups.models import Group
from portal.notifications.present import present
from tests.notifications.helpers import deliver_due, delivered_to
from tests.school import MONDAY, in_english, person
from tests.web import csrf_token, logged_in, text

TUESDAY = dt.date(2026, 11, 24)
FRIDAY = dt.date(2026, 11, 27)


def _form(world, group="5B", **values) -> dict:
    return {
        "group": str(world.groups[group]),
        "title": "Exercices 3 et 4 page 45",
        "description": "Faire les exercices <b>sans calculatrice</b>.",
        "due_on": FRIDAY.isoformat(),
        "visible_from": "",
        **values,
    }


def _set(client, world, **values):
    data = {"csrf_token": csrf_token(client, "/homework/new"), **_form(world, **values)}
    return client.post("/homework/new", data=data)


def _homework_count() -> int:
    return db.session.scalar(select(func.count(Homework.id)))


def test_homework_visible_tomorrow_is_hidden_from_parents_today_and_told_tomorrow(app, world):
    teacher = logged_in(app, world.logins["teacher"])
    answer = _set(teacher, world, visible_from=TUESDAY.isoformat())
    assert answer.status_code == 302
    homework_url = answer.headers["Location"]
    parent = logged_in(app, world.logins["béatrice"])
    week = text(parent.get("/homework/"))
    assert "Exercices 3 et 4" not in week
    assert parent.get(homework_url).status_code == 404
    with in_english(app):
        assert deliver_due() == 0
        clock.freeze(MONDAY + dt.timedelta(hours=3))  # still Monday in Paris
        assert deliver_due() == 0
        assert delivered_to(person(world, "béatrice"), "homework") == []
        # Tuesday, 00:00 in Paris: visible, and told to the group's pupils and guardians.
        clock.freeze(dt.datetime(2026, 11, 23, 23, 0, tzinfo=dt.UTC))
        assert deliver_due() == 5  # Léa, Anne, Alain, Hugo, Béatrice
        (told,) = delivered_to(person(world, "béatrice"), "homework")
        assert present(told).headline == "Homework for 5B: Exercices 3 et 4 page 45"
        assert delivered_to(person(world, "carole"), "homework") == []
    assert "Exercices 3 et 4 page 45" in text(parent.get("/homework/"))
    assert "sans calculatrice" in text(parent.get(homework_url))


def test_a_teacher_cant_set_homework_for_a_class_they_dont_teach(app, world):
    teacher = logged_in(app, world.logins["teacher"])
    answer = _set(teacher, world, group="4A")  # a crafted form: 4A is not offered to them
    assert answer.status_code == 400
    assert 'aria-invalid="true"' in text(answer)
    with in_english(app):
        assert _homework_count() == 0
        with pytest.raises(ValidationError) as refused:
            service.set_homework(person(world, "teacher"), _asked(world, group="4A"))
        assert list(refused.value.errors) == ["group"]
        db.session.rollback()
        assert _homework_count() == 0


def test_pupils_and_parents_cant_set_homework(app, world):
    for name in ("béatrice", "hugo", "admin"):
        client = logged_in(app, world.logins[name])
        assert client.get("/homework/new").status_code == 403
        answer = client.post(
            "/homework/new",
            data={"csrf_token": csrf_token(client, "/homework/"), **_form(world)},
        )
        assert answer.status_code == 403
    with in_english(app):
        assert _homework_count() == 0


def test_bad_input_is_refused_next_to_each_field_and_nothing_is_saved(app, world):
    teacher = logged_in(app, world.logins["teacher"])
    answer = _set(teacher, world, title="  ", due_on="2026-11-20", description="")
    body = text(answer)
    assert answer.status_code == 400
    assert "Donnez un titre au devoir." in body
    assert "Décrivez le travail." in body
    assert "Ce jour est passé." in body
    answer = _set(teacher, world, due_on=TUESDAY.isoformat(), visible_from="2026-11-25")
    assert "Le travail ne peut pas être à rendre avant d&#39;être visible." in text(answer)
    with in_english(app):
        assert _homework_count() == 0


def _asked(world, group="5B", **changes) -> HomeworkInput:
    asked = HomeworkInput(
        group=db.session.get(Group, world.groups[group]),
        title="Rédaction",
        description="Une page sur les vacances",
        due_on=FRIDAY,
        visible_from=None,
    )
    for key, value in changes.items():
        setattr(asked, key, value)
    return asked


def _set_directly(world, author="teacher", **changes) -> int:
    homework = service.set_homework(person(world, author), _asked(world, **changes))
    db.session.commit()
    return homework.id


def test_changes_within_the_hour_give_one_notification_and_discreet_ones_none(app, world):
    with in_english(app):
        homework_id = _set_directly(world)
        for minutes, title in ((10, "Rédaction (2 pages)"), (20, "Rédaction (3 pages)")):
            clock.freeze(MONDAY + dt.timedelta(minutes=minutes))
            service.change_homework(
                person(world, "teacher"),
                db.session.get(Homework, homework_id),
                _asked(world, title=title, discreet=minutes == 20),
            )
            db.session.commit()
        clock.freeze(MONDAY + dt.timedelta(hours=1))
        assert deliver_due() == 5
        (told,) = delivered_to(person(world, "anne"), "homework")
        assert told.events == 2  # set, then changed; the discreet change told nobody
        assert present(told).headline == "Homework for 5B: Rédaction (2 pages)"
        assert present(told).lines == ["Due Friday, November 27, 2026"]


def test_deleting_homework_tells_families_and_the_direction_and_is_audited(app, world):
    with in_english(app):
        homework_id = _set_directly(world)
        clock.freeze(MONDAY + dt.timedelta(hours=2))
        deliver_due()
    teacher = logged_in(app, world.logins["teacher"])
    page = f"/homework/{homework_id}/delete"
    assert "journal des actions sensibles" in text(teacher.get(page))
    answer = teacher.post(page, data={"csrf_token": csrf_token(teacher, page)})
    assert answer.status_code == 302
    with in_english(app):
        assert db.session.get(Homework, homework_id) is None
        (entry,) = db.session.scalars(select(AuditEntry)).all()
        assert entry.tag == "content:homework:delete"
        assert entry.actor_id == world.ids["teacher"]
        assert entry.details["title"] == "Rédaction"
        clock.freeze(MONDAY + dt.timedelta(hours=4))
        deliver_due()
        (sensitive,) = delivered_to(person(world, "admin"), "sensitive_action")
        assert present(sensitive).lines == [
            "Paul Prof deleted the homework “Rédaction” of 5B due Friday, November 27, 2026"
        ]
        removed = delivered_to(person(world, "alain"), "homework")[-1]
        assert present(removed).headline == "Homework for 5B: Rédaction (removed)"


def test_homework_deleted_before_it_is_visible_tells_no_family(app, world):
    with in_english(app):
        homework_id = _set_directly(world, visible_from=TUESDAY)
        service.delete_homework(person(world, "teacher"), db.session.get(Homework, homework_id))
        db.session.commit()
        clock.freeze(MONDAY + dt.timedelta(days=2))
        deliver_due()
        assert delivered_to(person(world, "anne"), "homework") == []
        assert len(delivered_to(person(world, "admin"), "sensitive_action")) == 1


def test_a_parent_sees_the_week_of_each_child_labelled_by_child(app, world):
    with in_english(app):
        _set_directly(world, title="Rédaction 5B")
        _set_directly(world, "colleague", group="4A", title="Carte de l'Europe", due_on=TUESDAY)
    week = text(logged_in(app, world.logins["anne"]).get("/homework/"))
    lea, zoe = week.index("Léa Martin</h2>"), week.index("Zoé Martin</h2>")
    lea_part, zoe_part = (week[lea:zoe], week[zoe:]) if lea < zoe else (week[lea:], week[zoe:lea])
    assert "Rédaction 5B" in lea_part and "Carte de l&#39;Europe" not in lea_part
    assert "Carte de l&#39;Europe" in zoe_part and "Rédaction 5B" not in zoe_part
    assert "mardi 24 novembre 2026" in week
    carole = text(logged_in(app, world.logins["carole"]).get("/homework/"))
    assert "Carte de l&#39;Europe" in carole and "Rédaction 5B" not in carole


def test_teaching_group_homework_reaches_its_pupils_and_their_guardians_only(app, world):
    with in_english(app):
        _set_directly(world, group="ULIS", title="Atelier lecture")
        clock.freeze(MONDAY + dt.timedelta(hours=1))
        assert deliver_due() == 2  # Hugo and Béatrice
    assert "Atelier lecture" in text(logged_in(app, world.logins["hugo"]).get("/homework/"))
    assert "Atelier lecture" not in text(logged_in(app, world.logins["léa"]).get("/homework/"))


def test_only_the_groups_teachers_change_homework_and_others_dont_find_it(app, world):
    with in_english(app):
        homework_id = _set_directly(world)
    colleague = logged_in(app, world.logins["colleague"])
    assert colleague.get(f"/homework/{homework_id}").status_code == 404
    assert colleague.get(f"/homework/{homework_id}/edit").status_code == 404
    parent = logged_in(app, world.logins["anne"])
    assert parent.get(f"/homework/{homework_id}").status_code == 200
    assert parent.get(f"/homework/{homework_id}/edit").status_code == 403
    stranger = logged_in(app, world.logins["other_parent"])
    assert stranger.get(f"/homework/{homework_id}").status_code == 404
    direction = logged_in(app, world.logins["admin"])
    assert direction.get(f"/homework/?group={world.groups['5B']}").status_code == 200
    assert "Rédaction" in text(direction.get(f"/homework/?group={world.groups['5B']}"))


def test_the_week_page_in_english(app, world):
    with in_english(app):
        _set_directly(world)
    parent = logged_in(app, world.logins["béatrice"])
    english = text(parent.get("/homework/", headers={"Accept-Language": "en"}))
    assert "Friday, November 27, 2026" in english
    assert "Next week" in english
    french = text(parent.get("/homework/"))
    assert "vendredi 27 novembre 2026" in french
    assert "Semaine suivante" in french


def test_a_week_out_of_range_is_a_bad_request(app, world):
    parent = logged_in(app, world.logins["anne"])
    assert parent.get("/homework/?week=9999-12-31").status_code == 400
    assert parent.get("/homework/?week=not-a-day").status_code == 400
    assert parent.get("/homework/?week=2026-11-25").status_code == 200
