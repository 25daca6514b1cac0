"""A second factor (TOTP, RFC 6238): set up from a QR code with a first code, asked after the
password, each code taken once, recovery codes once each, a trusted browser not asked again,
required by a school of its direction and staff, reset by the direction (audited, e-mailed)."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
from sqlalchemy import select

from portal.accounts.models import RecoveryCode, SecondFactor, User
from portal.core import clock, security
from portal.core.audit import AuditEntry, AuditTag
from portal.core.outbox import OutboxItem
from portal.extensions import db
from tests import factories as make
from tests.accounts.totp import enrol
from tests.factories import PASSWORD
from tests.web import field_error, log_in, post, text

EN, FR = {"Accept-Language": "en"}, {"Accept-Language": "fr"}
STEP = dt.timedelta(seconds=30)


@pytest.fixture
def school(app):
    clock.freeze(dt.datetime(2026, 3, 2, 8, 0, 5, tzinfo=dt.UTC))
    with app.app_context():
        place = make.school()
        people = {
            profile: make.user(place, profile, email=f"{profile}@example.org")
            for profile in ("admin", "staff")
        }
        db.session.commit()
        found = {profile: (person.login, person.id) for profile, person in people.items()}
        found["school"] = place.id
    yield found
    clock.reset()


def _password(client, login: str, **extra):
    return post(client, "/login", {"login": login, "password": PASSWORD, **extra})


def _code(client, code: str, headers=EN, **extra):
    return post(client, "/login/code", {"code": code, **extra}, "/login/code", headers=headers)


def test_set_up_then_each_login_asks_a_code_taken_once(app, client, school):
    login, person_id = school["staff"]
    log_in(client, login)
    secret, _codes = enrol(client)
    with app.app_context():
        assert db.session.get(SecondFactor, person_id).secret != secret  # sealed
    post(client, "/logout", page="/account")
    assert _password(client, login).headers["Location"] == "/login/code"
    assert client.get("/staff/").status_code == 302  # nobody is logged in yet
    for headers, words in ((EN, "not right"), (FR, "pas le bon")):
        wrong = _code(client, "000000", headers)
        assert wrong.status_code == 400
        assert words in (field_error(wrong, "code") or ""), text(wrong)[:2000]
    clock.advance(STEP)  # the code of the set-up was taken: wait for the next
    now_code = pyotp.TOTP(secret).at(clock.now())
    assert _code(client, now_code).status_code == 302
    assert client.get("/staff/").status_code == 200
    post(client, "/logout", page="/account")
    _password(client, login)
    again = _code(client, now_code)  # the same code, within its 30 seconds: refused
    assert again.status_code == 400 and "used already" in field_error(again, "code")
    clock.advance(STEP)
    assert _code(client, pyotp.TOTP(secret).at(clock.now())).status_code == 302


def test_a_recovery_code_works_once_and_a_trusted_browser_is_not_asked_again(app, client, school):
    login, person_id = school["admin"]
    log_in(client, login)
    secret, codes = enrol(client)
    post(client, "/logout", page="/account")
    _password(client, login)
    assert _code(client, codes[3].lower()).status_code == 302  # typed as it comes
    post(client, "/logout", page="/account")
    _password(client, login)
    assert _code(client, codes[3]).status_code == 400
    clock.advance(STEP)
    trusted = _code(client, pyotp.TOTP(secret).at(clock.now()), trust="y")
    assert "carnet_device=" in trusted.headers.get("Set-Cookie", "") or any(
        "carnet_device=" in header for header in trusted.headers.getlist("Set-Cookie")
    )
    post(client, "/logout", page="/account")
    assert _password(client, login).headers["Location"] == "/admin/"  # no second step here
    with app.app_context():
        used = db.session.scalars(
            select(RecoveryCode.used_at).where(RecoveryCode.user_id == person_id)
        ).all()
        assert sum(at is not None for at in used) == 1
        tags = db.session.scalars(
            select(AuditEntry.tag).where(AuditEntry.tag.like("accounts:second_factor:%"))
        ).all()
        assert sorted(tags) == [
            AuditTag.SECOND_FACTOR_ENROLLED,
            AuditTag.SECOND_FACTOR_RECOVERY_USED,
        ]


def test_a_school_that_requires_it_sends_its_staff_to_set_it_up_first(app, client, school):
    login, _person_id = school["staff"]
    with app.app_context():
        db.session.get(User, school["staff"][1]).school.second_factor_required = True
        db.session.commit()
    log_in(client, login)
    answer = client.get("/staff/")
    assert answer.status_code == 302 and answer.headers["Location"] == "/account/second-factor"
    page = text(client.get("/account/second-factor", headers=EN))
    assert "Your school asks the direction and the staff" in page
    enrol(client)
    assert client.get("/staff/").status_code == 200
    off = post(client, "/account/second-factor/off", {"password": PASSWORD}, "/account")
    assert off.status_code == 403  # required: it stays on


def test_the_direction_resets_a_lost_phone_and_the_person_is_told(app, client, school):
    staff_login, staff_id = school["staff"]
    log_in(client, staff_login)
    enrol(client)
    admin = app.test_client()
    log_in(admin, school["admin"][0])
    person_page = f"/admin/users/{staff_id}"
    assert "Reset the second factor" in text(admin.get(person_page, headers=EN))
    reset = post(admin, f"{person_page}/second-factor/reset", {}, person_page)
    assert reset.status_code == 302
    with app.app_context():
        assert db.session.get(SecondFactor, staff_id) is None
        told = db.session.scalars(select(OutboxItem.payload).where(OutboxItem.kind == "mail"))
        assert [mail["to"] for mail in told] == ["staff@example.org"]
        actor = db.session.scalar(
            select(AuditEntry.actor_id).where(
                AuditEntry.tag == AuditTag.SECOND_FACTOR_REMOVED.value
            )
        )
        assert actor == school["admin"][1]
    post(client, "/logout", page="/account")
    assert _password(client, staff_login).headers["Location"] == "/staff/"


def test_its_owner_turns_it_off_with_the_password(app, client, school):
    log_in(client, school["admin"][0])
    enrol(client)
    wrong = post(client, "/account/second-factor/off", {"password": "nope"}, "/account", headers=EN)
    assert wrong.status_code == 400
    assert "not your current password" in field_error(wrong, "password")
    off = post(client, "/account/second-factor/off", {"password": PASSWORD}, "/account")
    assert off.status_code == 302
    with app.app_context():
        assert db.session.get(SecondFactor, school["admin"][1]) is None


def test_the_code_page_waits_five_minutes_after_a_right_password_and_no_more(client, school):
    assert client.get("/login/code").headers["Location"] == "/login"  # no password given
    log_in(client, school["admin"][0])
    enrol(client)
    post(client, "/logout", page="/account")
    _password(client, school["admin"][0])
    assert client.get("/login/code").status_code == 200
    clock.advance(dt.timedelta(minutes=6))
    late = client.get("/login/code", headers=EN)
    assert late.headers["Location"] == "/login"
    assert "the time to type the code is over" in text(client.get("/login", headers=EN))


def test_wrong_codes_are_limited_for_the_account(client, school):
    login = school["admin"][0]
    log_in(client, login)
    secret, _codes = enrol(client)
    post(client, "/logout", page="/account")
    _password(client, login)
    for _n in range(5):
        assert _code(client, "000000").status_code == 400
    clock.advance(STEP)
    stopped = _code(client, pyotp.TOTP(secret).at(clock.now()))
    assert stopped.status_code == 429  # even the right code waits for the limit


def test_the_secret_being_set_up_is_sealed_in_the_session_cookie(client, school):
    log_in(client, school["staff"][0])
    page = text(client.get("/account/second-factor"))
    secret = re.search(r'<code class="key">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    with client.session_transaction() as kept:
        assert secret not in str(dict(kept))  # Flask's cookie is signed, not encrypted
    again = text(client.get("/account/second-factor"))
    assert secret in again.replace(" ", "")  # the same app being set up, page after page


def test_a_recovery_code_holding_six_digits_is_read_as_a_recovery_code(app, client, school):
    login, person_id = school["admin"]
    log_in(client, login)
    enrol(client)
    post(client, "/logout", page="/account")
    with app.app_context():
        db.session.add(RecoveryCode(user_id=person_id, digest=security.digest("AD3MJ-89482")))
        db.session.commit()
    _password(client, login)
    assert _code(client, "ad3mj 89482").status_code == 302
