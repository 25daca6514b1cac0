"""SMS about an absence announced in advance (SPEC §6, §8): the staff may queue and send it from
'SMS to send' at once, but it leaves for the provider no earlier than the session's start, held
like an SMS waiting for quiet hours; the SMS page and the mark's page say when it leaves; an
absence cancelled or changed before the start withdraws it, and nothing reaches the family."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.attendance import services as attendance
from portal.attendance.models import AttendanceMark, ClassSession, MarkKind
from portal.core import clock, outbox
from portal.core.outbox import OutboxItem
from portal.extensions import db
from portal.notifications.present import present
from portal.sms import jobs
from portal.sms.models import Sms, SmsState
from tests.notifications.helpers import deliver_due, delivered_to
from tests.school import MONDAY, in_english, person, schedule_5b
from tests.sms.conftest import ANNE
from tests.web import csrf_token, logged_in, text

HTMX = {"HX-Request": "true"}
EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
#: The afternoon lesson: 5B, Monday 14:00 to 15:00 in Paris (13:00 UTC); the clock says 10:00.
START = MONDAY.replace(hour=13)
#: 14:00 in Paris as the English and French pages write a moment.
AT_EN, AT_FR = "11/23/26, 2:00\u202fPM", "23/11/2026 14:00"


@pytest.fixture
def afternoon(app, world) -> int:
    with in_english(app):
        return schedule_5b(world, 14, 15)


@pytest.fixture
def swept(app, monkeypatch):
    """What `rq cron` does every minute: rows that are due and not done get their job."""
    monkeypatch.setitem(app.config, "OUTBOX_SWEEP_GRACE", 0)

    def sweep() -> int:
        with app.app_context():
            return outbox.sweep()

    return sweep


def _tap(client, lesson, world, state):
    data = {"csrf_token": csrf_token(client, "/attendance/"), f"state-{world.ids['léa']}": state}
    url = f"/attendance/sessions/{lesson}/pupils/{world.ids['léa']}"
    return client.post(url, data=data, headers={**HTMX, **EN})


def _absent_in_advance(app, world, lesson, staff) -> int:
    assert _tap(staff, lesson, world, "absent").status_code == 200
    with app.app_context():
        return db.session.scalars(select(AttendanceMark.id)).one()


def _queue(app, staff, sms_school, mark_id) -> int:
    """The SMS of the absence to guardian 1, put in 'SMS to send' from the mark's page."""
    page = f"/sms/marks/{mark_id}"
    data = {
        "csrf_token": csrf_token(staff, page),
        "action": sms_school.action,
        "recipients": ["guardian1"],
    }
    assert staff.post(page, data=data, headers=EN).status_code == 302
    with app.app_context():
        return db.session.scalars(select(Sms.id)).one()


def _send(staff, sms_id: int) -> str:
    """'Send the chosen SMS' in 'SMS to send'; the page it leads back to."""
    token = csrf_token(staff, "/sms/")
    data = {"csrf_token": token, "sms": [sms_id]}
    answer = staff.post("/sms/send", data=data, headers=EN, follow_redirects=True)
    assert answer.status_code == 200
    return text(answer)


def _queue_and_send(app, staff, sms_school, mark_id) -> int:
    sms_id = _queue(app, staff, sms_school, mark_id)
    _send(staff, sms_id)
    return sms_id


def _sms(app, sms_id: int) -> Sms:
    with app.app_context():
        sms = db.session.get(Sms, sms_id)
        db.session.expunge(sms)
        return sms


