"""The carnet de liaison's pages: the notes an author follows and writes, a note's table of who
confirmed or answered (refreshed while it is open), and each child's page of the carnet where a
guardian confirms or answers in one tap, without JavaScript."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import guardianship
from portal.accounts.models import Profile, User
from portal.core import bodies
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.permissions import get_or_404, require, visible_or_404
from portal.core.web import is_htmx
from portal.extensions import db
from portal.liaison import notes
from portal.liaison.forms import NoteForm, ReplyForm
from portal.liaison.models import Asks, LiaisonNote
from portal.liaison.permissions import (
    can_follow_note,
    can_read_carnet,
    can_reply_for,
    can_write_notes,
)

bp = profile_blueprint(
    "liaison",
    __name__,
    "/liaison",
    Profile.ADMIN,
    Profile.STAFF,
    Profile.TEACHER,
    Profile.PARENT,
    Profile.PUPIL,
)


@bp.get("/")
def index():
    """An author's notes; a guardian's children (one child: their page); a pupil's page."""
    if current_user.profile == Profile.PUPIL:
        return redirect(url_for("liaison.child", pupil_id=current_user.id))
    if current_user.profile == Profile.PARENT:
        children = guardianship.children_of(current_user)
        if len(children) == 1:
            return redirect(url_for("liaison.child", pupil_id=children[0].id))
        return render_template("liaison/children.html", children=children)
    written = notes.written_by(current_user)
    return render_template(
        "liaison/index.html", written=written, counts=notes.counts(written, current_user.school)
    )


def _form_page(form: NoteForm, status: int = 200):
    return render_template("liaison/new.html", form=form), status


@bp.route("/new", methods=["GET", "POST"])
def new():
    require(can_write_notes(current_user))
    form = NoteForm()
    form.offer(notes.addressable_groups(current_user))
    if request.method == "GET" or not form.validate_on_submit():
        return _form_page(form, 400 if request.method == "POST" else 200)
    try:
        note = notes.write(
            current_user,
            title=form.title.data or "",
            body=bodies.from_text(form.body.data or ""),
            asks=Asks(form.asks.data),
            choices=form.choice_lines(),
            answer_until=form.answer_until_utc(),
            group_ids=form.groups.data or [],
            pupils_see=form.pupils_see.data,
        )
    except ValidationError as error:
        error.apply_to(form)
        return _form_page(form, 400)
    flash(_("The note is sent to the families."), "success")
    return redirect(url_for("liaison.note", note_id=note.id))


@bp.get("/<int:note_id>")
def note(note_id: int):
    """Who confirmed or answered, pupil by pupil; the table alone for HTMX's refresh."""
    found = get_or_404(LiaisonNote, note_id)
    visible_or_404(can_follow_note(current_user, found))
    rows = notes.status(found, current_user.school)
    template = "liaison/_status.html" if is_htmx() else "liaison/note.html"
    return render_template(template, note=found, rows=rows)


def _family_note(note_id: int, pupil_id: int) -> tuple[LiaisonNote, User]:
    """A note for this pupil, for one of their guardians; anything else is not found."""
    pupil = db.session.get(User, pupil_id)
    visible_or_404(pupil is not None and can_reply_for(current_user, pupil))
    found = db.session.get(LiaisonNote, note_id)  # a child may be in another school
    visible_or_404(found is not None and notes.is_for(found, pupil))
    return found, pupil


def _carnet_page(pupil: User, refused: dict[int, str] | None = None, status: int = 200):
    """A child's page of the carnet; ``refused`` says, by note, why a reply was not taken."""
    return render_template(
        "liaison/carnet.html",
        pupil=pupil,
        entries=notes.carnet(current_user, pupil),
        form=ReplyForm(formdata=None),
        replying=can_reply_for(current_user, pupil),
        refused=refused or {},
    ), status


@bp.get("/children/<int:pupil_id>")
def child(pupil_id: int):
    pupil = db.session.get(User, pupil_id)
    visible_or_404(pupil is not None and can_read_carnet(current_user, pupil))
    return _carnet_page(pupil)


@bp.post("/<int:note_id>/children/<int:pupil_id>")
def reply(note_id: int, pupil_id: int):
    """A confirmation (one button) or an answer (one button per choice, with the comment typed
    above): one tap, no JavaScript."""
    found, pupil = _family_note(note_id, pupil_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        abort(400)
    choice = request.form.get("choice", type=int)
    try:
        notes.reply(current_user, found, pupil, choice=choice, comment=form.comment.data or "")
    except LookupError:
        abort(404)
    except ValidationError as error:
        return _carnet_page(pupil, {found.id: next(iter(error.errors.values()))}, 400)
    flash(_("Your answer is saved.") if choice is not None else _("Confirmed."), "success")
    return redirect(url_for("liaison.child", pupil_id=pupil.id))
