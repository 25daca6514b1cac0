"""The rules of seed 001 and SPEC §4, each as a test: notify(), windows, channels, archive."""

from __future__ import annotations

import datetime as dt
import email
import threading
from email import policy

import pytest
from flask import current_app
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from portal.accounts import contact
from portal.accounts import services as accounts
from portal.core import clock, settings
from portal.core.errors import ValidationError
from portal.core.i18n import deferred
from portal.core.jobs import get_queue
from portal.extensions import db
from portal.notifications import choices, jobs, schedule, services
from portal.notifications.models import Notification
from portal.notifications.present import present
from portal.notifications.types import Channel
from tests import factories
from tests.notifications.helpers import deliver_due, delivered_to

pytestmark = pytest.mark.usefixtures("db_ctx")

MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # 10:00 in Paris
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def school():
    clock.freeze(MONDAY)
    return factories.school()


def _homework(teacher, recipients, title, **kwargs):
    return services.notify(
        "homework",
        recipients,
        "homework:7",
        {"group": "5B", "text": title, "url": "/homework/7"},
        author=teacher,
        **kwargs,
    )


def test_three_edits_within_the_hour_give_one_notification_with_the_latest_content(school):
    teacher, parent = factories.user(school, "teacher"), factories.user(school, "parent")
    for minutes, title in ((0, "Exercise 1"), (20, "Exercises 1 and 2"), (40, "Exercises 1-4")):
        clock.freeze(MONDAY + dt.timedelta(minutes=minutes))
        _homework(teacher, [parent], title)
        db.session.commit()
    clock.freeze(MONDAY + dt.timedelta(minutes=59))
    assert deliver_due() == 0  # the window opened at 10:00 closes at 11:00
    clock.freeze(MONDAY + HOUR)
    assert deliver_due() == 1
    [notification] = delivered_to(parent)
    assert notification.events == 3
    assert present(notification).headline == "Homework for 5B: Exercises 1-4"


def test_the_flush_is_scheduled_in_rq_for_the_end_of_the_window_with_a_fixed_id(school):
    teacher, parent = factories.user(school, "teacher"), factories.user(school, "parent")
    _homework(teacher, [parent], "Exercise 1")
    db.session.commit()
    end = MONDAY + HOUR
    job_id = schedule.job_id(end, schedule.shard_of(parent.id))
    registry = ScheduledJobRegistry(queue=get_queue("default"))
    assert job_id in registry.get_job_ids()
    assert registry.get_scheduled_time(job_id) == end.replace(tzinfo=dt.UTC)


def test_discreet_mode_notifies_nobody(school):
    teacher, parent = factories.user(school, "teacher"), factories.user(school, "parent")
    assert _homework(teacher, [parent], "Typo fixed", discreet=True) == 0
    clock.advance(2 * HOUR)
    deliver_due()
    assert delivered_to(parent) == []


def test_a_type_without_discreet_mode_refuses_it(school):
    with pytest.raises(ValueError):
        services.notify("message", [], "inbox", {"sender": "x", "subject": "y"}, discreet=True)


def test_homework_visible_tomorrow_notifies_nobody_today_and_everybody_tomorrow(school):
    teacher, parent = factories.user(school, "teacher"), factories.user(school, "parent")
    tomorrow = MONDAY + dt.timedelta(days=1)
    _homework(teacher, [parent], "Read chapter 3", visible_from=tomorrow)
    db.session.commit()
    clock.advance(12 * HOUR)
    assert deliver_due() == 0
    assert delivered_to(parent) == []
    clock.freeze(tomorrow)
    assert deliver_due() == 1
    assert [n.payload["text"] for n in delivered_to(parent)] == ["Read chapter 3"]


def test_a_mandatory_type_cannot_be_set_to_none(school):
    admin = factories.user(school, "admin")
    with pytest.raises(ValidationError) as refused:
        choices.set_choices(admin, {"login_contact": "none"})
    assert "type_login_contact" in refused.value.errors
    choices.set_choices(admin, {"login_contact": "homepage"})
    assert choices.choices_of(admin)["login_contact"] == Channel.HOMEPAGE


