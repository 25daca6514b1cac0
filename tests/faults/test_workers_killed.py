"""Workers killed with SIGKILL (as a crash or the OOM killer would) in the middle of a large
delivery, of a digest flush, of an e-mail and of an SMS send, on the real stack: real `rq worker`
processes, real Redis, an SMTP server and a Twilio-compatible provider on loopback. Another worker
then finishes, and each test counts what arrived: nothing lost, nothing twice."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter

import pytest
from sqlalchemy import func, select, update

from portal.accounts.models import Guardianship
from portal.attendance import absence_sms
from portal.attendance import services as attendance
from portal.attendance.models import ClassSession, MarkKind
from portal.core import clock, outbox
from portal.core.jobs import get_queue
from portal.extensions import db
from portal.groups import people
from portal.groups import services as groups
from portal.groups.models import Group
from portal.messaging.models import InboxEntry
from portal.notifications import jobs
from portal.notifications import services as notifications
from portal.notifications.models import Notification, NotificationState
from portal.sms.models import Sms, SmsAction, SmsState
from tests import factories, workers
from tests.school import in_english, person
from tests.sms.conftest import ACCOUNT, TOKEN, set_up
from tests.sms.twilio import FakeTwilio
from tests.web import csrf_token, logged_in

LEASE = 3  # seconds before the claim of a killed worker is taken to be dead


def _fresh() -> None:
    db.session.rollback()  # a fresh snapshot: the workers write in other processes


def _count(query) -> int:
    _fresh()
    return db.session.scalar(query)


def _unfinished() -> int:
    """Outbox rows not carried out yet (e-mails among them)."""
    return _count(
        select(func.count()).select_from(outbox.OutboxItem).where(outbox.OutboxItem.state != "done")
    )


def _pending_notifications() -> int:
    return _count(select(func.count(Notification.id)).where(Notification.state.in_(jobs.PENDING)))


def _idle() -> bool:
    return get_queue().count == 0


def _wait(done, seconds: float, what, *, sweep_outbox=_idle) -> None:
    """Until ``done()``, doing meanwhile what `rq cron` does every minute: the sweep of overdue
    notification windows, and the outbox sweep (a claim expires after LEASE) when
    ``sweep_outbox()`` says so (by default once the queue is empty, so that rows still waiting
    in the queue are not queued twice)."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, what()
        if sweep_outbox():
            outbox.sweep()
        jobs.sweep()
        time.sleep(0.3)


def _kill_when(condition, process, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)
    workers.kill(process)


# --- a large delivery ---------------------------------------------------------------------------

FAMILIES = 2_000
#: One family in forty has an e-mail address: each e-mail is a job of its own (about ten a
#: second on a loaded test machine); the others are told on their home page.
EMAIL_EVERY = 40
BATCH = 100  # inbox rows per transaction of the delivery: it commits 20 times


