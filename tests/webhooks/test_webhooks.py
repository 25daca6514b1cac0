"""Webhooks (SPEC §9): an alert posted to a real receiver on loopback that checks every call
with the `standardwebhooks` package; retries after growing delays by RQ's Retry, every attempt
logged and shown to the direction; an endpoint failing for good switched off and its
administrators told; addresses on internal networks refused when the URL is saved, before a
call, once connected (a name rebound to loopback) and on a redirect."""

from __future__ import annotations

import json
import re
import socket

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from portal.accounts.models import School
from portal.attendance import alert_rules
from portal.attendance.alert_rules import RuleInput
from portal.attendance.models import AlertRule, MarkKind
from portal.core import guard, settings
from portal.core.audit import AuditEntry
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.notifications.models import Notification
from portal.platform import services as platform
from portal.webhooks import services
from portal.webhooks.jobs import deliver
from portal.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests import factories as make
from tests import workers
from tests.attendance.test_alerts import _mark, _rule
from tests.conftest import wait_for
from tests.receivers import Receiver
from tests.school import person
from tests.web import csrf_token, logged_in, text

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]{40,}")


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def _allow_private(app, allowed: bool = True) -> None:
    with app.app_context():
        settings.save(webhooks_private_allowed=allowed)
        db.session.commit()


def _endpoint(app, world, url: str) -> tuple[int, str]:
    with app.app_context():
        endpoint, secret = services.create(person(world, "admin"), url, "Vie scolaire")
        db.session.commit()
        return endpoint.id, secret


def _verified(secret: str, call) -> dict:
    """The body of a call, once `standardwebhooks` has checked its signature and timestamp."""
    return Webhook(secret).verify(call.body, call.headers)


def _test_event(app, world, endpoint_id: int, *, now: bool = True) -> None:
    """A test event to the endpoint, committed; with ``now``, its one and last attempt made
    at once in this process (outside RQ, so without retries)."""
    with app.app_context():
        services.send_test(person(world, "admin"), db.session.get(WebhookEndpoint, endpoint_id))
        db.session.commit()
        if now:
            deliver(db.session.scalars(select(WebhookDelivery.id)).one())


def _attempts(app, endpoint_id: int) -> list[tuple[str, int | None]]:
    with app.app_context():
        return [
            (delivery.state, attempt.status_code)
            for delivery in db.session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
            )
            for attempt in delivery.tries
        ]


def test_an_alert_is_posted_to_the_rules_webhook_signed(app, world, receiver, worker):
    _allow_private(app)
    endpoint_id, secret = _endpoint(app, world, receiver.url)
    assert secret.startswith("whsec_")
    with app.app_context():
        rule_id = _rule(world, low=0, webhook_endpoint_id=endpoint_id).id
        _mark(world, "léa", MarkKind.ABSENT)
    worker()
    [call] = receiver.received
    assert call.headers["webhook-id"].startswith("msg_")
    assert call.headers["webhook-signature"].startswith("v1,")
    assert call.headers["content-type"] == "application/json"
    event = _verified(secret, call)
    assert event["type"] == "attendance.alert"
    assert event["data"]["rule"] == {
        "id": rule_id,
        "name": "Absences répétées",
        "colour": "#b45309",
        "metric": "sessions_missed",
        "counted": "all",
        "trigger": "more",
        "low": 0,
        "high": None,
        "period": {"amount": 30, "unit": "days"},
    }
    assert event["data"]["person"]["first_name"] == "Léa"
    assert event["data"]["amount"] == 1
    assert _attempts(app, endpoint_id) == [("succeeded", 200)]
    # A forged body does not verify.
    call.body = call.body.replace(b"L\xc3\xa9a", b"Zo\xc3\xa9")
    with pytest.raises(Exception, match="signature"):
        _verified(secret, call)


def test_a_suspended_schools_calls_are_cancelled_before_they_leave(app, world, receiver, worker):
    _allow_private(app)
    endpoint_id, _secret = _endpoint(app, world, receiver.url)
    _test_event(app, world, endpoint_id, now=False)
    with app.app_context():
        school = db.session.get(School, world.school)
        platform.suspend_school(make.user(None, "webmaster"), school)
        db.session.commit()
    worker()
    assert receiver.received == []
    with app.app_context():
        delivery = db.session.scalars(select(WebhookDelivery)).one()
        assert (delivery.state, delivery.tries) == ("cancelled", [])


