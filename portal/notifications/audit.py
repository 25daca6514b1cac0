"""The delivery audit (SPEC §12): for each notification, per recipient, the channel, when it
left, whether the SMTP server refused it and whether it was read. Scoped to one school."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.extensions import db
from portal.notifications.models import Notification, NotificationState


@dataclass(frozen=True)
class SubjectFigures:
    latest: Notification
    recipients: int
    delivered: int
    emailed: int
    refused: int
    read: int


def subjects(school_id: int, page: int = 1, per_page: int = 30):
    """The school's notified subjects, latest first, with their figures; and whether there
    are more pages."""
    figures = (
        select(
            func.max(Notification.id).label("latest_id"),
            func.count(Notification.id),
            func.count(Notification.delivered_at),
            func.count(Notification.emailed_at),
            func.count(Notification.email_error),
            func.count(Notification.read_at),
        )
        .where(
            Notification.school_id == school_id,
            Notification.state != NotificationState.CANCELLED,
        )
        .group_by(Notification.type, Notification.subject_key)
        .order_by(func.max(Notification.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    rows = db.session.execute(figures).all()
    latest = {
        n.id: n
        for n in db.session.scalars(
            select(Notification).where(Notification.id.in_([row[0] for row in rows]))
        )
    }
    found = [SubjectFigures(latest[row[0]], *row[1:]) for row in rows[:per_page]]
    return found, len(rows) > per_page


def recipients(notification: Notification) -> list:
    """Every person told about the same subject in the same school, newest window first."""
    return list(
        db.session.execute(
            select(Notification, User)
            .join(User, User.id == Notification.recipient_id)
            .where(
                Notification.school_id == notification.school_id,
                Notification.type == notification.type,
                Notification.subject_key == notification.subject_key,
            )
            .order_by(Notification.opened_at.desc(), User.last_name, User.first_name)
            .limit(2000)
        ).all()
    )
