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
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import NotFound

from portal.accounts.models import SCHOOL_PROFILES, Profile, User
from portal.core import bodies
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.i18n import local_datetime
from portal.core.permissions import get_or_404, visible_or_404
from portal.core.sessions import passive
from portal.core.web import is_htmx
from portal.extensions import db
from portal.messaging import attachments, conversations, delivery, export, services
from portal.messaging.forms import ComposeForm, ExportForm
from portal.messaging.models import FIELDS, Attachment, Field, Message, MessageState
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
@passive
def counter():
    return render_template("messaging/_counter.html")


# --- compose -----------------------------------------------------------------------------------


def _tokens(form_data) -> dict[str, list[str]]:
    """The picker tokens of a submitted form, by field: {'to': [...], 'cc': [...], ...}."""
    return {field.value: form_data.getlist(field.value) for field in FIELDS}


def _picked(form_data, reply_to: Message | None) -> dict[Field, list]:
    """The recipients of a submitted form, as chips to show again when it is refused; those the
    user may not write to, or that are nobody, without a name (services.Withheld)."""
    resolved = services.resolve(_tokens(form_data))
    withheld = services.withheld(current_user, resolved, reply_to)
    hidden = {recipient.token for recipient in withheld}
    shown = [a for a in resolved.addressed if a.token not in hidden]
    return _by_field([*shown, *withheld])


def _by_field(addressed: list) -> dict[Field, list]:
    picked: dict[Field, list[Addressee]] = {field: [] for field in FIELDS}
    for addressee in addressed:
        picked[addressee.field].append(addressee)
    return picked


def _files(form_data) -> list[int]:
    """The ids of the attachments a submitted form carries (a garbled one is a 400)."""
    values = form_data.getlist("file")
    if not all(value.isdigit() and len(value) < 12 for value in values):
        abort(400)
    return [int(value) for value in values]


def _uploaded(form_data, draft: Message | None) -> list[Attachment]:
    """The attachments of a submitted form, to show again when it is refused."""
    return attachments.pending(current_user, _files(form_data), draft, strict=False)


def _compose_page(form, picked, *, files=(), reply_to=None, left_out=(), errors=None, status=200):
    return (
        render_template(
            "messaging/compose.html",
            form=form,
            picked=picked,
            files=files,
            fields=FIELDS,
            reply_to=reply_to,
            left_out=left_out,
            recipient_errors=errors or {},
        ),
        status,
    )


def _refused(form, draft, reply_to, error: ValidationError | None = None):
    """The compose form given back as it was sent, each reason next to its field: recipients
    and files by their fieldsets, the rest by the form's own fields. Nothing is kept."""
    by_field = {}
    if error is not None:
        db.session.rollback()
        for name in [*(f.value for f in FIELDS), "file"]:
            by_field[name] = error.errors.pop(name, None)
        error.apply_to(form)
    return _compose_page(
        form,
        _picked(request.form, reply_to),
        files=_uploaded(request.form, draft),
        reply_to=reply_to,
        errors=by_field,
        status=400,
    )


def _answered(form: ComposeForm) -> Message | None:
    """The message a submitted form answers: a garbled id is a 400, an unreadable one a 404."""
    if not form.reply_to.data:
        return None
    if not form.reply_to.data.isdigit():
        abort(400)
    answered = _message_or_404(int(form.reply_to.data))
    visible_or_404(answered.state == MessageState.SENT)
    return answered


def _draft(form: ComposeForm) -> Message | None:
    """The current user's draft a submitted form continues, if any."""
    if not form.draft.data:
        return None
    if not form.draft.data.isdigit():
        abort(400)
    draft = services.draft_of(current_user, int(form.draft.data), lock=True)
    visible_or_404(draft is not None)
    return draft


@bp.get("/new")
def compose():
    form = ComposeForm()
    picked = {field: [] for field in FIELDS}
    reply_to, left_out, files = None, [], []
    draft_id = request.args.get("draft", type=int)
    answered = request.args.get("reply", type=int)
    if draft_id is not None:
        draft = services.draft_of(current_user, draft_id)
        visible_or_404(draft is not None)
        picked = _by_field([Addressee.of(address) for address in draft.addresses])
        form.subject.data, form.body.data = draft.subject, draft.body_text
        form.no_reply.data, form.draft.data = draft.no_reply, str(draft.id)
        files = draft.attachments
        if draft.parent_id is not None:
            reply_to = db.session.get(Message, draft.parent_id)
            form.reply_to.data = str(draft.parent_id)
    elif answered is not None:
        reply_to = _message_or_404(answered)
        try:
            replying = conversations.reply_draft(
                reply_to, current_user, everyone=request.args.get("all") == "1"
            )
        except ValidationError as error:
            flash(next(iter(error.errors.values())), "error")
            return redirect(url_for("messages.read", message_id=reply_to.id))
        picked[Field.TO], picked[Field.CC] = replying.to, replying.cc
        form.subject.data, left_out = replying.subject, replying.left_out
        form.reply_to.data = str(reply_to.id)
    return _compose_page(form, picked, files=files, reply_to=reply_to, left_out=left_out)


