"""An SMS whose job is lost — Redis restarted without its data, a worker killed on the last
attempt — is given a job again by the periodic sweep and leaves once; one whose job still waits
is left alone; one nothing could hand over within its retries is failed, with the reason."""

from __future__ import annotations

import datetime as dt

from portal.core import clock
from portal.core.jobs import get_queue, redis_connection
from portal.sms import jobs
from portal.sms.models import SmsState
from tests.school import in_english
from tests.sms.test_sending import _queue, _send, _sms


def _sweep(app) -> int:
    with in_english(app):
        return jobs.sweep()


def test_an_sms_whose_job_redis_lost_is_sent_once_by_the_sweep(
    app, world, sms_school, twilio, worker
):
    [sms_id] = _queue(app, world, sms_school)
    _send(app, world, [sms_id])
    with app.app_context():
        assert get_queue("default").count >= 1
        redis_connection().flushdb()  # Redis came back empty: the SMS's job is gone
    worker()
    assert twilio.calls == [] and _sms(app, sms_id).state == SmsState.SENDING
    assert _sweep(app) == 0, "an SMS just sent is given time before it is checked"
    clock.advance(jobs.SWEEP_GRACE + dt.timedelta(seconds=1))
    assert _sweep(app) == 1
    assert _sweep(app) == 0, "its new job is waiting: no second one"
    worker()
    assert len(twilio.calls) == 1
    assert _sms(app, sms_id).state == SmsState.SENT
    clock.advance(dt.timedelta(hours=1))
    assert _sweep(app) == 0


def test_an_sms_no_attempt_could_hand_over_ends_failed_with_the_reason(
    app, world, sms_school, twilio
):
    [sms_id] = _queue(app, world, sms_school)
    _send(app, world, [sms_id])
    with app.app_context():
        redis_connection().flushdb()
        delays = app.config["SMS_RETRY_DELAYS"]
    clock.advance(dt.timedelta(seconds=sum(delays) + 3601))
    assert _sweep(app) == 0
    sms = _sms(app, sms_id)
    # In the school's language, as the staff read it in 'Follow-up of SMS'.
    assert (
        sms.state == SmsState.FAILED and sms.error == "Le SMS n’a pas pu être remis au fournisseur."
    )
    assert twilio.calls == []