def test_a_message_to_2000_families_reaches_and_emails_each_once_when_its_worker_is_killed(
    app, db_ctx, scripted_smtp, monkeypatch
):
    """The delivery is killed halfway through its inbox rows; the second worker takes the row
    once the claim has expired and writes the rest. Each family has one inbox row and one
    'new message' notification holding this one message, and each family with an address
    receives one e-mail."""
    monkeypatch.setitem(app.config, "OUTBOX_LEASE", LEASE)
    monkeypatch.setitem(app.config, "OUTBOX_SWEEP_GRACE", 0)
    monkeypatch.setitem(app.config, "NOTIFICATION_SWEEP_GRACE", 1)
    school = factories.school()
    teacher = factories.user(school, "teacher")
    families = factories.bulk_parents(school, FAMILIES, email_every=EMAIL_EVERY)
    addresses = [address for address in families.values() if address]
    message_id = factories.strike_to_all_parents(teacher)
    inbox_rows = (
        select(func.count()).select_from(InboxEntry).where(InboxEntry.message_id == message_id)
    )
    environment = {
        "MESSAGE_DELIVERY_BATCH": BATCH,
        "OUTBOX_LEASE": LEASE,
        "NOTIFICATION_WINDOW": 1,  # the 'new message' e-mail leaves a second later
        "SMTP_URL": scripted_smtp.url,
    }
    running = [workers.start(app, "first", **environment)]
    try:
        _kill_when(
            lambda: _count(inbox_rows) >= FAMILIES // 2,
            running.pop(),
            60,
            "the first worker did not deliver half in 60 s",
        )
        killed_at = _count(inbox_rows)
        assert 0 < killed_at < FAMILIES, f"killed too late: {killed_at} inbox rows already"

        running.append(workers.start(app, "second", scheduler=True, **environment))
        _wait(
            lambda: (
                len(scripted_smtp.received) >= len(addresses)
                and not _unfinished()
                and not _pending_notifications()
            ),
            90,
            lambda: (
                f"{_count(inbox_rows)} of {FAMILIES} inbox rows, {len(scripted_smtp.received)} "
                f"of {len(addresses)} e-mails, {_unfinished()} outbox rows left"
            ),
            sweep_outbox=lambda: _count(inbox_rows) < FAMILIES,
        )
    finally:
        workers.stop(running)

    _fresh()
    entries = db.session.execute(
        select(InboxEntry.recipient_id, func.count())
        .where(InboxEntry.message_id == message_id)
        .group_by(InboxEntry.recipient_id)
    ).all()
    assert dict(entries) == dict.fromkeys(families, 1), "a family has no inbox row, or two"
    notices = db.session.execute(
        select(Notification.recipient_id, func.count(), func.sum(Notification.events))
        .where(Notification.type == "message", Notification.state == NotificationState.DELIVERED)
        .group_by(Notification.recipient_id)
    ).all()
    assert {r: (n, events) for r, n, events in notices} == dict.fromkeys(families, (1, 1))
    delivery_runs = db.session.scalar(
        select(outbox.OutboxItem.attempts).where(outbox.OutboxItem.kind == "message_delivery")
    )
    assert delivery_runs == 2  # the killed run and the one that finished
    time.sleep(0.5)  # an e-mail sent twice would have arrived by now
    assert scripted_smtp.per_address() == Counter(addresses), "an e-mail lost or sent twice"


# --- a digest flush -----------------------------------------------------------------------------

DIGEST_FAMILIES = 1_500  # the flush delivers 200 people per transaction: 8 transactions
DIGEST_EMAIL_EVERY = 20
EVENTS = ("Outing on Friday", "Photos of the class", "Parents' evening")


