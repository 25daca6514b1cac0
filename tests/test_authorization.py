"""Every route of the application, read from Flask's URL map, called by every profile.

A new route is covered the day it is added: with ids of another school's objects, each profile
of school A gets 403, 404 or the login page; without ids, a profile outside the route's area
gets the same, and one inside it is let in. Every state-changing route refuses a form or an
HTMX request whose CSRF token is missing or forged.
"""

from __future__ import annotations

import re
import shutil

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import csrf, db
from tests import factories as make
from tests import foreign
from tests.conftest import empty
from tests.web import csrf_token, log_in, text

PROFILES = ("admin", "staff", "teacher", "parent", "pupil")
METHODS = {"GET", "POST"}

#: Pages anyone may open without logging in (their own tests check what they do).
PUBLIC = {
    "accounts.login",
    "accounts.logout",
    "accounts.activate",
    "accounts.forgot_password",
    "accounts.reset_password",
    "accounts.set_language",
    # The code after a right password: nobody is logged in yet (tests/accounts/
    # test_second_factor.py: without a password just checked, it sends back to the login).
    "accounts.second_step",
    # Writing to one's school from the login page: for people who can't log in
    # (tests/accounts/test_contact.py: rate-limited, a trap for robots).
    "contact.write",
    "contact.sent",
    # Logging in through an identity provider (tests/sso: a forged, replayed or foreign answer
    # is refused and logged; an identifier no account is linked to gets the link page).
    "sso.start",
    "sso.back",
    "sso.unknown",
    # SAML's assertion consumer service (tests/sso/test_saml.py: unsigned, wrongly signed,
    # replayed, expired, wrong-audience, unsolicited and wrapped responses refused) and
    # Carnet's service provider metadata.
    "sso.saml_acs",
    "sso.saml_metadata",
    "health.healthz",
    "notifications.unsubscribe",  # the signed token is the proof
    # The SMS provider's callbacks: the provider's signature is checked instead (tests/sms:
    # unsigned or forged calls get 403, an unknown provider 404).
    "sms_hooks.reports",
    "sms_hooks.inbound",
    "static",
    "root.index",
}

#: Who may use the routes under each path; the longest matching prefix wins. A route under
#: none of them is open to every member of a school (not to the webmaster, who belongs to none).
AREAS = {
    "/admin/": {"admin"},
    "/providers/": {"admin", "webmaster"},
    "/providers/passwords": {"admin"},  # the webmaster has no school's passwords
    "/webmaster/": {"webmaster"},
    "/parent/": {"parent"},
    "/pupil/": {"pupil"},
    "/teacher/": {"teacher"},
    "/staff/": {"staff"},
    "/rules/": {"admin"},  # and the webmaster, who names the school: ?school_id=
    "/alerts/": {"admin", "staff"},
    "/alerts/rules/": {"admin"},
    "/alerts/webhooks/": {"admin"},
    "/sms/": {"admin", "staff"},
    "/attendance/marks": {"admin", "staff"},
    "/attendance/reasons": {"admin"},
    "/liaison/justifications": {"admin", "staff"},
    "/attendance/sessions/new": {"admin", "staff"},
    "/attendance/teachers/": {"admin", "staff"},
    "/notifications/audit": {"admin"},
    "/flash/new": {"admin", "staff"},
    "/announcements/new": {"admin", "staff", "teacher"},
    "/homework/new": {"teacher"},
    "/liaison/new": {"admin", "staff", "teacher"},
    # Everyone's own account and notifications, the webmaster's too.
    "/account": {*PROFILES, "webmaster"},
    "/notifications/": {*PROFILES, "webmaster"},
}
SCHOOL_MEMBERS = set(PROFILES)

#: Routes a webmaster may open with any school's ids: the platform's own console, and the
#: groups and communication rules of every school (only a webmaster sets rules across schools).
WEBMASTER_EVERYWHERE = ("/webmaster/", "/groups/", "/rules/")

#: Values for the URL's words that are not ids.
WORDS = {
    "token": "not-a-real-token",
    "key": "siecle-pupils",
    "name": "inbox",
    "queue": "default",
    "job_id": "no-such-job",
    "how": "delete",
}

#: POST routes without a CSRF token, each with the proof it checks instead.
CSRF_EXEMPT = {
    "sms_hooks.reports",  # the provider's signature
    "sms_hooks.inbound",  # the provider's signature
    "notifications.unsubscribe",  # the signed token: one-click unsubscribe (RFC 8058)
    "sso.saml_acs",  # the provider's signature, over an answer to a request of ours
}


def _area(path: str) -> set[str]:
    matching = [prefix for prefix in AREAS if path.startswith(prefix)]
    return AREAS[max(matching, key=len)] if matching else SCHOOL_MEMBERS


