"""Identity providers kept by the direction and the webmaster, people linked on their page,
the login page's choices, and passwords switched off per profile once a provider works."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts.models import (
    ExternalIdentity,
    IdentityProvider,
    LinkedBy,
    School,
)
from portal.core import clock, settings
from portal.core.audit import AuditEntry, AuditTag
from portal.extensions import db
from tests import factories as make
from tests.sso.helpers import provider
from tests.web import field_error, log_in, logged_in, post, text

EN = {"Accept-Language": "en"}


@pytest.fixture
def place(app):
    with app.app_context():
        settings.save(webhooks_private_allowed=True)
        school, other = make.school(), make.school()
        people = {
            profile: make.user(school, profile)
            for profile in ("admin", "teacher", "parent", "pupil")
        }
        stranger = make.user(other, "parent")
        webmaster = make.user(None, "webmaster")
        db.session.commit()
        found = {name: (person.login, person.id) for name, person in people.items()}
        found.update(
            school=school.id,
            code=school.code,
            other=other.id,
            stranger=stranger.id,
            webmaster=webmaster.login,
        )
    return found


def _provider(school_id, name="ENT test", **fields) -> int:
    made = provider(school_id, name=name, **fields)
    db.session.commit()
    return made.id


def _tags(app, tag: AuditTag) -> list[dict]:
    with app.app_context():
        return [
            entry.details
            for entry in db.session.scalars(select(AuditEntry).where(AuditEntry.tag == tag.value))
        ]


def test_the_direction_adds_an_oidc_provider_whose_secret_is_sealed(app, place):
    client = logged_in(app, place["admin"][0])
    form = {
        "kind": "oidc",
        "name": "ÉduConnect",
        "url": "http://127.0.0.1:9/oidc",
        "client_id": "carnet",
        "secret": "",
        "values_parent": "responsable, Parent",
        "profile_attribute": "profil",
        "enabled": "y",
    }
    refused = post(client, "/providers/new", form, "/providers/new", headers=EN)
    assert refused.status_code == 400
    assert "client secret" in field_error(refused, "secret")
    saved = post(client, "/providers/new", {**form, "secret": "s3cret-value"}, "/providers/new")
    assert saved.status_code == 302
    with app.app_context():
        provider = db.session.scalar(select(IdentityProvider))
        assert provider.school_id == place["school"]
        assert "s3cret" not in provider.secret and provider.secret_hint == "alue"
        assert provider.profile_values == {"parent": ["parent", "responsable"]}
        provider_id, sealed = provider.id, provider.secret
    # changed without a secret: the sealed one is kept
    page = f"/providers/{provider_id}"
    post(client, page, {**form, "name": "ÉduConnect (test)"}, page)
    with app.app_context():
        provider = db.session.get(IdentityProvider, provider_id)
        assert provider.name == "ÉduConnect (test)" and provider.secret == sealed
    assert [d["new"] for d in _tags(app, AuditTag.SSO_PROVIDER_SAVED)] == [True, False]
    listing = text(client.get("/providers/", headers=EN))
    assert "ÉduConnect (test)" in listing and "/login/provider/back" in listing


def test_a_provider_address_on_a_refused_network_is_refused(app, place):
    with app.app_context():
        settings.save(webhooks_private_allowed=False)
        db.session.commit()
    client = logged_in(app, place["admin"][0])
    form = {"kind": "cas", "name": "ENT", "url": "http://127.0.0.1/cas", "enabled": "y"}
    answer = post(client, "/providers/new", form, "/providers/new")
    assert answer.status_code == 400 and field_error(answer, "url")


def test_another_schools_provider_is_a_404(app, place):
    with app.app_context():
        theirs = _provider(place["other"])
        platform = _provider(None)
    client = logged_in(app, place["admin"][0])
    assert client.get(f"/providers/{theirs}").status_code == 404
    assert client.get(f"/providers/{platform}").status_code == 404
    assert post(client, f"/providers/{theirs}/delete", page="/providers/").status_code == 404
    assert logged_in(app, place["teacher"][0]).get("/providers/").status_code == 403


def test_the_webmasters_providers_serve_every_school(app, place):
    client = logged_in(app, place["webmaster"])
    form = {"kind": "cas", "name": "ENT régional", "url": "http://127.0.0.1:9/", "enabled": "y"}
    assert post(client, "/providers/new", form, "/providers/new").status_code == 302
    with app.app_context():
        provider = db.session.scalar(select(IdentityProvider))
        assert provider.school_id is None
        school_own = _provider(place["school"], name="ENT du collège")
    anonymous = app.test_client()
    page = text(anonymous.get("/login", headers=EN))
    assert "ENT régional" in page and "ENT du collège" not in page
    chosen = text(anonymous.get(f"/login?school={place['code']}", headers=EN))
    assert "ENT régional" in chosen and f"/login/provider/{school_own}" in chosen
    # remembered for the next visit
    assert "ENT du collège" in text(anonymous.get("/login", headers=EN))


def test_a_school_suspended_or_a_provider_turned_off_is_not_offered(app, place):
    with app.app_context():
        off = _provider(place["school"], enabled=False)
    anonymous = app.test_client()
    assert f"/login/provider/{off}" not in text(anonymous.get(f"/login?school={place['code']}"))
    assert anonymous.get(f"/login/provider/{off}").status_code == 404


def test_the_direction_links_and_unlinks_a_person(app, place):
    with app.app_context():
        provider_id = _provider(place["school"])
        theirs = _provider(place["other"], name="Not ours")
    login, parent_id = place["parent"]
    client = logged_in(app, place["admin"][0])
    page = f"/admin/users/{parent_id}"
    assert "Not ours" not in text(client.get(page))
    linked = post(
        client,
        f"{page}/identities",
        {"link-provider": provider_id, "link-subject": "jdupont"},
        page,
    )
    assert linked.status_code == 302
    refused = post(
        client, f"{page}/identities", {"link-provider": theirs, "link-subject": "x"}, page
    )
    assert refused.status_code == 400
    # the same identifier for another person is refused next to the field
    _pupil_login, pupil_id = place["pupil"]
    other_page = f"/admin/users/{pupil_id}"
    taken = post(
        client,
        f"{other_page}/identities",
        {"link-provider": provider_id, "link-subject": "jdupont"},
        other_page,
        headers=EN,
    )
    assert taken.status_code == 400
    assert "another account" in field_error(taken, "link-subject")
    with app.app_context():
        link = db.session.scalar(select(ExternalIdentity))
        assert (link.user_id, link.linked_by) == (parent_id, LinkedBy.DIRECTION)
        link_id = link.id
    assert "jdupont" in text(client.get(page))
    # another school's person: 404
    stranger = f"/admin/users/{place['stranger']}"
    answer = post(
        client, f"{stranger}/identities", {"link-provider": provider_id, "link-subject": "y"}, page
    )
    assert answer.status_code == 404
    assert post(client, f"{stranger}/identities/{link_id}/unlink", page=page).status_code == 404
    assert post(client, f"{page}/identities/{link_id}/unlink", page=page).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ExternalIdentity)) is None
    assert [d["subject"] for d in _tags(app, AuditTag.SSO_LINKED)] == ["jdupont"]
    assert [d["subject"] for d in _tags(app, AuditTag.SSO_UNLINKED)] == ["jdupont"]


def test_passwords_are_switched_off_only_for_a_profile_a_provider_works_for(app, place):
    with app.app_context():
        provider_id = _provider(place["school"])
    client = logged_in(app, place["admin"][0])
    refused = post(
        client, "/providers/passwords", {"password_off": "teacher"}, "/providers/", headers=EN
    )
    assert refused.status_code == 400
    assert "logged in through a provider yet" in field_error(refused, "password_off")
    assert (
        post(client, "/providers/passwords", {"password_off": "admin"}, "/providers/").status_code
        == 400
    )
    teacher_login, teacher_id = place["teacher"]
    with app.app_context():
        db.session.add(
            ExternalIdentity(
                provider_id=provider_id,
                user_id=teacher_id,
                subject="t",
                linked_by=LinkedBy.IMPORT,
                last_login_at=clock.now(),
            )
        )
        db.session.commit()
    saved = post(client, "/providers/passwords", {"password_off": "teacher"}, "/providers/")
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(School, place["school"]).password_off_profiles == {"teacher"}
    answer = post(
        app.test_client(), "/login", {"login": teacher_login, "password": make.PASSWORD}, headers=EN
    )
    assert answer.status_code == 400 and "identity provider" in text(answer)
    # the direction and the others keep theirs
    log_in(app.test_client(), place["parent"][0])
    log_in(app.test_client(), place["admin"][0])
    entry = _tags(app, AuditTag.SCHOOL_SETTINGS_CHANGED)[-1]
    assert entry["password_off"] == "teacher"


def test_a_saml_provider_is_known_by_its_metadata_pasted_or_read_from_its_address(app, place):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.sso.saml_idp import SamlIdP

    metadata = SamlIdP().metadata().encode()

    class Serve(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            self.send_response(200)
            self.send_header("Content-Length", str(len(metadata)))
            self.end_headers()
            self.wfile.write(metadata)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Serve)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = logged_in(app, place["admin"][0])
    form = {"kind": "saml", "name": "Académie", "url": "", "enabled": "y"}
    try:
        missing = post(client, "/providers/new", form, "/providers/new", headers=EN)
        assert "Paste the provider" in field_error(missing, "metadata_xml")
        garbage = post(
            client, "/providers/new", {**form, "metadata_xml": "<a/>"}, "/providers/new", headers=EN
        )
        assert "not an identity provider" in field_error(garbage, "metadata_xml")
        url = f"http://127.0.0.1:{server.server_address[1]}/metadata"
        read = post(client, "/providers/new", {**form, "url": url}, "/providers/new")
        assert read.status_code == 302
    finally:
        server.shutdown()
        server.server_close()
    with app.app_context():
        provider = db.session.scalar(select(IdentityProvider))
        assert provider.kind == "saml" and provider.metadata_xml == metadata.decode()
