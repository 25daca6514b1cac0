"""The direction's SMS settings: the provider account and the SMS actions (seed 004).

Every function flushes and never commits; changes are written to the audit log without the
secret."""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import User
from portal.core import clock, phones, vault
from portal.core.audit import AuditTag
from portal.core.audit import record as audit
from portal.core.errors import ValidationError
from portal.core.text import checked_line
from portal.extensions import db
from portal.sms import providers, segments
from portal.sms.models import Sms, SmsAction, SmsProvider

SECRET_MAX = 300
#: An alphanumeric sender: up to 11 letters, digits and spaces, at least one letter.
NAMED_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
#: The placeholders any SMS action's text may use.
COMMON = ("pupil", "first_name", "class", "date", "school")
#: Those only an absence or a late arrival fills: its session, and the minutes late.
OF_A_MARK = ("start", "end", "minutes")
#: Those only an alert fills: the rule's name and the count that crossed its threshold.
OF_AN_ALERT = ("alert", "count")
PLACEHOLDERS = COMMON + OF_A_MARK + OF_AN_ALERT
TEMPLATE_MAX = 1000
#: An action's text may take this many parts at most, placeholders filled with a long name.
PARTS_MAX = 4
RESPONSE_DAYS_MAX = 60


def provider_of(school_id: int) -> SmsProvider | None:
    return db.session.scalar(select(SmsProvider).where(SmsProvider.school_id == school_id))


def is_ready(school_id: int) -> bool:
    """An SMS may be queued or sent: the provider is set up (seed 004: the SMS action is only
    offered once the whole set-up is done)."""
    provider = provider_of(school_id)
    if provider is None:
        return False
    return not providers.ADAPTERS[provider.kind].remote or bool(provider.secret)


def checked_sender(sender: str, field: str, errors: dict, *, required: bool) -> str:
    """A phone number in E.164 (French numbers may be written 01 46 …) or a name of at most
    11 letters and digits."""
    sender = " ".join((sender or "").split())
    if not sender:
        if required:
            errors[field] = _("Give the sender: the school's number or a short name.")
        return ""
    if NAMED_SENDER.match(sender):
        return sender
    try:
        return phones.e164(sender, mobile=False)
    except phones.PhoneRefused as refused:
        why = phones.refusal_text(refused.number, refused.reason)
        errors[field] = (
            _("Give a phone number, or a name of at most 11 letters and digits.") + f" {why}"
        )
        return ""


@dataclass
class ProviderInput:
    kind: str
    account_key: str
    #: Empty: keep the secret in force.
    secret: str
    sender: str
    api_url: str = ""
    field_names: str = ""


def save_provider(actor: User, asked: ProviderInput) -> SmsProvider:
    errors: dict[str, str] = {}
    adapter = providers.ADAPTERS.get(asked.kind)
    if adapter is None:
        errors["kind"] = _("Choose a provider from the list.")
        options = {}
    else:
        options = adapter.checked_options(asked.api_url, asked.field_names, errors)
    provider = provider_of(actor.school_id)
    needs_account = adapter is not None and adapter.remote
    account_key = (asked.account_key or "").strip()
    if needs_account and not account_key:
        errors["account_key"] = _("Give the account key the provider gave the school.")
    elif len(account_key) > 200 or any(c.isspace() for c in account_key):
        errors["account_key"] = _("An account key has no spaces and at most 200 characters.")
    secret = (asked.secret or "").strip()
    if len(secret) > SECRET_MAX:
        errors["secret"] = _("At most %(n)d characters.", n=SECRET_MAX)
    elif needs_account and not secret and (provider is None or not provider.secret):
        errors["secret"] = _("Give the password or token the provider gave the school.")
    sender = checked_sender(asked.sender, "sender", errors, required=True)
    if errors:
        raise ValidationError.of(errors)
    if provider is None:
        provider = SmsProvider(school_id=actor.school_id)
        db.session.add(provider)
    before = _provider_facts(provider) if provider.kind else None
    provider.kind, provider.account_key, provider.sender = asked.kind, account_key, sender
    provider.options = options
    if secret:
        provider.secret, provider.secret_hint = vault.seal(secret), secret[-4:]
    provider.updated_at = clock.now()
    db.session.flush()
    audit(
        actor,
        AuditTag.SMS_PROVIDER_CHANGED,
        actor.school_id,
        before=before,
        after=_provider_facts(provider),
        secret_changed=bool(secret),
    )
    return provider


def _provider_facts(provider: SmsProvider) -> dict:
    """What the audit log keeps of a provider: never its secret."""
    return {
        "kind": provider.kind,
        "account_key": provider.account_key,
        "sender": provider.sender,
        "options": provider.options,
    }


# --- SMS actions -------------------------------------------------------------------------------


def actions_of(school_id: int, *, enabled_only: bool = False) -> list[SmsAction]:
    query = select(SmsAction).where(SmsAction.school_id == school_id)
    if enabled_only:
        query = query.where(SmsAction.enabled)
    return list(db.session.scalars(query.order_by(SmsAction.short_label, SmsAction.id)))


def offered(school_id: int, fits) -> list[SmsAction]:
    """The school's switched-on actions whose text ``fits`` (for_marks or for_alerts)."""
    return [a for a in actions_of(school_id, enabled_only=True) if fits(a.template)]


def for_marks(template: str) -> bool:
    """Whether the text can tell of an absence or a late arrival: it names nothing of an
    alert."""
    return not set(placeholders_in(template) or ()) & set(OF_AN_ALERT)


def for_alerts(template: str) -> bool:
    """Whether an alert rule can send the text: it names nothing of a session."""
    return not set(placeholders_in(template) or ()) & set(OF_A_MARK)