def _url(rule, ids: dict) -> str:
    values = {}
    for argument in rule.arguments:
        if rule._converters[argument].__class__.__name__ == "IntegerConverter":
            blueprint = rule.endpoint.partition(".")[0]
            key = f"{argument}@{blueprint}"
            assert key in ids or argument in ids, (
                f"{rule.rule}: tests/foreign.py has no object of another school for "
                f"<{argument}>; add one so that this route is checked"
            )
            values[argument] = ids.get(key, ids.get(argument))
        else:
            values[argument] = WORDS.get(argument, "x")
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _refused(answer) -> bool:
    """403, 404, or the login page (a redirect, or HX-Redirect for an HTMX request)."""
    if answer.status_code in (403, 404):
        return True
    if answer.status_code == 302:
        return answer.headers["Location"].startswith("/login")
    return answer.headers.get("HX-Redirect", "").startswith("/login")


def _unsafe_headers(answer, production: bool = False) -> list[str]:
    """What a page's answer lacks of the headers every page carries (SPEC §11)."""
    csp = answer.headers.get("Content-Security-Policy", "")
    missing = []
    if "frame-ancestors 'none'" not in csp or "unsafe-inline" in csp:
        missing.append(f"CSP {csp!r}")
    if "script-src 'self'" not in csp and "default-src 'none'" not in csp:
        missing.append(f"script-src in {csp!r}")
    if answer.headers.get("Referrer-Policy") not in ("same-origin", "no-referrer"):
        missing.append("Referrer-Policy")
    if answer.headers.get("X-Content-Type-Options") != "nosniff":
        missing.append("X-Content-Type-Options")
    hsts = answer.headers.get("Strict-Transport-Security", "")
    if production and not hsts.startswith("max-age=63072000; includeSubDomains"):
        missing.append(f"HSTS {hsts!r}")
    if hsts and not production:
        missing.append("HSTS outside production")  # development serves plain http
    return missing


@pytest.fixture(scope="module")
def matrix(app):
    """School A with one person of each profile, a webmaster, and school B full of objects."""
    with app.app_context():
        school = make.school()
        teacher = make.user(school, "teacher")
        class_group = make.school_class(school, "5A", teacher)
        pupil, (parent, _) = make.family(school, class_group)
        logins = {
            "admin": make.user(school, "admin").login,
            "staff": make.user(school, "staff").login,
            "teacher": teacher.login,
            "parent": parent.login,
            "pupil": pupil.login,
            "webmaster": make.user(None, "webmaster").login,
        }
        db.session.commit()
        ids = foreign.build()
    yield logins, ids
    empty(app)
    shutil.rmtree(app.config["ATTACHMENT_DIR"], ignore_errors=True)  # B's attached file


@pytest.fixture(autouse=True)
def _clean():
    """The schools are built once for the module and emptied after its last test."""
    yield


def _callers(app, logins):
    """(who, client, token) for anonymous people and each profile of school A."""
    anonymous = app.test_client()
    yield "anonymous", anonymous, csrf_token(anonymous)
    for who, login in logins.items():
        client = app.test_client()
        log_in(client, login)
        yield who, client, csrf_token(client, "/account")


def _calls(app, rules, ids):
    for rule in rules:
        url = _url(rule, ids)
        for method in sorted(rule.methods & METHODS):
            yield rule, url, method


def test_another_schools_ids_are_refused_to_every_profile(app, matrix):
    logins, ids = matrix
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint not in PUBLIC and any(r._converters[a].regex == r"\d+" for a in r.arguments)
    ]
    assert len(rules) > 60  # the map really was read
    wrong = []
    for who, client, token in _callers(app, logins):
        for rule, url, method in _calls(app, rules, ids):
            if who == "webmaster" and rule.rule.startswith(WEBMASTER_EVERYWHERE):
                continue
            data = {"csrf_token": token} if method == "POST" else None
            for headers in ({}, {"HX-Request": "true"}):
                answer = client.open(url, method=method, data=data, headers=headers, buffered=True)
                if _unsafe_headers(answer):
                    wrong.append(f"{who} {method} {url}: {_unsafe_headers(answer)}")
                if not _refused(answer):
                    wrong.append(f"{who} {method} {url} {headers}: {answer.status_code}")
    assert not wrong, "\n".join(wrong)


