"""Sessions and the register (SPEC §6): every pupil present by default, one tap for absent, late
or left early saved through HTMX, the guardians told at once, reasons added by the staff,
teachers' absences, and each family's view. Over HTTP, in French unless said."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from portal.attendance import services
from portal.attendance.models import AttendanceMark, ClassSession, MarkKind
from portal.extensions import db
from portal.groups.models import Group
from portal.notifications.present import present
from tests.notifications.helpers import deliver_due, delivered_to
from tests.school import MONDAY, in_english, person, schedule_5b
from tests.web import csrf_token, logged_in, text

HTMX = {"HX-Request": "true"}
EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}


@pytest.fixture
def lesson(app, world) -> int:
    """5B, Monday 10:00 to 11:00 in Paris, taught by the teacher."""
    with in_english(app):
        return schedule_5b(world)


def _tap(client, lesson, world, pupil, state, minutes=""):
    url = f"/attendance/sessions/{lesson}/register"
    data = {
        "csrf_token": csrf_token(client, url),
        f"state-{world.ids[pupil]}": state,
        f"minutes-{world.ids[pupil]}": minutes,
    }
    return client.post(
        f"/attendance/sessions/{lesson}/pupils/{world.ids[pupil]}", data=data, headers=HTMX
    )


def _marks() -> list[tuple[int, str, int]]:
    return db.session.execute(
        select(AttendanceMark.person_id, AttendanceMark.kind, AttendanceMark.minutes).order_by(
            AttendanceMark.person_id
        )
    ).all()


def test_an_absence_tapped_on_the_register_is_saved_and_told_to_both_guardians(app, world, lesson):
    teacher = logged_in(app, world.logins["teacher"])
    page = text(teacher.get(f"/attendance/sessions/{lesson}/register"))
    assert "Martin Léa" in page and "Martin Hugo" in page and "Martin Chloé" not in page
    answer = _tap(teacher, lesson, world, "léa", "absent")
    assert answer.status_code == 200
    assert "Enregistré" in text(answer)
    with in_english(app):
        assert _marks() == [(world.ids["léa"], "absent", 60)]
        assert db.session.get(ClassSession, lesson).register_taken_at is not None
        assert deliver_due() == 2  # immediate: no window to wait for
        (told,) = delivered_to(person(world, "alain"), "attendance")
        assert present(told).headline == (
            "Attendance of Léa Martin: absent on Monday, November 23, 2026, 10:00–11:00"
        )
        assert delivered_to(person(world, "béatrice"), "attendance") == []


def test_late_asks_for_the_minutes_and_is_saved_once_they_are_given(app, world, lesson):
    teacher = logged_in(app, world.logins["teacher"])
    answer = _tap(teacher, lesson, world, "hugo", "late")
    assert "Combien de minutes ?" in text(answer)
    assert "autofocus" in text(answer)
    with in_english(app):
        assert _marks() == []
    answer = _tap(teacher, lesson, world, "hugo", "late", "90")
    assert answer.status_code == 422
    assert "Indiquez les minutes, de 1 à 60." in text(answer)
    answer = _tap(teacher, lesson, world, "hugo", "late", "12")
    assert answer.status_code == 200
    with in_english(app):
        assert _marks() == [(world.ids["hugo"], "late", 12)]
        deliver_due()
        (told,) = delivered_to(person(world, "béatrice"), "attendance")
        assert "12 minutes late" in present(told).headline


def test_an_absence_taken_back_before_it_leaves_is_not_told(app, world, lesson):
    teacher = logged_in(app, world.logins["teacher"])
    _tap(teacher, lesson, world, "léa", "absent")
    _tap(teacher, lesson, world, "léa", "present")
    with in_english(app):
        assert _marks() == []
        deliver_due()
        assert delivered_to(person(world, "anne"), "attendance") == []


def test_the_whole_register_without_scripts(app, world, lesson):
    teacher = logged_in(app, world.logins["teacher"])
    url = f"/attendance/sessions/{lesson}/register"
    data = {
        "csrf_token": csrf_token(teacher, url),
        f"state-{world.ids['léa']}": "left_early",
        f"minutes-{world.ids['léa']}": "70",
        f"state-{world.ids['hugo']}": "absent",
    }
    answer = teacher.post(url, data=data)
    assert answer.status_code == 400
    assert "Indiquez les minutes, de 1 à 60." in text(answer)
    with in_english(app):
        assert _marks() == []  # nothing half-saved
    data[f"minutes-{world.ids['léa']}"] = "15"
    assert teacher.post(url, data=data).status_code == 302
    with in_english(app):
        assert _marks() == [(world.ids["léa"], "left_early", 15), (world.ids["hugo"], "absent", 60)]


def test_only_the_sessions_teacher_and_the_staff_take_its_register(app, world, lesson):
    url = f"/attendance/sessions/{lesson}/register"
    assert logged_in(app, world.logins["staff"]).get(url).status_code == 200
    for name in ("colleague", "anne", "léa"):
        client = logged_in(app, world.logins[name])
        assert client.get(url).status_code == 403, name
        assert _tap(client, lesson, world, "léa", "absent").status_code == 403, name
    stranger = logged_in(app, world.logins["other_admin"])
    assert stranger.get(url).status_code == 404
    teacher = logged_in(app, world.logins["teacher"])
    assert _tap(teacher, lesson, world, "chloé", "absent").status_code == 404  # not in 5B
    with in_english(app):
        assert _marks() == []


def test_the_staff_add_a_reason_and_the_family_sees_it(app, world, lesson):
    teacher = logged_in(app, world.logins["teacher"])
    _tap(teacher, lesson, world, "léa", "absent")
    with in_english(app):
        mark_id = db.session.scalar(select(AttendanceMark.id))
    staff = logged_in(app, world.logins["staff"])
    page = text(staff.get("/attendance/marks?day=2026-11-23"))
    assert "Martin Léa" in page
    answer = staff.post(
        f"/attendance/marks/{mark_id}",
        data={
            "csrf_token": csrf_token(staff, "/attendance/"),
            f"mark-{mark_id}-reason": "Rendez-vous médical",
            f"mark-{mark_id}-justified": "y",
        },
        headers=HTMX,
    )
    assert answer.status_code == 200 and "Enregistré" in text(answer)
    family = text(logged_in(app, world.logins["anne"]).get("/attendance/"))
    assert "Rendez-vous médical" in family
    assert "Léa Martin" in family and "Zoé Martin" in family  # one section per child
    answer = teacher.post(
        f"/attendance/marks/{mark_id}", data={"csrf_token": csrf_token(teacher, "/attendance/")}
    )
    assert answer.status_code == 403


def test_the_staff_add_weekly_sessions_and_bad_input_is_refused_by_each_field(app, world):
    staff = logged_in(app, world.logins["staff"])
    url = "/attendance/sessions/new"
    data = {
        "csrf_token": csrf_token(staff, url),
        "group": str(world.groups["4A"]),
        "teacher": str(world.ids["colleague"]),
        "day": "2026-11-24",
        "start": "14:00",
        "end": "13:00",
    }
    answer = staff.post(url, data=data)
    assert answer.status_code == 400
    assert "La séance doit finir après avoir commencé." in text(answer)
    data |= {"end": "15:00", "repeat_until": "2026-12-15"}
    assert staff.post(url, data=data).status_code == 302
    with in_english(app):
        starts = db.session.scalars(select(ClassSession.starts_at).order_by("starts_at")).all()
        assert [s.isoformat() for s in starts] == [
            "2026-11-24T13:00:00+00:00",
            "2026-12-01T13:00:00+00:00",
            "2026-12-08T13:00:00+00:00",
            "2026-12-15T13:00:00+00:00",
        ]
    teacher = logged_in(app, world.logins["teacher"])
    assert teacher.get(url).status_code == 403


def test_a_teacher_absence_marks_each_of_their_sessions_in_the_period(app, world, lesson):
    with in_english(app):
        services.schedule(
            person(world, "admin"),
            db.session.get(Group, world.groups["ULIS"]),
            person(world, "teacher"),
            dt.date(2026, 11, 23),
            dt.time(14, 0),
            dt.time(15, 0),
        )
        db.session.commit()
    staff = logged_in(app, world.logins["staff"])
    url = "/attendance/teachers/absence"
    answer = staff.post(
        url,
        data={
            "csrf_token": csrf_token(staff, url),
            "teacher": str(world.ids["teacher"]),
            "start": "2026-11-23T08:00",
            "end": "2026-11-23T18:00",
            "reason": "Formation",
        },
    )
    assert answer.status_code == 302
    with in_english(app):
        marks = db.session.scalars(select(AttendanceMark)).all()
        assert (
            sorted((m.person_id, m.kind, m.minutes, m.reason) for m in marks)
            == [(world.ids["teacher"], "absent", 60, "Formation")] * 2
        )
        again = services.record_teacher_absence(
            person(world, "staff"),
            person(world, "teacher"),
            MONDAY,
            MONDAY + dt.timedelta(hours=8),
            "",
        )
        assert again == 0  # already recorded: nothing twice
        assert db.session.scalar(select(func.count(AttendanceMark.id))) == 2


def test_a_session_whose_register_was_taken_stays_in_the_timetable(app, world, lesson):
    teacher = logged_in(app, world.logins["teacher"])
    _tap(teacher, lesson, world, "léa", "absent")
    staff = logged_in(app, world.logins["staff"])
    answer = staff.post(
        f"/attendance/sessions/{lesson}/cancel",
        data={"csrf_token": csrf_token(staff, "/attendance/")},
        follow_redirects=True,
    )
    assert "L&#39;appel de cette séance a été fait : elle reste." in text(answer)
    with in_english(app):
        assert db.session.get(ClassSession, lesson) is not None


def test_the_register_in_english(app, world, lesson):
    teacher = logged_in(app, world.logins["teacher"])
    page = text(
        teacher.get(f"/attendance/sessions/{lesson}/register", headers={"Accept-Language": "en"})
    )
    assert "Everyone is present unless you say otherwise." in page
    assert "Left early" in page


def test_a_sessions_hours_read_like_a_timetable_in_both_languages(app, world, lesson):
    teacher = logged_in(app, world.logins["teacher"])
    page = text(teacher.get(f"/attendance/sessions/{lesson}/register", headers=FR))
    assert "lundi 23 novembre 2026, 10:00–11:00 · Paul Prof" in page
    page = text(teacher.get(f"/attendance/sessions/{lesson}/register", headers=EN))
    assert "Monday, November 23, 2026, 10:00–11:00 · Paul Prof" in page
    for language in (FR, EN):
        shown = text(teacher.get(f"/attendance/sessions/{lesson}/register", headers=language))
        assert ":00:00" not in shown and "heure normale" not in shown and "Central" not in shown
        day = text(teacher.get("/attendance/?day=2026-11-23", headers=language))
        assert "<strong>10:00–11:00</strong>" in day


def test_a_childs_whole_year_is_read_a_page_at_a_time(app, world):
    with app.app_context():
        teacher, lea = person(world, "teacher"), person(world, "léa")
        for n in range(55):
            start = MONDAY - dt.timedelta(days=n + 1)
            session = ClassSession(
                school_id=world.school,
                group_id=world.groups["5B"],
                teacher_id=teacher.id,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
            )
            db.session.add(session)
            db.session.flush()
            services.record(teacher, session, lea, MarkKind.ABSENT, None)
        db.session.commit()
    anne = logged_in(app, world.logins["anne"])
    first = text(anne.get("/attendance/", headers={"Accept-Language": "en"}))
    assert first.count("<tr>") == 1 + 50  # the head, then the latest 50
    older = text(anne.get(f"/attendance/people/{world.ids['léa']}?page=2"))
    assert older.count("<tr>") == 1 + 5
    assert f"/attendance/people/{world.ids['léa']}?page=1" in older
    for stranger in ("other_parent", "carole"):
        client = logged_in(app, world.logins[stranger])
        assert client.get(f"/attendance/people/{world.ids['léa']}").status_code == 404
