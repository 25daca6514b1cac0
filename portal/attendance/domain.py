"""Attendance: registers, marks, alert rules and alerts, and what they send to families by SMS
(absence_sms, which also tells the SMS queue what holds an absence's SMS back)."""

from portal.attendance import absence_sms, jobs, permissions, reasons
from portal.attendance.alert_views import bp as alert_views
from portal.attendance.alert_views import rules_bp
from portal.attendance.sms_views import bp as sms_views
from portal.attendance.views import bp
from portal.core.wiring import Domain, Periodic

domain = Domain(
    "attendance",
    blueprints=(bp, alert_views, rules_bp, sms_views),
    template_globals={**permissions.template_globals(), "family_reason": reasons.for_family},
    jobs=(jobs, absence_sms),
    periodic=(
        Periodic(
            jobs.evaluate_alert_rules,
            cron="7 * * * *",
            why="alert rules over everyone they watch: periods slide and cycles turn without "
            "any new mark",
        ),
    ),
)
