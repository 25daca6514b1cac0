"""Writing a message: the compose page, sending, drafts, the recipient chips and attachments.
Its routes are on the messages blueprint (portal.messaging.views)."""

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
from werkzeug.exceptions import NotFound

from portal.core import bodies
from portal.core.errors import ValidationError
from portal.core.i18n import local_datetime
from portal.core.permissions import visible_or_404
from portal.core.web import is_htmx
from portal.extensions import db
from portal.groups import saved
from portal.messaging import attachments, conversations, delivery, services
from portal.messaging.forms import ComposeForm
from portal.messaging.models import FIELDS, Attachment, Field, Message, MessageState
from portal.messaging.services import Addressee

#: The people of a school; the webmaster belongs to none and has no messages.
from portal.messaging.views import bp, message_or_404


def _tokens(form_data) -> dict[str, list[str]]:
    """The picker tokens of a submitted form, by field: {'to': [...], 'cc': [...], ...}."""
    return {field.value: form_data.getlist(field.value) for field in FIELDS}


def _recipients(form_data) -> tuple[dict[str, list[str]], list[str]]:
    """The picker tokens of a submitted form, each saved list replaced by its members the user
    may write to now, and the names of the members left out (services.expand_saved)."""
    return services.expand_saved(current_user, _tokens(form_data))


def _picked(tokens: dict[str, list[str]], reply_to: Message | None) -> dict[Field, list]:
    """The recipients of a submitted form, as chips to show again when it is refused; those the
    user may not write to, or that are nobody, without a name (services.Withheld)."""
    resolved = services.resolve(tokens)
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


def _refused(form, draft, reply_to, error: ValidationError | None = None, tokens=None):
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
        _picked(tokens or _recipients(request.form)[0], reply_to),
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
    answered = message_or_404(int(form.reply_to.data))
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
        reply_to = message_or_404(answered)
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
    tokens, left_out = _recipients(request.form)
    if not form.validate_on_submit():
        return _refused(form, draft, reply_to, tokens=tokens)
    try:
        message = services.send(
            current_user,
            **tokens,
            subject=form.subject.data or "",
            body=bodies.from_text(form.body.data or ""),
            reply_to=reply_to,
            no_reply=form.no_reply.data,
            draft=draft,
            files=files,
            send_at=form.send_at_utc(),
        )
    except ValidationError as error:
        return _refused(form, draft, reply_to, error, tokens)
    if left_out:
        flash(
            _(
                "Left out of your saved list, because the communication rules no longer let you "
                "write to them: %(names)s.",
                names=", ".join(left_out),
            ),
            "warning",
        )
    warn_inactive = bool(message.attachments) and delivery.inactive_recipients(message)
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
            **_recipients(request.form)[0],
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
    if is_htmx():
        return render_template("messaging/_draft_saved.html", draft=draft)
    flash(_("Draft saved."), "success")
    return redirect(url_for("messages.folder", name="drafts"))


@bp.post("/<int:message_id>/discard")
def discard(message_id: int):
    draft = services.draft_of(current_user, message_id)
    visible_or_404(draft is not None)
    services.discard(draft)
    flash(_("Draft deleted."), "success")
    return redirect(url_for("messages.folder", name="drafts"))


@bp.get("/chip")
def chip():
    """One picked recipient, put in a field by the picker (HTMX); only someone or a group the
    rules let the current user write to."""
    field = request.args.get("field", "")
    if field not in {f.value for f in FIELDS}:
        abort(400)
    token = request.args.get("token", "")
    if token.startswith("saved:"):
        found = saved.owned(current_user, token)
        visible_or_404(found is not None)
        chip = services.SavedChip(Field(field), found)
        return render_template("messaging/_chip.html", addressee=chip)
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
    return render_template("messaging/_file.html", attachment=attachment)


@bp.get("/<int:message_id>/files/<int:attachment_id>")
def attachment(message_id: int, attachment_id: int):
    """A file of a message, to its sender and to recipients who were active when it came."""
    message = message_or_404(message_id)
    found = db.session.get(Attachment, attachment_id)
    visible_or_404(found is not None and attachments.readable_by(current_user, message, found))
    return attachments.download(found)