@bp.post("/new")
def send():
    form = ComposeForm()
    reply_to, draft = _answered(form), _draft(form)
    files = _files(request.form)
    if not form.validate_on_submit():
        return _refused(form, draft, reply_to)
    try:
        message = services.send(
            current_user,
            **_tokens(request.form),
            subject=form.subject.data or "",
            body=bodies.from_text(form.body.data or ""),
            reply_to=reply_to,
            no_reply=form.no_reply.data,
            draft=draft,
            files=files,
            send_at=form.send_at_utc(),
        )
    except ValidationError as error:
        return _refused(form, draft, reply_to, error)
    warn_inactive = bool(message.attachments) and delivery.inactive_recipients(message)
    db.session.commit()
    if message.state == MessageState.SCHEDULED:
        flash(
            _("Message scheduled for %(when)s.", when=local_datetime(message.scheduled_for)),
            "success",
        )
    else:
        flash(_("Message sent."), "success")
    if warn_inactive:
        flash(
            ngettext(
                "%(num)d recipient has not activated their account yet: they will receive the "
                "message without its attachments.",
                "%(num)d recipients have not activated their account yet: they will receive "
                "the message without its attachments.",
                warn_inactive,
            ),
            "warning",
        )
    return redirect(url_for("messages.read", message_id=message.id))


@bp.post("/draft")
def save_draft():
    """Keep what is being written: every few seconds through HTMX, or with the 'Save the draft'
    button. Answers the HTMX request with the draft's id and the time it was saved."""
    form = ComposeForm()  # its CSRF token is checked by CSRFProtect before the view
    try:
        draft = _draft(form)
    except NotFound:
        if not is_htmx():
            raise
        gone = _("This draft has been sent or deleted meanwhile.")
        return render_template("messaging/_draft_saved.html", error=gone), 409
    try:
        draft = services.save_draft(
            current_user,
            **_tokens(request.form),
            subject=form.subject.data or "",
            text=form.body.data or "",
            reply_to=_answered(form),
            no_reply=form.no_reply.data,
            draft=draft,
            files=_files(request.form),
        )
    except ValidationError as error:
        if is_htmx():
            db.session.rollback()
            message = next(iter(error.errors.values()))
            return render_template("messaging/_draft_saved.html", error=message), 422
        return _refused(form, draft, _answered(form), error)
    db.session.commit()
    if is_htmx():
        return render_template("messaging/_draft_saved.html", draft=draft)
    flash(_("Draft saved."), "success")
    return redirect(url_for("messages.folder", name="drafts"))


@bp.post("/<int:message_id>/discard")
def discard(message_id: int):
    draft = services.draft_of(current_user, message_id)
    visible_or_404(draft is not None)
    services.discard(draft)
    db.session.commit()
    flash(_("Draft deleted."), "success")
    return redirect(url_for("messages.folder", name="drafts"))


@bp.get("/chip")
def chip():
    """One picked recipient, put in a field by the picker (HTMX); only someone or a group the
    rules let the current user write to."""
    field = request.args.get("field", "")
    if field not in {f.value for f in FIELDS}:
        abort(400)
    resolved = services.resolve({Field(field): [request.args.get("token", "")]})
    if resolved.unreadable or not (resolved.addressed or resolved.unknown):
        abort(400)
    visible_or_404(not services.withheld(current_user, resolved))
    return render_template("messaging/_chip.html", addressee=resolved.addressed[0])


@bp.post("/attachments")
def upload():
    """Keep one uploaded file for the message being written (HTMX): its chip, or the reason it
    is refused next to the attachment field."""
    upload = request.files.get("upload")
    if upload is None:
        abort(400)
    try:
        attachment = attachments.store(current_user, upload)
    except ValidationError as error:
        db.session.rollback()
        response = make_response(
            render_template("messaging/_file_error.html", message=error.errors["file"]), 422
        )
        response.headers.update({"HX-Retarget": "#file-error", "HX-Reswap": "innerHTML"})
        return response
    db.session.commit()
    return render_template("messaging/_file.html", attachment=attachment)


@bp.get("/<int:message_id>/files/<int:attachment_id>")
def attachment(message_id: int, attachment_id: int):
    """A file of a message, to its sender and to recipients who were active when it came."""
    message = _message_or_404(message_id)
    found = db.session.get(Attachment, attachment_id)
    visible_or_404(found is not None and attachments.readable_by(current_user, message, found))
    path = attachments.path_of(found)
    visible_or_404(path.exists())
    response = send_file(
        path,
        mimetype=found.content_type,
        as_attachment=True,
        download_name=found.filename,
        conditional=True,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- reading -----------------------------------------------------------------------------------


@bp.get("/<int:message_id>")
def read(message_id: int):
    message = db.session.get(Message, message_id)
    if message is not None:
        conversations.lock_for_reading(message)
    if message is not None and conversations.was_recalled_from(current_user, message):
        return render_template("messaging/recalled.html", message=message), 410
    message = _message_or_404(message_id)
    if message.state == MessageState.DRAFT:
        return redirect(url_for("messages.compose", draft=message.id))
    thread = conversations.thread_of(message, current_user, lock=True)
    if message not in thread:  # the sender's own scheduled or recalled message
        thread.append(message)
    conversations.mark_read(current_user, *thread)
    ids = [item.id for item in thread]
    db.session.commit()
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
    message = _message_or_404(message_id)
    try:
        action(current_user, message)
    except ValidationError as error:
        db.session.rollback()
        flash(next(iter(error.errors.values())), "error")
    else:
        db.session.commit()
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


# --- the direction's justified export ----------------------------------------------------------


def _exported_person(user_id: int) -> User:
    """Someone of the admin's school; only the direction exports conversations."""
    visible_or_404(current_user.profile == Profile.ADMIN)
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
    db.session.commit()
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
    db.session.commit()
    response = make_response(document)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="conversation-{thread_id}.html"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