def test_an_sms_sent_before_its_session_reaches_the_provider_only_at_the_start(
    app, world, sms_school, afternoon, twilio, worker, swept
):
    staff = logged_in(app, world.logins["staff"])
    mark_id = _absent_in_advance(app, world, afternoon, staff)
    page = text(staff.get(f"/sms/marks/{mark_id}", headers=EN))
    assert f"The session has not started: its SMS leave at its start, {AT_EN}" in page
    sms_id = _queue(app, staff, sms_school, mark_id)
    # In 'SMS to send', it says it will not leave before the session starts.
    assert f"not before the session starts, {AT_EN}" in text(staff.get("/sms/", headers=EN))
    sent = _send(staff, sms_id)
    assert "1 SMS will leave when its session starts." in sent
    assert "sent to the provider" not in sent
    sms = _sms(app, sms_id)
    assert (sms.state, sms.submitted_at, sms.sent_at) == (SmsState.SENDING, START, None)
    with app.app_context():
        [handed] = db.session.scalars(select(OutboxItem).where(OutboxItem.kind == "sms")).all()
        assert handed.available_at == START
    queue = text(staff.get("/sms/", headers=EN))
    assert "Sent, waiting to leave" in queue and f"leaves at {AT_EN}" in queue
    assert f"part le {AT_FR}" in text(staff.get("/sms/", headers=FR))
    assert f"leaves at {AT_EN}" in text(staff.get(f"/sms/marks/{mark_id}", headers=EN))
    assert f"leaves at {AT_EN}" in text(staff.get("/sms/follow-up?tab=transit", headers=EN))
    # Nothing leaves before 14:00: not the worker, not the cron's sweep, not a job run early.
    worker()
    clock.freeze(START - dt.timedelta(seconds=1))
    assert swept() == 0
    worker()
    with app.app_context():
        assert jobs.send(sms_id) == "held"
    assert twilio.calls == []
    assert _sms(app, sms_id).state == SmsState.SENDING
    clock.freeze(START)
    assert swept() == 2  # the SMS's row, and the alert rules' evaluation of the absence
    worker()
    [call] = twilio.calls
    assert call.fields["To"] == ANNE
    assert call.fields["Body"].endswith("Léa Martin (5B) absent le 23/11/2026 de 14:00 à 15:00.")
    sms = _sms(app, sms_id)
    assert (sms.state, sms.sent_at) == (SmsState.SENT, START)


def test_an_absence_turned_into_a_lateness_before_the_start_withdraws_its_waiting_sms(
    app, world, sms_school, afternoon, twilio, worker, swept
):
    staff = logged_in(app, world.logins["staff"])
    mark_id = _absent_in_advance(app, world, afternoon, staff)
    sms_id = _queue_and_send(app, staff, sms_school, mark_id)
    with in_english(app):
        session = db.session.get(ClassSession, afternoon)
        attendance.record(person(world, "staff"), session, person(world, "léa"), MarkKind.LATE, 10)
        db.session.commit()
    sms = _sms(app, sms_id)
    assert (sms.state, sms.error) == (SmsState.WITHDRAWN, "It became a late arrival.")
    assert sms.outdated_at is None, "it never left: nothing to correct"
    clock.freeze(START)
    swept()
    worker()
    assert twilio.calls == []
    with in_english(app):
        assert deliver_due() == 2
        (told,) = delivered_to(person(world, "anne"), "attendance")
        assert "10 minutes late" in present(told).headline


def test_an_absence_cancelled_before_the_start_withdraws_what_waited(
    app, world, sms_school, afternoon, twilio, worker, swept
):
    staff = logged_in(app, world.logins["staff"])
    mark_id = _absent_in_advance(app, world, afternoon, staff)
    sms_id = _queue_and_send(app, staff, sms_school, mark_id)
    assert _tap(staff, afternoon, world, "present").status_code == 200
    sms = _sms(app, sms_id)
    assert (sms.state, sms.error) == (SmsState.WITHDRAWN, "The absence was cancelled.")
    with app.app_context():
        assert db.session.scalars(select(Sms)).all()[0].outdated_at is None
    assert "Sent, waiting to leave" not in text(staff.get("/sms/", headers=EN))
    clock.freeze(START)
    swept()
    worker()
    assert twilio.calls == []
    with in_english(app):
        assert deliver_due() == 0
        assert delivered_to(person(world, "anne"), "attendance") == []
