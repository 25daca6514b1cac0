"""Writing to one's school from the login page: over HTTP, through a real RQ worker and a real
SMTP server on loopback (SPEC §4, 'contact from the login page')."""

from __future__ import annotations

import email
import email.policy
import html

import pytest
from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.core import clock
from portal.extensions import db
from portal.notifications.models import Notification
from tests import factories as make
from tests.web import post, text

ENGLISH = {"Accept-Language": "en"}
FRENCH = {"Accept-Language": "fr"}


@pytest.fixture
def schools(app):
    """Collège Jean Moulin with two active admins, one never activated, one blocked and a
    teacher; another school's admin; a school the webmaster suspended."""
    with app.app_context():
        school = make.school("Collège Jean Moulin")
        make.user(school, "admin", email="dora@moulin.example.org")
        make.user(school, "admin", email="paul@moulin.example.org")
        make.user(school, "admin", email="asleep@moulin.example.org", active=False)
        accounts.block(make.user(school, "admin", email="gone@moulin.example.org"))
        make.user(school, "teacher", email="teacher@moulin.example.org")
        other = make.school("Lycée Victor Hugo")
        make.user(other, "admin", email="hugo@lycee.example.org")
        closed = make.school("École fermée")
        closed.suspended_at = clock.now()
        make.user(closed, "admin", email="closed@ecole.example.org")
        db.session.commit()
        return {"moulin": school.code, "hugo": other.code, "closed": closed.code}


def _write(client, school: str, headers=ENGLISH, **fields):
    data = {
        "school": school,
        "name": "Jean Dupont",
        "email": "jean.dupont@example.org",
        "pupil": "Léa Dupont, 5B",
        "text": "I lost the activation code.\nCould you send another one?",
        "website": "",
    }
    data.update(fields)
    return post(client, "/contact", data, page="/contact", headers=headers)


def _told(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Notification))


def _seen(answer) -> str:
    return html.unescape(text(answer))


def test_the_login_page_leads_to_the_contact_form(client):
    login = text(client.get("/login", headers=ENGLISH))
    assert 'href="/contact"' in login
    page = client.get("/contact?school=0751234A", headers=ENGLISH)
    assert page.status_code == 200
    assert 'value="0751234A"' in text(page)  # a school may link to its own form


def test_the_schools_active_admins_receive_it_by_email_and_nobody_else(
    app, client, schools, worker, smtp
):
    answer = _write(client, schools["moulin"].lower(), text="Please <b>help</b> & answer")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/contact/sent"
    assert smtp.messages == []  # delivery waits for a worker
    worker()
    to = sorted(address for message in smtp.messages for address in message.rcpt_tos)
    assert to == ["dora@moulin.example.org", "paul@moulin.example.org"]
    message = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
    assert message["Subject"] == "Carnet : Contact de Jean Dupont (jean.dupont@example.org)"
    plain = message.get_body(("plain",)).get_content()
    assert "Léa Dupont, 5B" in plain and "Please <b>help</b> & answer" in plain
    rich = message.get_body(("html",)).get_content()
    assert "Please &lt;b&gt;help&lt;/b&gt; &amp; answer" in rich  # plain text, never HTML
    assert "<b>help</b>" not in rich
    confirmed = client.get("/contact/sent", headers=ENGLISH)
    assert confirmed.status_code == 200 and "Your message is sent" in text(confirmed)


def test_the_school_is_found_by_its_exact_name_too(app, client, schools, worker, smtp):
    answer = _write(client, "  lycée victor   HUGO ", pupil="")
    assert answer.status_code == 302
    worker()
    assert [m.rcpt_tos for m in smtp.messages] == [["hugo@lycee.example.org"]]
    plain = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
    assert "I lost the activation code." in plain.get_body(("plain",)).get_content()


def test_a_filled_trap_answers_like_a_success_and_tells_nobody(app, client, schools, worker, smtp):
    trapped = _write(client, schools["moulin"], website="http://cheap-pills.example")
    sent = _write(client, schools["moulin"])
    assert trapped.status_code == sent.status_code == 302
    assert trapped.headers["Location"] == sent.headers["Location"]
    assert _told(app) == 2  # only the real message: one notification per active admin
    smtp.messages.clear()
    worker()
    assert len(smtp.messages) == 2


def test_the_trap_is_hidden_from_people_by_the_style_sheet(client):
    page = text(client.get("/contact", headers=ENGLISH))
    trap = page.split('<div class="trap" aria-hidden="true">', 1)[1].split("</div>", 1)[0]
    assert 'tabindex="-1"' in trap and 'autocomplete="off"' in trap
    assert "style=" not in page
    css = client.get("/static/css/carnet.css")
    assert ".trap {" in text(css)
    css.close()


