"""Sending an SMS (SPEC §8): one job per SMS, one call to the provider per run, under the SMS's
idempotency key, so that a call retried after a lost answer sends nothing twice. No answer, a
5xx or a 429 is tried again by RQ's Retry after growing delays (SMS_RETRY_DELAYS); any other
refusal is final, and kept with the provider's own words for the staff."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select, update

from portal.accounts.models import School
from portal.core import clock, outbox
from portal.core.jobs import enqueue, job, last_attempt, redis_connection, retry_after
from portal.extensions import db
from portal.sms import inbound, providers, setup
from portal.sms.models import Sms, SmsAction, SmsKind, SmsState
from portal.sms.providers import Outgoing, Report

#: How long after it was accepted the development adapter reports an SMS delivered.
SIMULATED_DELAY = dt.timedelta(seconds=3)
#: An SMS sent this long ago and still without an answer is checked for a lost job.
SWEEP_GRACE = dt.timedelta(minutes=2)


class SendFailed(Exception):
    """Raised after a temporary failure that has another attempt to come, so that RQ retries."""


def _job_id(sms_id: int) -> str:
    return f"sms-{sms_id}"


@outbox.handler("sms")
def _start(payload: dict) -> None:
    """After the commit: each SMS's job, with the configured retries."""
    retry = retry_after(current_app.config["SMS_RETRY_DELAYS"])
    for sms_id in payload["ids"]:
        enqueue(send, sms_id, job_id=_job_id(sms_id), retry=retry)


def _job_alive(sms_id: int, connection) -> bool:
    """Whether the SMS's job is still waiting, scheduled for a retry, or running in a worker
    that is alive (a killed worker's key outlives it by RQ's worker TTL, a few minutes)."""
    try:
        found = Job.fetch(_job_id(sms_id), connection=connection)
    except NoSuchJobError:
        return False
    status = found.get_status(refresh=False)
    if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
        return True
    if status == JobStatus.STARTED and found.worker_name:
        key = Worker.redis_worker_namespace_prefix + found.worker_name
        return Worker.find_by_key(key, connection=connection) is not None
    return False


@job(queue="default", timeout=300, retry=None)
def sweep() -> int:
    """SMS still being sent whose job is gone — Redis restarted without its data, or the
    worker was killed during the last attempt — are given a job again; the idempotency key
    keeps a provider that already took one from sending it twice. An SMS no attempt could
    send within its retries and an hour more is failed, with the reason, for the staff.
    Returns how many were given a job again."""
    delays = current_app.config["SMS_RETRY_DELAYS"]
    now = clock.now()
    give_up = now - dt.timedelta(seconds=sum(delays) + 3600)
    waiting = db.session.execute(
        select(Sms.id, Sms.submitted_at, Sms.school_id).where(
            Sms.state == SmsState.SENDING, Sms.submitted_at < now - SWEEP_GRACE
        )
    ).all()
    connection = redis_connection()
    again = 0
    for sms_id, submitted_at, school_id in waiting:
        if _job_alive(sms_id, connection):
            continue
        if submitted_at < give_up:
            school = db.session.get(School, school_id)
            with force_locale(school.default_language):
                _failed(db.session.get(Sms, sms_id), _("The SMS could not be handed over."))
            continue
        enqueue(send, sms_id, job_id=_job_id(sms_id), retry=retry_after(delays))
        again += 1
    return again


def callback_url(provider_id: int, sms_id: int) -> str:
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return f"{base}/sms/hooks/{provider_id}/reports?sms={sms_id}"


@job(queue="default", timeout=120, retry=None)
def send(sms_id: int) -> str:
    """One attempt at one SMS; raises SendFailed while attempts remain, for RQ to retry."""
    sms = db.session.get(Sms, sms_id)
    if sms is None or sms.state != SmsState.SENDING:
        return "skipped"
    if sms.submitted_at > clock.now():
        # Held for later (a session's start, the end of quiet hours): a job run early sends
        # nothing; the outbox row, or the sweep after that time, runs it again.
        return "held"
    school = db.session.get(School, sms.school_id)
    provider = setup.provider_of(sms.school_id)
    with force_locale(school.default_language):
        if school.suspended_at is not None:
            return _failed(sms, _("The school was suspended before the SMS left."))
        if provider is None:
            return _failed(sms, _("The direction must set up the SMS provider first."))
    adapter = providers.adapter_for(provider)
    action = db.session.get(SmsAction, sms.action_id) if sms.action_id else None
    outgoing = Outgoing(
        sms_id=sms.id,
        to=sms.phone,
        sender=sms.sender or provider.sender,
        body=sms.body,
        key=sms.idempotency_key,
        callback=callback_url(provider.id, sms.id),
        provider_code=action.provider_code if action else "0",
    )
    with force_locale(school.default_language):
        outcome = adapter.send(outgoing)
    sms.attempts += 1
    if outcome.accepted:
        now = clock.now()
        # A delivery report may have come first: the SMS then stays as the report left it.
        db.session.execute(
            update(Sms)
            .where(Sms.id == sms.id, Sms.state == SmsState.SENDING)
            .values(state=SmsState.SENT, sent_at=now, error=None)
        )
        if outcome.ref and sms.provider_ref is None:
            sms.provider_ref = outcome.ref
        sms.sent_at = sms.sent_at or now
        _watch_for_answer(sms, action)
        db.session.commit()
        adapter.after_accepted(sms.id)
        return "sent"
    sms.error = outcome.message
    if outcome.temporary and not last_attempt():
        db.session.commit()
        raise SendFailed(f"sms {sms_id}: {outcome.message}")
    return _failed(sms, outcome.message)


def _failed(sms: Sms, message: str | None) -> str:
    sms.state, sms.finished_at = SmsState.FAILED, clock.now()
    sms.error = (message or "")[:500]
    return "failed"


def _watch_for_answer(sms: Sms, action: SmsAction | None) -> None:
    """An absence SMS whose action gives a response delay: checked once the delay is over."""
    if sms.kind == SmsKind.ATTENDANCE and action is not None and action.response_days:
        at = sms.sent_at + dt.timedelta(days=action.response_days)
        outbox.add("sms_unanswered", {"sms_id": sms.id}, available_at=at)


# --- the development adapter's delivery reports ------------------------------------------------


def simulate_report(sms_id: int) -> None:
    """What a provider would post a moment later: delivered, or failed for numbers ending 99."""
    enqueue(simulated_report, sms_id, at=clock.now() + SIMULATED_DELAY)


@job(queue="default", timeout=60)
def simulated_report(sms_id: int) -> str:
    sms = db.session.get(Sms, sms_id)
    if sms is None:
        return "skipped"
    provider = setup.provider_of(sms.school_id)
    failed = sms.phone.endswith("99")
    state = SmsState.FAILED if failed else SmsState.DELIVERED
    report = Report(state, ref=sms.provider_ref, error="invalid number" if failed else None)
    inbound.apply_report(provider, report, sms.id)
    return state
