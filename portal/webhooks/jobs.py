"""Calling an endpoint (SPEC §9): one attempt per run of the job, signed anew each time; RQ's
Retry runs it again after growing delays (WEBHOOK_RETRY_DELAYS, more than a day in all). When
the last attempt fails the delivery has failed, the endpoint is switched off and the school's
administrators are told."""

from __future__ import annotations

import datetime as dt
import time

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from standardwebhooks import Webhook

from portal.accounts.models import School
from portal.core import clock, outbound, outbox, settings
from portal.core.i18n import deferred
from portal.core.jobs import enqueue, job, last_attempt, redis_connection, retry_after
from portal.extensions import db
from portal.notifications import services as notifications
from portal.webhooks import services
from portal.webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery

MAX_REDIRECTS = 3
#: How much of the receiver's answer the log keeps.
ANSWER_KEPT = 500
USER_AGENT = "Carnet-Webhooks/1"


class CallFailed(Exception):
    """Raised after a failed attempt that has another one to come, so that RQ retries."""


def _job_id(delivery_id: int) -> str:
    return f"webhook-{delivery_id}"


@outbox.handler("webhook")
def _start(payload: dict) -> None:
    """After the commit: the delivery's job, with the configured retries. A job of the same
    delivery still waiting or running is left to finish rather than doubled."""
    delivery_id = payload["delivery_id"]
    try:
        found = Job.fetch(_job_id(delivery_id), connection=redis_connection())
    except NoSuchJobError:
        found = None
    waiting = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED}
    if found is not None and found.get_status(refresh=False) in waiting:
        return
    retry = retry_after(current_app.config["WEBHOOK_RETRY_DELAYS"])
    enqueue(deliver, delivery_id, job_id=_job_id(delivery_id), retry=retry)


def headers_for(delivery: WebhookDelivery, secrets: list[str], sent_at: dt.datetime) -> dict:
    """The Standard Webhooks headers: one v1 signature per secret in force, space-separated."""
    signatures = " ".join(
        Webhook(secret).sign(delivery.message_id, sent_at, delivery.body) for secret in secrets
    )
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signatures,
    }


def _post(url: str, body: bytes, headers: dict, private_allowed: bool) -> WebhookAttempt:
    """One call, following at most three redirects, each checked as the first URL was."""
    answer = outbound.call(
        "POST",
        url,
        body=body,
        headers=headers,
        private_allowed=private_allowed,
        timeout=current_app.config["WEBHOOK_TIMEOUT"],
        redirects=MAX_REDIRECTS,
    )
    if answer.status is None:
        return WebhookAttempt(status_code=None, error=answer.notes)
    return WebhookAttempt(
        status_code=answer.status, response=answer.text[:ANSWER_KEPT], error=answer.notes
    )


@job(queue="default", timeout=120, retry=None)
def deliver(delivery_id: int) -> str:
    """One attempt at a delivery; raises CallFailed while attempts remain, for RQ to retry."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.state != DeliveryState.PENDING:
        return "skipped"
    endpoint = delivery.endpoint
    school = db.session.get(School, delivery.school_id)
    if not endpoint.enabled or school.suspended_at is not None:
        # Switched off, or its school suspended (which rests everything that leaves for it).
        delivery.state, delivery.finished_at = DeliveryState.CANCELLED, clock.now()
        return "cancelled"
    # The timestamp is the receiver's freshness check against its own clock: the real time.
    sent_at = dt.datetime.fromtimestamp(time.time(), dt.UTC)
    headers = headers_for(delivery, services.signing_secrets(endpoint), sent_at)
    started = time.monotonic()
    private_allowed = settings.current().webhooks_private_allowed
    with force_locale(school.default_language):
        attempt = _post(endpoint.url, delivery.body.encode(), headers, private_allowed)
    attempt.duration_ms = round((time.monotonic() - started) * 1000)
    attempt.attempted_at = clock.now()
    delivery.tries.append(attempt)
    delivery.attempts += 1
    if attempt.succeeded:
        delivery.state, delivery.finished_at = DeliveryState.SUCCEEDED, clock.now()
        endpoint.failures = 0
        return "succeeded"
    if not last_attempt():
        db.session.commit()
        raise CallFailed(f"webhook delivery {delivery_id}: {attempt.status_code or attempt.error}")
    delivery.state, delivery.finished_at = DeliveryState.FAILED, clock.now()
    endpoint.failures += 1
    if endpoint.enabled:
        with force_locale(school.default_language):
            _switch_off(endpoint, school)
    return "failed"


def _switch_off(endpoint, school: School) -> None:
    """An endpoint whose calls failed for more than a day stops being called; the school's
    administrators are told, and may switch it on again and send the failed deliveries again."""
    endpoint.enabled = False
    endpoint.disabled_reason = _("Calls failed for more than a day: switched off by Carnet.")
    notifications.tell_admins(
        "webhook_disabled",
        school.id,
        f"webhook:{endpoint.id}",
        {
            "text": deferred("%(url)s was switched off after failing calls", url=endpoint.url),
            "url": f"/admin/webhooks/{endpoint.id}",
        },
    )
