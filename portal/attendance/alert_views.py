"""Alerts pages (seed 000): Notifications (the alerts fired, in their rule's colour), Archived,
and Scheduled alerts (the rules: new, edit, disable, enable, delete)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import Profile, User
from portal.attendance import alert_rules
from portal.attendance.alert_rules import COLOURS, RuleInput
from portal.attendance.forms import AlertRuleForm
from portal.attendance.models import Alert, AlertRule
from portal.attendance.rules import Metric
from portal.core import clock
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.permissions import get_or_404
from portal.core.web import form_page
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.labels import label
from portal.groups.models import GroupKind
from portal.sms import services as sms
from portal.sms import setup as sms_setup
from portal.webhooks import services as webhooks

#: The direction keeps the rules; the direction and staff read and archive the alerts.
bp = profile_blueprint("alerts", __name__, "/alerts", Profile.ADMIN, Profile.STAFF)
rules_bp = profile_blueprint("alert_rules", __name__, "/alerts/rules", Profile.ADMIN)

METRICS = [
    (Metric.ABSENCE_HOURS.value, _l("Hours of absence")),
    (Metric.SESSIONS_MISSED.value, _l("Sessions missed")),
    (Metric.ABSENCE_DAYS.value, _l("Days of absence")),
    (Metric.LATE_ARRIVALS.value, _l("Late arrivals")),
    (Metric.EARLY_DEPARTURES.value, _l("Early departures")),
]


def _alerts_page(archived: bool):
    page = request.args.get("page", 1, type=int)
    rows, more = alert_rules.alerts_of(current_user.school_id, archived=archived, page=page)
    return render_template(
        "attendance/alerts.html",
        rows=rows,
        more=more,
        page=page,
        archived=archived,
        sms_of=sms.of_alerts([alert.id for alert in rows]),
        now=clock.now(),
    )


@bp.get("/")
def index():
    return _alerts_page(archived=False)


@bp.get("/archived")
def archived():
    return _alerts_page(archived=True)


@bp.post("/<int:alert_id>/archive")
def archive(alert_id: int):
    alert_rules.archive(get_or_404(Alert, alert_id))
    return redirect(url_for("alerts.index"))


# --- Scheduled alerts (the rules) -----------------------------------------------------------


@rules_bp.get("/")
def rules():
    found = db.session.scalars(
        select(AlertRule)
        .where(AlertRule.school_id == current_user.school_id)
        .order_by(AlertRule.name, AlertRule.id)
    ).all()
    return render_template("attendance/alert_rules.html", rules=found, colours=COLOURS)


def _form(rule: AlertRule | None = None) -> AlertRuleForm:
    form = AlertRuleForm(obj=rule)
    form.colour.choices = [(value, name) for value, name in COLOURS.items()]
    form.population.choices = [("pupil", _("Pupils")), ("teacher", _("Teachers"))]
    form.metric.choices = METRICS
    form.counted.choices = [
        ("all", _("All absences")),
        ("justified", _("Justified absences")),
        ("unjustified", _("Unjustified absences")),
    ]
    form.trigger.choices = [
        ("more", _("more than N")),
        ("fewer", _("fewer than N")),
        ("between", _("between N and M")),
    ]
    form.period_unit.choices = [("days", _("days")), ("months", _("months"))]
    form.scope.choices = [
        ("everyone", _("everyone")),
        ("members", _("members of a group")),
        ("not_members", _("everyone but members of a group")),
    ]
    school_groups = [
        g
        for kind in (GroupKind.CLASS, GroupKind.TEACHING, GroupKind.MANUAL)
        for g in groups.school_groups(current_user.school_id, kind)
    ]
    form.scope_group.choices = [(0, "—")] + [(g.id, label(g)) for g in school_groups]
    admins = db.session.scalars(
        select(User)
        .where(User.school_id == current_user.school_id, User.profile == Profile.ADMIN)
        .order_by(User.last_name)
    )
    form.email_admins.choices = [(a.id, a.sort_name) for a in admins]
    form.webhook.choices = [(0, _("no webhook"))] + [
        (e.id, e.url) for e in webhooks.of_school(current_user.school_id)
    ]
    form.sms_action.choices = [(0, _("no SMS"))] + [
        (a.id, a.long_label)
        for a in sms_setup.offered(current_user.school_id, sms_setup.for_alerts)
    ]
    first, last = current_app.config["SMS_AUTOMATIC_HOURS"]
    form.sms_action.description = _(
        "To the guardians who accept SMS, from %(first)d:00 to %(last)d:00 and outside their "
        "quiet hours.",
        first=first,
        last=last,
    )
    if rule is not None and request.method == "GET":
        form.scope_group.data = rule.scope_group_id or 0
        form.email_admins.data = list(rule.email_admin_ids)
        form.webhook.data = rule.webhook_endpoint_id or 0
        form.sms_action.data = rule.sms_action_id or 0
    return form


def _asked(form: AlertRuleForm) -> RuleInput:
    return RuleInput(
        name=form.name.data or "",
        colour=form.colour.data,
        population=form.population.data,
        metric=form.metric.data,
        counted=form.counted.data,
        trigger=form.trigger.data,
        low=form.low.data,
        high=form.high.data,
        period_amount=form.period_amount.data,
        period_unit=form.period_unit.data,
        cycle_days=form.cycle_days.data,
        cycle_first=form.cycle_first.data,
        scope=form.scope.data,
        scope_group_id=form.scope_group.data or None,
        email_person=form.email_person.data,
        email_guardians=form.email_guardians.data,
        email_admin_ids=form.email_admins.data or [],
        webhook_endpoint_id=form.webhook.data or None,
        sms_action_id=form.sms_action.data or None,
    )


def _edit(rule: AlertRule | None):
    form = _form(rule)
    if not form.validate_on_submit():
        return form_page("attendance/alert_rule_form.html", form, rule=rule)
    try:
        alert_rules.save(current_user, _asked(form), rule)
    except ValidationError as error:
        return form_page("attendance/alert_rule_form.html", form, error, rule=rule)
    flash(_("The alert is saved."), "success")
    return redirect(url_for("alert_rules.rules"))


@rules_bp.route("/new", methods=["GET", "POST"])
def new():
    return _edit(None)


@rules_bp.route("/<int:rule_id>/edit", methods=["GET", "POST"])
def edit(rule_id: int):
    return _edit(get_or_404(AlertRule, rule_id))


@rules_bp.post("/<int:rule_id>/enabled")
def set_enabled(rule_id: int):
    rule = get_or_404(AlertRule, rule_id)
    alert_rules.set_enabled(current_user, rule, request.form.get("enabled") == "1")
    flash(_("The alert is enabled.") if rule.enabled else _("The alert is disabled."), "success")
    return redirect(url_for("alert_rules.rules"))


@rules_bp.route("/<int:rule_id>/delete", methods=["GET", "POST"])
def delete(rule_id: int):
    rule = get_or_404(AlertRule, rule_id)
    if request.method == "GET":
        return render_template("attendance/alert_rule_delete.html", rule=rule)
    alert_rules.delete(current_user, rule)
    flash(_("The alert is deleted."), "success")
    return redirect(url_for("alert_rules.rules"))
