"""What an alert does when it fires: the alert recorded for the people who watch it, then each
of its rule's actions (notifications, e-mails, a webhook, an SMS to the guardians)."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import UNREACHABLE, Guardianship, Profile, School, User
from portal.attendance import absence_sms as sms
from portal.attendance.models import (
    Alert,
    AlertRule,
    PupilContact,
)
from portal.attendance.rules import Metric
from portal.core.db import among
from portal.core.i18n import deferred
from portal.core.mail import queue_mail
from portal.extensions import db
from portal.notifications import services as notifications
from portal.webhooks import services as webhooks


def watchers_of(school_id: int) -> list[int]:
    """Who is told of every alert: the school's direction and staff."""
    return list(
        db.session.scalars(
            select(User.id).where(
                User.school_id == school_id, User.profile.in_((Profile.ADMIN, Profile.STAFF))
            )
        )
    )


def fire_alert(rule: AlertRule, school: School, person_id: int, amount: float, watchers) -> Alert:
    """The in-app notification (always), then the e-mails the rule asks for."""
    person = db.session.get(User, person_id)
    alert = Alert(
        school_id=rule.school_id,
        rule_id=rule.id,
        person_id=person_id,
        rule_name=rule.name,
        colour=rule.colour,
        amount=round(amount, 2),
    )
    db.session.add(alert)
    db.session.flush()
    notifications.notify(
        "attendance_alert",
        watchers,
        f"alert:{alert.id}",
        {
            "text": deferred("%(rule)s: %(person)s", rule=rule.name, person=person.display_name),
            "url": "/alerts/",
        },
    )
    for address in _addresses(rule, person):
        _mail(address, rule, school, person, amount)
    if rule.webhook_endpoint_id is not None:
        webhooks.emit(rule.webhook_endpoint_id, "attendance.alert", _event(alert, rule, person))
    if rule.sms_action_id is not None and person.profile == Profile.PUPIL:
        sms.for_alert(alert, rule.sms_action_id, person, _told(rule, school, amount), f"{amount:g}")
    return alert


def _event(alert: Alert, rule: AlertRule, person: User) -> dict:
    """What a webhook receives of an alert: the rule, the person, the count that crossed."""
    return {
        "alert_id": alert.id,
        "fired_at": alert.fired_at.isoformat(),
        "school_id": rule.school_id,
        "rule": {
            "id": rule.id,
            "name": rule.name,
            "colour": rule.colour,
            "metric": rule.metric,
            "counted": rule.counted,
            "trigger": rule.trigger,
            "low": rule.low,
            "high": rule.high,
            "period": {"amount": rule.period_amount, "unit": rule.period_unit},
        },
        "person": {
            "id": person.id,
            "profile": person.profile,
            "first_name": person.first_name,
            "last_name": person.last_name,
        },
        "amount": alert.amount,
    }


def _addresses(rule: AlertRule, person: User) -> list[str]:
    """Who is e-mailed: the person, their guardians and tutor, chosen admins; never anyone
    who refused all e-mail or has no address."""
    people: list[User] = []
    if rule.email_person:
        people.append(person)
    if rule.email_guardians and person.profile == Profile.PUPIL:
        people += db.session.scalars(
            select(User)
            .join(Guardianship, Guardianship.parent_id == User.id)
            .where(Guardianship.pupil_id == person.id)
        )
    if rule.email_admin_ids:
        people += db.session.scalars(
            select(User).where(
                among(User.id, [int(i) for i in rule.email_admin_ids]),
                User.school_id == rule.school_id,
                User.profile == Profile.ADMIN,
            )
        )
    addresses = [
        p.email for p in people if p.email and not p.refuses_email and p.state not in UNREACHABLE
    ]
    if rule.email_guardians and person.profile == Profile.PUPIL:
        addresses += db.session.scalars(
            select(PupilContact.email).where(PupilContact.pupil_id == person.id)
        )
    return sorted(set(addresses))


def _told(rule: AlertRule, school: School, amount: float) -> str:
    """What crossed, in the school's words ('Absences: 12 hours of absence')."""
    with force_locale(school.default_language):
        return _(
            "%(rule)s: %(amount)s %(metric)s",
            rule=rule.name,
            amount=f"{amount:g}",
            metric=metric_label(rule.metric),
        )


def _mail(address: str, rule: AlertRule, school: School, person: User, amount: float) -> None:
    with force_locale(school.default_language):
        subject = _(
            "Carnet: alert “%(rule)s” for %(person)s", rule=rule.name, person=person.display_name
        )
        text = _(
            "The alert “%(rule)s” of %(school)s has fired for %(person)s: %(amount)s %(metric)s "
            "over the period it watches.",
            rule=rule.name,
            school=school.name,
            person=person.display_name,
            amount=f"{amount:g}",
            metric=metric_label(rule.metric),
        )
    queue_mail(address, subject, text)


def metric_label(metric: str) -> str:
    return {
        Metric.ABSENCE_HOURS: _("hours of absence"),
        Metric.SESSIONS_MISSED: _("sessions missed"),
        Metric.ABSENCE_DAYS: _("days of absence"),
        Metric.LATE_ARRIVALS: _("late arrivals"),
        Metric.EARLY_DEPARTURES: _("early departures"),
    }[metric]
