"""When a register opens (SPEC §6): a teacher takes the register from the school's N minutes
before the session, never hours before — the page says when it opens and a crafted mark is
refused; the direction sets N."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.accounts.models import School
from portal.attendance import services
from portal.attendance.models import AttendanceMark, ClassSession, MarkKind
from portal.audit.models import AuditEntry, AuditTag
from portal.core import clock
from portal.extensions import db
from tests.school import MONDAY, in_english, person, schedule_5b
from tests.web import csrf_token, field_error, logged_in, text

HTMX = {"HX-Request": "true"}
EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
#: The afternoon lesson: 5B, Monday 14:00 to 15:00 in Paris (13:00 UTC); the clock says 10:00.
START = MONDAY.replace(hour=13)


@pytest.fixture
def afternoon(app, world) -> int:
    with in_english(app):
        return schedule_5b(world, 14, 15)


def _register(lesson: int) -> str:
    return f"/attendance/sessions/{lesson}/register"


def _tap(client, lesson, world, pupil, state, headers=HTMX):
    data = {"csrf_token": csrf_token(client, "/attendance/"), f"state-{world.ids[pupil]}": state}
    return client.post(
        f"/attendance/sessions/{lesson}/pupils/{world.ids[pupil]}", data=data, headers=headers
    )


def _marks() -> list[tuple[int, str]]:
    db.session.expire_all()
    return db.session.execute(
        select(AttendanceMark.person_id, AttendanceMark.kind).order_by(AttendanceMark.person_id)
    ).all()


def test_a_teacher_takes_the_register_from_ten_minutes_before_the_session_not_earlier(
    app, world, afternoon
):
    teacher = logged_in(app, world.logins["teacher"])
    page = text(teacher.get(_register(afternoon), headers=EN))
    assert "The register opens at 13:50." in page
    assert 'name="state-' not in page, "no register to fill before it opens"
    day = text(teacher.get("/attendance/", headers=EN))
    assert "the register opens at 13:50" in day
    # A crafted tap, or the whole register posted, is refused and saves nothing.
    clock.freeze(START - dt.timedelta(minutes=10, seconds=1))
    assert _tap(teacher, afternoon, world, "léa", "absent").status_code == 403
    whole = {
        "csrf_token": csrf_token(teacher, "/attendance/"),
        f"state-{world.ids['hugo']}": "absent",
    }
    assert teacher.post(_register(afternoon), data=whole).status_code == 403
    with in_english(app):
        assert _marks() == []
        assert db.session.get(ClassSession, afternoon).register_taken_at is None
        with pytest.raises(PermissionError):
            services.record(
                person(world, "teacher"),
                db.session.get(ClassSession, afternoon),
                person(world, "léa"),
                MarkKind.ABSENT,
            )
        db.session.rollback()
    # From 13:50 the register is open.
    clock.freeze(START - dt.timedelta(minutes=10))
    assert 'name="state-' in text(teacher.get(_register(afternoon)))
    answer = _tap(teacher, afternoon, world, "léa", "absent")
    assert answer.status_code == 200 and "Enregistré" in text(answer)
    with in_english(app):
        assert _marks() == [(world.ids["léa"], "absent")]
        assert db.session.get(ClassSession, afternoon).register_taken_at is not None


def _settings(client, minutes, headers=EN):
    data = {
        "csrf_token": csrf_token(client, "/admin/settings"),
        "email_priority": "user",
        "families_see_file": "y",
        "register_opens_minutes": minutes,
    }
    return client.post("/admin/settings", data=data, headers=headers)


def test_the_direction_sets_when_registers_open_and_bad_values_are_refused_next_to_the_field(
    app, world, afternoon
):
    direction = logged_in(app, world.logins["admin"])
    page = text(direction.get("/admin/settings", headers=EN))
    assert 'name="register_opens_minutes"' in page and 'value="10"' in page
    for minutes, headers, message in (
        ("241", EN, "Give a number of minutes from 0 to 240."),
        ("-5", EN, "Give a number of minutes from 0 to 240."),
        ("", EN, "Give a number of minutes from 0 to 240."),
        ("241", FR, "Indiquez un nombre de minutes de 0 à 240."),
        ("dix", EN, "Not a valid integer value."),
        ("dix", FR, "N'est pas un entier valide."),
    ):
        answer = _settings(direction, minutes, headers)
        assert answer.status_code == 400, minutes
        assert field_error(answer, "register_opens_minutes") == message
    with in_english(app):
        school = db.session.get(School, world.school)
        assert (school.register_opens_minutes, school.families_see_file) == (10, False)
        assert db.session.scalars(select(AuditEntry)).all() == []  # nothing half-saved
    assert _settings(direction, "30").status_code == 302
    with in_english(app):
        assert db.session.get(School, world.school).register_opens_minutes == 30
        entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.tag == AuditTag.SCHOOL_SETTINGS_CHANGED)
            .order_by(AuditEntry.id)
        ).all()
        assert [e.details for e in entries] == [
            {"register_opens_minutes": 30},
            {"families_see_file": True},
        ]
    # The teacher's register now opens half an hour before the session.
    teacher = logged_in(app, world.logins["teacher"])
    assert "The register opens at 13:30." in text(teacher.get(_register(afternoon), headers=EN))
    clock.freeze(START - dt.timedelta(minutes=30, seconds=1))
    assert _tap(teacher, afternoon, world, "hugo", "absent").status_code == 403
    clock.freeze(START - dt.timedelta(minutes=30))
    assert _tap(teacher, afternoon, world, "hugo", "absent").status_code == 200
    assert logged_in(app, world.logins["teacher"]).get("/admin/settings").status_code == 403
