"""The compose form. Recipients are not WTForms fields: each picked one is a hidden input named
after its field ('to', 'cc', 'bcc') holding a picker token, read with request.form.getlist."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import Length

from portal.messaging import bodies
from portal.messaging.services import SUBJECT_MAX


class ComposeForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[Length(max=SUBJECT_MAX)])
    body = TextAreaField(_l("Message"), validators=[Length(max=bodies.MAX_LENGTH)])
    no_reply = BooleanField(_l("Recipients may not reply"))
    #: The id of the message answered, if any (checked by the view before anything else).
    reply_to = HiddenField()
