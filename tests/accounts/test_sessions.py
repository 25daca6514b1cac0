"""A session is new at every login and ends after 30 idle minutes; polling is not activity."""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

import pytest

from portal import config
from portal.accounts.models import LoginSession, User
from portal.core import clock
from portal.extensions import db
from tests import factories as make
from tests.factories import PASSWORD
from tests.web import log_in, post, text

MINUTE = dt.timedelta(minutes=1)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
POLL = {"HX-Request": "true", "HX-Current-URL": "http://localhost/messages/?folder=inbox"}


@pytest.fixture
def parent(app):
    """A parent, with production's 30 idle minutes (the other tests move the clock by days)."""
    clock.freeze(dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC))
    with app.app_context():
        login = make.user(make.school(), "parent").login
        db.session.commit()
    kept = app.config["SESSION_IDLE_SECONDS"]
    app.config["SESSION_IDLE_SECONDS"] = 30 * 60
    yield login
    app.config["SESSION_IDLE_SECONDS"] = kept
    clock.reset()


def _cookie(answer, name: str = "session") -> str:
    return next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith(f"{name}="))


def test_the_idle_limit_is_30_minutes_unless_configured(monkeypatch):
    monkeypatch.delenv("SESSION_IDLE_MINUTES")
    assert config.load()["SESSION_IDLE_SECONDS"] == 30 * 60
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "10")
    assert config.load()["SESSION_IDLE_SECONDS"] == 10 * 60


def test_login_starts_a_new_session_and_keeps_only_the_language(app, client, parent):
    client.get("/login")
    with client.session_transaction() as before:
        before["planted"] = "by someone who used this browser before"
        before["language"] = "en"
    answer = log_in(client, parent)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["language"] == "en"
        assert after["_user_id"]
    assert _cookie(answer).startswith("session=")


def test_a_session_left_alone_30_minutes_ends_and_says_why(client, parent):
    log_in(client, parent)
    for _ in range(3):  # active every 29 minutes: the session lives on
        clock.advance(29 * MINUTE)
        assert client.get("/parent/").status_code == 200
    clock.advance(31 * MINUTE)
    answer = client.get("/parent/?tab=1", headers={"Accept-Language": "en"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=/parent/?tab%3D1"
    page = client.get(answer.headers["Location"], headers={"Accept-Language": "en"})
    assert "logged out after 30 minutes without activity" in text(page)
    # The session is over, not paused: coming back at once still asks to log in.
    assert client.get("/parent/").status_code == 302


def test_the_message_is_in_french_for_a_french_reader(client, parent):
    log_in(client, parent)
    clock.advance(31 * MINUTE)
    answer = client.get("/parent/", headers={"Accept-Language": "fr"}, follow_redirects=True)
    assert "déconnecté après 30 minutes sans activité" in text(answer)


def test_a_page_left_open_does_not_keep_its_session_alive(client, parent):
    log_in(client, parent)
    for _ in range(7):  # the counters poll by themselves every 5 minutes for 35 minutes
        clock.advance(5 * MINUTE)
        for counter in ("/messages/counter", "/notifications/counter"):
            answer = client.get(counter, headers=POLL)
            assert answer.status_code == 200
            if "HX-Redirect" in answer.headers:
                break
    # The poll after the limit sends the whole page to the login page, back to where it was.
    assert answer.headers["HX-Redirect"] == "/login?next=/messages/?folder%3Dinbox"
    assert client.get("/parent/").status_code == 302


def test_the_limit_follows_the_configuration(app, client, parent):
    app.config["SESSION_IDLE_SECONDS"] = 5 * 60
    log_in(client, parent)
    clock.advance(4 * MINUTE)
    assert client.get("/parent/").status_code == 200
    clock.advance(6 * MINUTE)
    assert client.get("/parent/").status_code == 302


def test_staying_logged_in_on_this_device_lasts_30_days_not_30_minutes(app, client, parent):
    answer = post(client, "/login", {"login": parent, "password": make.PASSWORD, "remember": "y"})
    assert answer.status_code == 302
    remember = _cookie(answer, "remember_token")
    expires = parsedate_to_datetime(remember.split("Expires=")[1].split(";")[0])
    assert dt.timedelta(days=29) < expires - dt.datetime.now(dt.UTC) < dt.timedelta(days=31)
    clock.advance(3 * 60 * MINUTE)
    assert client.get("/parent/").status_code == 200
    # The browser closed (session cookie gone): the device's cookie opens a session again.
    client.delete_cookie("session")
    assert client.get("/parent/").status_code == 200
    clock.advance(3 * 60 * MINUTE)
    assert client.get("/parent/").status_code == 200


def test_logging_out_forgets_the_device(client, parent):
    post(client, "/login", {"login": parent, "password": make.PASSWORD, "remember": "y"})
    post(client, "/logout", page="/parent/")
    client.delete_cookie("session")
    assert client.get("/parent/").status_code == 302


def test_the_login_page_says_when_to_stay_logged_in(client, parent):
    english = text(client.get("/login", headers={"Accept-Language": "en"}))
    assert "logged out after 30 minutes without activity" in english
    french = text(client.get("/login", headers={"Accept-Language": "fr"}))
    assert "déconnecté après 30 minutes sans activité" in french


def _copy(source, target, name: str) -> None:
    """``target`` holds a copy of ``source``'s cookie: someone took it off the device."""
    target.set_cookie(name, source.get_cookie(name).value)


@pytest.mark.parametrize("cookie", ["session", "remember_token"])
def test_a_cookie_copied_before_logout_is_refused_after_it(app, client, parent, cookie):
    post(client, "/login", {"login": parent, "password": PASSWORD, "remember": "y"})
    thief = app.test_client()
    _copy(client, thief, cookie)
    assert thief.get("/parent/").status_code == 200  # the copy works while the session lives
    post(client, "/logout", page="/account")
    assert thief.get("/parent/").status_code == 302
    assert thief.get("/account").headers["Location"].startswith("/login")


def test_my_account_lists_the_sessions_and_logs_out_one_or_every_other(app, client, parent):
    phone, other_desk = app.test_client(), app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = IPHONE
    for device in (client, phone, other_desk):
        log_in(device, parent)
    page = text(client.get("/account", headers={"Accept-Language": "en"}))
    assert page.count("Log out this session") == 3 and "Mobile Safari 17 · iOS" in page
    assert "this device" in page
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).where(User.login == parent))
        phone_session = db.session.scalars(
            db.select(LoginSession.id).where(
                LoginSession.user_id == user_id, LoginSession.user_agent == IPHONE
            )
        ).one()
    ended = post(client, f"/account/sessions/{phone_session}/end", page="/account")
    assert ended.status_code == 302
    assert phone.get("/parent/").status_code == 302
    assert other_desk.get("/parent/").status_code == 200
    post(client, "/account/sessions/end-others", page="/account")
    assert other_desk.get("/parent/").status_code == 302
    assert client.get("/parent/").status_code == 200  # the one that asked stays
    with app.app_context():
        stranger = make.user(make.school(), "parent").login
        db.session.commit()
    someone_else = app.test_client()
    log_in(someone_else, stranger)
    mine = post(someone_else, f"/account/sessions/{phone_session}/end", page="/account")
    assert mine.status_code == 404
    taken = post(someone_else, f"/account/sessions/{phone_session + 99}/end", page="/account")
    assert taken.status_code == 404
