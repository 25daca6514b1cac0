"""SMS providers: one class each (SPEC §8). An adapter knows how to hand an SMS to its
provider, how to check and read the provider's delivery reports and inbound texts, and which
options the direction sets for it. Adding a provider is one more subclass of Adapter.

- ``twilio``: the Twilio Messages API and any provider speaking it (form-encoded POST with
  basic auth, StatusCallback, reports signed with X-Twilio-Signature).
- ``http_json``: a provider whose URL and field names are configured; JSON both ways, reports
  signed with an HMAC-SHA256 of the body under the account's secret (X-Signature).
- ``file``: development; writes each SMS to instance/sms/ and reports it delivered a moment
  later, as a provider would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from base64 import b64encode
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlencode, urlsplit

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.core import outbound, settings, vault
from portal.sms.models import SmsProvider, SmsState

#: What providers' words for a message's state mean here.
STATES = {
    "accepted": SmsState.SENT,
    "queued": SmsState.SENT,
    "scheduled": SmsState.SENT,
    "sending": SmsState.SENT,
    "sent": SmsState.SENT,
    "in_transit": SmsState.SENT,
    "delivered": SmsState.DELIVERED,
    "read": SmsState.DELIVERED,
    "failed": SmsState.FAILED,
    "undelivered": SmsState.FAILED,
    "rejected": SmsState.FAILED,
    "expired": SmsState.FAILED,
    "invalid": SmsState.FAILED,
    "canceled": SmsState.FAILED,
}
#: Answers worth trying again later: the provider was busy, or asked us to slow down.
TEMPORARY = frozenset({408, 425, 429})


@dataclass
class Outgoing:
    sms_id: int
    to: str
    sender: str
    body: str
    #: The SMS's idempotency key: a provider that sees it twice sends once.
    key: str
    #: Where the provider posts this SMS's delivery reports.
    callback: str
    provider_code: str = "0"


@dataclass
class Outcome:
    accepted: bool
    #: A failure worth another attempt (no answer, 5xx, 429); else the provider refused it.
    temporary: bool = False
    ref: str | None = None
    #: The provider's words, or why no answer came.
    message: str | None = None


@dataclass
class Report:
    state: SmsState
    ref: str | None = None
    #: Our idempotency key, for providers that report by our reference.
    key: str | None = None
    error: str | None = None


@dataclass
class Inbound:
    phone: str
    body: str
    ref: str | None = None


class Adapter:
    code: ClassVar[str]
    label: ClassVar[object]
    #: Whether it is a real account: an account key and a secret to give, reports and inbound
    #: texts posted back over HTTP (their addresses shown to the direction).
    remote: ClassVar[bool] = True

    def __init__(self, provider: SmsProvider):
        self.provider = provider

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        ADAPTERS[cls.code] = cls

    @classmethod
    def checked_options(cls, api_url: str, field_names: str, errors: dict) -> dict:
        """The options to keep from the settings form; problems go into ``errors``."""
        return {}

    @property
    def secret(self) -> str:
        return vault.unseal(self.provider.secret) if self.provider.secret else ""

    def send(self, sms: Outgoing) -> Outcome:
        raise NotImplementedError

    def signed(self) -> bool:
        """Whether the request being served was signed by this provider."""
        raise NotImplementedError

    def reports(self) -> list[Report]:
        return []

    def inbound(self) -> list[Inbound]:
        return []

    def inbound_answer(self):
        return "", 204

    def after_accepted(self, sms_id: int) -> None:
        """What happens once the provider took the SMS (the development adapter reports)."""

    # --- shared by the HTTP adapters ------------------------------------------------------

    def _basic_auth(self) -> str:
        pair = f"{self.provider.account_key}:{self.secret}".encode()
        return "Basic " + b64encode(pair).decode()

    def _call(self, url: str, body: bytes, headers: dict) -> outbound.Answer:
        return outbound.call(
            "POST",
            url,
            body=body,
            headers=headers,
            private_allowed=settings.current().webhooks_private_allowed,
            timeout=current_app.config["SMS_TIMEOUT"],
        )

    @staticmethod
    def _outcome(answer: outbound.Answer, ref_field: str) -> Outcome:
        """2xx: accepted, with the provider's id; no answer, 5xx, 408 or 429: try again later;
        any other answer: refused, with the provider's own message."""
        try:
            data = json.loads(answer.text) if answer.text else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if answer.succeeded:
            ref = data.get(ref_field)
            return Outcome(True, ref=str(ref)[:80] if ref is not None else None)
        if answer.status is None:
            return Outcome(False, temporary=True, message=answer.notes)
        message = data.get("message") or data.get("error") or answer.text.strip()
        # The provider's own words, as it wrote them, after its status code.
        words = f"HTTP {answer.status} · {str(message)[:300] or '—'}"
        temporary = answer.status >= 500 or answer.status in TEMPORARY
        return Outcome(False, temporary=temporary, message=words[:500])


ADAPTERS: dict[str, type[Adapter]] = {}