def test_each_family_receives_one_digest_holding_each_event_once_when_the_flush_is_killed(
    app, db_ctx, scripted_smtp, monkeypatch
):
    """Three messages fold into each family's hourly digest (a two-second window here). The
    worker flushing the windows is killed after its first transaction; the second worker
    flushes the rest. Each family has one notification counting three events, and each family
    with an address one e-mail listing the three messages once each."""
    window = 2
    for key, value in {
        "NOTIFICATION_WINDOW": window,
        "NOTIFICATION_SHARDS": 1,  # one flush job walks everyone, 200 people at a time
        "NOTIFICATION_SWEEP_GRACE": 1,
        "OUTBOX_LEASE": LEASE,
        "OUTBOX_SWEEP_GRACE": 0,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    school = factories.school()
    families = factories.bulk_parents(school, DIGEST_FAMILIES, email_every=DIGEST_EMAIL_EVERY)
    addresses = [address for address in families.values() if address]
    db.session.commit()
    for subject in EVENTS:
        notifications.notify(
            "message", list(families), "inbox", {"sender": "Mme Roux", "subject": subject}
        )
        db.session.commit()  # the flush of the windows is scheduled at their end
    environment = {
        "NOTIFICATION_WINDOW": window,
        "NOTIFICATION_SHARDS": 1,
        "OUTBOX_LEASE": LEASE,
        "SMTP_URL": scripted_smtp.url,
    }
    running = [workers.start(app, "first", scheduler=True, **environment)]
    try:
        _kill_when(
            lambda: _pending_notifications() < DIGEST_FAMILIES,  # its first transaction committed
            running.pop(),
            30,
            "the flush did not start within 30 s",
        )
        left = _pending_notifications()
        assert 0 < left < DIGEST_FAMILIES, f"killed too late: {left} windows still pending"

        running.append(workers.start(app, "second", **environment))
        _wait(
            lambda: (
                len(scripted_smtp.received) >= len(addresses)
                and not _pending_notifications()
                and not _unfinished()
            ),
            90,
            lambda: (
                f"{_pending_notifications()} windows pending, {len(scripted_smtp.received)} of "
                f"{len(addresses)} e-mails, {_unfinished()} outbox rows left"
            ),
        )
    finally:
        workers.stop(running)

    _fresh()
    windows = db.session.execute(
        select(Notification.recipient_id, func.count(), func.sum(Notification.events))
        .where(Notification.state == NotificationState.DELIVERED)
        .group_by(Notification.recipient_id)
    ).all()
    assert {r: (n, events) for r, n, events in windows} == dict.fromkeys(families, (1, 3))
    time.sleep(0.5)  # an e-mail sent twice would have arrived by now
    assert scripted_smtp.per_address() == Counter(addresses), "a digest lost or sent twice"
    for address in addresses:
        [digest] = scripted_smtp.messages_to(address)
        body = digest.get_body(("plain",)).get_content()
        assert "3 new messages" in body
        assert [body.count(f"From Mme Roux: {subject}") for subject in EVENTS] == [1, 1, 1]


def _words(email) -> str:
    """The text of an e-mail without its unsubscribe link (signed anew for each copy)."""
    return re.sub(r"/unsubscribe/\S+", "", email.get_body(("plain",)).get_content())


# --- an e-mail in flight ------------------------------------------------------------------------


def test_an_email_in_flight_when_its_worker_dies_arrives_at_most_twice_with_one_message_id(
    app, db_ctx, scripted_smtp, monkeypatch
):
    """The bound of exactly-once e-mail. The SMTP server has taken the whole message but its
    '250 OK' has not reached the worker when the worker is killed: the database never learns
    that the e-mail left, so after the claim expires the next worker sends it again. No
    protocol avoids this (recording the sending first would lose the e-mail instead); Carnet
    keeps the same Message-ID on both copies so that mail software can fold them. So: every
    other family receives its e-mail once, and the family whose e-mail was in flight receives
    it twice (the bound: one extra copy per e-mail in flight at a kill, made to happen here),
    both copies with the same Message-ID and the same words."""
    monkeypatch.setitem(app.config, "OUTBOX_LEASE", LEASE)
    monkeypatch.setitem(app.config, "OUTBOX_SWEEP_GRACE", 0)
    school = factories.school()
    families = factories.bulk_parents(school, 12, email_every=1)
    addresses = sorted(families.values())
    db.session.commit()
    monkeypatch.setitem(app.config, "NOTIFICATION_WINDOW", 1)
    for subject in EVENTS[:2]:
        notifications.notify(
            "message", list(families), "inbox", {"sender": "M. Blanc", "subject": subject}
        )
        db.session.commit()
    in_flight = addresses[5]
    scripted_smtp.hold(in_flight)
    environment = {"OUTBOX_LEASE": LEASE, "SMTP_URL": scripted_smtp.url}
    running = [workers.start(app, "first", scheduler=True, **environment)]
    try:
        assert scripted_smtp.holding.wait(30), "the e-mail to hold was never sent"
        workers.kill(running.pop())
        scripted_smtp.release()  # the server keeps the message; its answer reaches nobody
        claimed = select(func.count()).where(
            outbox.OutboxItem.kind == "notification_mail", outbox.OutboxItem.state == "running"
        )
        assert _count(claimed) == 1, "the e-mail in flight is left claimed by the dead worker"

        running.append(workers.start(app, "second", **environment))
        _wait(
            lambda: len(scripted_smtp.received) >= len(addresses) + 1 and not _unfinished(),
            60,
            lambda: f"{len(scripted_smtp.received)} e-mails, {_unfinished()} outbox rows left",
        )
    finally:
        workers.stop(running)

    time.sleep(0.5)
    assert scripted_smtp.per_address() == Counter({**dict.fromkeys(addresses, 1), in_flight: 2})
    first, second = scripted_smtp.messages_to(in_flight)
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Subject"] == second["Subject"] == "Carnet: 2 new messages"
    assert _words(first) == _words(second)
    _fresh()
    emailed = db.session.scalars(select(Notification.emailed_at)).all()
    assert len(emailed) == len(addresses) and all(emailed), "each e-mail is recorded as sent"


# --- an SMS send --------------------------------------------------------------------------------

PUPILS = 12
#: The provider takes this long to answer each SMS (it creates the SMS first, as Twilio does).
PROVIDER_SECONDS = 0.3


@pytest.fixture
def slow_twilio():
    with FakeTwilio(ACCOUNT, TOKEN, answers=[("slow", PROVIDER_SECONDS)] * (PUPILS + 5)) as running:
        yield running


def _absent_class(app, world, count: int) -> list[int]:
    """``count`` more pupils of 5B, each with a guardian who accepts SMS on a mobile of their
    own, all absent from one session and each with an absence SMS queued; the SMS ids."""
    with in_english(app):
        school = person(world, "admin").school
        class_5b = db.session.get(Group, world.groups["5B"])
        pupils = []
        for n in range(count):
            pupil = factories.user(school, "pupil", first_name=f"Pupil{n}", last_name="Absent")
            groups.add_member(class_5b, pupil)
            guardian = factories.user(school, "parent", mobile=f"+33611{n:06d}")
            people.link_guardian(guardian, pupil, 1)
            pupils.append(pupil)
        db.session.execute(
            update(Guardianship)
            .where(Guardianship.pupil_id.in_([p.id for p in pupils]))
            .values(accepts_sms=True)
        )
        staff = person(world, "staff")
        session = ClassSession(
            school_id=world.school,
            group_id=world.groups["5B"],
            teacher_id=world.ids["teacher"],
            starts_at=clock.now(),
            ends_at=clock.now() + dt.timedelta(hours=1),
        )
        db.session.add(session)
        db.session.flush()
        action = db.session.scalars(select(SmsAction)).one()
        ids = []
        for pupil in pupils:
            mark = attendance.record(staff, session, pupil, MarkKind.ABSENT)
            ids += [
                sms.id for sms in absence_sms.queue_for_mark(staff, mark, action, ["guardian1"])
            ]
        db.session.commit()
        return ids


def test_sms_sent_together_reach_the_provider_once_each_when_the_worker_dies_mid_batch(
    app, world, slow_twilio
):
    """Twelve absence SMS are sent together from 'SMS to send'. The provider answers each after
    0.3 s; the worker is killed while it waits for the answer to the sixth, which the provider
    has already created. RQ hands a dead worker's job to the next worker once its heartbeat has
    run out (about 90 s; here the registry maintenance that does it is run at once), and the
    job calls again under the same idempotency key: the provider holds one SMS per key, twelve
    in all, and each SMS ends sent, then delivered, with the reference of that one SMS."""
    set_up(app, world, slow_twilio)
    ids = _absent_class(app, world, PUPILS)
    clock.reset()  # real workers run on the real clock
    staff = logged_in(app, world.logins["staff"])
    environment = {"SMS_RETRY_DELAYS": "1,1,1", "SMS_TIMEOUT": 5}
    running = [workers.start(app, "first", **environment)]
    try:
        answer = staff.post(
            "/sms/send",
            data={"csrf_token": csrf_token(staff, "/sms/"), "sms": ids},
            headers={"Accept-Language": "en"},
        )
        assert answer.status_code == 302
        _kill_when(lambda: len(slow_twilio.messages) >= 6, running.pop(), 60, "no SMS left")
        with app.app_context():
            in_flight = list(slow_twilio.messages.values())[-1]
            state = db.session.scalars(
                select(Sms.state).where(Sms.idempotency_key == in_flight.key)
            ).one()
            assert state == SmsState.SENDING, "the kill came after the provider's answer"
            # What a worker's maintenance does once the dead worker's heartbeat has run out:
            # its job is abandoned and, having retries left, tried again.
            get_queue().started_job_registry.cleanup(time.time() + 300)
        running.append(workers.start(app, "second", scheduler=True, **environment))

        def sending() -> int:
            with app.app_context():
                return db.session.scalar(
                    select(func.count()).where(Sms.id.in_(ids), Sms.state == SmsState.SENDING)
                )

        deadline = time.monotonic() + 60
        while sending():
            assert time.monotonic() < deadline, f"{sending()} SMS still sending after 60 s"
            time.sleep(0.2)
    finally:
        workers.stop(running)

    client = app.test_client()
    for sid in list(slow_twilio.messages):
        path, fields, headers = slow_twilio.report(sid, "delivered")
        assert client.post(path, data=fields, headers=headers).status_code == 204
    with app.app_context():
        sent = db.session.execute(
            select(Sms.idempotency_key, Sms.provider_ref, Sms.state).where(Sms.id.in_(ids))
        ).all()
    by_key = {message.key: sid for sid, message in slow_twilio.messages.items()}
    assert len(slow_twilio.messages) == PUPILS == len(by_key), "one SMS per key at the provider"
    assert {key: (ref, state) for key, ref, state in sent} == {
        key: (sid, SmsState.DELIVERED) for key, sid in by_key.items()
    }
    calls = Counter(call.headers["idempotency-key"] for call in slow_twilio.calls)
    assert calls == Counter({**dict.fromkeys(by_key, 1), in_flight.key: 2})
