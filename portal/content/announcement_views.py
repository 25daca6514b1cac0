"""Announcement pages: the list, writing and changing one, reading it with its comments, and
moderating them."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import SCHOOL_PROFILES
from portal.content import announcements
from portal.content.announcements import AnnouncementInput
from portal.content.forms import AnnouncementForm, CommentForm
from portal.content.models import Announcement, AnnouncementComment
from portal.content.permissions import (
    can_comment,
    can_edit_announcement,
    can_manage_every_announcement,
    can_read_announcement,
    can_write_announcements,
)
from portal.core import clock
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.forms import local_to_utc, utc_to_local
from portal.core.permissions import require, visible_or_404
from portal.core.web import form_page
from portal.extensions import db

bp = profile_blueprint("announcements", __name__, "/announcements", *SCHOOL_PROFILES)


def _announcement_or_404(announcement_id: int) -> Announcement:
    """An announcement the person may read (a parent's child's other school included); any
    other is not found."""
    announcement = db.session.get(Announcement, announcement_id)
    visible_or_404(announcement is not None and can_read_announcement(current_user, announcement))
    return announcement


def _form(obj=None) -> AnnouncementForm:
    form = AnnouncementForm(obj=obj)
    form.offer_audience(current_user)
    if not can_manage_every_announcement(current_user):
        del form.forced
    return form


def _asked(form: AnnouncementForm) -> AnnouncementInput:
    return AnnouncementInput(
        title=form.title.data or "",
        body=form.body.data or "",
        profiles=form.profiles.data or [],
        group_ids=form.groups.data or [],
        publish_at=local_to_utc(form.publish_at.data),
        expires_at=local_to_utc(form.expires_at.data),
        comments_allowed=form.comments_allowed.data,
        discreet=form.discreet.data,
        forced=bool(getattr(form, "forced", None) and form.forced.data),
    )


def _editor(form, announcement=None, error: ValidationError | None = None):
    return form_page("content/announcement_form.html", form, error, announcement=announcement)


@bp.get("/")
def index():
    page = request.args.get("page", 1, type=int)
    mine, more = [], False
    if can_write_announcements(current_user):
        mine, more = announcements.written_by(current_user, page)
    return render_template(
        "content/announcements.html",
        shown=announcements.shown_to(current_user),
        mine=mine,
        page=page,
        more=more,
        now=clock.now(),
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    require(can_write_announcements(current_user))
    form = _form()
    if not form.validate_on_submit():
        return _editor(form)
    try:
        announcement = announcements.publish(current_user, _asked(form))
    except ValidationError as error:
        return _editor(form, error=error)
    flash(_("The announcement is saved."), "success")
    return redirect(url_for("announcements.show", announcement_id=announcement.id))


@bp.get("/<int:announcement_id>")
def show(announcement_id: int):
    announcement = _announcement_or_404(announcement_id)
    return _page(announcement, CommentForm())


def _page(announcement: Announcement, comment_form: CommentForm, status: int = 200):
    moderating = can_edit_announcement(current_user, announcement)
    return render_template(
        "content/announcement.html",
        announcement=announcement,
        comments=announcements.comments(announcement, with_removed=moderating),
        comment_form=comment_form,
        now=clock.now(),
    ), status


@bp.route("/<int:announcement_id>/edit", methods=["GET", "POST"])
def edit(announcement_id: int):
    announcement = _announcement_or_404(announcement_id)
    require(can_edit_announcement(current_user, announcement))
    form = _form(announcement)
    if request.method == "GET":
        form.profiles.data = sorted({row.profile for row in announcement.audience_rows})
        form.groups.data = sorted(
            {row.group_id for row in announcement.audience_rows if row.group_id}
        )
        form.publish_at.data = utc_to_local(announcement.publish_at)
        form.expires_at.data = utc_to_local(announcement.expires_at)
    if not form.validate_on_submit():
        return _editor(form, announcement)
    try:
        announcements.change(current_user, announcement, _asked(form))
    except ValidationError as error:
        return _editor(form, announcement, error)
    flash(_("The announcement is saved."), "success")
    return redirect(url_for("announcements.show", announcement_id=announcement.id))


@bp.route("/<int:announcement_id>/delete", methods=["GET", "POST"])
def delete(announcement_id: int):
    announcement = _announcement_or_404(announcement_id)
    require(can_edit_announcement(current_user, announcement))
    if request.method == "GET":
        return render_template("content/announcement_delete.html", announcement=announcement)
    announcements.remove(announcement)
    flash(_("The announcement is removed."), "success")
    return redirect(url_for("announcements.index"))


@bp.post("/<int:announcement_id>/comments")
def comment(announcement_id: int):
    announcement = _announcement_or_404(announcement_id)
    require(can_comment(current_user, announcement))
    form = CommentForm()
    if not form.validate_on_submit():
        return _page(announcement, form, 400)
    try:
        announcements.add_comment(current_user, announcement, form.comment.data)
    except ValidationError as error:
        db.session.rollback()
        error.apply_to(form)
        return _page(announcement, form, 400)
    return redirect(url_for("announcements.show", announcement_id=announcement.id) + "#comments")


@bp.post("/comments/<int:comment_id>/remove")
def remove_comment(comment_id: int):
    comment_row = db.session.get(AnnouncementComment, comment_id)
    visible_or_404(comment_row is not None)
    announcement = _announcement_or_404(comment_row.announcement_id)
    require(can_edit_announcement(current_user, announcement))
    announcements.remove_comment(current_user, comment_row)
    flash(_("The comment is removed."), "success")
    return redirect(url_for("announcements.show", announcement_id=announcement.id) + "#comments")
