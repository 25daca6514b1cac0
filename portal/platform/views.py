"""The webmaster's platform console: the schools of the platform (opening, suspending and
resuming one), the platform settings (mail, webhooks), and the health of queues and workers."""

from __future__ import annotations

import redis.exceptions
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import credentials
from portal.accounts.models import Profile, School
from portal.admin import services
from portal.core import clock, settings
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.sessions import passive
from portal.core.web import form_page, is_htmx
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import GroupKind
from portal.platform import mail, queues
from portal.platform import services as platform
from portal.platform.forms import MailSettingsForm, NewSchoolForm, TestMailForm
from portal.webhooks import services as webhooks
from portal.webhooks.forms import WebhookSettingsForm

bp = profile_blueprint("webmaster", __name__, "/webmaster", Profile.WEBMASTER)

#: Offered while typing a time zone: metropolitan France and the overseas académies.
TIME_ZONES = (
    "Europe/Paris",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "America/Miquelon",
    "Indian/Reunion",
    "Indian/Mayotte",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "Pacific/Wallis",
    "Europe/Brussels",
    "Europe/Luxembourg",
    "Europe/Zurich",
    "UTC",
)


@bp.get("/", endpoint="home")
def webmaster_home():
    return render_template("admin/webmaster_home.html", schools=platform.schools())


@bp.route("/schools/new", methods=["GET", "POST"])
def new_school():
    form = NewSchoolForm()
    if not form.validate_on_submit():
        return form_page("admin/webmaster_new_school.html", form, time_zones=TIME_ZONES)
    try:
        school, person, code = platform.open_school(
            current_user,
            name=form.name.data,
            code=form.code.data,
            timezone=form.timezone.data.strip(),
            language=form.language.data,
            first_name=form.first_name.data,
            last_name=form.last_name.data,
            email=form.email.data,
        )
    except ValidationError as error:
        return form_page("admin/webmaster_new_school.html", form, error, time_zones=TIME_ZONES)
    # The code is shown in this answer only (kept nowhere but as a digest, nor by the browser).
    page = render_template(
        "admin/webmaster_school_opened.html",
        school=school,
        person=person,
        code=code,
        link=credentials.activation_link(code),
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.get("/schools/<int:school_id>")
def school(school_id: int):
    found = db.get_or_404(School, school_id)
    return render_template(
        "admin/webmaster_school.html",
        school=found,
        figures=services.school_figures(found),
        classes=groups.school_groups(found.id, GroupKind.CLASS),
    )


@bp.get("/schools/<int:school_id>/suspend")
def confirm_suspension(school_id: int):
    """The confirmation step: what suspending does, before the webmaster confirms."""
    found = db.get_or_404(School, school_id)
    if found.suspended_at is not None:
        return redirect(url_for("webmaster.school", school_id=found.id))
    return render_template(
        "admin/webmaster_suspend.html", school=found, figures=services.school_figures(found)
    )


@bp.post("/schools/<int:school_id>/suspend")
def suspend_school(school_id: int):
    found = db.get_or_404(School, school_id)
    try:
        platform.suspend_school(current_user, found)
    except ValidationError:
        db.session.rollback()  # suspended meanwhile: nothing more to do
    else:
        flash(
            _("%(school)s is suspended. Nobody of the school can log in.", school=found.name),
            "success",
        )
    return redirect(url_for("webmaster.school", school_id=found.id))


@bp.post("/schools/<int:school_id>/resume")
def resume_school(school_id: int):
    found = db.get_or_404(School, school_id)
    try:
        platform.resume_school(current_user, found)
    except ValidationError:
        db.session.rollback()
    else:
        flash(
            _("%(school)s is resumed. Its people can log in again.", school=found.name), "success"
        )
    return redirect(url_for("webmaster.school", school_id=found.id))


def _mail_page(status: int = 200, **forms):
    current = settings.current()
    forms.setdefault(
        "settings_form",
        MailSettingsForm(
            notification_email=current.notification_email, bounce_address=current.bounce_address
        ),
    )
    forms.setdefault("test_form", TestMailForm())
    return render_template(
        "admin/webmaster_mail.html",
        smtp_url=bool(current_app.config["SMTP_URL"]),
        files=mail.written_files(),
        **forms,
    ), status


@bp.get("/mail")
def mail_settings():
    return _mail_page()


@bp.post("/mail/settings")
def save_mail_settings():
    form = MailSettingsForm()
    if form.validate_on_submit():
        try:
            mail.save_settings(current_user, form.notification_email.data, form.bounce_address.data)
        except ValidationError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            flash(_("The mail settings are saved."), "success")
            return redirect(url_for("webmaster.mail_settings"))
    return _mail_page(400, settings_form=form)


@bp.post("/mail/test")
def send_test_mail():
    form = TestMailForm()
    if form.validate_on_submit():
        try:
            sent, answer = mail.send_test(form.to.data)
        except ValidationError as error:
            error.apply_to(form)
        else:
            return _mail_page(200, test_form=form, test_result={"sent": sent, "answer": answer})
    return _mail_page(400, test_form=form)


@bp.route("/webhooks", methods=["GET", "POST"])
def webhook_settings():
    form = WebhookSettingsForm(private_allowed=settings.current().webhooks_private_allowed)
    if form.validate_on_submit():
        webhooks.allow_private(current_user, form.private_allowed.data)
        flash(_("The webhook settings are saved."), "success")
        return redirect(url_for("webmaster.webhook_settings"))
    return render_template("admin/webmaster_webhooks.html", form=form)


@bp.get("/mail/files/<name>")
def mail_file(name: str):
    message = mail.read_file(name)
    if message is None:
        abort(404)
    body = message.get_body(preferencelist=("plain",))
    return render_template(
        "admin/webmaster_mail_file.html",
        name=name,
        message=message,
        text=body.get_content() if body else "",
    )


# --- health of queues and workers -------------------------------------------------------------


@bp.get("/health")
@passive
def health():
    """The figures of the queues, workers, cron and outbox; the same URL answers HTMX's poll
    with the figures alone. Redis out of reach is said on the page (503), never a crash; the
    poll gets it with 200, since HTMX leaves the page as it was on an error status."""
    try:
        found, reachable = queues.read(), True
    except redis.exceptions.RedisError:
        found, reachable = None, False
    template = "admin/_health.html" if is_htmx() else "admin/webmaster_health.html"
    page = render_template(
        template,
        health=found,
        reachable=reachable,
        backlog=queues.outbox_backlog(),
        scheduler_alive=queues.scheduler_alive,
        format_timedelta=format_timedelta,
        now=clock.now(),
    )
    return page, 200 if reachable or is_htmx() else 503


def _failed_job_action(action, queue: str, job_id: str, done: str):
    try:
        action(queue, job_id)
    except LookupError:
        abort(404)
    except redis.exceptions.RedisError:
        flash(_("Redis can't be reached: nothing was changed. Try again in a moment."), "error")
    else:
        flash(done, "success")
    return redirect(url_for("webmaster.health"))


@bp.post("/health/failed/<queue>/<job_id>/requeue")
def requeue_failed_job(queue: str, job_id: str):
    return _failed_job_action(
        queues.requeue_failed, queue, job_id, _("The job is back on its queue.")
    )


@bp.post("/health/failed/<queue>/<job_id>/delete")
def delete_failed_job(queue: str, job_id: str):
    return _failed_job_action(queues.delete_failed, queue, job_id, _("The failed job is deleted."))