def test_a_receiver_failing_twice_gets_three_attempts_after_growing_delays(app, world, receiver):
    _allow_private(app)
    receiver.answers = [(500, {}), (500, {})]
    endpoint_id, secret = _endpoint(app, world, receiver.url)
    process = workers.start(app, "webhooks", scheduler=True, WEBHOOK_RETRY_DELAYS="2,4,8")
    try:
        _test_event(app, world, endpoint_id, now=False)
        wait_for(lambda: len(receiver.received) == 3, 60, "three calls received")
        wait_for(
            lambda: ("succeeded", 200) in _attempts(app, endpoint_id), 10, "a succeeded attempt"
        )
    finally:
        workers.stop([process])
    first, second, third = receiver.received
    # RQ's Retry intervals (2 then 4 s; the scheduler counts in whole seconds).
    assert 1 <= second.at - first.at < third.at - second.at
    assert {call.headers["webhook-id"] for call in receiver.received} == {
        first.headers["webhook-id"]
    }
    for call in receiver.received:
        assert _verified(secret, call)["type"] == "webhook.test"
    assert _attempts(app, endpoint_id) == [
        ("succeeded", 500),
        ("succeeded", 500),
        ("succeeded", 200),
    ]
    admin = logged_in(app, world.logins["admin"])
    page = text(admin.get(f"/alerts/webhooks/{endpoint_id}", headers={"Accept-Language": "en"}))
    assert page.count("<td>500</td>") == 2 and page.count("<td>200</td>") == 1
    assert "answer 500" in page and "delivered" in page
    assert secret not in page  # shown once, when it was made


def test_a_delivery_that_never_succeeds_fails_switches_the_endpoint_off_and_tells_admins(
    app, world, receiver, worker
):
    _allow_private(app)
    receiver.answers = [(503, {})] * 3
    endpoint_id, _secret = _endpoint(app, world, receiver.url)
    app.config["WEBHOOK_RETRY_DELAYS"] = [0, 0]
    try:
        _test_event(app, world, endpoint_id, now=False)
        worker()
    finally:
        app.config["WEBHOOK_RETRY_DELAYS"] = [60, 300, 1800, 7200, 21600, 43200, 43200]
    assert len(receiver.received) == 3
    assert _attempts(app, endpoint_id) == [("failed", 503)] * 3
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert not endpoint.enabled and endpoint.disabled_reason
        told = db.session.scalars(
            select(Notification.recipient_id).where(Notification.type == "webhook_disabled")
        ).all()
        assert told == [world.ids["admin"]]
        # Switched off, it is called no more: a new alert is not even queued.
        assert services.send_test(person(world, "admin"), endpoint) is None
        # Switched on again, the failed delivery may go again, under the same webhook-id.
        services.set_enabled(person(world, "admin"), endpoint, True)
        failed = db.session.scalars(select(WebhookDelivery)).one()
        assert services.send_again(failed)
        db.session.commit()
    worker()
    assert len(receiver.received) == 4
    assert receiver.received[3].headers["webhook-id"] == receiver.received[0].headers["webhook-id"]
    assert _attempts(app, endpoint_id)[-1] == ("succeeded", 200)


def test_the_default_retries_span_more_than_a_day(app):
    delays = app.config["WEBHOOK_RETRY_DELAYS"]
    assert sum(delays) >= 24 * 3600
    assert delays == sorted(delays)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://[::ffff:169.254.169.254]/hook",
        "ftp://example.org/hook",
        "https://user:secret@example.org/hook",
    ],
)
def test_internal_addresses_are_refused_when_saved(app, world, url):
    with app.app_context(), pytest.raises(ValidationError) as refused:
        services.create(person(world, "admin"), url)
    assert set(refused.value.errors) == {"url"}


