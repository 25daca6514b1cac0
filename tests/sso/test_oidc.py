"""OpenID Connect against a certified provider on loopback (oidc-provider): a linked person
logs in; a tampered ID token, a wrong nonce, a wrong audience, an expired code, a forged state
and an unknown subject are refused and logged; logging out ends the session."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts.models import (
    AccountState,
    ExternalIdentity,
    IdentityProvider,
    LinkedBy,
    ProviderKind,
    School,
    User,
)
from portal.core import vault
from portal.core.audit import AuditEntry, AuditTag
from portal.extensions import db
from tests import factories as make
from tests.accounts.totp import enrol
from tests.sso.conftest import at_provider, start_oidc, stop, through
from tests.sso.helpers import refusals
from tests.web import log_in, post, text


def oidc_provider(issuer: str, school_id: int | None, client_id: str = "carnet", **kwargs):
    provider = IdentityProvider(
        school_id=school_id,
        kind=ProviderKind.OIDC,
        name="ÉduConnect test",
        url=issuer,
        client_id=client_id,
        secret=vault.seal("carnet-test-secret"),
        secret_hint="cret",
        **kwargs,
    )
    db.session.add(provider)
    db.session.flush()
    return provider


@pytest.fixture
def place(app, oidc_issuer):
    """A school with an OIDC provider (checking the profile claim) and a linked parent."""
    with app.app_context():
        school = make.school()
        provider = oidc_provider(
            oidc_issuer,
            school.id,
            profile_attribute="profil",
            profile_values={"parent": ["responsable"], "pupil": ["eleve"]},
        )
        parent = make.user(school, "parent", active=False)
        db.session.add(
            ExternalIdentity(
                provider=provider, user=parent, subject="oidc-parent", linked_by=LinkedBy.IMPORT
            )
        )
        db.session.commit()
        found = {"school": school.id, "provider": provider.id, "parent": parent.id}
    return found


def test_a_linked_parent_logs_in_and_an_imported_account_becomes_active(app, client, place):
    answer = through(client, place["provider"], "oidc-parent")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/parent/", refusals(app)
    assert client.get("/parent/").status_code == 200
    with app.app_context():
        parent = db.session.get(User, place["parent"])
        assert parent.state == AccountState.ACTIVE and parent.last_login_at is not None
        link = db.session.scalar(select(ExternalIdentity))
        assert link.last_login_at is not None
    assert refusals(app) == []


@pytest.mark.parametrize(
    ("client_id", "why"),
    [
        ("carnet-tampered", ("signature",)),
        ("carnet-nonce", ("nonce",)),
        # another client's token: its audience, or the authorised party (azp) it then needs
        ("carnet-audience", ("aud", "azp")),
    ],
)
def test_a_spoiled_id_token_is_refused_and_logged(app, client, place, client_id, why):
    with app.app_context():
        db.session.get(IdentityProvider, place["provider"]).client_id = client_id
        db.session.commit()
    answer = through(client, place["provider"], "oidc-parent")
    assert answer.headers["Location"] == "/login"
    # told in the language of the browser that came back (none given here: French)
    assert "n’a pas permis de vous connecter" in text(client.get("/login"))
    assert client.get("/parent/").status_code == 302
    (reason,) = refusals(app)
    assert any(word in reason.lower() for word in why), reason


def test_an_expired_code_is_refused(app, client, place):
    process, issuer = start_oidc(code_ttl=1)
    try:
        with app.app_context():
            db.session.get(IdentityProvider, place["provider"]).url = issuer
            db.session.commit()
        start = client.get(f"/login/provider/{place['provider']}")
        back = at_provider(start.headers["Location"], "oidc-parent", wait=2.5)
        answer = client.get(back)
    finally:
        stop(process)
    assert answer.headers["Location"] == "/login"
    assert "invalid_grant" in refusals(app)[0]


def test_a_return_with_a_forged_state_is_refused(app, client, place):
    start = client.get(f"/login/provider/{place['provider']}")
    back = at_provider(start.headers["Location"], "oidc-parent")
    forged = back.replace("state=", "state=x")
    assert client.get(forged).headers["Location"] == "/login"
    assert client.get("/parent/").status_code == 302
    assert len(refusals(app)) == 1


def test_a_return_without_a_visit_is_sent_back_to_the_login_page(client, place):
    answer = client.get("/login/provider/back?code=abc&state=def")
    assert answer.headers["Location"] == "/login"


def test_the_provider_saying_another_profile_is_refused(app, client, place):
    with app.app_context():
        link = db.session.scalar(select(ExternalIdentity))
        link.subject = "oidc-pupil-says"  # the provider says "eleve" of this one
        db.session.commit()
    answer = through(client, place["provider"], "oidc-pupil-says")
    assert answer.headers["Location"] == "/login"
    page = text(client.get("/login", headers={"Accept-Language": "fr"}))
    assert "ne correspond pas" in page or "type de compte" in page
    assert client.get("/parent/").status_code == 302
    assert "profile parent" in refusals(app)[0]


def test_an_unknown_subject_is_told_whom_to_ask_then_links_their_own_account(app, client, place):
    with app.app_context():
        school = db.session.get(School, place["school"])
        parent = make.user(school, "parent")
        db.session.commit()
        login, parent_id = parent.login, parent.id
    answer = through(client, place["provider"], "someone-new")
    assert answer.headers["Location"] == "/login/provider/unknown"
    page = text(client.get("/login/provider/unknown", headers={"Accept-Language": "fr"}))
    assert "someone-new" in page and "Aucun compte" in page
    assert "no account linked" in refusals(app)[0]
    # the provider says "responsable": linking a pupil's account would be refused; a wrong
    # password is refused next to nothing being linked
    refused = post(
        client,
        "/login/provider/unknown",
        {"login": login, "password": "not-the-password"},
        "/login/provider/unknown",
    )
    assert refused.status_code == 400
    linked = post(
        client,
        "/login/provider/unknown",
        {"login": login, "password": make.PASSWORD},
        "/login/provider/unknown",
    )
    assert linked.status_code == 302 and linked.headers["Location"] == "/parent/"
    assert "Votre compte est lié" in text(client.get("/parent/"))
    with app.app_context():
        link = db.session.scalar(
            select(ExternalIdentity).where(ExternalIdentity.user_id == parent_id)
        )
        assert link.subject == "someone-new" and link.linked_by == LinkedBy.SELF
        assert (
            db.session.scalar(
                select(AuditEntry).where(AuditEntry.tag == AuditTag.SSO_LINKED.value)
            ).details["by"]
            == "self"
        )
    post(client, "/logout", page="/parent/")
    # from now on the provider is enough
    again = through(client, place["provider"], "someone-new")
    assert again.headers["Location"] == "/parent/"


def test_linking_an_account_of_the_profile_the_provider_denies_is_refused(app, client, place):
    with app.app_context():
        school = db.session.get(School, place["school"])
        pupil = make.user(school, "pupil")
        db.session.commit()
        login = pupil.login
    through(client, place["provider"], "oidc-parent-2")  # no "profil": denies every profile
    answer = post(
        client,
        "/login/provider/unknown",
        {"login": login, "password": make.PASSWORD},
        "/login/provider/unknown",
    )
    assert answer.status_code == 400
    with app.app_context():
        assert (
            db.session.scalar(
                select(ExternalIdentity.id).where(ExternalIdentity.user_id == pupil.id)
            )
            is None
        )


def test_logging_out_refuses_a_copy_of_the_session_cookie(app, client, place):
    through(client, place["provider"], "oidc-parent")
    copy = app.test_client()
    for cookie in client._cookies.values():
        copy.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    assert copy.get("/parent/").status_code == 200
    post(client, "/logout", page="/parent/")
    assert copy.get("/parent/").status_code == 302


def test_the_providers_second_factor_stands_for_carnets_where_the_school_trusts_it(
    app, client, place
):
    with app.app_context():
        school = db.session.get(School, place["school"])
        admin = make.user(school, "admin")
        db.session.add(
            ExternalIdentity(
                provider_id=place["provider"],
                user=admin,
                subject="oidc-admin",
                linked_by=LinkedBy.DIRECTION,
            )
        )
        provider = db.session.get(IdentityProvider, place["provider"])
        provider.profile_values = {**provider.profile_values, "admin": ["direction"]}
        db.session.commit()
        login = admin.login
    log_in(client, login)
    enrol(client)
    post(client, "/logout", page="/account")
    # without the school's trust, the provider's second factor is not enough
    asked = through(client, place["provider"], "oidc-admin", mfa=True)
    assert asked.headers["Location"] == "/login/code"
    client.get("/login")  # leave the second step
    with app.app_context():
        db.session.get(School, place["school"]).trust_provider_mfa = True
        db.session.commit()
    assert (
        through(client, place["provider"], "oidc-admin", mfa=False).headers["Location"]
        == "/login/code"
    )
    client.delete_cookie("session")
    answer = through(client, place["provider"], "oidc-admin", mfa=True)
    assert answer.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
