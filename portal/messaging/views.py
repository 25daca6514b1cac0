"""Messaging pages: folders, compose with the recipient picker, reading a conversation, replies,
trash, and the unread counter of the navigation (HTMX)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.accounts.models import SCHOOL_PROFILES
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.permissions import visible_or_404
from portal.extensions import db
from portal.messaging import bodies, conversations, services
from portal.messaging.forms import ComposeForm
from portal.messaging.models import FIELDS, Field, Message
from portal.messaging.services import Addressee

#: The people of a school; the webmaster belongs to none and has no messages.
bp = profile_blueprint("messages", __name__, "/messages", *SCHOOL_PROFILES)


def _message_or_404(message_id: int) -> Message:
    """A message the current user sent or received; anyone else's is not found."""
    message = db.session.get(Message, message_id)
    visible_or_404(message is not None and conversations.may_read(current_user, message))
    return message


@bp.get("/")
def index():
    return redirect(url_for("messages.folder", name="inbox"))


@bp.get("/folder/<name>")
def folder(name: str):
    if name not in conversations.FOLDERS:
        abort(404)
    words = (request.args.get("q") or "")[:100]
    page = request.args.get("page", 1, type=int)
    return render_template(
        "messaging/folder.html",
        name=name,
        words=words,
        result=conversations.folder(current_user, name, words=words, page=page),
    )


@bp.get("/counter")
def counter():
    return render_template("messaging/_counter.html")


# --- compose -----------------------------------------------------------------------------------


def _picked(form_data) -> dict[Field, list[Addressee]]:
    """The recipients of a submitted form, as chips to show again when it is refused."""
    tokens = {field: form_data.getlist(field.value) for field in FIELDS}
    addressed, _errors = services.resolve(tokens)
    picked: dict[Field, list[Addressee]] = {field: [] for field in FIELDS}
    for addressee in addressed:
        picked[addressee.field].append(addressee)
    return picked


def _compose_page(form, picked, *, reply_to=None, left_out=(), errors=None, status=200):
    return (
        render_template(
            "messaging/compose.html",
            form=form,
            picked=picked,
            fields=FIELDS,
            reply_to=reply_to,
            left_out=left_out,
            recipient_errors=errors or {},
        ),
        status,
    )


@bp.get("/new")
def compose():
    form = ComposeForm()
    picked = {field: [] for field in FIELDS}
    reply_to, left_out = None, []
    answered = request.args.get("reply", type=int)
    if answered is not None:
        reply_to = _message_or_404(answered)
        try:
            draft = conversations.reply_draft(
                reply_to, current_user, everyone=request.args.get("all") == "1"
            )
        except ValidationError as error:
            flash(next(iter(error.errors.values())), "error")
            return redirect(url_for("messages.read", message_id=reply_to.id))
        picked[Field.TO], picked[Field.CC] = draft.to, draft.cc
        form.subject.data, left_out = draft.subject, draft.left_out
        form.reply_to.data = str(reply_to.id)
    return _compose_page(form, picked, reply_to=reply_to, left_out=left_out)


@bp.post("/new")
def send():
    form = ComposeForm()
    reply_to = None
    if form.reply_to.data:
        if not form.reply_to.data.isdigit():
            abort(400)
        reply_to = _message_or_404(int(form.reply_to.data))
    picked = _picked(request.form)
    if not form.validate_on_submit():
        return _compose_page(form, picked, reply_to=reply_to, status=400)
    try:
        message = services.send(
            current_user,
            to=request.form.getlist("to"),
            cc=request.form.getlist("cc"),
            bcc=request.form.getlist("bcc"),
            subject=form.subject.data or "",
            body=bodies.from_text(form.body.data or ""),
            reply_to=reply_to,
            no_reply=form.no_reply.data,
        )
    except ValidationError as error:
        db.session.rollback()
        by_field = {f.value: error.errors.pop(f.value) for f in FIELDS if f.value in error.errors}
        error.apply_to(form)
        return _compose_page(form, picked, reply_to=reply_to, errors=by_field, status=400)
    db.session.commit()
    flash(_("Message sent."), "success")
    return redirect(url_for("messages.read", message_id=message.id))


@bp.get("/chip")
def chip():
    """One picked recipient, put in a field by the picker (HTMX)."""
    field = request.args.get("field", "")
    if field not in {f.value for f in FIELDS}:
        abort(400)
    addressed, errors = services.resolve({Field(field): [request.args.get("token", "")]})
    if errors or not addressed:
        abort(400)
    return render_template("messaging/_chip.html", addressee=addressed[0])


# --- reading -----------------------------------------------------------------------------------


@bp.get("/<int:message_id>")
def read(message_id: int):
    message = _message_or_404(message_id)
    thread = conversations.thread_of(message, current_user)
    for item in thread:
        conversations.mark_read(current_user, item)
    db.session.commit()
    entry = conversations.entry_of(current_user, message)
    return render_template(
        "messaging/read.html",
        message=message,
        thread=thread,
        seen={m.id: conversations.addressees_seen_by(m, current_user) for m in thread},
        entry=entry,
        may_reply_all=not (entry and entry.hidden),
    )


@bp.post("/<int:message_id>/trash")
def trash(message_id: int):
    message = _message_or_404(message_id)
    conversations.trash(current_user, message)
    db.session.commit()
    flash(_("Message moved to the trash."), "success")
    return redirect(url_for("messages.folder", name="inbox"))


@bp.post("/<int:message_id>/restore")
def restore(message_id: int):
    message = _message_or_404(message_id)
    conversations.restore(current_user, message)
    db.session.commit()
    flash(_("Message restored."), "success")
    return redirect(url_for("messages.folder", name="trash"))


@bp.post("/trash/empty")
def empty_trash():
    emptied = conversations.empty_trash(current_user)
    db.session.commit()
    flash(
        ngettext("Trash emptied (%(num)d message).", "Trash emptied (%(num)d messages).", emptied),
        "success",
    )
    return redirect(url_for("messages.folder", name="trash"))
