"""E-mail & subscriptions, the unsubscribe link of every e-mail, the notification list and
counter, the delivery audit, and the webmaster's mail settings, over HTTP."""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy

import pytest
from flask_babel import force_locale

from portal.accounts.models import User
from portal.core import clock, settings
from portal.extensions import db
from portal.notifications import choices, services
from portal.notifications.models import Notification
from portal.notifications.types import Channel
from tests import factories
from tests.notifications.helpers import deliver_due
from tests.web import log_in, post, text

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def people(app):
    with app.app_context():
        school = factories.school(language="en")
        other_school = factories.school()
        parent = factories.user(school, "parent", email="parent@example.org")
        admin = factories.user(school, "admin", email="admin@example.org")
        teacher = factories.user(school, "teacher")
        outsider = factories.user(other_school, "admin")
        webmaster = factories.user(None, "webmaster")
        db.session.commit()
        return {
            "parent": parent.login,
            "parent_id": parent.id,
            "admin": admin.login,
            "admin_id": admin.id,
            "teacher_id": teacher.id,
            "outsider": outsider.login,
            "webmaster": webmaster.login,
            "school_id": school.id,
        }


def _homework_for(app, *recipient_ids, worker=None, text_="Read chapter 3"):
    with app.app_context(), force_locale("en"):
        teacher = db.session.get(User, _teacher(app))
        services.notify(
            "homework",
            recipient_ids,
            "homework:1",
            {"group": "5B", "text": text_, "url": "/account"},
            author=teacher,
        )
        db.session.commit()
        clock.advance(dt.timedelta(hours=1, seconds=1))
        deliver_due(worker)


def _teacher(app):
    from sqlalchemy import select

    return db.session.scalar(select(User.id).where(User.profile == "teacher"))


def _parse(envelope):
    return email.message_from_bytes(envelope.content, policy=policy.default)


def test_notification_email_speaks_the_recipients_language_and_carries_one_click_unsubscribe(
    app, client, people, worker, smtp
):
    with app.app_context():
        settings.save(bounce_address="bounces@school.example")
        db.session.get(User, people["parent_id"]).language = "fr"  # the school's is English
        db.session.commit()
    _homework_for(app, people["parent_id"], worker=worker)
    [envelope] = smtp.messages
    assert envelope.mail_from == "bounces@school.example"  # the envelope sender
    message = _parse(envelope)
    assert (
        message["Subject"] == "Carnet : Devoir pour 5B : Read chapter 3"
    )  # the parent reads French
    assert message.get_body(("plain",)).get_content().startswith("Bonjour")
    assert message.get_body(("html",)) is not None
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"]).group(1)
    assert link.startswith("http://127.0.0.1:5000/unsubscribe/")
    assert link in message.get_body(("plain",)).get_content()  # also in the footer

    path = link.removeprefix("http://127.0.0.1:5000")
    page = client.get(path, headers=ENGLISH)
    assert page.status_code == 200 and "Receive no more e-mail" in text(page)
    with app.app_context():
        assert db.session.get(User, people["parent_id"]).refuses_email is False  # GET: nothing
    # What a mail provider sends for RFC 8058: a POST without cookie nor CSRF token.
    done = client.post(path, data={"List-Unsubscribe": "One-Click"}, headers=ENGLISH)
    assert done.status_code == 200 and "no more e-mail" in text(done)
    with app.app_context():
        assert db.session.get(User, people["parent_id"]).refuses_email is True

    smtp.messages.clear()
    _homework_for(app, people["parent_id"], worker=worker, text_="Chapter 4")
    assert smtp.messages == []  # refused: nothing leaves, the notification stays on screen


