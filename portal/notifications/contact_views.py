"""Writing to one's school from the login page (SPEC §4): the form, and the page that says it
left. Anyone may open them; each sender and each school have an allowance of messages."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from portal.core.errors import ValidationError
from portal.core.web import form_page
from portal.extensions import limiter
from portal.notifications import contact as contact_service
from portal.notifications.forms import WriteToSchoolForm

bp = Blueprint("contact", __name__)


def _contact_limit() -> str:
    return current_app.config.get("CONTACT_RATE_LIMIT", "3 per minute;10 per hour")


def _contact_school_limit() -> str:
    return current_app.config.get("CONTACT_SCHOOL_RATE_LIMIT", "30 per hour")


def _contact_school_key() -> str:
    return "contact-" + contact_service.allowance_key(request.form.get("school"))


def _sent(response) -> bool:
    """A school's allowance is spent by messages answered as sent, robots' included."""
    return response.status_code == 302


@bp.route("/contact", methods=["GET", "POST"])
@limiter.limit(_contact_limit, methods=["POST"])
@limiter.limit(
    _contact_school_limit, key_func=_contact_school_key, methods=["POST"], deduct_when=_sent
)
def write():
    """Someone who can't log in writes to the direction of their school (SPEC §4)."""
    form = WriteToSchoolForm()
    if request.method == "GET":
        form.school.data = request.args.get("school", "")[: contact_service.SCHOOL_MAX]
    elif form.website.data:
        return redirect(url_for("contact.sent"))  # a robot: answered, nobody told
    if form.validate_on_submit():
        try:
            contact_service.write_to_school(
                form.school.data, form.name.data, form.email.data, form.pupil.data, form.text.data
            )
        except ValidationError as error:
            return form_page("contact/write.html", form, error)
        return redirect(url_for("contact.sent"))
    return form_page("contact/write.html", form)


@bp.get("/contact/sent")
def sent():
    return render_template("contact/sent.html")