def serves(action: SmsAction) -> str:
    """What an action can tell of, for the list of actions."""
    marks, alerts = for_marks(action.template), for_alerts(action.template)
    if marks and alerts:
        return _("absences and alerts")
    return _("absences") if marks else _("alerts")


#: What sends an action's text by itself: each answers, for an action's id, the name of the alert
#: rule that sends it, or None. Domains above this one add theirs (portal.attendance.absence_sms).
SENDERS: list[Callable[[int], str | None]] = []


def rule_sending(action_id: int) -> str | None:
    """The name of an alert rule that sends this action's text, if any."""
    return next((name for find in SENDERS if (name := find(action_id)) is not None), None)


def _rule_sends_it(rule: str) -> str:
    return _("The alert “%(rule)s” sends this SMS: choose another SMS for it first.", rule=rule)


def placeholders_in(template: str) -> list[str] | None:
    """The placeholders a text names; None when its braces are not well formed."""
    try:
        return [name for _text, name, _spec, _conv in string.Formatter().parse(template) if name]
    except ValueError:
        return None


def fill(template: str, values: dict[str, str]) -> str:
    return template.format_map(values)


SAMPLE = {
    "pupil": "Léa Martin-Dupont",
    "first_name": "Léa",
    "class": "5B",
    "date": "15/02/2027",
    "start": "08:30",
    "end": "10:25",
    "minutes": "15",
    "count": "12",
}


def preview(template: str, school_name: str) -> tuple[str, segments.Segments]:
    """The text as a family would read it, with sample values, and its segment count."""
    names = placeholders_in(template)
    if names is None or any(name not in PLACEHOLDERS for name in names):
        return template, segments.count(template)
    text = fill(template, {**SAMPLE, "school": school_name, "alert": _("Repeated absences")})
    return text, segments.count(text)


@dataclass
class ActionInput:
    short_label: str
    long_label: str
    template: str
    response_days: int | None
    sender: str = ""
    provider_code: str = "0"
    enabled: bool = True


def _template_refusal(template: str, school_name: str) -> str | None:
    """What is wrong with an SMS action's text, or None."""
    names = placeholders_in(template)
    if not template:
        return _("Write the text of the SMS.")
    if len(template) > TEMPLATE_MAX:
        return _("At most %(n)d characters.", n=TEMPLATE_MAX)
    if names is None or any(not name.isidentifier() for name in names):
        return _("Write each placeholder between braces, such as {pupil}.")
    if unknown := [name for name in names if name not in PLACEHOLDERS]:
        return _(
            "Unknown placeholder {%(name)s}. Use: %(known)s.",
            name=unknown[0],
            known=", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
        )
    if not for_marks(template) and not for_alerts(template):
        return _(
            "An SMS tells of one absence ({start}, {end}, {minutes}) or of an alert ({alert}, "
            "{count}), not both."
        )
    if preview(template, school_name)[1].parts > PARTS_MAX:
        return _("The SMS would take more than %(n)d parts.", n=PARTS_MAX)
    return None


def save_action(actor: User, asked: ActionInput, action: SmsAction | None = None) -> SmsAction:
    errors: dict[str, str] = {}
    short = checked_line("short_label", asked.short_label, 20, _("Give a short label."), errors)
    long = checked_line("long_label", asked.long_label, 80, _("Give a long label."), errors)
    template = (asked.template or "").strip()
    if refusal := _template_refusal(template, actor.school.name):
        errors["template"] = refusal
    if action is not None and (rule := rule_sending(action.id)) is not None:
        # The rule would otherwise send nothing, or a text with holes, without anyone knowing.
        if not asked.enabled:
            errors["enabled"] = _rule_sends_it(rule)
        elif "template" not in errors and not for_alerts(template):
            errors["template"] = _(
                "The alert “%(rule)s” sends this SMS, and an alert has no session: leave out "
                "{start}, {end} and {minutes}.",
                rule=rule,
            )
    days = asked.response_days
    if days is None or not 0 <= days <= RESPONSE_DAYS_MAX:
        errors["response_days"] = _(
            "Give a number of days from 0 to %(max)d.", max=RESPONSE_DAYS_MAX
        )
    sender = checked_sender(asked.sender, "sender", errors, required=False)
    code = (asked.provider_code or "").strip() or "0"
    if len(code) > 20 or not code.replace("-", "").replace("_", "").isalnum():
        errors["provider_code"] = _("At most 20 letters and digits.")
    if errors:
        raise ValidationError.of(errors)
    created = action is None
    if action is None:
        action = SmsAction(school_id=actor.school_id)
        db.session.add(action)
    action.short_label, action.long_label, action.template = short, long, template
    action.response_days, action.sender, action.provider_code = days, sender, code
    action.enabled = asked.enabled
    db.session.flush()
    audit(
        actor,
        AuditTag.SMS_ACTION_SAVED,
        actor.school_id,
        action_id=action.id,
        created=created,
        short_label=short,
        template=template,
    )
    return action


def delete_action(actor: User, action: SmsAction) -> None:
    """An action that sent SMS is switched off instead, so that the summary keeps it."""
    if (rule := rule_sending(action.id)) is not None:
        raise ValidationError("action", _rule_sends_it(rule))
    used = db.session.scalar(select(Sms.id).where(Sms.action_id == action.id).limit(1))
    if used is not None:
        raise ValidationError("action", _("SMS were sent with this action: switch it off instead."))
    audit(
        actor,
        AuditTag.SMS_ACTION_DELETED,
        actor.school_id,
        action_id=action.id,
        short_label=action.short_label,
    )
    db.session.delete(action)
    db.session.flush()