def test_a_tampered_or_expired_unsubscribe_link_changes_nothing_and_says_so(app, client, people):
    with app.app_context(), app.test_request_context():
        from portal.accounts import contact

        link = contact.unsubscribe_url(db.session.get(User, people["parent_id"]))
    path = link.removeprefix("http://127.0.0.1:5000")
    tampered = client.post(path[:-3] + "abc", headers=ENGLISH)
    assert tampered.status_code == 400 and "This link is not valid" in text(tampered)
    clock.advance(dt.timedelta(days=366))
    expired = client.post(path, headers=ENGLISH)
    assert expired.status_code == 400 and "This link has expired" in text(expired)
    with app.app_context():
        assert db.session.get(User, people["parent_id"]).refuses_email is False


def test_an_admin_cannot_refuse_email_even_with_a_link(app, client, people):
    from portal.core import security

    with app.app_context():
        token = security.sign("unsubscribe", people["admin_id"])
    answer = client.post(f"/unsubscribe/{token}", headers=ENGLISH)
    assert answer.status_code == 400 and "Administrators can't refuse" in text(answer)
    log_in(client, people["admin"])
    page = text(client.get("/account/email", headers=ENGLISH))
    assert "Refuse all e-mail" not in page


def test_subscriptions_are_saved_and_a_mandatory_type_cannot_be_turned_off(app, client, people):
    log_in(client, people["admin"])
    page = text(client.get("/account/email", headers=ENGLISH))
    assert "Contact from the login page" in page and "Homework set or changed" not in page
    form = {
        f"type_{key}": "homepage"
        for key in ("message", "attendance_alert", "pupil_file_event", "sensitive_action")
    }
    form.update(
        type_admin_action="daily",
        type_announcement="none",
        type_login_contact="none",
        type_flash_message="homepage",
        digest_hour="7",
        quiet_from="",
        quiet_until="",
    )
    refused = post(client, "/account/subscriptions", form, page="/account/email", headers=ENGLISH)
    assert refused.status_code == 400
    assert "Not a valid choice" in text(refused)  # 'none' is not offered for a mandatory type
    with app.app_context():
        assert choices.choices_of(db.session.get(User, people["admin_id"]))["message"] == "homepage"
        assert db.session.query(Notification).count() == 0

    form["type_login_contact"] = "email"
    saved = post(client, "/account/subscriptions", form, page="/account/email")
    assert saved.status_code == 302
    with app.app_context():
        admin = db.session.get(User, people["admin_id"])
        assert choices.choices_of(admin)["admin_action"] == Channel.DAILY
        assert choices.timing_of(admin).digest_hour == 7


def test_quiet_hours_need_both_ends_and_say_so_next_to_the_field(app, client, people):
    log_in(client, people["parent"])
    form = {"type_message": "email", "digest_hour": "18", "quiet_from": "21", "quiet_until": ""}
    answer = post(client, "/account/subscriptions", form, page="/account/email", headers=ENGLISH)
    assert answer.status_code == 400
    assert "Give both the start and the end of the quiet hours." in text(answer)


def test_an_invalid_email_address_is_refused_next_to_the_field(app, client, people):
    log_in(client, people["parent"])
    answer = post(
        client,
        "/account/contact",
        {"email": "not an address", "mobile": ""},
        page="/account/email",
        headers=ENGLISH,
    )
    assert answer.status_code == 400
    assert re.search(r'id="email-error"[^>]*>This e-mail address is not valid\.', text(answer))
    with app.app_context():
        assert db.session.get(User, people["parent_id"]).email == "parent@example.org"


def test_the_counter_and_the_list_show_unread_first_and_opening_one_marks_it_read(
    app, client, people
):
    with app.app_context():
        parent = db.session.get(User, people["parent_id"])
        choices.set_choices(parent, {"homework": "homepage"})
        db.session.commit()
    _homework_for(app, people["parent_id"], text_="First")
    with app.app_context():
        services.notify(
            "homework", [people["parent_id"]], "homework:2", {"group": "5B", "text": "Second"}
        )
        db.session.commit()
        clock.advance(dt.timedelta(hours=1, seconds=1))
        deliver_due()
    log_in(client, people["parent"])
    counter = text(client.get("/notifications/counter", headers={"HX-Request": "true"}))
    assert '<span class="badge">2</span>' in counter
    with app.app_context():
        first = db.session.query(Notification).filter_by(subject_key="homework:1").one()
    opened = client.get(f"/notifications/{first.id}")
    assert opened.status_code == 302 and opened.location.endswith("/account")
    listing = text(client.get("/notifications/", headers=ENGLISH))
    assert listing.index("Second") < listing.index("First")  # unread first
    assert '<span class="badge">1</span>' in listing