@pytest.mark.parametrize(
    ("headers", "required", "invalid"),
    [
        (ENGLISH, "This field is required.", "This e-mail address is not valid."),
        (FRENCH, "Ce champ est obligatoire.", "Cette adresse e-mail n'est pas valide."),
    ],
)
def test_bad_input_is_refused_next_to_each_field_and_nobody_is_told(
    app, client, schools, headers, required, invalid
):
    empty = _write(client, schools["moulin"], headers, name=" ", email="", text="  ")
    assert empty.status_code == 400
    page = _seen(empty)
    for field in ("name", "email", "text"):
        assert f'<small id="{field}-error" class="field-error" role="alert">{required}' in page
    assert 'id="school-error"' not in page
    bad = _write(client, schools["moulin"], headers, email="jean.dupont@", text="x" * 2001)
    assert bad.status_code == 400
    assert f'id="email-error" class="field-error" role="alert">{invalid}' in _seen(bad)
    assert 'id="text-error"' in _seen(bad) and 'aria-invalid="true"' in _seen(bad)
    assert _told(app) == 0


@pytest.mark.parametrize(
    ("headers", "unknown", "suspended"),
    [
        (ENGLISH, "No school on Carnet has this code or name.", "can't receive messages"),
        (FRENCH, "Aucun établissement de Carnet n'a ce code ni ce nom.", "ne peut pas recevoir"),
    ],
)
def test_an_unknown_or_suspended_school_is_refused_next_to_the_field(
    app, client, schools, headers, unknown, suspended
):
    answer = _write(client, "0000000Z", headers)
    assert answer.status_code == 400
    assert 'id="school-error"' in text(answer) and unknown in _seen(answer)
    closed = _write(client, schools["closed"], headers)
    assert closed.status_code == 400
    assert 'id="school-error"' in text(closed) and suspended in _seen(closed)
    assert _told(app) == 0


def test_two_schools_of_the_same_name_ask_for_the_code(app, client, schools):
    with app.app_context():
        make.school("Collège Jean Moulin")
        db.session.commit()
    answer = _write(client, "Collège Jean Moulin")
    assert answer.status_code == 400 and "type your school's code (UAI)" in _seen(answer)


def test_too_many_messages_from_one_address_get_a_429_in_the_visitors_language(
    app, client, schools
):
    for _ in range(3):
        assert _write(client, schools["moulin"]).status_code == 302
    english = _write(client, schools["hugo"])
    assert english.status_code == 429 and "Too many attempts" in text(english)
    french = _write(client, schools["hugo"], FRENCH)
    assert french.status_code == 429 and "Trop de tentatives" in text(french)
    assert _told(app) == 2 * 3  # the three sent messages, to two admins each
    # Someone else, elsewhere, still writes.
    elsewhere = post(
        app.test_client(),
        "/contact",
        {"school": schools["hugo"], "name": "Ana", "email": "ana@example.org", "text": "Hi"},
        page="/contact",
        environ_base={"REMOTE_ADDR": "127.0.0.2"},
    )
    assert elsewhere.status_code == 302


def test_too_many_messages_to_one_school_get_a_429_whoever_writes(app, schools):
    app.config["CONTACT_SCHOOL_RATE_LIMIT"] = "2 per minute"
    try:
        answers = []
        # The same school, however it is typed: its code, or its name.
        for n, typed in enumerate([schools["moulin"], "collège jean moulin", schools["moulin"]]):
            visitor = app.test_client()
            visitor.environ_base["REMOTE_ADDR"] = f"127.0.1.{n + 1}"
            answers.append(_write(visitor, typed).status_code)
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "127.0.1.9"
        answers.append(_write(other, schools["hugo"]).status_code)
    finally:
        del app.config["CONTACT_SCHOOL_RATE_LIMIT"]
    assert answers == [302, 302, 429, 302]


def test_refused_messages_do_not_spend_the_schools_allowance(app, schools):
    app.config["CONTACT_SCHOOL_RATE_LIMIT"] = "1 per minute"
    try:
        first = app.test_client()
        first.environ_base["REMOTE_ADDR"] = "127.0.2.1"
        refused = _write(first, schools["moulin"], email="not an address")
        second = app.test_client()
        second.environ_base["REMOTE_ADDR"] = "127.0.2.2"
        sent = _write(second, schools["moulin"])
    finally:
        del app.config["CONTACT_SCHOOL_RATE_LIMIT"]
    assert (refused.status_code, sent.status_code) == (400, 302)
