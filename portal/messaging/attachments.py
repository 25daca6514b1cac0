"""Attachments: checked when uploaded, stored once under their SHA-256, served to participants.

A file is accepted when it is not larger than ATTACHMENT_MAX_BYTES, when its uploader's files
still fit in ATTACHMENT_QUOTA_BYTES, and when its content (not its name) is of a kind on the
allow-list below. Contents live in ATTACHMENT_DIR, outside the static folder: a file is only
ever read back through the view that checks the reader took part in the message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

import filetype
from flask import Response, abort, current_app, send_file
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from werkzeug.datastructures import FileStorage

from portal.accounts.models import User
from portal.core import clock
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.messaging.models import Attachment, InboxEntry, Message

#: The kinds of file accepted, found from the content, with the extension shown for them.
ALLOWED = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/heic": "heic",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "text/plain": "txt",
}
#: Files uploaded while composing and never sent are forgotten after this long.
PENDING_MAX_AGE = dt.timedelta(days=2)
_CHUNK = 1024 * 1024
#: The extensions a name may keep for each kind of content, besides the usual one.
_ALIASES = {"image/jpeg": {"jpeg"}, "text/plain": {"csv", "md", "text"}}
_EXTENSIONS = {kind: {usual, *_ALIASES.get(kind, ())} for kind, usual in ALLOWED.items()}
_MARKUP = re.compile(r"^\ufeff?\s*<|<\s*(script|svg|html|iframe|object)\b", re.IGNORECASE)
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


def kind_of(head: bytes) -> str | None:
    """The allowed content type of a file from its first bytes, or None if it is not allowed.
    Text is plain UTF-8 without control characters other than tabs and line ends; markup (HTML,
    SVG, XML: a browser would run what it holds) is not plain text."""
    guessed = filetype.guess(head)
    if guessed is not None:
        return guessed.mime if guessed.mime in ALLOWED else None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The first bytes may end in the middle of a character; the rest must be text.
        if exc.start < len(head) - 3:
            return None
        text = head[: exc.start].decode("utf-8")
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text):
        return None
    if _MARKUP.search(text):
        return None
    return "text/plain"


def clean_name(filename: str, content_type: str) -> str:
    """The name shown to readers: no path, no control characters, and an extension that says
    what the content is ('photo.exe' holding a PNG picture is shown as 'photo.exe.png')."""
    name = _UNSAFE_NAME.sub(" ", unicodedata.normalize("NFC", filename or "")).strip(" .")
    name = name[:150] or _("attachment")
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in _EXTENSIONS[content_type]:
        name = f"{name}.{ALLOWED[content_type]}"
    return name


def used_bytes(owner: User) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(Attachment.size), 0)).where(Attachment.owner_id == owner.id)
    )


def _one_upload_at_a_time(owner: User) -> None:
    """Past this point a second upload of the same person waits for the first to be committed,
    then counts it: two files can't both take the last room of the quota. PostgreSQL locks the
    person's row; SQLite ignores FOR UPDATE, so there a write (changing nothing) takes the
    database's write lock until the commit."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(User)
            .where(User.id == owner.id)
            .values(session_nonce=User.session_nonce)
            .execution_options(synchronize_session=False)
        )
    else:
        db.session.execute(select(User.id).where(User.id == owner.id).with_for_update())


def _folder() -> Path:
    return Path(current_app.config["ATTACHMENT_DIR"])


def path_of(attachment: Attachment) -> Path:
    return _folder() / attachment.digest[:2] / attachment.digest


def download(attachment: Attachment) -> Response:
    """The file for its reader, once the caller has checked they may read it; 404 when its
    content is gone."""
    path = path_of(attachment)
    if not path.exists():
        abort(404)
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        conditional=True,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def megabytes(size: int) -> str:
    """A size in megabytes, one decimal at most, in the reader's language ('1,5' in French)."""
    return format_decimal(size / (1024 * 1024), format="#,##0.#")


def store(owner: User, upload: FileStorage) -> Attachment:
    """Check an uploaded file and keep it, not yet joined to a message; ValidationError on the
    'file' field when it is refused (nothing is kept then)."""
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size, head = 0, b""
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", delete=False) as spool:
        try:
            while chunk := upload.stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ValidationError(
                        "file",
                        _(
                            "The file is too large (%(max)s MB at most).",
                            max=megabytes(limit),
                        ),
                    )
                if len(head) < 8192:
                    head += chunk[: 8192 - len(head)]
                digest.update(chunk)
                spool.write(chunk)
            content_type = kind_of(head) if size else None
            _accept(owner, size, content_type)
        except BaseException:
            spool.close()
            os.unlink(spool.name)
            raise
    attachment = Attachment(
        school_id=owner.school_id,
        owner_id=owner.id,
        filename=clean_name(upload.filename or "", content_type),
        content_type=content_type,
        size=size,
        digest=digest.hexdigest(),
    )
    target = path_of(attachment)
    target.parent.mkdir(exist_ok=True)
    os.replace(spool.name, target)  # the same content twice: the same file, written again
    db.session.add(attachment)
    db.session.flush()
    return attachment


