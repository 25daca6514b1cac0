"""A teacher logs in through the school's ENT (a CAS server on loopback) from a phone: chooses
the school, presses its button, logs in at the ENT, lands on their home; someone the ENT knows
but Carnet does not is told whom to ask. Each page passes axe-core and fits the screen, in
French and in English."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.accounts.models import ExternalIdentity, IdentityProvider, LinkedBy, ProviderKind
from portal.extensions import db
from tests import factories as make
from tests.browser.phone import PHONE, fits
from tests.browser.test_homes import serious_violations
from tests.sso.cas_server import CasServer

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "fr-FR", "viewport": PHONE}


@pytest.fixture
def ent(app, live_server):
    """A school whose ENT knows a teacher; Carnet's return address is the live server's."""
    server = CasServer().start()
    previous = app.config["PUBLIC_URL"]
    app.config["PUBLIC_URL"] = live_server
    with app.app_context():
        school = make.school("Collège Marie Curie")
        provider = IdentityProvider(
            school_id=school.id, kind=ProviderKind.CAS, name="ENT Marie Curie", url=server.url
        )
        teacher = make.user(school, "teacher", first_name="Paul", last_name="Prof")
        db.session.add(
            ExternalIdentity(
                provider=provider, user=teacher, subject="p.prof", linked_by=LinkedBy.IMPORT
            )
        )
        db.session.commit()
        code = school.code
    yield code
    app.config["PUBLIC_URL"] = previous
    server.shutdown()
    server.server_close()


def _through_the_ent(page, code: str, who: str, school_label: str, button: str, show: str):
    page.goto("/login")
    page.get_by_label(school_label).select_option(code)
    page.get_by_role("button", name=show).click()
    assert fits(page)
    assert serious_violations(page) == []
    page.get_by_role("button", name=button).click()
    page.get_by_label("User name").fill(who)
    page.get_by_role("button", name="Log in").click()


def test_a_teacher_logs_in_through_the_ent_in_french(page, ent):
    _through_the_ent(
        page, ent, "p.prof", "Votre établissement", "Se connecter avec ENT Marie Curie", "Afficher"
    )
    expect(page).to_have_url("/teacher/")
    assert fits(page)


def test_someone_the_ent_knows_is_told_whom_to_ask_in_english(browser, live_server, ent):
    context = browser.new_context(base_url=live_server, locale="en-GB", viewport=PHONE)
    page = context.new_page()
    _through_the_ent(page, ent, "new.pupil", "Your school", "Log in with ENT Marie Curie", "Show")
    expect(page.get_by_role("heading", level=1)).to_have_text("No account linked yet")
    expect(page.locator("code.subject")).to_have_text("new.pupil")
    assert fits(page)
    assert serious_violations(page) == []
    page.get_by_role("button", name="Link my account and log in").click()
    expect(page.get_by_text("Give your login and password")).to_be_visible()
    assert fits(page)
    context.close()


def test_a_saml_provider_posts_back_across_sites_and_the_session_holds(app, live_server, page):
    """The provider's page (another site: localhost, not 127.0.0.1) posts the response to
    Carnet: no SameSite cookie comes with it, yet the login lands and the next pages see it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.sso.helpers import link, provider, refusals
    from tests.sso.saml_idp import SamlIdP

    idp = SamlIdP()
    previous = app.config["PUBLIC_URL"]
    app.config["PUBLIC_URL"] = live_server
    with app.app_context():
        school = make.school("Lycée Condorcet")
        academy = provider(
            school.id, kind=ProviderKind.SAML, name="Académie", url="", metadata_xml=idp.metadata()
        )
        link(academy, make.user(school, "teacher"), "saml-teacher")
        db.session.commit()
        code = school.code
    pages: dict[str, bytes] = {}

    class ProviderPage(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            body = pages["form"]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), ProviderPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto(f"/login?school={code}")
        with page.expect_request(lambda r: r.url.startswith(idp.sso_url)) as asked:
            page.route(f"{idp.sso_url}*", lambda route: route.abort())
            page.get_by_role("button", name="Se connecter avec Académie").click()
        request = idp.request_of(asked.value.url)
        response = idp.response(request, "saml-teacher")
        pages["form"] = (
            f'<!doctype html><html lang="fr"><body><form method="post" action="{request["acs"]}">'
            f'<input type="hidden" name="SAMLResponse" value="{response}">'
            "<button>Continuer</button></form></body></html>"
        ).encode()
        # the provider's own site: localhost, another site than Carnet's 127.0.0.1
        page.goto(f"http://localhost:{server.server_address[1]}/")
        page.get_by_role("button", name="Continuer").click()
        page.wait_for_load_state()
        assert page.url == f"{live_server}/teacher/", refusals(app)
        page.goto("/account")
        expect(page).to_have_url(f"{live_server}/account")
    finally:
        app.config["PUBLIC_URL"] = previous
        server.shutdown()
        server.server_close()
