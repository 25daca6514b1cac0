"""Attendance's outbox handlers and RQ entry points; each hands the work to its service."""

from __future__ import annotations

from portal.attendance import absence_sms, alerts
from portal.core import outbox
from portal.core.jobs import job


@outbox.handler("alert_evaluation")
def evaluate_marked_people(payload: dict) -> None:
    """The school's alert rules over the people whose marks a transaction changed."""
    alerts.evaluate_school(payload["school_id"], payload["person_ids"])


@outbox.handler("sms_unanswered")
def check_sms_answer(payload: dict) -> None:
    """An absence SMS whose response delay is over."""
    absence_sms.check_answer(payload["sms_id"])


@job(queue="default", timeout=3600, retry=None)
def evaluate_alert_rules() -> int:
    """Every enabled rule over everyone it watches (rq cron): periods slide and cycles turn
    without any new mark."""
    return alerts.evaluate_all()
