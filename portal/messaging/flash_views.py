"""Flash message pages: the banner every page loads (HTMX), acknowledging, reading one, and the
direction's and staff's list, form and who-has-acknowledged view."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import SCHOOL_PROFILES
from portal.core import clock
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.forms import local_to_utc
from portal.core.navigation import current_page, safe_next
from portal.core.permissions import require, visible_or_404
from portal.core.web import form_page, is_htmx
from portal.extensions import db
from portal.messaging import flash as service
from portal.messaging.flash import FlashInput
from portal.messaging.forms import FlashForm
from portal.messaging.models import FlashMessage
from portal.messaging.permissions import can_create_flash, can_manage_flash, can_read_flash

bp = profile_blueprint("flash", __name__, "/flash", *SCHOOL_PROFILES)


def _flash_or_404(flash_id: int) -> FlashMessage:
    message = db.session.get(FlashMessage, flash_id)
    visible_or_404(message is not None and can_read_flash(current_user, message))
    return message


@bp.get("/banner")
def banner():
    """The banner's content, loaded by every page of a school's people."""
    back = current_page(url_for("root.index"))
    return render_template(
        "messaging/_flash_banner.html", showing=service.banner_for(current_user), back=back
    )


@bp.post("/<int:flash_id>/acknowledge")
def acknowledge(flash_id: int):
    message = _flash_or_404(flash_id)
    require(service.reaches(current_user, message))
    service.acknowledge(current_user, message)
    if is_htmx():
        return render_template(
            "messaging/_flash_banner.html",
            showing=service.banner_for(current_user),
            back=safe_next(url_for("root.index")),
            acknowledged=message,
        )
    return redirect(safe_next(url_for("flash.show", flash_id=message.id)))


@bp.get("/")
def index():
    """The direction's and staff's list; for anyone else, what the banner shows them (the
    page the banner links to when scripts are off)."""
    if not can_create_flash(current_user):
        return render_template(
            "messaging/flash_mine.html", showing=service.banner_for(current_user)
        )
    page = request.args.get("page", 1, type=int)
    rows, more = service.of_school(current_user.school_id, page)
    return render_template(
        "messaging/flash_list.html", rows=rows, page=page, more=more, now=clock.now()
    )


def _editor(form, error: ValidationError | None = None):
    return form_page("messaging/flash_form.html", form, error)


@bp.route("/new", methods=["GET", "POST"])
def new():
    require(can_create_flash(current_user))
    form = FlashForm()
    form.offer_audience(current_user)
    if not form.validate_on_submit():
        return _editor(form)
    asked = FlashInput(
        title=form.title.data or "",
        body=form.body.data or "",
        profiles=form.profiles.data or [],
        group_ids=form.groups.data or [],
        starts_at=local_to_utc(form.starts_at.data),
        ends_at=local_to_utc(form.ends_at.data),
        emailed=form.emailed.data,
        texted=form.texted.data,
    )
    try:
        message = service.create(current_user, asked)
    except ValidationError as error:
        return _editor(form, error)
    flash(_("The flash message is saved."), "success")
    return redirect(url_for("flash.show", flash_id=message.id))


@bp.get("/<int:flash_id>")
def show(flash_id: int):
    message = _flash_or_404(flash_id)
    if not can_manage_flash(current_user, message):
        return render_template(
            "messaging/flash_read.html",
            message=message,
            acknowledged_at=service.acknowledged_at(current_user, message),
        )
    return render_template(
        "messaging/flash_detail.html",
        message=message,
        sections=service.sections(message),
        now=clock.now(),
    )


@bp.post("/<int:flash_id>/end")
def end(flash_id: int):
    message = _flash_or_404(flash_id)
    require(can_manage_flash(current_user, message))
    service.end(message)
    flash(_("The flash message is no longer shown."), "success")
    return redirect(url_for("flash.show", flash_id=message.id))
