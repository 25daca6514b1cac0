"""Logging in, activation, password reset by e-mail, My account, language: over HTTP."""

from __future__ import annotations

import email
import email.policy
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.accounts import contact, credentials
from portal.accounts import services as accounts
from portal.accounts.models import AccountState, EmailPriority, EmailSource, User
from portal.core.outbox import OutboxItem
from portal.extensions import db
from tests import factories as make
from tests.web import TOKEN, log_in, post, text

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def people(app):
    with app.app_context():
        school = make.school()
        active = make.user(
            school, "parent", email="parent@example.org", email_source=EmailSource.ADMIN
        )
        inactive = make.user(school, "parent", active=False)
        code = credentials.issue_activation_code(inactive)
        blocked = make.user(school, "pupil")
        accounts.block(blocked)
        db.session.commit()
        return {
            "active": active.login,
            "active_id": active.id,
            "inactive": inactive.login,
            "inactive_id": inactive.id,
            "code": code,
            "blocked": blocked.login,
            "school_id": school.id,
        }


def _user(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def _school_manages_addresses(app, school_id):
    with app.app_context():
        from portal.accounts.models import School

        accounts.set_email_priority(db.session.get(School, school_id), EmailPriority.ADMIN)
        db.session.commit()


def test_login_then_logout(client, people):
    log_in(client, people["active"])
    assert client.get("/parent/").status_code == 200
    answer = post(client, "/logout", page="/parent/")
    assert answer.headers["Location"] == "/login"
    assert client.get("/parent/").status_code == 302


def test_unknown_login_and_wrong_password_look_the_same(client, people):
    unknown = post(
        client, "/login", {"login": "nobody", "password": "whatever-pass"}, headers=ENGLISH
    )
    wrong = post(
        client, "/login", {"login": people["active"], "password": "whatever-pass"}, headers=ENGLISH
    )
    assert unknown.status_code == wrong.status_code == 400
    assert "Login or password incorrect." in text(unknown)

    def seen(answer) -> str:
        # The CSRF token carries the second it was made: two pages may differ by it alone.
        page = TOKEN.sub('name="csrf_token" value=""', text(answer))
        return page.replace(people["active"], "nobody")

    assert seen(unknown) == seen(wrong)


@pytest.mark.parametrize("who", ["inactive", "blocked"])
def test_inactive_and_blocked_accounts_cannot_log_in(client, people, who):
    answer = post(client, "/login", {"login": people[who], "password": make.PASSWORD})
    assert answer.status_code == 400
    assert client.get("/parent/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, people):
    answer = log_in(client, people["active"])
    cookie = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_refused_logins_are_rate_limited_per_login_with_a_429_page(client, people):
    for _ in range(5):
        post(client, "/login", {"login": people["active"], "password": "wrong-password"})
    answer = post(
        client, "/login", {"login": people["active"], "password": make.PASSWORD}, headers=ENGLISH
    )
    assert answer.status_code == 429
    assert "Too many attempts" in text(answer)
    # Another person behind the same address still logs in.
    other = post(client, "/login", {"login": people["inactive"], "password": "x" * 12})
    assert other.status_code == 400


def test_successful_logins_from_one_address_are_not_limited(app, client):
    with app.app_context():
        school = make.school()
        logins = [make.user(school, "pupil").login for _ in range(8)]
        db.session.commit()
    for login in logins:  # a class logging in from the school's computer room
        log_in(client, login)
        post(client, "/logout", page="/pupil/")


def test_empty_and_oversized_login_fields_are_refused_next_to_the_field(client, people):
    empty = post(client, "/login", {"login": "", "password": ""}, headers=ENGLISH)
    assert empty.status_code == 400
    assert text(empty).count("This field is required.") == 2
    huge = post(client, "/login", {"login": "x" * 500, "password": "y" * 500}, headers=ENGLISH)
    assert huge.status_code == 400
    assert 'aria-invalid="true"' in text(huge)


def test_forged_csrf_token_is_a_400_and_nothing_is_written(app, client, people):
    log_in(client, people["active"])
    answer = client.post(
        "/account/contact",
        data={"csrf_token": "forged", "email": "new@example.org"},
        headers=ENGLISH,
    )
    assert answer.status_code == 400
    assert "The form could not be accepted" in text(answer)
    assert _user(app, people["active_id"]).email == "parent@example.org"


def test_wrong_activation_code_is_refused_next_to_the_field(app, client, people):
    answer = post(
        client,
        "/activate",
        {"code": "AAAAA-BBBBB", "password": "a-good-password", "confirm": "a-good-password"},
        headers=ENGLISH,
    )
    assert answer.status_code == 400
    assert "This activation code is not valid." in text(answer)
    assert _user(app, people["inactive_id"]).state == AccountState.INACTIVE


def test_activation_by_link_logs_the_person_in(app, client, people):
    page = client.get(f"/activate?code={people['code']}")
    assert people["code"] in text(page)
    answer = post(
        client,
        "/activate",
        {"code": people["code"], "password": "a-good-password", "confirm": "a-good-password"},
    )
    assert answer.headers["Location"] == "/parent/"
    assert client.get("/parent/").status_code == 200
    assert _user(app, people["inactive_id"]).state == AccountState.ACTIVE


def test_activation_passwords_must_match(app, client, people):
    answer = post(
        client,
        "/activate",
        {"code": people["code"], "password": "a-good-password", "confirm": "another-password"},
        headers=ENGLISH,
    )
    assert answer.status_code == 400
    assert "The two passwords differ." in text(answer)
    assert _user(app, people["inactive_id"]).state == AccountState.INACTIVE


def _reset_link(message) -> str:
    parsed = email.message_from_bytes(message.content, policy=email.policy.default)
    body = parsed.get_body(("plain",)).get_content()
    return re.search(r"http://127\.0\.0\.1:5000(/password/reset/\S+)", body).group(1)


def test_password_reset_by_email_through_a_worker_and_smtp(app, client, people, smtp, worker):
    answer = post(client, "/password/forgot", {"login": people["active"]})
    assert answer.status_code == 302
    assert smtp.messages == []  # nothing leaves before a worker takes the job
    assert worker() == 1
    (message,) = smtp.messages
    assert message.rcpt_tos == ["parent@example.org"]
    link = _reset_link(message)
    done = post(
        client, link, {"password": "my-new-password", "confirm": "my-new-password"}, page=link
    )
    assert done.headers["Location"] == "/login"
    log_in(client, people["active"], "my-new-password")
    again = client.get(link, headers=ENGLISH)
    assert again.status_code == 200  # the page opens, but the used link is refused on saving
    refused = post(
        client,
        link,
        {"password": "third-password", "confirm": "third-password"},
        page=link,
        headers=ENGLISH,
    )
    assert refused.status_code == 400
    assert "already been used" in text(refused)


def test_reset_request_gives_the_same_answer_for_unknown_logins(client, people, app, worker):
    for login in ("nobody-at-all", people["active"]):
        answer = post(client, "/password/forgot", {"login": login}, headers=ENGLISH)
        assert answer.status_code == 302
        assert "If this login belongs" in text(client.get("/login", headers=ENGLISH))
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxItem.id))) == 1


