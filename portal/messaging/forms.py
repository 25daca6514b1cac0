"""The compose form. Recipients are not WTForms fields: each picked one is a hidden input named
after its field ('to', 'cc', 'bcc') holding a picker token, and each uploaded attachment a hidden
input 'file' holding its id; the view reads them with request.form.getlist."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.forms import local_to_utc
from portal.groups.forms import AudienceFields
from portal.messaging.export import JUSTIFICATION_MAX, JUSTIFICATION_MIN
from portal.messaging.services import SUBJECT_MAX


class ComposeForm(FlaskForm):
    # Lengths, emptiness and recipients are checked by services.send(), all at once.
    subject = StringField(_l("Subject"), render_kw={"maxlength": SUBJECT_MAX})
    body = TextAreaField(_l("Message"))
    no_reply = BooleanField(_l("Recipients may not reply"))
    send_at = DateTimeLocalField(
        _l("Send later"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l("Leave empty to send now. The time is the school's."),
    )
    #: The id of the message answered, if any (checked by the view before anything else).
    reply_to = HiddenField()
    #: The id of the draft being written, once it has been saved.
    draft = HiddenField()

    def send_at_utc(self) -> dt.datetime | None:
        """The chosen time, read in the school's time zone."""
        return local_to_utc(self.send_at.data)


class ExportForm(FlaskForm):
    """The reason the direction gives before seeing someone's conversations."""

    justification = TextAreaField(
        _l("Reason for the export"),
        validators=[
            DataRequired(message=_l("Give the reason for the export.")),
            Length(
                min=JUSTIFICATION_MIN,
                max=JUSTIFICATION_MAX,
                message=_l("Explain the reason in %(min)d to %(max)d characters."),
            ),
        ],
        description=_l(
            "Written to the audit log with your name, the person and what you exported."
        ),
    )


class FlashForm(AudienceFields, FlaskForm):
    # Texts, audience and times are checked by flash.create(), all at once.
    title = StringField(_l("Title"))
    body = TextAreaField(_l("Message"))
    starts_at = DateTimeLocalField(
        _l("Shown from"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l("Leave empty to show it now."),
    )
    ends_at = DateTimeLocalField(
        _l("Shown until"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l("It disappears then, even for people who have not acknowledged it."),
    )
    emailed = BooleanField(
        _l("Also send it by e-mail now"),
        description=_l(
            "To everyone of the audience who has an address, whatever their notification "
            "choices, except people who refused every e-mail from Carnet."
        ),
    )
    texted = BooleanField(
        _l("Also send it by SMS to guardians"),
        description=_l(
            "At its start, without waiting in 'SMS to send', to the guardians of the audience "
            "who accept SMS and have a valid mobile number."
        ),
    )
