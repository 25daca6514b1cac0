"""Keeping alert rules (Alerts → Scheduled alerts): saving one checked as a whole, disabling,
enabling, deleting, and archiving the alerts they fired."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import User
from portal.attendance.models import Alert, AlertRule, AlertState
from portal.attendance.rules import (
    ABSENCE_METRICS,
    Counted,
    Metric,
    PeriodUnit,
    Population,
    Scope,
    Trigger,
)
from portal.core import audit, clock
from portal.core.audit import AuditTag
from portal.core.errors import ValidationError
from portal.core.text import checked_line
from portal.extensions import db
from portal.groups.models import Group
from portal.notifications.services import admin_ids
from portal.sms import setup as sms_setup
from portal.sms.models import SmsAction
from portal.webhooks.models import WebhookEndpoint

#: The colours a rule may take, named for people who don't see them.
COLOURS = {
    "#b45309": _l("Orange"),
    "#b91c1c": _l("Red"),
    "#1d4ed8": _l("Blue"),
    "#15803d": _l("Green"),
    "#7e22ce": _l("Purple"),
    "#374151": _l("Grey"),
}
NAME_MAX = 120
COUNT_MAX = 10_000
LONGEST = {PeriodUnit.DAYS: 366, PeriodUnit.MONTHS: 24}
#: What decides whether a rule holds (its name, colour and actions don't).
CONDITION = (
    "population",
    "metric",
    "counted",
    "trigger",
    "low",
    "high",
    "period_amount",
    "period_unit",
    "cycle_days",
    "cycle_first",
    "scope",
    "scope_group_id",
)


@dataclass
class RuleInput:
    name: str
    colour: str
    population: str
    metric: str
    counted: str
    trigger: str
    low: int | None
    high: int | None
    period_amount: int | None
    period_unit: str
    cycle_days: int | None = None
    cycle_first: dt.date | None = None
    scope: str = Scope.EVERYONE
    scope_group_id: int | None = None
    email_person: bool = False
    email_guardians: bool = False
    email_admin_ids: list[int] = field(default_factory=list)
    webhook_endpoint_id: int | None = None
    sms_action_id: int | None = None


def _choices_ok(asked: RuleInput, errors: dict[str, str]) -> None:
    for name, allowed in (
        ("colour", COLOURS),
        ("population", set(Population)),
        ("metric", set(Metric)),
        ("counted", set(Counted)),
        ("trigger", set(Trigger)),
        ("period_unit", set(PeriodUnit)),
        ("scope", set(Scope)),
    ):
        if getattr(asked, name) not in allowed:
            errors[name] = _("Choose one of the values offered.")


def _checked(admin: User, asked: RuleInput) -> dict:
    """The rule's columns, or ValidationError with a message per field."""
    errors: dict[str, str] = {}
    name = checked_line("name", asked.name, NAME_MAX, _("Give the alert a name."), errors)
    _choices_ok(asked, errors)
    if asked.population == Population.TEACHERS:
        if asked.metric not in ABSENCE_METRICS:
            errors["metric"] = _("Late arrivals and early departures are counted for pupils.")
        if asked.counted != Counted.ALL:
            errors["counted"] = _("Teachers' absences are counted all together.")
    if asked.low is None or not 0 <= asked.low <= COUNT_MAX:
        errors["low"] = _("Give a number from 0 to %(max)d.", max=COUNT_MAX)
    elif asked.trigger == Trigger.FEWER and asked.low < 1:
        errors["low"] = _("Nobody has fewer than 0: give 1 or more.")
    elif asked.trigger == Trigger.BETWEEN and (asked.high is None or asked.high < asked.low):
        errors["high"] = _("Give a number at least as large as the first.")
    unit = asked.period_unit if asked.period_unit in LONGEST else PeriodUnit.DAYS
    if asked.period_amount is None or not 1 <= asked.period_amount <= LONGEST[unit]:
        errors["period_amount"] = _("Give a period from 1 to %(max)d.", max=LONGEST[unit])
    if (asked.cycle_days is None) != (asked.cycle_first is None):
        errors["cycle_days"] = _("Give both the length of the cycle and the day it starts.")
    elif asked.cycle_days is not None and not 1 <= asked.cycle_days <= 3660:
        errors["cycle_days"] = _("Give a cycle from 1 to 3660 days.")
    group = None
    if asked.scope in (Scope.MEMBERS, Scope.NOT_MEMBERS):
        group = db.session.get(Group, asked.scope_group_id or 0)
        if group is None or group.school_id != admin.school_id:
            errors["scope_group"] = _("Choose a group of the school.")
    if set(asked.email_admin_ids) - set(admin_ids(admin.school_id)):
        errors["email_admins"] = _("Choose administrators of the school.")
    if asked.webhook_endpoint_id is not None:
        endpoint = db.session.get(WebhookEndpoint, asked.webhook_endpoint_id)
        if endpoint is None or endpoint.school_id != admin.school_id:
            errors["webhook"] = _("Choose a webhook of the school.")
    if asked.sms_action_id is not None:
        _sms_ok(admin, asked, errors)
    if errors:
        raise ValidationError.of(errors)
    return {
        "name": name,
        "colour": asked.colour,
        "population": asked.population,
        "metric": asked.metric,
        "counted": asked.counted if asked.metric in ABSENCE_METRICS else Counted.ALL,
        "trigger": asked.trigger,
        "low": asked.low,
        "high": asked.high if asked.trigger == Trigger.BETWEEN else None,
        "period_amount": asked.period_amount,
        "period_unit": asked.period_unit,
        "cycle_days": asked.cycle_days,
        "cycle_first": asked.cycle_first,
        "scope": asked.scope if group is not None else Scope.EVERYONE,
        "scope_group_id": group.id if group is not None else None,
        "email_person": asked.email_person,
        "email_guardians": asked.email_guardians,
        "email_admin_ids": sorted(set(asked.email_admin_ids)),
        "webhook_endpoint_id": asked.webhook_endpoint_id,
        "sms_action_id": asked.sms_action_id,
    }


