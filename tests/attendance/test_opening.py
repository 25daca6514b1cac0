"""When a register opens and when families hear of it (SPEC §6): a teacher takes the register
from the school's N minutes before the session, never hours before — the page says when it
opens and a crafted mark is refused; the direction sets N; the staff record an absence
announced in advance at any time, and the family is told, sees it and the alert rules count it
only from the session's start."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.accounts.models import School
from portal.attendance import alerts, services
from portal.attendance.models import Alert, AlertRule, AttendanceMark, ClassSession, MarkKind
from portal.core import clock, outbox
from portal.core.audit import AuditEntry, AuditTag
from portal.core.outbox import OutboxItem
from portal.extensions import db
from portal.notifications.present import present
from tests.attendance.test_alerts import _rule
from tests.notifications.helpers import deliver_due, delivered_to
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


def test_staff_record_an_absence_in_advance_and_the_family_hears_of_it_at_the_start(
    app, world, afternoon
):
    staff = logged_in(app, world.logins["staff"])
    page = text(staff.get(_register(afternoon), headers=EN))
    assert "families will hear of what you record here at its start, 14:00." in page
    answer = _tap(staff, afternoon, world, "léa", "absent")
    assert answer.status_code == 200
    anne = logged_in(app, world.logins["anne"])
    with in_english(app):
        assert _marks() == [(world.ids["léa"], "absent")]
        # Announced in advance, it does not take the register: nobody was present yet.
        assert db.session.get(ClassSession, afternoon).register_taken_at is None
        assert deliver_due() == 0
    assert "14:00–15:00" not in text(anne.get("/attendance/", headers=EN))
    clock.freeze(START - dt.timedelta(seconds=1))
    with in_english(app):
        assert deliver_due() == 0
        assert delivered_to(person(world, "anne"), "attendance") == []
    assert "14:00–15:00" not in text(anne.get("/attendance/", headers=EN))
    clock.freeze(START)
    with in_english(app):
        assert deliver_due() == 2  # Anne and Alain, at 14:00
        (told,) = delivered_to(person(world, "alain"), "attendance")
        assert told.delivered_at == START
        assert present(told).headline == (
            "Attendance of Léa Martin: absent on Monday, November 23, 2026, 14:00–15:00"
        )
    family = text(anne.get("/attendance/", headers=EN))
    assert "Absent" in family and "14:00–15:00" in family


def test_an_absence_taken_back_before_the_start_is_never_told(app, world, afternoon):
    staff = logged_in(app, world.logins["staff"])
    _tap(staff, afternoon, world, "léa", "absent")
    _tap(staff, afternoon, world, "léa", "present")
    clock.freeze(START)
    with in_english(app):
        assert _marks() == []
        assert deliver_due() == 0
        assert delivered_to(person(world, "anne"), "attendance") == []


def test_a_session_removed_before_its_start_takes_its_absences_and_their_news_with_it(
    app, world, afternoon
):
    staff = logged_in(app, world.logins["staff"])
    _tap(staff, afternoon, world, "léa", "absent")
    answer = staff.post(
        f"/attendance/sessions/{afternoon}/cancel",
        data={"csrf_token": csrf_token(staff, "/attendance/")},
    )
    assert answer.status_code == 302
    clock.freeze(START)
    with in_english(app):
        assert db.session.get(ClassSession, afternoon) is None and _marks() == []
        assert deliver_due() == 0


def test_alert_rules_count_an_absence_recorded_in_advance_from_its_session_start(
    app, world, afternoon
):
    with in_english(app):
        rule = _rule(world, trigger="more", low=0)  # absent at all
        services.record(
            person(world, "staff"),
            db.session.get(ClassSession, afternoon),
            person(world, "léa"),
            MarkKind.ABSENT,
        )
        db.session.commit()
        evaluations = db.session.execute(
            select(OutboxItem.id, OutboxItem.available_at)
            .where(OutboxItem.kind == "alert_evaluation")
            .order_by(OutboxItem.available_at)
        ).all()
        assert [at for _id, at in evaluations] == [MONDAY, START]
        (now, at_start), rule_id = [item_id for item_id, _at in evaluations], rule.id
        # Before its start the absence counts neither after the change nor on the schedule.
        assert outbox.run_item(now) == "done"
        assert alerts.evaluate(db.session.get(AlertRule, rule_id)) == []
        assert db.session.scalars(select(Alert)).all() == []
        assert outbox.run_item(at_start) == "skipped", "not before 14:00"
    clock.freeze(START)
    with in_english(app):
        assert outbox.run_item(at_start) == "done"
        [alert] = db.session.scalars(select(Alert)).all()
        assert (alert.person_id, alert.amount) == (world.ids["léa"], 1)
