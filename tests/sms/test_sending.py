"""Sending SMS through a Twilio-compatible provider on loopback (SPEC §8): queued, not sent,
until the staff send them; one call per attempt under the SMS's idempotency key, so that a 503
then a success, or an answer lost after a timeout, sends one SMS; a 400 is final and shown with
the provider's words; delivery reports replayed or out of order end in the right state, and an
unsigned or forged report changes nothing."""

from __future__ import annotations

import base64
import logging

from sqlalchemy import select

from portal.attendance import absence_sms
from portal.attendance.models import AttendanceMark, MarkKind
from portal.core.audit import AuditEntry
from portal.extensions import db
from portal.sms import services
from portal.sms.models import Sms, SmsAction, SmsProvider, SmsState
from tests import workers
from tests.attendance.test_alerts import _mark
from tests.conftest import wait_for
from tests.school import in_english, person
from tests.sms.conftest import ACCOUNT, ANNE, TOKEN
from tests.web import csrf_token, logged_in, text

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}


def _queue(app, world, sms_school, name="léa", group="5B", kind=MarkKind.ABSENT) -> list[int]:
    with in_english(app):
        _mark(world, name, kind, minutes=10 if kind == MarkKind.LATE else None, group=group)
        mark = db.session.scalars(select(AttendanceMark).order_by(AttendanceMark.id.desc())).first()
        queued = absence_sms.queue_for_mark(
            person(world, "staff"),
            mark,
            db.session.get(SmsAction, sms_school.action),
            ["guardian1"],
        )
        db.session.commit()
        return [sms.id for sms in queued]


def _send(app, world, ids) -> None:
    with in_english(app):
        assert services.send(person(world, "staff"), ids) == (len(ids), 0)
        db.session.commit()


def _school_name(app, world) -> str:
    with app.app_context():
        return person(world, "admin").school.name


def _sms(app, sms_id: int) -> Sms:
    with app.app_context():
        sms = db.session.get(Sms, sms_id)
        db.session.expunge(sms)
        return sms


