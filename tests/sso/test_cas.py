"""CAS 3.0 against a server on loopback that follows the protocol's specification: a ticket
is validated once, for our service only; the attributes it releases check the profile."""

from __future__ import annotations

import pytest

from portal.accounts.models import IdentityProvider
from portal.extensions import db
from tests import factories as make
from tests.sso.conftest import RETURN, at_provider, through
from tests.sso.helpers import link, provider, refusals
from tests.web import post


@pytest.fixture
def place(app, cas):
    with app.app_context():
        school = make.school()
        ent = provider(
            school.id,
            name="ENT test",
            url=cas.url,
            profile_attribute="profil",
            profile_values={"teacher": ["enseignant"]},
        )
        teacher = make.user(school, "teacher")
        link(ent, teacher, "ent-teacher")
        db.session.commit()
        return {"provider": ent.id, "teacher": teacher.id}


def test_a_linked_teacher_logs_in_through_cas(client, place, app):
    answer = through(client, place["provider"], "ent-teacher")
    assert answer.headers["Location"] == "/teacher/", refusals(app)
    assert client.get("/teacher/").status_code == 200


def test_a_ticket_serves_once(app, client, place):
    start = client.get(f"/login/provider/{place['provider']}")
    back = at_provider(start.headers["Location"], "ent-teacher")
    assert client.get(back).headers["Location"] == "/teacher/"
    post(client, "/logout", page="/teacher/")
    # the same return address again: the session no longer says a provider was visited
    assert client.get(back).headers["Location"] == "/login"
    # and a visit started anew with the old ticket is refused by the server
    client.get(f"/login/provider/{place['provider']}")
    assert client.get(back).headers["Location"] == "/login"
    assert client.get("/teacher/").status_code == 302
    assert "ticket refused" in refusals(app)[-1]


def test_a_ticket_issued_for_another_service_is_refused(app, client, place, cas):
    ticket = cas.issue("https://another-service.example/cas/back", "ent-teacher")
    client.get(f"/login/provider/{place['provider']}")
    answer = client.get(f"/login/provider/back?ticket={ticket}")
    assert answer.headers["Location"] == "/login"
    assert client.get("/teacher/").status_code == 302
    assert refusals(app) == ["ticket refused by the CAS server"]


def test_the_ticket_is_asked_for_our_own_return_address(client, place, cas):
    start = client.get(f"/login/provider/{place['provider']}")
    assert start.headers["Location"].startswith(cas.url + "/login?service=")
    assert RETURN.replace(":", "%3A").replace("/", "%2F") in start.headers["Location"]


def test_cas_attributes_saying_another_profile_are_refused(app, client, place, cas):
    cas.attributes["ent-teacher"]["profil"] = "eleve"
    answer = through(client, place["provider"], "ent-teacher")
    assert answer.headers["Location"] == "/login"
    assert "profile teacher" in refusals(app)[0]


def test_an_unreachable_cas_server_is_a_refusal_not_an_error(app, client, place):
    with app.app_context():
        db.session.get(IdentityProvider, place["provider"]).url = "http://127.0.0.1:9/"
        db.session.commit()
    client.get(f"/login/provider/{place['provider']}")
    answer = client.get("/login/provider/back?ticket=ST-whatever")
    assert answer.headers["Location"] == "/login"
    assert "ConnectionError" in refusals(app)[0]