def test_each_area_is_refused_to_the_profiles_outside_it_and_open_to_those_inside(app, matrix):
    logins, ids = matrix
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint not in PUBLIC
        and not any(r._converters[a].regex == r"\d+" for a in r.arguments)
    ]
    assert len(rules) > 60
    wrong = []
    for who, client, token in _callers(app, logins):
        for rule, url, method in _calls(app, rules, ids):
            allowed = who in _area(rule.rule)
            data = {"csrf_token": token} if method == "POST" else None
            # Read whole and closed, as a server does: a streamed answer ends its request.
            answer = client.open(url, method=method, data=data, buffered=True)
            if _unsafe_headers(answer):
                wrong.append(f"{who} {method} {url}: {_unsafe_headers(answer)}")
            if answer.status_code >= 500:
                wrong.append(f"{who} {method} {url}: {answer.status_code}")
            elif (
                allowed
                and who != "anonymous"
                and _refused(answer)
                and not (
                    answer.status_code == 404 and rule.arguments  # e.g. no such failed job
                )
            ):
                wrong.append(f"{who} {method} {url}: refused ({answer.status_code}) in its area")
            elif not allowed and not _refused(answer):
                wrong.append(f"{who} {method} {url}: {answer.status_code} outside its area")
    assert not wrong, "\n".join(wrong)


def test_the_public_routes_are_the_declared_ones(app):
    """A route reachable without logging in is a choice made here, not an accident."""
    client = app.test_client()
    open_routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        answer = client.get(_url(rule, {a: 1 for a in rule.arguments}))
        if not _refused(answer):
            open_routes.add(rule.endpoint)
    assert open_routes <= PUBLIC, open_routes - PUBLIC


def test_production_answers_carry_hsts():
    from portal import create_app

    production = create_app({"CARNET_ENV": "production"})
    for url in ("/login", "/no-such-page", "/admin/"):
        answer = production.test_client().get(url, base_url="https://localhost")
        assert _unsafe_headers(answer, production=True) == [], url
    with production.app_context():
        db.engine.dispose()


def test_no_name_is_given_for_an_id_of_another_school_by_the_send_or_the_picker(app, matrix):
    """SPEC §2: naming another school's person in a crafted send, or asking the picker for
    their chip, is refused as any recipient out of reach is, and never with their name."""
    logins, ids = matrix
    with app.app_context():
        people = db.session.scalars(select(User).where(User.school_id == ids["school"])).all()
        b_people = [(person.id, person.first_name, person.last_name) for person in people]
    assert len(b_people) >= 5
    wrong = []
    for who, client, token in _callers(app, {k: v for k, v in logins.items() if k != "webmaster"}):
        if who == "anonymous":
            continue
        for user_id, first, last in b_people:
            sent = client.post(
                "/messages/new",
                data={"csrf_token": token, "to": f"user:{user_id}", "subject": "x", "body": "y"},
                headers={"Accept-Language": "en"},
            )
            chip = client.get(f"/messages/chip?field=to&token=user:{user_id}")
            for answer, expected in ((sent, 400), (chip, 404)):
                page = text(answer)
                if answer.status_code != expected or first in page or last in page:
                    wrong.append(f"{who}: {answer.request.path} {user_id}: {answer.status_code}")
            if "You cannot write to one of these recipients" not in text(sent):
                wrong.append(f"{who}: the send to {user_id} was not refused as out of reach")
    assert not wrong, "\n".join(wrong)


# --- CSRF ----------------------------------------------------------------------------------------

CSRF_REFUSAL = "The form could not be accepted"


def _state_changing(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"} and rule.endpoint not in CSRF_EXEMPT
    ]


def test_only_the_declared_routes_go_without_a_csrf_token(app):
    exempt = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if f"{view.__module__}.{view.__name__}" in csrf._exempt_views
    }
    assert exempt == CSRF_EXEMPT
    assert not csrf._exempt_blueprints


def test_every_state_changing_route_refuses_a_missing_or_forged_token(app, matrix):
    logins, ids = matrix
    client = app.test_client()
    log_in(client, logins["admin"])
    real = csrf_token(client, "/account")
    other = app.test_client()
    log_in(other, logins["teacher"])
    someone_elses = csrf_token(other, "/account")
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    attempts = {
        "no token": ({}, {}),
        "a forged token": ({"csrf_token": forged}, {}),
        "another session's token": ({"csrf_token": someone_elses}, {}),
        "HTMX without a token": ({}, {"HX-Request": "true"}),
        "HTMX with a forged header": ({}, {"HX-Request": "true", "X-CSRFToken": forged}),
    }
    rules = _state_changing(app)
    assert len(rules) > 80
    wrong = []
    for rule in rules:
        url = _url(rule, ids)
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            for name, (data, headers) in attempts.items():
                answer = client.open(
                    url, method=method, data=data, headers={"Accept-Language": "en", **headers}
                )
                if answer.status_code != 400 or CSRF_REFUSAL not in text(answer):
                    wrong.append(f"{method} {url} with {name}: {answer.status_code}")
    assert not wrong, "\n".join(wrong)
    # The same session with its real token is let through (the check is not refusing all).
    answer = client.post("/notifications/read", data={"csrf_token": real})
    assert answer.status_code == 302
    answer = client.post("/notifications/read", headers={"HX-Request": "true", "X-CSRFToken": real})
    assert answer.status_code in (200, 302)