def test_expired_reset_link_says_so_and_changes_nothing(app, client, people):
    with app.test_request_context():
        from portal.core import security

        token = security.sign("reset", [people["active_id"], "x"])
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    try:
        answer = post(
            client,
            f"/password/reset/{token}",
            {"password": "my-new-password", "confirm": "my-new-password"},
            headers=ENGLISH,
        )
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = 3600
    assert answer.status_code == 400
    assert "This link has expired." in text(answer)
    log_in(client, people["active"])  # the old password still works


def test_tampered_reset_link_is_refused(client, people):
    answer = client.get("/password/reset/not-a-real-token", headers=ENGLISH)
    assert answer.status_code == 400
    assert "This link is not valid." in text(answer)


def test_user_cannot_change_an_address_the_school_manages(app, client, people):
    _school_manages_addresses(app, people["school_id"])
    log_in(client, people["active"])
    page = client.get("/account/email", headers=ENGLISH)
    assert "Your school manages this address" in text(page)
    answer = post(
        client,
        "/account/contact",
        {"email": "mine@example.org", "mobile": ""},
        page="/account/email",
        headers=ENGLISH,
    )
    assert answer.status_code == 400
    assert _user(app, people["active_id"]).email == "parent@example.org"


def test_bad_contact_details_are_refused_and_nothing_is_half_saved(app, client, people):
    log_in(client, people["active"])
    answer = post(
        client,
        "/account/contact",
        {"email": "a" * 300 + "@example.org", "mobile": "06 12 34 56 78"},
        page="/account/email",
        headers=ENGLISH,
    )
    assert answer.status_code == 400
    assert "Field cannot be longer than 254 characters." in text(answer)
    answer = post(
        client,
        "/account/contact",
        {"email": "", "mobile": "01 23 45 67 89"},
        page="/account/email",
        headers=ENGLISH,
    )
    assert "This mobile number is not valid." in text(answer)
    assert "“01 23 45 67 89” is a landline number, not a mobile." in text(answer)
    person = _user(app, people["active_id"])
    assert (person.email, person.mobile) == ("parent@example.org", None)


