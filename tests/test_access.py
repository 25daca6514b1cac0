"""Every page checks who asks: a family sees only its own children, each profile lands on its
own home (tests/test_authorization.py walks every route for every profile)."""

from __future__ import annotations

import pytest

from portal.extensions import db
from tests import factories as make
from tests.web import csrf_token, log_in


@pytest.fixture
def two_schools(app):
    """School A and school B with a class, a family and staff each; returns ids."""
    with app.app_context():
        ids = {}
        for key in ("a", "b"):
            school = make.school()
            teacher = make.user(school, "teacher")
            class_group = make.school_class(school, "5B", teacher)
            pupil, (parent, _) = make.family(school, class_group)
            ids[key] = {
                "admin": make.user(school, "admin").login,
                "staff": make.user(school, "staff").login,
                "teacher": teacher.login,
                "parent": parent.login,
                "pupil": pupil.id,
                "pupil_login": pupil.login,
                "parent_id": parent.id,
                "class": class_group.id,
            }
        ids["webmaster"] = make.user(None, "webmaster").login
        db.session.commit()
        return ids


@pytest.mark.parametrize("profile", ["admin", "staff", "teacher"])
def test_another_schools_objects_are_404(client, two_schools, profile):
    b = two_schools["b"]
    log_in(client, two_schools["a"][profile])
    urls = [f"/groups/{b['class']}"]
    if profile == "admin":
        urls += [f"/admin/users/{b['pupil']}", f"/admin/users/{b['parent_id']}"]
    for url in urls:
        assert client.get(url).status_code == 404, url


def test_admin_cannot_change_another_schools_contact_details(app, client, two_schools):
    b = two_schools["b"]
    log_in(client, two_schools["a"]["admin"])
    answer = client.post(
        f"/admin/users/{b['parent_id']}/contact",
        data={"csrf_token": csrf_token(client, "/account"), "email": "hijack@example.org"},
    )
    assert answer.status_code == 404
    with app.app_context():
        from portal.accounts.models import User

        assert db.session.get(User, b["parent_id"]).email != "hijack@example.org"


def test_parent_asking_for_another_familys_pupil_gets_404(client, two_schools):
    a = two_schools["a"]
    log_in(client, a["parent"])
    assert client.get(f"/parent/children/{a['pupil']}").status_code == 200
    with_app_other_family = client.get(f"/parent/children/{two_schools['b']['pupil']}")
    assert with_app_other_family.status_code == 404
    assert client.get("/parent/children/999999").status_code == 404


def test_parent_cannot_open_a_class_page_or_the_direction_console(client, two_schools):
    a = two_schools["a"]
    log_in(client, a["parent"])
    assert client.get(f"/groups/{a['class']}").status_code == 403
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/users").status_code == 403


def test_teacher_sees_own_class_but_not_the_console(client, two_schools):
    a = two_schools["a"]
    log_in(client, a["teacher"])
    assert client.get(f"/groups/{a['class']}").status_code == 200
    assert client.get("/admin/").status_code == 403
    assert client.get("/webmaster/").status_code == 403


def test_webmaster_sees_every_school(client, two_schools):
    log_in(client, two_schools["webmaster"])
    assert client.get(f"/groups/{two_schools['b']['class']}").status_code == 200
    assert client.get("/webmaster/").status_code == 200


@pytest.mark.parametrize(
    ("profile", "home"),
    [
        ("admin", "/admin/"),
        ("staff", "/staff/"),
        ("teacher", "/teacher/"),
        ("parent", "/parent/"),
        ("pupil_login", "/pupil/"),
    ],
)
def test_each_profile_lands_on_its_own_home(client, two_schools, profile, home):
    answer = log_in(client, two_schools["a"][profile])
    assert answer.headers["Location"] == home
    assert client.get(home).status_code == 200