def _accept(owner: User, size: int, content_type: str | None) -> None:
    """ValidationError on the 'file' field for an empty file, a kind not accepted, or one that
    would fill the owner's storage; waits for the owner's other upload to be counted first."""
    if not size:
        raise ValidationError("file", _("The file is empty."))
    if content_type is None:
        raise ValidationError(
            "file",
            _(
                "This kind of file is not accepted. Send a PDF, a picture, an office "
                "document or plain text."
            ),
        )
    _one_upload_at_a_time(owner)
    used = used_bytes(owner)
    quota = current_app.config["ATTACHMENT_QUOTA_BYTES"]
    if used + size > quota:
        raise ValidationError(
            "file",
            _(
                "Your storage is full: %(used)s MB of %(quota)s MB used. Delete drafts "
                "with attachments or send a smaller file.",
                used=megabytes(used),
                quota=megabytes(quota),
            ),
        )


def pending(
    owner: User, ids: list[int], message: Message | None = None, *, strict: bool = True
) -> list[Attachment]:
    """The attachments ``owner`` uploaded with these ids, not yet sent (or already on the draft
    ``message``); ValidationError if any is someone else's or already sent, unless not
    ``strict`` (then the ones found, to show again on a refused form)."""
    if not ids:
        return []
    found = list(
        db.session.scalars(
            select(Attachment).where(
                Attachment.id.in_(ids),
                Attachment.owner_id == owner.id,
                Attachment.attached_at.is_(None)
                if message is None or message.id is None
                else (Attachment.attached_at.is_(None) | (Attachment.message_id == message.id)),
            )
        )
    )
    if strict and len(found) != len(set(ids)):
        raise ValidationError("file", _("An attachment could not be found. Add it again."))
    return found


def join(message: Message, attachments: list[Attachment]) -> None:
    """Make ``attachments`` the message's files; the files dropped from a draft are deleted."""
    kept = {a.id for a in attachments}
    for attachment in list(message.attachments):
        if attachment.id not in kept:
            message.attachments.remove(attachment)  # deleted with it (delete-orphan)
    for attachment in attachments:
        attachment.message = message
        attachment.attached_at = attachment.attached_at or clock.now()


def keep(attachments: list[Attachment]) -> None:
    """Files that belong to something other than a message (which holds them by their id):
    no longer pending, never forgotten by purge()."""
    for attachment in attachments:
        attachment.attached_at = clock.now()


def readable_by(user: User, message: Message, attachment: Attachment) -> bool:
    """Participants read a message's files, except recipients who got it while inactive."""
    if attachment.message_id != message.id:
        return False
    if message.sender_id == user.id:
        return True
    entry = db.session.scalar(
        select(InboxEntry).where(
            InboxEntry.message_id == message.id, InboxEntry.recipient_id == user.id
        )
    )
    return entry is not None and not entry.attachments_withheld


def withheld_from(message: Message, limit: int = 50) -> tuple[list[str], int]:
    """The recipients who got ``message`` without its files (named, up to ``limit``), and
    how many they are."""
    where = (InboxEntry.message_id == message.id, InboxEntry.attachments_withheld.is_(True))
    count = db.session.scalar(select(func.count()).select_from(InboxEntry).where(*where))
    people = db.session.scalars(
        select(User)
        .join(InboxEntry, InboxEntry.recipient_id == User.id)
        .where(*where)
        .order_by(User.last_name, User.first_name)
        .limit(limit)
    )
    return [person.display_name for person in people], count


def purge() -> int:
    """Forget files uploaded and never sent, then remove contents no attachment names."""
    forgotten = db.session.execute(
        delete(Attachment).where(
            Attachment.attached_at.is_(None),
            Attachment.created_at < clock.now() - PENDING_MAX_AGE,
        )
    ).rowcount
    db.session.commit()
    folder = _folder()
    if not folder.exists():
        return forgotten
    known = set(db.session.scalars(select(Attachment.digest).distinct()))
    # Uploads being written, or committed in the last hour, are left alone.
    for path in [*folder.glob("*/*"), *folder.glob(".upload-*")]:
        with contextlib.suppress(FileNotFoundError):  # moved or removed while we look
            too_young = clock.now().timestamp() - path.stat().st_mtime < 3600
            if path.name not in known and not too_young:
                path.unlink()
    return forgotten
