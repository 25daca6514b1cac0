"""The webmaster's platform console: the schools of the platform, the mail settings and the
webhook setting."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from portal.accounts.models import School, User
from portal.admin import mail, services
from portal.admin.forms import MailSettingsForm, TestMailForm
from portal.core import settings
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import GroupKind
from portal.webhooks import services as webhooks
from portal.webhooks.forms import WebhookSettingsForm

bp = profile_blueprint("webmaster", __name__, "/webmaster", "webmaster")


@bp.get("/", endpoint="home")
def webmaster_home():
    rows = db.session.execute(
        select(School, func.count(User.id))
        .outerjoin(User, User.school_id == School.id)
        .group_by(School.id)
        .order_by(School.name)
    ).all()
    return render_template("admin/webmaster_home.html", schools=rows)


@bp.get("/schools/<int:school_id>")
def school(school_id: int):
    found = db.get_or_404(School, school_id)
    return render_template(
        "admin/webmaster_school.html",
        school=found,
        figures=services.school_figures(found),
        classes=groups.school_groups(found.id, GroupKind.CLASS),
    )


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
            db.session.commit()
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
        db.session.commit()
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
