"""Messaging pages: folders, compose with the recipient picker, reading a conversation, replies,
trash, and the unread counter of the navigation (HTMX)."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.accounts.models import SCHOOL_PROFILES, User
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.permissions import get_or_404, visible_or_404
from portal.core.sessions import passive
from portal.extensions import db
from portal.messaging import attachments, conversations, export, services
from portal.messaging.forms import ExportForm
from portal.messaging.models import Message, MessageState
from portal.messaging.permissions import can_export_conversations, can_read_message

#: The people of a school; the webmaster belongs to none and has no messages.
bp = profile_blueprint("messages", __name__, "/messages", *SCHOOL_PROFILES)


def message_or_404(message_id: int) -> Message:
    """A message the current user sent or received; anyone else's is not found."""
    message = db.session.get(Message, message_id)
    visible_or_404(message is not None and can_read_message(current_user, message))
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
@passive
def counter():
    return render_template("messaging/_counter.html")


# --- reading -----------------------------------------------------------------------------------


@bp.get("/<int:message_id>")
def read(message_id: int):
    message = db.session.get(Message, message_id)
    if message is not None:
        conversations.lock_for_reading(message)
    if message is not None and conversations.was_recalled_from(current_user, message):
        return render_template("messaging/recalled.html", message=message), 410
    message = message_or_404(message_id)
    if message.state == MessageState.DRAFT:
        return redirect(url_for("messages.compose", draft=message.id))
    thread = conversations.thread_of(message, current_user, lock=True)
    if message not in thread:  # the sender's own scheduled or recalled message
        thread.append(message)
    conversations.mark_read(current_user, *thread)
    ids = [item.id for item in thread]
    conversations.load_thread(ids)
    entries = conversations.entries_of(current_user, thread)
    entry = entries.get(message.id)
    withheld, withheld_count = ([], 0)
    if message.sender_id == current_user.id and message.attachments:
        withheld, withheld_count = attachments.withheld_from(message)
    return render_template(
        "messaging/read.html",
        message=message,
        thread=thread,
        seen={m.id: conversations.addressees_seen_by(m, current_user, entries) for m in thread},
        entry=entry,
        may_reply_all=not (entry and entry.hidden),
        muted=services.is_muted(current_user, message),
        may_recall=message.sender_id == current_user.id and services.may_recall(message),
        withheld=withheld,
        withheld_count=withheld_count,
    )


def _act(message_id: int, action, done: str):
    """Run a sender's or reader's action on a message; its refusal is shown on the message."""
    message = message_or_404(message_id)
    try:
        action(current_user, message)
    except ValidationError as error:
        db.session.rollback()
        flash(next(iter(error.errors.values())), "error")
    else:
        flash(done, "success")
    return message


@bp.post("/<int:message_id>/recall")
def recall(message_id: int):
    _act(message_id, services.recall, _("Message recalled: its recipients no longer see it."))
    return redirect(url_for("messages.read", message_id=message_id))


@bp.post("/<int:message_id>/unschedule")
def unschedule(message_id: int):
    message = _act(
        message_id, services.unschedule, _("Sending called off: the message is in your drafts.")
    )
    if message.state == MessageState.DRAFT:
        return redirect(url_for("messages.compose", draft=message.id))
    return redirect(url_for("messages.read", message_id=message_id))


@bp.post("/<int:message_id>/mute")
def mute(message_id: int):
    muted = request.form.get("muted") == "1"
    _act(
        message_id,
        lambda user, message: services.set_muted(user, message, muted),
        _("Conversation muted: you will not be notified of its new messages.")
        if muted
        else _("Conversation no longer muted."),
    )
    return redirect(url_for("messages.read", message_id=message_id))


@bp.post("/<int:message_id>/trash")
def trash(message_id: int):
    message = _act(message_id, conversations.trash, _("Message moved to the trash."))
    if message.state == MessageState.SCHEDULED:
        return redirect(url_for("messages.read", message_id=message_id))
    return redirect(url_for("messages.folder", name="inbox"))


@bp.post("/<int:message_id>/restore")
def restore(message_id: int):
    message = message_or_404(message_id)
    conversations.restore(current_user, message)
    flash(_("Message restored."), "success")
    return redirect(url_for("messages.folder", name="trash"))


@bp.post("/trash/empty")
def empty_trash():
    emptied = conversations.empty_trash(current_user)
    flash(
        ngettext("Trash emptied (%(num)d message).", "Trash emptied (%(num)d messages).", emptied),
        "success",
    )
    return redirect(url_for("messages.folder", name="trash"))


# --- the direction's justified export ----------------------------------------------------------


def _exported_person(user_id: int) -> User:
    """Someone of the admin's school; only the direction exports conversations."""
    visible_or_404(can_export_conversations(current_user))
    return get_or_404(User, user_id)


@bp.route("/export/<int:user_id>", methods=["GET", "POST"])
def export_list(user_id: int):
    """The reason first; then the person's conversations (the listing is audited)."""
    person = _exported_person(user_id)
    form = ExportForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("messaging/export_form.html", form=form, person=person), status
    found = export.conversations_of(current_user, person, form.justification.data.strip())
    return render_template(
        "messaging/export_list.html", form=form, person=person, conversations=found
    )


@bp.post("/export/<int:user_id>/<int:thread_id>")
def export_conversation(user_id: int, thread_id: int):
    """One conversation of the person, as a document to keep (the export is audited)."""
    person = _exported_person(user_id)
    form = ExportForm()
    if not form.validate_on_submit():
        return render_template("messaging/export_form.html", form=form, person=person), 400
    messages = export.thread_messages(person, thread_id)
    visible_or_404(bool(messages) and messages[0].school_id == current_user.school_id)
    document = export.export(current_user, person, messages, form.justification.data.strip())
    response = make_response(document)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="conversation-{thread_id}.html"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
