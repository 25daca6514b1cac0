"""The carnet de liaison's pages: the notes an author follows and writes, a note's table of who
confirmed or answered (refreshed while it is open) with its reminder and its list for the
class's folder, each child's page of the carnet where a guardian confirms or answers in one
tap without JavaScript, and the justifications of absences families send and the staff
answer."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.utils import secure_filename

from portal.accounts import guardianship
from portal.accounts.models import Profile, User
from portal.attendance import reasons
from portal.attendance.models import AttendanceMark
from portal.core import bodies, spreadsheet
from portal.core.blueprints import profile_blueprint
from portal.core.db import among
from portal.core.errors import ValidationError
from portal.core.permissions import get_or_404, require, visible_or_404
from portal.core.web import form_page, is_htmx
from portal.extensions import db
from portal.groups.models import GroupMember
from portal.liaison import justifications, notes
from portal.liaison.forms import DecideForm, DocumentForm, JustifyForm, NoteForm, ReplyForm
from portal.liaison.models import Asks, Justification, LiaisonNote
from portal.liaison.permissions import (
    can_follow_note,
    can_read_carnet,
    can_read_justification,
    can_read_note,
    can_reply_for,
    can_review_justifications,
    can_write_notes,
)
from portal.liaison.printing import list_pdf
from portal.messaging import attachments
from portal.sms import inbound

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


def _form_page(form: NoteForm, groups, error: ValidationError | None = None):
    chosen = db.session.scalars(
        select(User).where(among(User.id, form.pupils.data or [])).order_by(User.last_name)
    ).all()
    return form_page("liaison/new.html", form, error, groups=groups, chosen=chosen)


@bp.route("/new", methods=["GET", "POST"])
def new():
    require(can_write_notes(current_user))
    form = NoteForm()
    groups = notes.addressable_groups(current_user)
    form.offer(groups)
    if not form.validate_on_submit():
        return _form_page(form, groups)
    try:
        files = [attachments.store(current_user, upload) for upload in _uploads(form.files)]
        note = notes.write(
            current_user,
            title=form.title.data or "",
            body=bodies.from_text(form.body.data or ""),
            asks=Asks(form.asks.data),
            choices=form.choice_lines(),
            answer_until=form.answer_until_utc(),
            group_ids=form.groups.data or [],
            pupil_ids=form.pupils.data or [],
            pupils_see=form.pupils_see.data,
            files=files,
        )
    except ValidationError as error:
        if "file" in error.errors:
            error.errors["files"] = error.errors.pop("file")
        return _form_page(form, groups, error)
    flash(_("The note is sent to the families."), "success")
    return redirect(url_for("liaison.note", note_id=note.id))


def _uploads(field) -> list:
    return [upload for upload in field.data or [] if upload and upload.filename]


@bp.get("/groups/<int:group_id>/pupils")
def group_pupils(group_id: int):
    """The pupils of one group the author may address, to pick some (HTMX, when its list is
    opened)."""
    require(can_write_notes(current_user))
    visible_or_404(group_id in {group.id for group in notes.addressable_groups(current_user)})
    pupils = db.session.scalars(
        select(User)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group_id, User.profile == Profile.PUPIL)
        .order_by(User.last_name, User.first_name)
    ).all()
    return render_template("liaison/_pupils.html", pupils=pupils, group_id=group_id)


@bp.get("/<int:note_id>")
def note(note_id: int):
    """Who confirmed or answered, pupil by pupil; the table alone for HTMX's refresh."""
    found = _followed(note_id)
    rows = notes.status(found, current_user.school)
    template = "liaison/_status.html" if is_htmx() else "liaison/note.html"
    return render_template(template, note=found, rows=rows, refused=None)


def _followed(note_id: int) -> LiaisonNote:
    found = get_or_404(LiaisonNote, note_id)
    visible_or_404(can_follow_note(current_user, found))
    return found


@bp.post("/<int:note_id>/remind")
def remind(note_id: int):
    """Remind the families still waited for, once a day."""
    found = _followed(note_id)
    try:
        told = notes.remind(current_user, found)
    except ValidationError as error:
        db.session.rollback()
        rows = notes.status(found, current_user.school)
        refused = next(iter(error.errors.values()))
        return render_template("liaison/note.html", note=found, rows=rows, refused=refused), 400
    flash(
        ngettext("%(num)d guardian is reminded.", "%(num)d guardians are reminded.", told),
        "success",
    )
    return redirect(url_for("liaison.note", note_id=found.id))