def test_queued_sms_leaves_only_when_sent_and_reports_settle_it(
    app, world, sms_school, twilio, worker
):
    [sms_id] = _queue(app, world, sms_school)
    worker()
    assert twilio.calls == [], "a queued SMS waits for the staff"
    assert _sms(app, sms_id).state == SmsState.QUEUED
    _send(app, world, [sms_id])
    worker()
    [call] = twilio.calls
    assert (
        call.headers["authorization"]
        == "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    )
    assert call.fields["To"] == ANNE
    assert call.fields["From"] == "+33146000000"
    body = "Léa Martin (5B) absent le 23/11/2026 de 10:00 à 11:00."
    assert call.fields["Body"] == f"{_school_name(app, world)}: {body}"
    sms = _sms(app, sms_id)
    assert call.headers["idempotency-key"] == sms.idempotency_key
    assert sms.state == SmsState.SENT and sms.provider_ref and sms.attempts == 1
    # Reports: twice, out of order; the final state is the furthest one.
    client = app.test_client()
    for status in ("sent", "delivered", "sent", "queued", "delivered"):
        path, fields, headers = twilio.report(sms.provider_ref, status)
        assert client.post(path, data=fields, headers=headers).status_code == 204
    sms = _sms(app, sms_id)
    assert sms.state == SmsState.DELIVERED and sms.finished_at is not None
    staff = logged_in(app, world.logins["staff"])
    page = text(staff.get("/sms/follow-up?tab=delivered", headers=EN))
    assert "Léa Martin" in page and "Anne Martin" in page and sms.provider_ref in page
    page = text(staff.get("/sms/follow-up?tab=delivered", headers=FR))
    assert "SMS délivrés" in page and "remis" in page
    summary = text(staff.get("/sms/follow-up?tab=summary", headers=EN))
    assert "November 2026" in summary and "1 delivered out of 1 sent" in summary


def test_a_forged_or_foreign_report_changes_nothing(app, world, sms_school, twilio, worker):
    [sms_id] = _queue(app, world, sms_school)
    _send(app, world, [sms_id])
    worker()
    ref = _sms(app, sms_id).provider_ref
    client = app.test_client()
    path, fields, headers = twilio.report(ref, "failed", token="not-the-token")
    assert client.post(path, data=fields, headers=headers).status_code == 403
    path, fields, headers = twilio.report(ref, "failed")
    assert client.post(path, data=fields).status_code == 403  # no signature
    tampered = {**fields, "MessageStatus": "undelivered"}
    assert client.post(path, data=tampered, headers=headers).status_code == 403
    assert _sms(app, sms_id).state == SmsState.SENT
    assert (
        client.post(path.replace(f"/{sms_school.provider}/", "/999/"), data=fields).status_code
        == 404
    )


def test_a_503_then_a_lost_answer_then_success_sends_once(app, world, sms_school, twilio):
    # The first call gets a 503; the second is taken but answered after the timeout; the
    # third finds the message the second created, under the same idempotency key.
    twilio.answers = [(503, 20500, "Service unavailable"), ("slow", 3)]
    [sms_id] = _queue(app, world, sms_school)
    process = workers.start(app, "sms", scheduler=True, SMS_RETRY_DELAYS="1,1,1", SMS_TIMEOUT="1")
    try:
        _send(app, world, [sms_id])
        wait_for(lambda: _sms(app, sms_id).state == SmsState.SENT, 60, "the SMS sent")
    finally:
        workers.stop([process])
    keys = {call.headers["idempotency-key"] for call in twilio.calls}
    assert len(twilio.calls) == 3 and len(keys) == 1
    assert len(twilio.messages) == 1, "one SMS reached the provider"
    sms = _sms(app, sms_id)
    assert sms.attempts == 3 and sms.provider_ref == next(iter(twilio.messages))


def test_a_400_is_not_retried_and_the_staff_read_why(app, world, sms_school, twilio, worker):
    twilio.answers = [(400, 21211, "The 'To' number +33612345678 is not a valid phone number.")]
    [sms_id] = _queue(app, world, sms_school)
    _send(app, world, [sms_id])
    worker()
    worker()
    assert len(twilio.calls) == 1
    sms = _sms(app, sms_id)
    assert sms.state == SmsState.FAILED and sms.attempts == 1
    assert sms.error == "HTTP 400 · The 'To' number +33612345678 is not a valid phone number."
    staff = logged_in(app, world.logins["staff"])
    page = text(staff.get("/sms/follow-up?tab=failed", headers=EN))
    assert "HTTP 400 · The &#39;To&#39; number +33612345678 is not a valid phone number." in page
    assert "failed or invalid" in page


def test_staff_choose_send_or_delete_from_the_queue(app, world, sms_school, twilio, worker):
    ids = _queue(app, world, sms_school) + _queue(app, world, sms_school, "zoé", "4A")
    staff = logged_in(app, world.logins["staff"])
    page = text(staff.get("/sms/", headers=EN))
    assert "There are 2 SMS waiting to be sent." in page
    everything = text(staff.get("/sms/?all=1", headers={**EN, "HX-Request": "true"}))
    assert everything.count("checked") == 2 and "<html" not in everything
    token = csrf_token(staff, "/sms/")
    answer = staff.post(
        "/sms/delete",
        data={"csrf_token": token, "sms": [ids[1]]},
        headers={**EN, "HX-Request": "true"},
    )
    assert "1 SMS deleted." in text(answer) and "There is 1 SMS waiting" in text(answer)
    answer = staff.post(
        "/sms/send", data={"csrf_token": token}, headers={**EN, "HX-Request": "true"}
    )
    assert answer.status_code == 400 and "Choose at least one SMS." in text(answer)
    answer = staff.post("/sms/send", data={"csrf_token": token, "sms": ids}, headers=EN)
    assert answer.status_code == 302
    worker()
    assert len(twilio.calls) == 1
    assert _sms(app, ids[0]).state == SmsState.SENT
    with app.app_context():
        assert db.session.get(Sms, ids[1]) is None


def test_secrets_never_appear_in_pages_or_logs(app, world, twilio, worker, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    secret = "Sup3r-Secret-Token-4711-ZZ"
    admin = logged_in(app, world.logins["admin"])
    with in_english(app):
        from portal.core import settings

        settings.save(webhooks_private_allowed=True)
        db.session.commit()
    answer = admin.post(
        "/admin/sms/",
        data={
            "csrf_token": csrf_token(admin, "/admin/sms/"),
            "kind": "twilio",
            "account_key": ACCOUNT,
            "secret": secret,
            "sender": "Carnet",
            "api_url": twilio.url,
        },
        headers=EN,
    )
    assert answer.status_code == 302, text(answer)[:2000]
    twilio.token = secret
    pages = [text(admin.get(url, headers=EN)) for url in ("/admin/sms/", "/sms/", "/sms/follow-up")]
    assert "ending in …1-ZZ" in pages[0]
    # A second save without the secret keeps it.
    answer = admin.post(
        "/admin/sms/",
        data={
            "csrf_token": csrf_token(admin, "/admin/sms/"),
            "kind": "twilio",
            "account_key": ACCOUNT,
            "secret": "",
            "sender": "Carnet",
            "api_url": twilio.url,
        },
        headers=EN,
    )
    assert answer.status_code == 302
    with in_english(app):
        from portal.sms import setup

        setup.save_action(
            person(world, "admin"),
            setup.ActionInput("SMS", "Envoi de SMS", "{pupil} absent le {date}.", 0),
        )
        db.session.commit()
    with in_english(app):
        from portal.sms.models import SmsAction

        _mark(world, "léa", MarkKind.ABSENT)
        mark = db.session.scalars(select(AttendanceMark)).one()
        anne = person(world, "anne")
        anne.mobile = ANNE
        for link in db.session.scalars(
            select(__import__("portal.accounts.models", fromlist=["Guardianship"]).Guardianship)
        ):
            link.accepts_sms = True
        [sms] = absence_sms.queue_for_mark(
            person(world, "staff"), mark, db.session.scalars(select(SmsAction)).one(), ["guardian1"]
        )
        services.send(person(world, "staff"), [sms.id])
        db.session.commit()
    worker()
    assert len(twilio.messages) == 1, "the kept secret still authenticates"
    with app.app_context():
        stored = db.session.scalars(select(SmsProvider)).one()
        audits = [entry.details for entry in db.session.scalars(select(AuditEntry))]
    pages += [text(admin.get(url, headers=EN)) for url in ("/admin/sms/", "/sms/follow-up")]
    out, err = capfd.readouterr()
    for seen in [*pages, stored.secret, str(stored.options), str(audits), caplog.text, out, err]:
        assert secret not in seen
    assert any(entry.get("secret_changed") for entry in audits)
