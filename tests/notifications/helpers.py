"""Delivering what is due, as the scheduled jobs and the workers would."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.notifications import jobs
from portal.notifications.models import Notification, NotificationState


def deliver_due(worker=None) -> int:
    """Flush every shard now (what the job scheduled at the window's end does), then let a
    real RQ worker send the e-mail the flush queued."""
    db.session.commit()
    count = sum(jobs.flush_due(shard) for shard in range(current_app.config["NOTIFICATION_SHARDS"]))
    if worker is not None:
        worker()
    return count


def delivered_to(person, type_key: str | None = None) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).where(
        Notification.recipient_id == person.id,
        Notification.state == NotificationState.DELIVERED,
    )
    if type_key:
        query = query.where(Notification.type == type_key)
    return list(db.session.scalars(query.order_by(Notification.id)))
