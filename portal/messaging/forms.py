"""The compose form. Recipients are not WTForms fields: each picked one is a hidden input named
after its field ('to', 'cc', 'bcc') holding a picker token, read with request.form.getlist."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from portal.messaging.services import SUBJECT_MAX


class ComposeForm(FlaskForm):
    # Lengths, emptiness and recipients are checked by services.send(), all at once.
    subject = StringField(_l("Subject"), render_kw={"maxlength": SUBJECT_MAX})
    body = TextAreaField(_l("Message"))
    no_reply = BooleanField(_l("Recipients may not reply"))
    #: The id of the message answered, if any (checked by the view before anything else).
    reply_to = HiddenField()