def test_the_direction_is_told_why_next_to_the_field(app, world):
    client = logged_in(app, world.logins["admin"])
    answer = client.post(
        "/alerts/webhooks/new",
        data={
            "csrf_token": csrf_token(client, "/alerts/webhooks/new"),
            "url": "https://169.254.169.254/latest/meta-data/",
        },
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 400
    assert "leads to a private or reserved network" in text(answer)
    with app.app_context():
        assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_a_call_to_an_address_turned_internal_is_refused_before_it_leaves(
    app, world, receiver, worker
):
    _allow_private(app)
    endpoint_id, _secret = _endpoint(app, world, receiver.url)
    _allow_private(app, False)
    _test_event(app, world, endpoint_id)
    with app.app_context():
        [attempt] = db.session.scalars(select(WebhookAttempt)).all()
        assert attempt.status_code is None and "réseau privé ou réservé" in attempt.error
    assert receiver.received == []


def test_a_name_rebound_to_loopback_is_refused_once_connected(app, world, receiver, monkeypatch):
    """The name resolves to a public address when checked, then to loopback when connecting
    (DNS rebinding): the connected socket is looked at before anything is sent."""
    port = int(receiver.url.split(":")[2].split("/")[0])
    real = socket.getaddrinfo
    answers = iter(["93.184.215.14"])

    def rebinding(host, *args, **kwargs):
        if host == "rebind.example":
            address = next(answers, "127.0.0.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    endpoint_id, _secret = _endpoint(app, world, f"http://rebind.example:{port}/hook")
    _test_event(app, world, endpoint_id)
    assert _attempts(app, endpoint_id) == [("failed", None)]
    assert receiver.received == []


def test_a_redirect_to_an_internal_address_is_not_followed(app, world, monkeypatch):
    """127.0.0.2 stands for a public server here (nothing else is reachable from the tests);
    it redirects to the loopback receiver, which must hear nothing."""
    public = guard.refused_address
    monkeypatch.setattr(guard, "refused_address", lambda a: a != "127.0.0.2" and public(a))
    with Receiver() as inside, Receiver("127.0.0.2") as outside:
        outside.answers = [(307, {"location": inside.url})]
        endpoint_id, _secret = _endpoint(app, world, outside.url)
        _test_event(app, world, endpoint_id)
        with app.app_context():
            [attempt] = db.session.scalars(select(WebhookAttempt)).all()
            assert attempt.status_code is None
            assert "redirigé vers" in attempt.error and "réseau privé ou réservé" in attempt.error
        assert len(outside.received) == 1 and inside.received == []


def test_a_redirect_is_followed_with_the_same_signed_body(app, world):
    _allow_private(app)
    with Receiver() as final, Receiver() as first:
        first.answers = [(308, {"location": final.url})]
        endpoint_id, secret = _endpoint(app, world, first.url)
        _test_event(app, world, endpoint_id)
        assert _verified(secret, final.received[0])["type"] == "webhook.test"
    assert _attempts(app, endpoint_id) == [("succeeded", 200)]


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(app, world, receiver):
    _allow_private(app)
    endpoint_id, old = _endpoint(app, world, receiver.url)
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        new = services.rotate(person(world, "admin"), endpoint)
        services.send_test(person(world, "admin"), endpoint)
        db.session.commit()
        deliver(db.session.scalars(select(WebhookDelivery.id)).one())
    [call] = receiver.received
    assert len(call.headers["webhook-signature"].split(" ")) == 2
    assert _verified(new, call) == _verified(old, call)
    assert new != old


def test_endpoints_belong_to_the_direction_of_their_school(app, world):
    _allow_private(app)  # no name resolves on the test machine
    endpoint_id, secret = _endpoint(app, world, "https://hooks.example.org/carnet")
    own = logged_in(app, world.logins["admin"])
    page = text(own.get(f"/alerts/webhooks/{endpoint_id}"))
    assert "https://hooks.example.org/carnet" in page and secret not in page
    other = logged_in(app, world.logins["other_admin"])
    assert other.get(f"/alerts/webhooks/{endpoint_id}").status_code == 404
    token = csrf_token(other, "/alerts/webhooks/")
    for action in ("rotate", "test", "enabled", "delete"):
        answer = other.post(f"/alerts/webhooks/{endpoint_id}/{action}", data={"csrf_token": token})
        assert answer.status_code == 404, action
    staff = logged_in(app, world.logins["staff"])
    assert staff.get("/alerts/webhooks/").status_code == 403
    with app.app_context():
        stored = db.session.get(WebhookEndpoint, endpoint_id).secret
    assert secret not in stored  # sealed at rest
    assert json.dumps(secret) not in text(own.get("/alerts/webhooks/"))


def test_a_rule_calls_only_a_webhook_of_its_school(app, world):
    _allow_private(app)
    endpoint_id, _secret = _endpoint(app, world, "https://hooks.example.org/carnet")
    for login, status in (("other_admin", 400), ("admin", 302)):
        client = logged_in(app, world.logins[login])
        answer = client.post("/alerts/rules/new", data=_late_rule(client, endpoint_id))
        assert answer.status_code == status, login
    with app.app_context():
        [rule] = db.session.scalars(select(AlertRule)).all()
        assert rule.school_id == world.school and rule.webhook_endpoint_id == endpoint_id
        with pytest.raises(ValidationError) as refused:
            alert_rules.save(person(world, "other_admin"), RuleInput(**_late_input(endpoint_id)))
        assert set(refused.value.errors) == {"webhook"}


def _late_input(endpoint_id: int) -> dict:
    return {
        "name": "Retards",
        "colour": "#b45309",
        "population": "pupil",
        "metric": "late_arrivals",
        "counted": "all",
        "trigger": "more",
        "low": 3,
        "high": None,
        "period_amount": 30,
        "period_unit": "days",
        "webhook_endpoint_id": endpoint_id,
    }


def _late_rule(client, endpoint_id: int) -> dict:
    return {
        "csrf_token": csrf_token(client, "/alerts/rules/new"),
        "name": "Retards",
        "colour": "#b45309",
        "population": "pupil",
        "metric": "late_arrivals",
        "counted": "all",
        "trigger": "more",
        "low": "3",
        "period_amount": "30",
        "period_unit": "days",
        "scope": "everyone",
        "scope_group": "0",
        "webhook": str(endpoint_id),
    }


def test_the_secret_is_shown_once_when_made_and_when_replaced(app, world):
    _allow_private(app)
    admin = logged_in(app, world.logins["admin"])
    answer = admin.post(
        "/alerts/webhooks/new",
        data={
            "csrf_token": csrf_token(admin, "/alerts/webhooks/new"),
            "url": "https://hooks.example.org/carnet",
            "description": "Logiciel de vie scolaire",
        },
    )
    with app.app_context():
        endpoint_id = db.session.scalars(select(WebhookEndpoint.id)).one()
    secret_page = f"/alerts/webhooks/{endpoint_id}/secret"
    assert (answer.status_code, answer.headers["Location"]) == (303, secret_page)
    shown = admin.get(secret_page)
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    first = SECRET.search(text(shown)).group(0)
    # Reloading the page makes nothing and shows the secret no more.
    again = admin.get(secret_page, headers={"Accept-Language": "en"})
    assert again.headers["Location"] == f"/alerts/webhooks/{endpoint_id}"
    assert SECRET.search(text(admin.get(again.headers["Location"]))) is None
    with app.app_context():
        assert db.session.scalar(select(func.count(WebhookEndpoint.id))) == 1
    token = csrf_token(admin, f"/alerts/webhooks/{endpoint_id}")
    replaced = admin.post(f"/alerts/webhooks/{endpoint_id}/rotate", data={"csrf_token": token})
    assert replaced.headers["Location"] == secret_page
    second = SECRET.search(text(admin.get(secret_page))).group(0)
    assert second != first
    page = text(admin.get(f"/alerts/webhooks/{endpoint_id}"))
    assert first not in page and second not in page
    with app.app_context():
        tags = db.session.scalars(select(AuditEntry.tag).order_by(AuditEntry.id)).all()
    assert tags == ["webhooks:endpoint:save", "webhooks:endpoint:rotate"]


def test_only_the_webmaster_lets_webhooks_reach_private_addresses(app, world):
    with app.app_context():
        webmaster = make.user(None, "webmaster")
        db.session.commit()
        login = webmaster.login
    client = logged_in(app, login)
    token = csrf_token(client, "/webmaster/webhooks")
    assert client.post("/webmaster/webhooks", data={"csrf_token": token, "private_allowed": "y"})
    with app.app_context():
        assert settings.current().webhooks_private_allowed
        assert db.session.scalars(select(AuditEntry.tag)).all() == ["platform:webhooks:change"]
    admin = logged_in(app, world.logins["admin"])
    assert admin.get("/webmaster/webhooks").status_code == 403


def test_a_crafted_webhook_choice_is_refused_next_to_the_field(app, world):
    """A school without webhooks shows no webhook field, but an answer naming one still gets
    its reason, next to the field."""
    _allow_private(app)
    endpoint_id, _secret = _endpoint(app, world, "https://hooks.example.org/carnet")
    other = logged_in(app, world.logins["other_admin"])
    for choice, reason in (
        (str(endpoint_id), "Choose a webhook of the school."),
        ("abc", "coerce"),
    ):
        answer = other.post(
            "/alerts/rules/new",
            data={**_late_rule(other, endpoint_id), "webhook": choice},
            headers={"Accept-Language": "en"},
        )
        assert answer.status_code == 400 and reason in text(answer)