def test_the_announcement_type_offers_no_homepage_choice(school):
    parent = factories.user(school, "parent")
    with pytest.raises(ValidationError):
        choices.set_choices(parent, {"announcement": "homepage"})


def test_forced_sending_reaches_a_homepage_parent_by_email_but_never_one_who_refused(
    school, worker, smtp
):
    admin = factories.user(school, "admin")
    homepage = factories.user(school, "parent", email="home@example.org")
    refusing = factories.user(school, "parent", email="no@example.org")
    choices.set_choices(homepage, {"homework": "homepage"})
    contact.set_refuses_email(refusing, True)
    _homework(admin, [homepage, refusing], "Bring the signed form", forced=True)
    clock.advance(HOUR)
    deliver_due(worker)
    assert [m.rcpt_tos for m in smtp.messages] == [["home@example.org"]]
    [to_refusing] = delivered_to(refusing)
    assert to_refusing.channel == Channel.HOMEPAGE


def test_only_the_direction_may_force_an_email(school):
    teacher, parent = factories.user(school, "teacher"), factories.user(school, "parent")
    with pytest.raises(ValueError):
        _homework(teacher, [parent], "x", forced=True)


def test_email_disabled_by_the_webmaster_falls_back_to_the_home_page(school, worker, smtp):
    teacher = factories.user(school, "teacher")
    parent = factories.user(school, "parent", email="parent@example.org")
    settings.save(notification_email=False)
    _homework(teacher, [parent], "Poem")
    clock.advance(HOUR)
    deliver_due(worker)
    assert smtp.messages == []
    [notification] = delivered_to(parent)
    assert notification.channel == Channel.HOMEPAGE
    assert services.unread_count(parent) == 1


def test_email_without_an_address_falls_back_to_the_home_page(school, worker, smtp):
    teacher, parent = factories.user(school, "teacher"), factories.user(school, "parent")
    _homework(teacher, [parent], "Poem")
    clock.advance(HOUR)
    deliver_due(worker)
    assert smtp.messages == []
    assert delivered_to(parent)[0].channel == Channel.HOMEPAGE


def test_a_consulted_notification_disappears_two_months_after_it_was_consulted(school):
    teacher, parent = factories.user(school, "teacher"), factories.user(school, "parent")
    pupil = factories.user(school, "pupil")
    _homework(teacher, [parent, pupil], "Poem")
    clock.advance(HOUR)
    deliver_due()
    services.mark_read(parent)
    db.session.commit()
    clock.advance(dt.timedelta(days=60))  # 23 January: not yet two months
    jobs.purge_consulted()
    assert len(delivered_to(parent)) == 1
    clock.advance(dt.timedelta(days=2))  # 25 January
    jobs.purge_consulted()
    assert delivered_to(parent) == []
    assert len(delivered_to(pupil)) == 1  # never consulted: kept


def test_the_author_is_never_notified_of_their_own_action(school):
    admin, other = factories.user(school, "admin"), factories.user(school, "admin")
    told = services.notify(
        "admin_action", [admin, other], "rules", {"text": "Rule added"}, author=admin
    )
    assert told == 1
    clock.advance(HOUR)
    deliver_due()
    assert delivered_to(admin) == [] and len(delivered_to(other)) == 1


def test_blocked_people_and_people_the_type_does_not_concern_are_not_notified(school):
    teacher, blocked = factories.user(school, "teacher"), factories.user(school, "parent")
    accounts.block(blocked)
    assert _homework(None, [teacher, blocked], "Poem") == 0


def test_three_messages_in_the_hour_give_one_notification_listing_them(school):
    parent = factories.user(school, "parent")
    for n in range(3):
        services.notify("message", [parent], "inbox", {"sender": "Mme Roux", "subject": f"S{n}"})
        db.session.commit()
    clock.advance(HOUR)
    assert deliver_due() == 1
    shown = present(delivered_to(parent)[0])
    assert shown.headline == "3 new messages"
    assert shown.lines == [f"From Mme Roux: S{n}" for n in range(3)]