def _checked_url(api_url: str, errors: dict, *, required: bool) -> str:
    api_url = (api_url or "").strip()
    if not api_url:
        if required:
            errors["api_url"] = _("Give the address of the provider's API.")
        return ""
    parts = urlsplit(api_url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(api_url) > 500:
        errors["api_url"] = _("Give an address starting with https://.")
    elif parts.username or parts.password:
        errors["api_url"] = _("Put no user name or password in the address.")
    return api_url.rstrip("/")


class Twilio(Adapter):
    code = "twilio"
    label = _l("Twilio-compatible REST API")
    DEFAULT_URL = "https://api.twilio.com"

    @classmethod
    def checked_options(cls, api_url, field_names, errors):
        return {"api_url": _checked_url(api_url, errors, required=False) or cls.DEFAULT_URL}

    def send(self, sms: Outgoing) -> Outcome:
        base = self.provider.options.get("api_url") or self.DEFAULT_URL
        url = f"{base}/2010-04-01/Accounts/{self.provider.account_key}/Messages.json"
        body = urlencode(
            {"To": sms.to, "From": sms.sender, "Body": sms.body, "StatusCallback": sms.callback}
        ).encode()
        headers = {
            "authorization": self._basic_auth(),
            "content-type": "application/x-www-form-urlencoded",
            "accept": "application/json",
            "idempotency-key": sms.key,
            "user-agent": "Carnet-SMS/1",
        }
        return self._outcome(self._call(url, body, headers), "sid")

    def signed(self) -> bool:
        """X-Twilio-Signature: the HMAC-SHA1, under the auth token, of the URL called followed
        by every form field's name and value, sorted by name."""
        given = request.headers.get("X-Twilio-Signature", "")
        url = current_app.config["PUBLIC_URL"].rstrip("/") + request.full_path.rstrip("?")
        fields = sorted(request.form.items(multi=True), key=lambda pair: pair[0])
        signed = url + "".join(name + value for name, value in fields)
        digest = hmac.new(self.secret.encode(), signed.encode(), hashlib.sha1).digest()
        return bool(self.secret) and hmac.compare_digest(base64.b64encode(digest).decode(), given)

    def reports(self) -> list[Report]:
        status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").lower()
        if status not in STATES:
            return []
        error = request.form.get("ErrorMessage") or request.form.get("ErrorCode")
        return [Report(STATES[status], ref=request.form.get("MessageSid"), error=error)]

    def inbound(self) -> list[Inbound]:
        phone, body = request.form.get("From", ""), request.form.get("Body", "")
        return [Inbound(phone, body, request.form.get("MessageSid"))] if phone else []

    def inbound_answer(self):
        empty = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
        return empty, 200, {"Content-Type": "text/xml"}


class HttpJson(Adapter):
    code = "http_json"
    label = _l("HTTP API with JSON (address and field names configured)")
    #: Our name of each field -> the provider's, unless the direction says otherwise.
    FIELDS = {
        "to": "to",
        "from": "from",
        "body": "text",
        "reference": "reference",
        "id": "id",
        "status": "status",
    }

    @classmethod
    def checked_options(cls, api_url, field_names, errors):
        names = dict(cls.FIELDS)
        for pair in (field_names or "").split():
            ours, _sep, theirs = pair.partition("=")
            if ours not in cls.FIELDS or not theirs or len(theirs) > 40:
                errors["field_names"] = _(
                    "Write pairs such as body=message, from the names: %(names)s.",
                    names=", ".join(cls.FIELDS),
                )
                break
            names[ours] = theirs
        return {"api_url": _checked_url(api_url, errors, required=True), "fields": names}

    def _field(self, ours: str) -> str:
        return self.provider.options.get("fields", {}).get(ours, self.FIELDS[ours])

    def send(self, sms: Outgoing) -> Outcome:
        body = json.dumps(
            {
                self._field("to"): sms.to,
                self._field("from"): sms.sender,
                self._field("body"): sms.body,
                self._field("reference"): sms.key,
                "callback_url": sms.callback,
                "service_code": sms.provider_code,
            }
        ).encode()
        headers = {
            "authorization": self._basic_auth(),
            "content-type": "application/json",
            "accept": "application/json",
            "idempotency-key": sms.key,
            "user-agent": "Carnet-SMS/1",
        }
        return self._outcome(self._call(self.provider.options["api_url"], body, headers), "id")

    def signed(self) -> bool:
        given = request.headers.get("X-Signature", "")
        digest = hmac.new(self.secret.encode(), request.get_data(), hashlib.sha256).hexdigest()
        return bool(self.secret) and hmac.compare_digest(f"sha256={digest}", given)

    def _items(self) -> list[dict]:
        data = request.get_json(silent=True)
        items = data if isinstance(data, list) else [data]
        return [item for item in items if isinstance(item, dict)]

    def reports(self) -> list[Report]:
        found = []
        for item in self._items():
            status = str(item.get(self._field("status"), "")).lower()
            if status in STATES:
                ref, key = item.get(self._field("id")), item.get(self._field("reference"))
                found.append(
                    Report(
                        STATES[status],
                        ref=str(ref) if ref is not None else None,
                        key=str(key) if key is not None else None,
                        error=str(item.get("error") or "")[:300] or None,
                    )
                )
        return found

    def inbound(self) -> list[Inbound]:
        return [
            Inbound(
                str(item[self._field("from")]),
                str(item.get(self._field("body"), "")),
                str(item.get(self._field("id")) or "") or None,
            )
            for item in self._items()
            if item.get(self._field("from"))
        ]


class File(Adapter):
    code = "file"
    label = _l("Development: written to a folder, reported delivered")
    remote = False

    def send(self, sms: Outgoing) -> Outcome:
        folder = Path(current_app.config["SMS_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        text = f"To: {sms.to}\nFrom: {sms.sender}\n\n{sms.body}\n"
        try:
            with (folder / f"{sms.key}.txt").open("x", encoding="utf-8") as written:
                written.write(text)
        except FileExistsError:
            pass  # written by an earlier attempt: sent once
        return Outcome(True, ref=sms.key)

    def signed(self) -> bool:
        return False

    def after_accepted(self, sms_id: int) -> None:
        from portal.sms import jobs

        jobs.simulate_report(sms_id)


def adapter_for(provider: SmsProvider) -> Adapter:
    return ADAPTERS[provider.kind](provider)


def choices() -> list[tuple[str, str]]:
    return [(code, str(cls.label)) for code, cls in ADAPTERS.items()]
