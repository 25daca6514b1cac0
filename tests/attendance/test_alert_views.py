"""Alerts → Scheduled alerts, Notifications and Archived over HTTP (seed 000), in French."""

from __future__ import annotations

from sqlalchemy import select

from portal.attendance import alerts
from portal.attendance.models import Alert, AlertRule, MarkKind, PupilContact
from portal.core.audit import AuditEntry
from portal.extensions import db
from tests.attendance.test_alerts import _mark, _rule
from tests.school import in_english
from tests.web import csrf_token, logged_in, text

FORM = {
    "name": "Retards répétés",
    "colour": "#1d4ed8",
    "population": "pupil",
    "metric": "late_arrivals",
    "counted": "all",
    "trigger": "more",
    "low": "2",
    "period_amount": "30",
    "period_unit": "days",
    "scope": "everyone",
    "scope_group": "0",
}


def test_the_direction_creates_a_rule_and_bad_input_is_refused_by_each_field(app, world):
    direction = logged_in(app, world.logins["admin"])
    url = "/alerts/rules/new"
    bad = {
        **FORM,
        "csrf_token": csrf_token(direction, url),
        "name": "",
        "population": "teacher",
        "trigger": "between",
        "high": "1",
        "period_amount": "400",
    }
    answer = direction.post(url, data=bad)
    assert answer.status_code == 400
    for message in (
        "Donnez un nom à l&#39;alerte.",
        "Les retards et les départs anticipés sont comptés pour les élèves.",
        "Indiquez un nombre au moins égal au premier.",
        "Indiquez une période de 1 à 366.",
    ):
        assert message in text(answer), message
    with in_english(app):
        assert db.session.scalars(select(AlertRule)).all() == []
    answer = direction.post(url, data={**FORM, "csrf_token": csrf_token(direction, url)})
    assert answer.status_code == 302
    page = text(direction.get("/alerts/rules/"))
    assert "Retards répétés" in page and "colour-1d4ed8" in page
    with in_english(app):
        rule = db.session.scalars(select(AlertRule)).one()
        assert (rule.metric, rule.trigger, rule.low) == ("late_arrivals", "more", 2)
        (entry,) = db.session.scalars(select(AuditEntry)).all()
        assert entry.tag == "attendance:alert_rule:save"


def test_disable_enable_edit_and_delete(app, world):
    with in_english(app):
        rule_id = _rule(world, trigger="more", low=0).id
    direction = logged_in(app, world.logins["admin"])
    token = csrf_token(direction, "/alerts/rules/")
    direction.post(f"/alerts/rules/{rule_id}/enabled", data={"csrf_token": token, "enabled": "0"})
    with in_english(app):
        _mark(world, "léa")
        assert alerts.evaluate_all() == 0
    assert "désactivée" in text(direction.get("/alerts/rules/"))
    direction.post(f"/alerts/rules/{rule_id}/enabled", data={"csrf_token": token, "enabled": "1"})
    with in_english(app):
        assert alerts.evaluate_all() == 1
    edit = f"/alerts/rules/{rule_id}/edit"
    assert 'value="Absences répétées"' in text(direction.get(edit))
    answer = direction.post(edit, data={**FORM, "csrf_token": token, "name": "Renommée"})
    assert answer.status_code == 302
    answer = direction.post(f"/alerts/rules/{rule_id}/delete", data={"csrf_token": token})
    assert answer.status_code == 302
    with in_english(app):
        assert db.session.get(AlertRule, rule_id) is None
        (alert,) = db.session.scalars(select(Alert)).all()
        assert alert.rule_name == "Absences répétées"  # kept as it fired


def test_alerts_are_listed_in_their_colour_and_archived(app, world):
    with in_english(app):
        rule = _rule(world, trigger="more", low=0, colour="#15803d", name="Absence")
        _mark(world, "hugo", MarkKind.ABSENT)
        (alert,) = alerts.evaluate(rule)
        db.session.commit()
        alert_id = alert.id
    staff = logged_in(app, world.logins["staff"])
    page = text(staff.get("/alerts/"))
    assert "colour-15803d" in page and "Hugo Martin" in page
    staff.post(f"/alerts/{alert_id}/archive", data={"csrf_token": csrf_token(staff, "/alerts/")})
    assert "Hugo Martin" not in text(staff.get("/alerts/"))
    assert "Hugo Martin" in text(staff.get("/alerts/archived"))


def test_only_the_direction_keeps_rules_and_other_schools_find_nothing(app, world):
    with in_english(app):
        rule_id = _rule(world).id
    for name in ("staff", "teacher", "anne"):
        client = logged_in(app, world.logins[name])
        assert client.get("/alerts/rules/new").status_code == 403, name
    for name in ("teacher", "anne", "léa"):
        assert logged_in(app, world.logins[name]).get("/alerts/").status_code == 403, name
    stranger = logged_in(app, world.logins["other_admin"])
    assert stranger.get(f"/alerts/rules/{rule_id}/edit").status_code == 404
    token = csrf_token(stranger, "/alerts/rules/")
    answer = stranger.post(f"/alerts/rules/{rule_id}/delete", data={"csrf_token": token})
    assert answer.status_code == 404


def test_the_direction_gives_a_pupil_a_tutor_checked_field_by_field(app, world):
    lea = world.ids["léa"]
    admin = logged_in(app, world.logins["admin"])
    token = csrf_token(admin, f"/admin/users/{lea}")
    refused = admin.post(
        f"/admin/users/{lea}/tutors",
        data={"csrf_token": token, "tutor-name": " ", "tutor-email": "pas une adresse"},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 400
    page = text(refused)
    assert "Give the tutor&#39;s name." in page and "This e-mail address is not valid." in page
    answer = admin.post(
        f"/admin/users/{lea}/tutors",
        data={"csrf_token": token, "tutor-name": "M. Garage", "tutor-email": "atelier@garage.fr"},
    )
    assert answer.status_code == 302
    with app.app_context():
        [tutor] = db.session.scalars(select(PupilContact)).all()
        assert (tutor.pupil_id, tutor.name, tutor.email) == (lea, "M. Garage", "atelier@garage.fr")
    assert "atelier@garage.fr" in text(admin.get(f"/admin/users/{lea}"))
    other = logged_in(app, world.logins["other_admin"])
    other_token = csrf_token(other, "/admin/")
    assert (
        other.post(
            f"/admin/users/{lea}/tutors/{tutor.id}/delete", data={"csrf_token": other_token}
        ).status_code
        == 404
    )
    parent = world.ids["anne"]
    assert (
        admin.post(
            f"/admin/users/{parent}/tutors/{tutor.id}/delete", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        admin.post(
            f"/admin/users/{lea}/tutors/{tutor.id}/delete", data={"csrf_token": token}
        ).status_code
        == 302
    )
    with app.app_context():
        assert db.session.scalars(select(PupilContact)).all() == []