def test_language_follows_the_browser_then_the_persons_choice(app, client, people):
    assert "Log in to Carnet" in text(client.get("/login", headers=ENGLISH))
    assert "Se connecter" in text(client.get("/login", headers={"Accept-Language": "fr"}))
    log_in(client, people["active"])
    post(client, "/language", {"language": "fr"}, page="/account")
    assert _user(app, people["active_id"]).language == "fr"
    assert "Mon compte" in text(client.get("/account", headers=ENGLISH))


def test_changing_password_ends_other_sessions(app, client, people):
    other = app.test_client()
    log_in(other, people["active"])
    log_in(client, people["active"])
    answer = post(
        client,
        "/account/password",
        {
            "current_password": make.PASSWORD,
            "new_password": "brand-new-password",
            "confirm": "brand-new-password",
        },
        page="/account/email",
    )
    assert answer.status_code == 302
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302


def test_times_are_shown_in_the_schools_time_zone(app, client, people):
    import datetime as dt

    with app.app_context():
        from portal.accounts.models import School

        school = db.session.get(School, people["school_id"])
        school.timezone = "America/Cayenne"  # UTC-3, no summer time
        admin = make.user(school, "admin")
        person = db.session.get(User, people["active_id"])
        person.created_at = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
        db.session.commit()
        admin_login = admin.login
    log_in(client, admin_login)
    page = text(client.get(f"/admin/users/{people['active_id']}", headers=ENGLISH))
    # 12:00 UTC is 9:00 in Cayenne; a time is shown without its seconds.
    assert "Jan 15, 2026, 9:00\u202fAM" in page and "America/Cayenne" in page
    assert "9:00:00" not in page


def test_user_with_a_school_managed_address_can_still_change_their_mobile(app, client, people):
    _school_manages_addresses(app, people["school_id"])
    log_in(client, people["active"])
    answer = post(
        client,
        "/account/contact",
        {"email": "parent@example.org", "mobile": "06 12 34 56 78"},
        page="/account/email",
    )
    assert answer.status_code == 302
    person = _user(app, people["active_id"])
    assert (person.email, person.mobile) == ("parent@example.org", "+33612345678")


def test_no_reset_email_goes_to_a_person_who_refused_all_email_and_the_school_gives_a_code(
    app, client, people, smtp, worker
):
    """SPEC §4: refusing all e-mail includes password recovery. The page tells everyone alike
    what to do when no e-mail can come; the direction prints a code, and the person chooses a new
    password with it."""
    # The same request for the same person before the refusal: an e-mail leaves.
    post(client, "/password/forgot", {"login": people["active"]}, headers=ENGLISH)
    assert worker() == 1
    assert [m.rcpt_tos for m in smtp.messages] == [["parent@example.org"]]
    smtp.messages.clear()
    with app.app_context():
        person = db.session.get(User, people["active_id"])
        contact.set_refuses_email(person, True)
        db.session.commit()
    page = text(client.get("/password/forgot", headers=ENGLISH))
    assert "ask your school for a code to choose a new password" in page
    answer = post(client, "/password/forgot", {"login": people["active"]}, headers=ENGLISH)
    assert answer.status_code == 302
    told = text(client.get("/login", headers=ENGLISH))
    assert "If this login belongs" in told
    assert "ask your school for a code to choose a new password" in told
    worker()
    assert smtp.messages == []
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxItem.id))) == 1  # the first request's

    with app.app_context():
        admin = make.user(db.session.get(User, people["active_id"]).school, "admin")
        db.session.commit()
        admin_login = admin.login
    direction = app.test_client()
    log_in(direction, admin_login)
    record = f"/admin/users/{people['active_id']}"
    assert "Print a code to choose a new password" in text(direction.get(record, headers=ENGLISH))
    emailed = post(direction, f"{record}/activation", {"delivery": "email"}, page=record)
    assert emailed.status_code == 400  # whoever can get e-mail resets it themselves
    sheet = post(direction, f"{record}/activation", {"delivery": "print"}, page=record)
    assert sheet.headers["Content-Type"] == "application/pdf"
    words = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(sheet.data)).pages)
    (code,) = re.findall(r"\b[A-Z0-9]{5}-[A-Z0-9]{5}\b", words)
    assert "can be used until" in text(direction.get(record, headers=ENGLISH))

    chosen = post(
        client,
        "/activate",
        {"code": code, "password": "my-new-password", "confirm": "my-new-password"},
        page="/activate",
    )
    assert chosen.status_code == 302
    log_in(app.test_client(), people["active"], "my-new-password")
    again = post(
        client,
        "/activate",
        {"code": code, "password": "third-password", "confirm": "third-password"},
        page="/activate",
    )
    assert again.status_code == 400  # the code worked once
    assert _user(app, people["active_id"]).state == AccountState.ACTIVE
