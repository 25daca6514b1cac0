"""Delivering notifications: flushing due windows exactly once, their e-mail, the sweep that
re-finds lost flushes, and the purge of consulted notifications (SPEC §4).

A flush claims due rows with one conditional update (open or queued -> delivered) and, in the
same transaction, decides each row's channel and writes the outbox rows of its e-mail. A second
worker, a duplicated job or the sweep find nothing left to claim; a worker killed mid-flush
leaves its transaction rolled back and the rows due for the next one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from email.utils import parseaddr

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, or_, select, update

from portal.accounts import contact
from portal.accounts.models import UNREACHABLE, User
from portal.core import clock, mail, outbox, settings
from portal.core.jobs import job
from portal.extensions import db
from portal.notifications import schedule
from portal.notifications.models import Notification, NotificationState, NotificationTiming
from portal.notifications.present import absolute, present
from portal.notifications.timing import months_before, quiet_until
from portal.notifications.types import THROUGH_QUIET_HOURS, Channel

PENDING = (NotificationState.OPEN, NotificationState.QUEUED)
#: People whose due notifications one transaction delivers (all of each person's at once, so a
#: daily digest is one e-mail).
PEOPLE_PER_FLUSH = 200
#: Consulted notifications are kept this many months (seed 001).
KEEP_CONSULTED_MONTHS = 2


def delivered_channel(
    choice: Channel, *, forced: bool, has_address: bool, refuses_email: bool, email_enabled: bool
) -> Channel:
    """The channel a notification leaves by. E-mail needs an address, no refusal of all e-mail
    and notification e-mail switched on by the webmaster; otherwise it falls back to the home
    page. Forced sending overrides none / homepage, never a refusal (SPEC §4)."""
    wants_email = forced or choice in (Channel.EMAIL, Channel.DAILY)
    if wants_email and has_address and not refuses_email and email_enabled:
        return Channel.DAILY if choice == Channel.DAILY and not forced else Channel.EMAIL
    return Channel.HOMEPAGE


@job(queue="default", timeout=1800)
def flush_due(shard: int) -> int:
    """Deliver every notification of this shard that is due; returns how many."""
    delivered = 0
    while count := _flush_some(shard):
        delivered += count
    return delivered


def _due(shard: int, now: dt.datetime):
    return and_(
        Notification.state.in_(PENDING),
        Notification.due_at <= now,
        Notification.recipient_id % current_app.config["NOTIFICATION_SHARDS"] == shard,
    )


def _flush_some(shard: int) -> int:
    now = clock.now()
    people = list(
        db.session.scalars(
            select(Notification.recipient_id)
            .where(_due(shard, now))
            .distinct()
            .limit(PEOPLE_PER_FLUSH)
        )
    )
    if not people:
        db.session.rollback()
        return 0
    claimed = db.session.execute(
        update(Notification)
        .where(_due(shard, now), Notification.recipient_id.in_(people))
        .values(state=NotificationState.DELIVERED, delivered_at=now)
        .returning(
            Notification.id,
            Notification.recipient_id,
            Notification.type,
            Notification.channel,
            Notification.forced,
        )
        .execution_options(synchronize_session=False)
    ).all()
    _route(claimed, people, now)
    db.session.commit()
    return len(claimed)


def _route(claimed, people: list[int], now: dt.datetime) -> None:
    """Decide each claimed notification's channel and queue the e-mails, one per person and
    sending time."""
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(people)))}
    timings = {
        t.user_id: t
        for t in db.session.scalars(
            select(NotificationTiming).where(NotificationTiming.user_id.in_(people))
        )
    }
    email_enabled = settings.current().notification_email
    changes, mails = [], defaultdict(list)
    for notification_id, recipient_id, type_key, choice, forced in claimed:
        user = users.get(recipient_id)
        if user is None or user.state in UNREACHABLE:
            changes.append({"id": notification_id, "state": NotificationState.CANCELLED})
            continue
        channel = delivered_channel(
            Channel(choice),
            forced=forced,
            has_address=bool(user.email),
            refuses_email=user.refuses_email,
            # A suspended school's people read theirs on the home page once it is resumed.
            email_enabled=email_enabled and not user.school_suspended,
        )
        changes.append({"id": notification_id, "channel": channel})
        if channel == Channel.HOMEPAGE:
            continue
        send_at = None
        timing = timings.get(recipient_id)
        if timing is not None and type_key not in THROUGH_QUIET_HOURS:
            zone = user.school.timezone if user.school else "UTC"
            send_at = quiet_until(now, timing.quiet_from, timing.quiet_until, zone)
        mails[(recipient_id, send_at)].append(notification_id)
    if changes:
        db.session.execute(update(Notification), changes)
    for (recipient_id, send_at), ids in mails.items():
        outbox.add("notification_mail", {"recipient_id": recipient_id, "ids": ids}, send_at)


# --- e-mail -----------------------------------------------------------------------------------


@outbox.handler("notification_mail")
def _send_mail(payload: dict) -> None:
    """One e-mail for the notifications of one person; checked again when it leaves, since the
    person may have refused e-mail, or the webmaster switched it off, meanwhile."""
    user = db.session.get(User, payload["recipient_id"])
    notifications = list(
        db.session.scalars(
            select(Notification)
            .where(
                Notification.id.in_(payload["ids"]),
                Notification.state == NotificationState.DELIVERED,
                Notification.emailed_at.is_(None),
            )
            .order_by(Notification.id)
        )
    )
    if user is None or not notifications:
        return
    if (
        not user.email
        or user.refuses_email
        or user.state in UNREACHABLE
        or user.school_suspended
        or not settings.current().notification_email
    ):
        for notification in notifications:
            notification.channel = Channel.HOMEPAGE
        return
    try:
        mail.deliver(_message(user, notifications))
    except mail.Refused as refusal:
        for notification in notifications:
            notification.channel = Channel.HOMEPAGE
            notification.email_error = str(refusal)[:300]
        return
    for notification in notifications:
        notification.emailed_at = clock.now()


def _message(user: User, notifications: list[Notification]):
    language = user.language or (user.school.default_language if user.school else "fr")
    with force_locale(language):
        shown = [(present(n), n) for n in notifications]
        if len(shown) == 1:
            subject = _("Carnet: %(headline)s", headline=shown[0][0].headline)
        else:
            subject = _("Carnet: %(num)d notifications", num=len(shown))
        context = {
            "user": user,
            "items": [(p, absolute(p.url)) for p, _n in shown],
            "unsubscribe_url": contact.unsubscribe_url(user),
            "language": language,
        }
        text = render_template("notifications/mail/notifications.txt", **context)
        html = render_template("notifications/mail/notifications.html", **context)
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "carnet"
    return mail.build(
        user.email,
        subject,
        text,
        html,
        # The same for a second attempt, so that a duplicate can be recognised as one.
        message_id=f"<notification-{notifications[0].id}@{domain}>",
        unsubscribe_url=context["unsubscribe_url"],
    )


# --- periodic jobs ----------------------------------------------------------------------------


@job(queue="default", timeout=600, retry=None)
def sweep() -> int:
    """Enqueue the flush of every shard that has notifications overdue: their job was lost
    because Redis was down at commit time, or their worker was killed."""
    now = clock.now()
    shards = current_app.config["NOTIFICATION_SHARDS"]
    # Windows due this long ago and still pending were lost (Redis down, a worker killed).
    grace = dt.timedelta(seconds=current_app.config["NOTIFICATION_SWEEP_GRACE"])
    overdue = db.session.scalars(
        select(Notification.recipient_id % shards)
        .where(
            Notification.state.in_(PENDING),
            Notification.due_at <= now - grace,
        )
        .distinct()
    ).all()
    for shard in overdue:
        schedule.enqueue_flush(now.replace(microsecond=0), shard)
    return len(overdue)


@job(queue="default", timeout=600, retry=None)
def purge_consulted() -> int:
    """Consulted notifications go two months after they were consulted; withdrawn ones two
    months after they were withdrawn."""
    cutoff = months_before(clock.now(), KEEP_CONSULTED_MONTHS)
    removed = db.session.execute(
        delete(Notification)
        .where(
            or_(
                Notification.read_at < cutoff,
                (Notification.state == NotificationState.CANCELLED)
                & (Notification.updated_at < cutoff),
            )
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return removed


def pending_count() -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.state.in_(PENDING))
    )