def _sms_ok(admin: User, asked: RuleInput, errors: dict[str, str]) -> None:
    """The SMS goes to a pupil's guardians, through a switched-on action of the school whose
    text an alert can fill, once the provider is set up."""
    action = db.session.get(SmsAction, asked.sms_action_id)
    if action is None or action.school_id != admin.school_id or not action.enabled:
        errors["sms_action"] = _("Choose an SMS action of the school.")
    elif not sms_setup.for_alerts(action.template):
        errors["sms_action"] = _(
            "The text of this SMS tells of one session ({start}, {end}, {minutes}), which an "
            "alert does not have: choose or write another."
        )
    elif asked.population != Population.PUPILS:
        errors["sms_action"] = _("The SMS goes to pupils' guardians: watch pupils.")
    elif not sms_setup.is_ready(admin.school_id):
        errors["sms_action"] = _("The direction must set up the SMS provider first.")


def save(admin: User, asked: RuleInput, rule: AlertRule | None = None) -> AlertRule:
    """Create or change a rule; a changed rule starts its crossings afresh. Audited."""
    values = _checked(admin, asked)
    before = None
    if rule is None:
        rule = AlertRule(school_id=admin.school_id)
        db.session.add(rule)
    else:
        before = {key: _plain(getattr(rule, key)) for key in values}
        if any(before[key] != _plain(values[key]) for key in CONDITION):
            # What it watches changed: everyone's crossing starts afresh.
            db.session.execute(AlertState.__table__.delete().where(AlertState.rule_id == rule.id))
    for key, value in values.items():
        setattr(rule, key, value)
    rule.updated_at = clock.now()
    db.session.flush()
    after = {key: _plain(value) for key, value in values.items()}
    tag = AuditTag.ALERT_RULE_SAVED
    audit.record(admin, tag, admin.school_id, rule_id=rule.id, before=before, after=after)
    return rule


def _plain(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def set_enabled(admin: User, rule: AlertRule, enabled: bool) -> None:
    """A rule disabled fires nothing; enabled again, it decides afresh for everyone."""
    if rule.enabled != enabled:
        rule.enabled, rule.updated_at = enabled, clock.now()
        if enabled:
            db.session.execute(AlertState.__table__.delete().where(AlertState.rule_id == rule.id))
        db.session.flush()


def delete(admin: User, rule: AlertRule) -> None:
    """Delete a rule; the alerts it fired stay, with its name and colour."""
    tag = AuditTag.ALERT_RULE_DELETED
    audit.record(admin, tag, admin.school_id, rule_id=rule.id, name=rule.name)
    db.session.delete(rule)
    db.session.flush()


def alerts_of(school_id: int, *, archived: bool, page: int = 1, per_page: int = 30):
    """Alerts → Notifications (not archived) or Archived, newest first; the page and whether
    there is another."""
    query = select(Alert).where(Alert.school_id == school_id)
    query = query.where(Alert.archived_at.is_not(None) if archived else Alert.archived_at.is_(None))
    rows = list(
        db.session.scalars(
            query.order_by(Alert.fired_at.desc(), Alert.id.desc())
            .offset((max(page, 1) - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page


def archive(alert: Alert) -> None:
    if alert.archived_at is None:
        alert.archived_at = clock.now()
        db.session.flush()
