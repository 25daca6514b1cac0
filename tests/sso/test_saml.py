"""SAML 2.0 as a service provider: a signed assertion logs the linked person in; unsigned,
wrongly signed, replayed, expired and wrong-audience responses, unsolicited ones and XML
signature-wrapping attempts are refused and logged; our metadata are served."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.accounts.models import (
    IdentityProvider,
    ProviderKind,
    School,
    User,
)
from portal.extensions import db
from tests import factories as make
from tests.sso.helpers import link, provider, refusals
from tests.sso.saml_idp import MFA, SamlIdP, _key_and_certificate

ACS = "/login/provider/saml/acs"


@pytest.fixture(scope="module")
def idp():
    return SamlIdP()


@pytest.fixture
def place(app, idp):
    with app.app_context():
        school = make.school()
        academy = provider(
            school.id,
            kind=ProviderKind.SAML,
            name="Académie",
            url="",
            metadata_xml=idp.metadata(),
            profile_attribute="eduPersonAffiliation",
            profile_values={"teacher": ["faculty"]},
        )
        teacher = make.user(school, "teacher")
        link(academy, teacher, "saml-teacher")
        db.session.commit()
        return {"provider": academy.id, "teacher": teacher.id, "school": school.id}


def _asked(client, place, idp) -> dict:
    start = client.get(f"/login/provider/{place['provider']}")
    assert start.status_code == 302
    assert start.headers["Location"].startswith(idp.sso_url + "?SAMLRequest=")
    return idp.request_of(start.headers["Location"])


def _post(client, response: str):
    return client.post(ACS, data={"SAMLResponse": response})


FACULTY = {"eduPersonAffiliation": ["faculty"]}


def test_a_signed_assertion_logs_the_linked_teacher_in(app, client, place, idp):
    request = _asked(client, place, idp)
    answer = _post(client, idp.response(request, "saml-teacher", attributes=FACULTY))
    assert answer.headers["Location"] == "/teacher/", refusals(app)
    assert client.get("/teacher/").status_code == 200


def test_the_same_response_twice_is_refused(app, client, place, idp):
    request = _asked(client, place, idp)
    response = idp.response(request, "saml-teacher", attributes=FACULTY)
    assert _post(client, response).headers["Location"] == "/teacher/"
    other = app.test_client()
    assert _post(other, response).headers["Location"] == "/login"
    assert other.get("/teacher/").status_code == 302


def test_an_unsolicited_response_is_refused(app, client, place, idp):
    made_up = {"id": "_not-ours", "acs": "http://127.0.0.1:5000" + ACS, "issuer": None}
    made_up["issuer"] = "http://127.0.0.1:5000/login/provider/saml/metadata"
    answer = _post(client, idp.response(made_up, "saml-teacher", attributes=FACULTY))
    assert answer.headers["Location"] == "/login"
    assert client.get("/teacher/").status_code == 302


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        ({"signed": False}, "not signed"),
        ({"key": _key_and_certificate("another")}, "Signature validation failed"),
        ({"issued": dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)}, "expired"),
        ({"audience": "https://another-service.example/sp"}, "not a valid audience"),
    ],
    ids=["unsigned", "another-key", "expired", "another-audience"],
)
def test_a_spoiled_response_is_refused_and_logged(app, client, place, idp, spoil, why):
    request = _asked(client, place, idp)
    answer = _post(client, idp.response(request, "saml-teacher", attributes=FACULTY, **spoil))
    assert answer.headers["Location"] == "/login"
    assert client.get("/teacher/").status_code == 302
    (reason,) = refusals(app)
    assert why in reason


@pytest.mark.parametrize("shape", ["sibling", "advice"])
def test_signature_wrapping_is_refused(app, client, place, idp, shape):
    request = _asked(client, place, idp)
    signed = idp.response_xml(request, "saml-teacher", attributes=FACULTY)
    answer = _post(client, idp.encode(idp.wrapped(signed, "saml-teacher-evil", shape)))
    assert answer.headers["Location"] == "/login"
    assert client.get("/teacher/").status_code == 302
    (reason,) = refusals(app)
    assert "must contain 1 assertion" in reason


def test_another_profile_said_is_refused(app, client, place, idp):
    request = _asked(client, place, idp)
    response = idp.response(
        request, "saml-teacher", attributes={"eduPersonAffiliation": ["student"]}
    )
    assert _post(client, response).headers["Location"] == "/login"
    assert "profile teacher" in refusals(app)[0]


def test_the_providers_mfa_is_read_from_the_authn_context(app, client, place, idp):
    with app.app_context():
        teacher = db.session.get(User, place["teacher"])
        teacher.profile = "staff"  # the direction and staff have Carnet's own code
        provider = db.session.get(IdentityProvider, place["provider"])
        provider.profile_values = {"staff": ["faculty"]}
        db.session.commit()
    from tests.accounts.totp import enrol

    answer = _post(
        client, idp.response(_asked(client, place, idp), "saml-teacher", attributes=FACULTY)
    )
    assert answer.headers["Location"] == "/staff/"
    enrol(client)
    client.post("/logout", data={"csrf_token": ""})
    client.delete_cookie("session")
    with app.app_context():
        db.session.get(School, place["school"]).trust_provider_mfa = True
        db.session.commit()
    plain = _post(
        client, idp.response(_asked(client, place, idp), "saml-teacher", attributes=FACULTY)
    )
    assert plain.headers["Location"] == "/login/code"
    client.delete_cookie("session")
    strong = idp.response(
        _asked(client, place, idp), "saml-teacher", attributes=FACULTY, authn_class=MFA
    )
    assert _post(client, strong).headers["Location"] == "/staff/"


def test_our_metadata_are_served(client):
    answer = client.get("/login/provider/saml/metadata")
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert 'entityID="http://127.0.0.1:5000/login/provider/saml/metadata"' in body
    assert "http://127.0.0.1:5000/login/provider/saml/acs" in body
