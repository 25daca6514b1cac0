"""The SMS of an absence, for the direction and the staff: choosing the SMS action and the
recipients (the SMS then wait in 'SMS to send'), and the correcting SMS when the absence changed
after its SMS left."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.accounts.models import Profile
from portal.attendance import absence_sms
from portal.attendance.models import AttendanceMark
from portal.core import clock
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.navigation import safe_next
from portal.core.permissions import get_or_404, require
from portal.core.web import is_htmx
from portal.extensions import db
from portal.sms import inbound, recipients, segments, services, setup
from portal.sms.forms import MarkSmsForm
from portal.sms.models import Sms, SmsAction
from portal.sms.permissions import can_send_sms

bp = profile_blueprint("absence_sms", __name__, "/sms", Profile.ADMIN, Profile.STAFF)


def _mark(mark_id: int) -> AttendanceMark:
    mark = get_or_404(AttendanceMark, mark_id)
    require(can_send_sms(current_user))
    if mark.person.profile != Profile.PUPIL:
        abort(404)
    return mark


def _mark_page(mark, form, error: ValidationError | None = None):
    actions = setup.offered(current_user.school_id, setup.for_marks)
    form.action.choices = [(a.id, a.long_label) for a in actions]
    chosen = next((a for a in actions if a.id == form.action.data), actions[0] if actions else None)
    if error is not None:
        error.apply_to(form)
    sent = services.of_mark(mark.id)
    context = {
        "mark_row": mark,
        "form": form,
        "ready": setup.is_ready(current_user.school_id),
        "candidates": recipients.candidates(mark.person),
        "chosen": chosen,
        "sent": sent,
        "leaving": services.leaving_times(sent),
        "now": clock.now(),
        "replies": inbound.replies_for_pupil(mark.person_id),
    }
    if chosen is not None:
        context["preview"] = setup.fill(chosen.template, absence_sms.values_for_mark(mark))
        context["segments"] = segments.count(context["preview"])
    if is_htmx() and request.method == "GET":
        return render_template("sms/_preview.html", **context)
    status = 400 if form.errors else 200
    return render_template("sms/mark.html", **context), status


@bp.route("/marks/<int:mark_id>", methods=["GET", "POST"])
def mark(mark_id: int):
    """Choose the SMS action and the recipients; the SMS then wait in 'SMS to send'."""
    mark = _mark(mark_id)
    form = MarkSmsForm(formdata=request.form if request.method == "POST" else request.args)
    if request.method == "GET":
        if not form.recipients.data:
            form.recipients.data = [
                c.recipient for c in recipients.candidates(mark.person) if c.reachable
            ][:1]
        return _mark_page(mark, form)
    if not form.validate_on_submit():
        return _mark_page(mark, form)
    try:
        queued = absence_sms.queue_for_mark(
            current_user,
            mark,
            db.session.get(SmsAction, form.action.data or 0),
            form.recipients.data or [],
        )
    except ValidationError as error:
        db.session.rollback()
        return _mark_page(mark, form, error)
    flash(
        ngettext(
            "%(num)d SMS is waiting in 'SMS to send'.",
            "%(num)d SMS are waiting in 'SMS to send'.",
            len(queued),
        ),
        "success",
    )
    return redirect(url_for("absence_sms.mark", mark_id=mark.id))


@bp.post("/<int:sms_id>/correct")
def correct(sms_id: int):
    sms = get_or_404(Sms, sms_id)
    try:
        absence_sms.correct(current_user, sms)
    except ValidationError as error:
        db.session.rollback()
        flash(error.errors["sms"], "error")
    else:
        flash(_("The correcting SMS is on its way."), "success")
    return redirect(safe_next(url_for("sms.queue")))