def test_immediate_types_give_one_notification_per_event_at_once(school, worker):
    parent = factories.user(school, "parent")
    for text in ("absent 08:00-10:00", "late 15 min"):
        services.notify("attendance", [parent], "pupil:1", {"pupil": "Zoé", "text": text})
    db.session.commit()
    worker()  # the flush was queued at once, not scheduled
    assert [n.payload["text"] for n in delivered_to(parent)] == [
        "absent 08:00-10:00",
        "late 15 min",
    ]


def test_withdrawn_content_notifies_nobody(school):
    """Two homeworks told to the same parent in the same hour: the one withdrawn is told to
    nobody, the other is delivered, so the set-up itself does deliver."""
    teacher, parent = factories.user(school, "teacher"), factories.user(school, "parent")
    _homework(teacher, [parent], "Poem")
    services.notify(
        "homework",
        [parent],
        "homework:8",
        {"group": "5B", "text": "Essay", "url": "/homework/8"},
        author=teacher,
    )
    services.withdraw("homework", "homework:7")
    clock.advance(HOUR)
    assert deliver_due() == 1
    assert [n.payload["text"] for n in delivered_to(parent)] == ["Essay"]


def test_deferred_words_are_read_in_each_recipients_language(school):
    from flask_babel import force_locale

    other = factories.user(school, "admin")
    services.notify(
        "admin_action",
        [other],
        "rules",
        {
            "text": deferred(
                "Rule added: %(source)s may write to %(target)s", source="A", target="B"
            )
        },
    )
    clock.advance(HOUR)
    deliver_due()
    [notification] = delivered_to(other)
    assert present(notification).lines == ["Rule added: A may write to B"]
    with force_locale("fr"):
        assert present(notification).lines == ["Règle ajoutée : A peut écrire à B"]


def test_a_daily_digest_sends_one_email_at_the_chosen_hour(school, worker, smtp):
    teacher = factories.user(school, "teacher")
    parent = factories.user(school, "parent", email="daily@example.org")
    choices.set_choices(parent, {"homework": "daily", "message": "daily"})
    choices.set_timing(parent, 18, None, None)
    _homework(teacher, [parent], "Poem")
    services.notify("message", [parent], "inbox", {"sender": "M. Petit", "subject": "Trip"})
    clock.advance(2 * HOUR)
    assert deliver_due(worker) == 0
    clock.freeze(dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC))  # 18:00 in Paris
    assert deliver_due(worker) == 2
    assert len(smtp.messages) == 1
    message = email.message_from_bytes(smtp.messages[0].content, policy=policy.default)
    assert message["Subject"] == "Carnet : 2 notifications"  # the school's language: French


def test_quiet_hours_hold_the_email_but_not_a_flash_message(school, worker, smtp):
    admin = factories.user(school, "admin")
    parent = factories.user(school, "parent", email="quiet@example.org")
    choices.set_timing(parent, 18, 21, 7)
    clock.freeze(dt.datetime(2026, 11, 23, 21, 30, tzinfo=dt.UTC))  # 22:30 in Paris
    services.notify("attendance", [parent], "pupil:1", {"pupil": "Zoé", "text": "absent"})
    services.notify("flash_message", [parent], "flash:1", {"text": "Strike"}, author=admin)
    services.notify(
        "flash_message", [parent], "flash:2", {"text": "Bus late"}, author=admin, forced=True
    )
    deliver_due(worker)
    subjects = [
        email.message_from_bytes(m.content, policy=policy.default)["Subject"] for m in smtp.messages
    ]
    assert subjects == ["Carnet : Message flash : Bus late"]
    held = db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.emailed_at.is_(None))
    )
    assert held == 2  # the attendance e-mail waits for 07:00; the plain flash stays on screen
    assert len(delivered_to(parent)) == 3  # all three are on the home page list already


def test_two_schedulers_cannot_deliver_a_window_twice(school):
    parent = factories.user(school, "parent")
    services.notify("message", [parent], "inbox", {"sender": "A", "subject": "B"})
    clock.advance(HOUR)
    shard = schedule.shard_of(parent.id)
    db.session.commit()
    assert jobs.flush_due(shard) == 1
    assert jobs.flush_due(shard) == 0  # a duplicated job finds it claimed
    assert len(delivered_to(parent)) == 1