@bp.get("/<int:note_id>/list.<any(csv, pdf):kind>")
def note_list(note_id: int, kind: str):
    """Who replied, for the class's folder: a spreadsheet or a page to print."""
    found = _followed(note_id)
    header, rows = notes.table(found, current_user.school)
    name = f"{secure_filename(found.title) or 'note'}.{kind}"
    if kind == "csv":
        return Response(
            spreadsheet.lines([header, *rows]),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response(
        list_pdf(found, header, rows),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/<int:note_id>/files/<int:attachment_id>")
def note_file(note_id: int, attachment_id: int):
    """A file of a note, for those who read the note."""
    found = get_or_404(LiaisonNote, note_id)
    visible_or_404(can_read_note(current_user, found))
    attachment = next((f for f in found.files if f.id == attachment_id), None)
    visible_or_404(attachment is not None)
    return attachments.download(attachment)


def _family_note(note_id: int, pupil_id: int) -> tuple[LiaisonNote, User]:
    """A note for this pupil, for one of their guardians; anything else is not found."""
    pupil = _child(pupil_id)
    found = db.session.get(LiaisonNote, note_id)  # a child may be in another school
    visible_or_404(found is not None and notes.is_for(found, pupil))
    return found, pupil


def _carnet_page(pupil: User, refused: dict[int, str] | None = None, status: int = 200, **more):
    """A child's page of the carnet; ``refused`` says, by note, why a reply was not taken."""
    replying = can_reply_for(current_user, pupil)
    return render_template(
        "liaison/carnet.html",
        pupil=pupil,
        entries=notes.carnet(current_user, pupil),
        form=ReplyForm(formdata=None),
        replying=replying,
        refused=refused or {},
        justified=justifications.of_pupil(pupil) if replying else [],
        document_form=more.pop("document_form", None) or DocumentForm(formdata=None),
        document_for=more.pop("document_for", None),
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


# --- families justify absences ----------------------------------------------------------------


def _child(pupil_id: int) -> User:
    pupil = db.session.get(User, pupil_id)
    visible_or_404(pupil is not None and can_reply_for(current_user, pupil))
    return pupil


def _justify_page(form: JustifyForm, pupil: User, mark, error: ValidationError | None = None):
    if error is not None and "file" in error.errors:
        error.errors["document"] = error.errors.pop("file")
    return form_page("liaison/justify.html", form, error, pupil=pupil, mark=mark)


@bp.route("/children/<int:pupil_id>/justify", methods=["GET", "POST"])
def justify(pupil_id: int):
    """A reason, a comment and a document for an absence or a lateness (``?mark=``), or for an
    absence known ahead (the days it will last)."""
    pupil = _child(pupil_id)
    mark = None
    if (mark_id := request.args.get("mark", type=int)) is not None:
        mark = db.session.get(AttendanceMark, mark_id)
        visible_or_404(mark is not None and mark.person_id == pupil.id)
        if justifications.open_for(mark) is not None or mark.justified:
            return render_template("liaison/justify.html", pupil=pupil, mark=mark, done=True)
    form = JustifyForm()
    form.offer(reasons.reasons_of(pupil.school_id, families=True))
    if not form.validate_on_submit():
        return _justify_page(form, pupil, mark)
    try:
        justifications.submit(
            current_user,
            pupil,
            reason_id=form.reason.data,
            comment=form.comment.data or "",
            mark=mark,
            first_day=form.first_day.data,
            last_day=form.last_day.data,
            document=form.document.data,
        )
    except ValidationError as error:
        return _justify_page(form, pupil, mark, error)
    flash(_("Sent to the school. You will be told its answer."), "success")
    return redirect(url_for("liaison.child", pupil_id=pupil.id) + "#justifications")


def _justification(justification_id: int) -> Justification:
    """A justification of the reader's child, or of the school they review."""
    found = get_or_404(Justification, justification_id)
    visible_or_404(can_read_justification(current_user, found))
    return found


@bp.post("/justifications/<int:justification_id>/document")
def add_document(justification_id: int):
    """The document the staff asked for."""
    found = _justification(justification_id)
    form = DocumentForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        justifications.add_document(current_user, found, form.document.data)
    except LookupError:
        abort(404)
    except ValidationError as error:
        db.session.rollback()
        form.document.errors = [error.errors["file"]]
        return _carnet_page(found.pupil, status=400, document_form=form, document_for=found.id)
    flash(_("Sent to the school. You will be told its answer."), "success")
    return redirect(url_for("liaison.child", pupil_id=found.pupil_id) + "#justifications")


@bp.get("/justifications/<int:justification_id>/file")
def justification_file(justification_id: int):
    found = _justification(justification_id)
    visible_or_404(found.attachment is not None)
    return attachments.download(found.attachment)


@bp.get("/justifications")
def justifications_list():
    """What families sent, for the direction and the staff; replies to absence SMS too."""
    require(can_review_justifications(current_user))
    school_id = current_user.school_id
    return render_template(
        "liaison/justifications.html",
        waiting=justifications.waiting(school_id),
        answered=justifications.answered(school_id),
        replies=inbound.recent_replies(school_id),
    )


@bp.route("/justifications/<int:justification_id>", methods=["GET", "POST"])
def justification(justification_id: int):
    require(can_review_justifications(current_user))
    found = _justification(justification_id)
    form = DecideForm()
    if not form.validate_on_submit():
        return form_page("liaison/justification.html", form, found=found)
    try:
        justifications.decide(current_user, found, form.outcome.data, form.answer.data or "")
    except ValidationError as error:
        return form_page("liaison/justification.html", form, error, found=found)
    flash(_("The family is told."), "success")
    return redirect(url_for("liaison.justifications_list"))
