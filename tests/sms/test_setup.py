"""The direction's SMS settings and who reaches the SMS pages (SPEC §8): bad input refused next
to its field in the reader's language, the action's text previewed with its segment count;
teachers and families never reach 'SMS to send'; another school's objects are 404; the generic
HTTP JSON provider sends with its configured field names and checks its reports' signature."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from sqlalchemy import select

from portal.attendance import absence_sms
from portal.attendance.models import AttendanceMark, MarkKind
from portal.extensions import db
from portal.sms import services, setup
from portal.sms.models import Sms, SmsAction, SmsState
from tests.attendance.test_alerts import _mark
from tests.receivers import Receiver
from tests.school import in_english, person
from tests.web import csrf_token, logged_in, text

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}


def _post_action(client, data: dict, headers=EN):
    token = csrf_token(client, "/admin/sms/actions/new")
    return client.post(
        "/admin/sms/actions/new", data={"csrf_token": token, **data}, headers=headers
    )


def test_an_action_is_checked_field_by_field_in_both_languages(app, world, sms_school):
    admin = logged_in(app, world.logins["admin"])
    bad = {
        "short_label": "",
        "long_label": "x" * 81,
        "template": "Bonjour {parent}, {pupil} est absent.",
        "response_days": "99",
        "sender": "+33 1",
        "provider_code": "a b",
    }
    answer = _post_action(admin, bad)
    page = text(answer)
    assert answer.status_code == 400
    assert "Give a short label." in page and "At most 80 characters." in page
    assert "Unknown placeholder {parent}." in page
    assert "Give a number of days from 0 to 60." in page
    assert "Give a phone number, or a name of at most 11 letters and digits." in page
    assert "At most 20 letters and digits." in page
    page = text(_post_action(admin, bad, FR))
    assert "Donnez un libellé court." in page and "Champ inconnu {parent}." in page
    assert "{pupil" in text(_post_action(admin, {**bad, "template": "Absent {pupil"}))
    long_text = "Absence de {pupil} " + "é" * 700
    assert "more than 4 parts" in text(_post_action(admin, {**bad, "template": long_text}))
    with in_english(app):
        assert db.session.scalars(select(SmsAction)).all() != []  # the fixture's, only
        assert len(db.session.scalars(select(SmsAction)).all()) == 1
    # The preview while typing: sample values and the segment count.
    token = csrf_token(admin, "/admin/sms/actions/new")
    preview = text(
        admin.post(
            "/admin/sms/actions/preview",
            data={"csrf_token": token, "template": "{pupil} absent le {date} €"},
            headers={**EN, "HX-Request": "true"},
        )
    )
    assert "Léa Martin-Dupont absent le 15/02/2027 €" in preview
    assert "41 characters" in preview and "1 SMS part" in preview and "GSM-7" in preview
    good = {
        **bad,
        "short_label": "SMS2",
        "long_label": "Retard",
        "response_days": "0",
        "sender": "Collège",
        "provider_code": "0",
        "template": "{pupil} en retard",
    }
    answer = _post_action(admin, {**good, "sender": "College"})
    assert answer.status_code == 302


def test_teachers_and_families_never_reach_sms(app, world, sms_school):
    with in_english(app):
        _mark(world, "léa")
        mark_id = db.session.scalars(select(AttendanceMark)).one().id
    for login in ("teacher", "anne", "léa"):
        client = logged_in(app, world.logins[login])
        for url in ("/sms/", "/sms/follow-up", f"/sms/marks/{mark_id}", "/admin/sms/"):
            assert client.get(url).status_code == 403, (login, url)
    staff = logged_in(app, world.logins["staff"])
    assert staff.get("/sms/").status_code == 200
    assert staff.get("/admin/sms/").status_code == 403  # the direction sets the provider up
    other = logged_in(app, world.logins["other_admin"])
    assert other.get(f"/sms/marks/{mark_id}").status_code == 404
    assert other.get(f"/admin/sms/actions/{sms_school.action}").status_code == 404
    token = csrf_token(other, "/sms/")
    answer = other.post(
        f"/admin/sms/actions/{sms_school.action}/delete", data={"csrf_token": token}
    )
    assert answer.status_code == 404
    assert (
        other.post(
            f"/sms/consent/{sms_school.links[world.ids['anne']]}",
            data={"csrf_token": token, "accepts": "0"},
        ).status_code
        == 404
    )
    # Another school's queued SMS cannot be sent or deleted from this one.
    with in_english(app):
        mark = db.session.scalars(select(AttendanceMark)).one()
        [sms] = absence_sms.queue_for_mark(
            person(world, "staff"),
            mark,
            db.session.get(SmsAction, sms_school.action),
            ["guardian1"],
        )
        db.session.commit()
        sms_id = sms.id
    other.post("/sms/delete", data={"csrf_token": token, "sms": [sms_id]})
    other.post("/sms/send", data={"csrf_token": token, "sms": [sms_id]})
    with app.app_context():
        assert db.session.get(Sms, sms_id).state == SmsState.QUEUED


@pytest.fixture
def json_provider():
    with Receiver(answers=[(200, {"content-type": "application/json"})]) as running:
        yield running


def test_the_http_json_provider_uses_its_field_names_and_signed_reports(
    app, world, sms_school, json_provider, worker
):
    secret = "json-secret-0001"
    with in_english(app):
        admin = person(world, "admin")
        with pytest.raises(Exception, match="field_names"):
            setup.save_provider(
                admin,
                setup.ProviderInput(
                    "http_json",
                    "carnet",
                    secret,
                    "Carnet",
                    json_provider.url,
                    "body=message nonsense",
                ),
            )
        db.session.rollback()
        setup.save_provider(
            admin,
            setup.ProviderInput(
                "http_json", "carnet", secret, "Carnet", json_provider.url, "body=message to=msisdn"
            ),
        )
        db.session.commit()
        _mark(world, "léa", MarkKind.LATE, minutes=10)
        mark = db.session.scalars(select(AttendanceMark)).one()
        [sms] = absence_sms.queue_for_mark(
            person(world, "staff"),
            mark,
            db.session.get(SmsAction, sms_school.action),
            ["guardian1"],
        )
        services.send(person(world, "staff"), [sms.id])
        db.session.commit()
        sms_id, key, provider_id = sms.id, sms.idempotency_key, setup.provider_of(world.school).id
    worker()
    [call] = json_provider.received
    sent = json.loads(call.body)
    assert sent["msisdn"] == "+33612345678" and sent["from"] == "Carnet"
    assert sent["message"].endswith("absent le 23/11/2026 de 10:00 à 11:00.")
    assert sent["reference"] == key and call.headers["idempotency-key"] == key
    report = json.dumps({"reference": key, "status": "delivered"}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), report, hashlib.sha256).hexdigest()
    client = app.test_client()
    path = f"/sms/hooks/{provider_id}/reports"
    headers = {"content-type": "application/json"}
    assert (
        client.post(path, data=report, headers={**headers, "X-Signature": "sha256=0"}).status_code
        == 403
    )
    assert (
        client.post(path, data=report, headers={**headers, "X-Signature": signature}).status_code
        == 204
    )
    with app.app_context():
        assert db.session.get(Sms, sms_id).state == SmsState.DELIVERED