def test_another_persons_notification_is_a_404(app, client, people):
    _homework_for(app, people["parent_id"])
    with app.app_context():
        notification = db.session.query(Notification).one()
    log_in(client, people["admin"])
    assert client.get(f"/notifications/{notification.id}").status_code == 404


def test_the_direction_sees_per_recipient_how_a_notification_left(
    app, client, people, worker, smtp
):
    _homework_for(app, people["parent_id"], worker=worker)
    with app.app_context():
        notification = db.session.query(Notification).one()
    log_in(client, people["admin"])
    page = text(client.get("/notifications/audit", headers=ENGLISH))
    assert "Homework for 5B: Read chapter 3" in page
    detail = text(client.get(f"/notifications/audit/{notification.id}", headers=ENGLISH))
    assert "E-mail" in detail and "Not yet" in detail
    outsider = app.test_client()
    log_in(outsider, people["outsider"])
    assert outsider.get(f"/notifications/audit/{notification.id}").status_code == 404


def test_a_teacher_gets_403_on_the_delivery_audit(app, client, people):
    with app.app_context():
        teacher = db.session.get(User, people["teacher_id"])
        login = teacher.login
    log_in(client, login)
    assert client.get("/notifications/audit").status_code == 403


def test_the_webmaster_sends_a_test_email_and_sees_the_smtp_answer(app, client, people, smtp):
    log_in(client, people["webmaster"])
    answer = post(
        client,
        "/webmaster/mail/test",
        {"to": "check@example.org"},
        page="/webmaster/mail",
        headers=ENGLISH,
    )
    assert answer.status_code == 200
    assert "The test e-mail left. Answer: 250 OK" in text(answer)
    assert [m.rcpt_tos for m in smtp.messages] == [["check@example.org"]]
    bad = post(
        client, "/webmaster/mail/test", {"to": "nope"}, page="/webmaster/mail", headers=ENGLISH
    )
    assert bad.status_code == 400 and "This e-mail address is not valid." in text(bad)


def test_the_webmaster_switches_notification_email_off_and_sets_the_bounce_address(
    app, client, people
):
    log_in(client, people["webmaster"])
    bad = post(
        client,
        "/webmaster/mail/settings",
        {"bounce_address": "not-an-address"},
        page="/webmaster/mail",
        headers=ENGLISH,
    )
    assert bad.status_code == 400 and "This e-mail address is not valid." in text(bad)
    with app.app_context():
        assert settings.current().notification_email is True
    saved = post(
        client,
        "/webmaster/mail/settings",
        {"bounce_address": "bounces@example.org"},  # the box left unticked: switched off
        page="/webmaster/mail",
    )
    assert saved.status_code == 302
    with app.app_context():
        current = settings.current()
        assert (current.notification_email, current.bounce_address) == (
            False,
            "bounces@example.org",
        )


def test_development_mail_is_written_as_eml_and_listed_for_the_webmaster(app, client, people):
    _homework_for(app, people["parent_id"])
    with app.app_context():
        from portal.core.outbox import OutboxItem, run_item

        item = db.session.query(OutboxItem).one()
        run_item(item.id)  # no SMTP_URL: written under instance/mail
    log_in(client, people["webmaster"])
    page = text(client.get("/webmaster/mail", headers=ENGLISH))
    name = re.search(r"/webmaster/mail/files/([^\"]+\.eml)", page).group(1)
    shown = text(client.get(f"/webmaster/mail/files/{name}", headers=ENGLISH))
    assert "parent@example.org" in shown and "List-Unsubscribe" in shown
    assert client.get("/webmaster/mail/files/..%2Fsecret_key").status_code == 404
