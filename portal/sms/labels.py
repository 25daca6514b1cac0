"""Words for SMS states and recipients, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.sms.models import Recipient, SmsState

STATE_LABELS = {
    SmsState.QUEUED: _l("to send"),
    SmsState.SENDING: _l("sending"),
    SmsState.SENT: _l("in transit"),
    SmsState.DELIVERED: _l("delivered"),
    SmsState.FAILED: _l("failed or invalid"),
    SmsState.WITHDRAWN: _l("withdrawn"),
}

RECIPIENT_LABELS = {
    Recipient.GUARDIAN_1: _l("Guardian 1"),
    Recipient.GUARDIAN_2: _l("Guardian 2"),
    Recipient.PUPIL: _l("Pupil"),
    Recipient.GUARDIAN: _l("Guardian"),
}


def sms_state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def recipient_label(recipient: str) -> str:
    return str(RECIPIENT_LABELS.get(recipient, recipient))


def template_globals() -> dict:
    return {"sms_state_label": sms_state_label, "recipient_label": recipient_label}
