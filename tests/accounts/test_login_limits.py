"""The login limits of OWASP ASVS 2.2.1: guessing is slowed per login and address, a stranger
can't lock the owner out, and no account takes more than 100 refused attempts an hour."""

from __future__ import annotations

import pytest

from portal import config, create_app
from portal.extensions import db
from tests import factories as make
from tests.web import TOKEN, text


@pytest.fixture
def owner(app):
    with app.app_context():
        login = make.user(make.school(), "parent").login
        db.session.commit()
    return login


def _attempt(app, login: str, password: str, address: str, **headers):
    """One login attempt from a browser of its own at ``address``."""
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ, headers=headers)
    token = TOKEN.search(text(page)).group(1)
    return client.post(
        "/login",
        data={"csrf_token": token, "login": login, "password": password},
        environ_base=environ,
        headers=headers,
    )


def test_a_stranger_guessing_does_not_lock_the_owner_out(app, owner):
    # The tests allow 5 refused attempts a minute for one login from one address.
    answers = [_attempt(app, owner, "guess-number-x", "198.51.100.7").status_code for _ in range(7)]
    assert answers == [400] * 5 + [429] * 2
    # The right password from that address is refused too: the guesser learns nothing.
    assert _attempt(app, owner, make.PASSWORD, "198.51.100.7").status_code == 429
    # The owner, at home, logs in.
    assert _attempt(app, owner, make.PASSWORD, "203.0.113.20").status_code == 302


def test_no_account_takes_more_than_100_refused_attempts_an_hour(app, owner, monkeypatch):
    monkeypatch.delenv("LOGIN_ACCOUNT_RATE_LIMIT")
    assert config.load()["LOGIN_ACCOUNT_RATE_LIMIT"] == "100 per hour"
    allowed = app.config["LOGIN_ACCOUNT_RATE_LIMIT"]  # 12 in the tests: each attempt hashes
    assert allowed == "12 per hour"
    checked = 0
    for n in range(15):  # a botnet: each address stays under its own limits
        answer = _attempt(app, owner, f"guess-{n:04d}-x", f"10.1.0.{n}")
        if answer.status_code == 400:
            checked += 1
        else:
            assert answer.status_code == 429
    assert checked == 12
    refused = _attempt(app, owner, make.PASSWORD, "10.9.9.9", **{"Accept-Language": "en"})
    assert refused.status_code == 429 and "Too many attempts" in text(refused)
    # Another account is not affected.
    with app.app_context():
        other = make.user(make.school(), "teacher").login
        db.session.commit()
    assert _attempt(app, other, make.PASSWORD, "10.1.0.1").status_code == 302


def test_the_refusal_says_so_in_the_visitors_language_and_when_to_come_back(app, owner):
    for _ in range(5):
        _attempt(app, owner, "guess-number-x", "198.51.100.8")
    english = _attempt(app, owner, "x", "198.51.100.8", **{"Accept-Language": "en"})
    french = _attempt(app, owner, "x", "198.51.100.8", **{"Accept-Language": "fr"})
    assert english.status_code == french.status_code == 429
    assert "Too many attempts" in text(english)
    assert "Trop de tentatives" in text(french)
    assert int(english.headers["Retry-After"]) > 0


def test_behind_the_proxy_the_address_is_the_forwarded_one(app, owner):
    """In production the TLS proxy's address is everyone's: with PROXY_COUNT the client's
    own address (X-Forwarded-For) is the one the limits count."""
    proxied = create_app({"TESTING": True, "PROXY_COUNT": 1})
    try:
        for _ in range(5):
            _attempt(
                proxied, owner, "guess-number-x", "127.0.0.1", **{"X-Forwarded-For": "192.0.2.1"}
            )
        refused = _attempt(
            proxied, owner, make.PASSWORD, "127.0.0.1", **{"X-Forwarded-For": "192.0.2.1"}
        )
        assert refused.status_code == 429
        welcome = _attempt(
            proxied, owner, make.PASSWORD, "127.0.0.1", **{"X-Forwarded-For": "192.0.2.2"}
        )
        assert welcome.status_code == 302
    finally:
        with proxied.app_context():
            db.engine.dispose()