def test_the_sweep_requeues_windows_whose_job_was_lost(school, worker):
    parent = factories.user(school, "parent")
    services.notify("message", [parent], "inbox", {"sender": "A", "subject": "B"})
    db.session.commit()
    get_queue("default").connection.flushdb()  # the scheduled job is lost
    clock.advance(HOUR + dt.timedelta(seconds=current_app.config["NOTIFICATION_SWEEP_GRACE"]))
    assert jobs.sweep() == 1
    worker()
    assert len(delivered_to(parent)) == 1


def test_two_producers_opening_the_same_window_at_once_fold_into_one(school, app):
    """The second transaction can't see the first one's new window; its insert waits for the
    first commit, finds the window taken and folds its event into it."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite lets one writer at a time: the two transactions can't overlap")
    teacher, parent = factories.user(school, "teacher"), factories.user(school, "parent")
    db.session.commit()
    _homework(teacher, [parent], "First version")  # window opened, not committed yet

    def second_producer():
        with app.app_context():
            _homework(db.session.get(type(teacher), teacher.id), [parent.id], "v2")
            db.session.commit()

    other = threading.Thread(target=second_producer)
    other.start()
    other.join(timeout=1)
    assert other.is_alive()  # waiting on the first transaction's window
    db.session.commit()
    other.join(timeout=10)
    [window] = db.session.scalars(
        select(Notification).where(Notification.recipient_id == parent.id)
    )
    assert (window.events, window.payload["text"]) == (2, "v2")


def _mail_rows() -> list:
    from portal.core.outbox import OutboxItem

    return list(
        db.session.scalars(select(OutboxItem).where(OutboxItem.kind == "notification_mail"))
    )


def test_a_forced_email_is_routed_to_the_home_page_of_who_refused_since_it_was_recorded(
    school, worker, smtp
):
    """The choice of channel when the window closes (SPEC §4), on its own: the parent accepted
    e-mail when the direction forced it, and refused all e-mail before it was flushed. The
    same flush for a parent who did not refuse queues an e-mail."""
    admin = factories.user(school, "admin")
    keeps = factories.user(school, "parent", email="keeps@example.org")
    refuses = factories.user(school, "parent", email="refuses@example.org")
    for parent in (keeps, refuses):
        choices.set_choices(parent, {"homework": "homepage"})
    _homework(admin, [keeps, refuses], "Bring the signed form", forced=True)
    db.session.commit()
    contact.set_refuses_email(refuses, True)
    clock.advance(HOUR)
    deliver_due()  # the flush alone: no worker sends anything yet
    [to_refuses], [to_keeps] = delivered_to(refuses), delivered_to(keeps)
    assert (to_refuses.channel, to_keeps.channel) == (Channel.HOMEPAGE, Channel.EMAIL)
    assert [row.payload["recipient_id"] for row in _mail_rows()] == [keeps.id]
    worker()
    assert [m.rcpt_tos for m in smtp.messages] == [["keeps@example.org"]]


def test_a_flash_messages_email_never_leaves_for_who_refused_after_it_was_queued(
    school, worker, smtp
):
    """The check just before sending, on its own: the flash message's e-mail was queued for
    both parents (neither had refused), then one refused all e-mail before a worker sent it."""
    admin = factories.user(school, "admin")
    keeps = factories.user(school, "parent", email="keeps@example.org")
    refuses = factories.user(school, "parent", email="refuses@example.org")
    services.notify(
        "flash_message", [keeps, refuses], "flash:3", {"text": "Strike"}, author=admin, forced=True
    )
    deliver_due()
    assert sorted(row.payload["recipient_id"] for row in _mail_rows()) == sorted(
        [keeps.id, refuses.id]
    )
    contact.set_refuses_email(refuses, True)
    db.session.commit()
    worker()
    assert [m.rcpt_tos for m in smtp.messages] == [["keeps@example.org"]]
    [to_refuses] = delivered_to(refuses)
    assert to_refuses.channel == Channel.HOMEPAGE and to_refuses.emailed_at is None
