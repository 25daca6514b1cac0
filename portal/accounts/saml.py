"""SAML 2.0 Web Browser SSO, Carnet as the service provider (OneLogin's python3-saml; XML
signatures checked by the xmlsec binding).

One service provider for the whole platform: its entity ID is the address of its metadata,
``/login/provider/saml/metadata``, its assertion consumer service ``/login/provider/saml/acs``
(HTTP-POST). Each identity provider is known by its metadata, kept with it (read from its
address when saved, or pasted). The toolkit checks, strictly: signed assertions (a signature by
the provider's key from its metadata, over the assertion it reads, one assertion only), the
issuer, the audience, the destination and recipient (our assertion consumer service), the
validity window (with the toolkit's 300 s for clocks that drift) and that the response answers
our request. We add what it leaves to the application: the request, kept server-side for ten
minutes and taken once (the browser's cookies don't come back on the provider's cross-site
POST), and each assertion ID taken once.
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import urlsplit

import requests
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from flask import current_app, redirect, url_for
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser as Parser
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from portal.accounts.models import IdentityProvider
from portal.core.jobs import redis_connection
from portal.extensions import db

#: How long a request sent to a provider may be answered.
REQUEST_SECONDS = 600
#: The largest metadata document read from a provider's address.
METADATA_MAX_BYTES = 2_000_000
#: AuthnContextClassRef values that say a second factor was used (REFEDS MFA, Microsoft's,
#: and the SAML 2.0 classes of one-time codes and smart cards).
MFA_CLASSES = frozenset(
    {
        "https://refeds.org/profile/mfa",
        "http://schemas.microsoft.com/claims/multipleauthn",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
    }
)


class MetadataRefused(Exception):
    """The provider's metadata can't be used; its text says why, for the direction."""


class Refused(Exception):
    """A response refused; ``reason`` is for the log, never shown as it is."""

    def __init__(self, reason: str, provider: IdentityProvider | None = None):
        super().__init__(reason)
        self.reason, self.provider = reason, provider


def _public(endpoint: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint)


def entity_id() -> str:
    """Carnet's entity ID as a service provider: the address of its metadata."""
    return _public("sso.saml_metadata")


def _settings(metadata: str | None = None) -> dict:
    settings = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": entity_id(),
            "assertionConsumerService": {
                "url": _public("sso.saml_acs"),
                "binding": Constants.BINDING_HTTP_POST,
            },
            "NameIDFormat": Constants.NAMEID_UNSPECIFIED,
        },
        "security": {
            "wantAssertionsSigned": True,
            "wantNameId": True,
            # Many providers send the NameID alone.
            "wantAttributeStatement": False,
            "rejectDeprecatedAlgorithm": True,
            "allowRepeatAttributeName": True,
        },
    }
    if metadata:
        settings["idp"] = _parsed(metadata)["idp"]
    return settings


def _parsed(metadata: str) -> dict:
    try:
        parsed = Parser.parse(metadata)
    except Exception as exc:  # the toolkit raises several kinds on a bad document
        raise MetadataRefused(f"{type(exc).__name__}: {exc}") from exc
    idp = parsed.get("idp") or {}
    if not idp.get("entityId") or not idp.get("singleSignOnService", {}).get("url"):
        raise MetadataRefused("no identity provider with an HTTP-Redirect sign-on service")
    if not idp.get("x509cert") and not idp.get("x509certMulti"):
        raise MetadataRefused("no signing certificate")
    return parsed


def check_metadata(metadata: str) -> str:
    """The identity provider's entity ID; MetadataRefused when the document can't serve."""
    return _parsed(metadata)["idp"]["entityId"]


def fetch_metadata(url: str) -> str:
    """The metadata at ``url`` (the caller checked the address may be called)."""
    try:
        answer = requests.get(url, timeout=10, stream=True, allow_redirects=False)
        body = answer.raw.read(METADATA_MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise MetadataRefused(f"{type(exc).__name__}: {exc}") from exc
    if answer.status_code != 200:
        raise MetadataRefused(f"HTTP {answer.status_code}")
    if len(body) > METADATA_MAX_BYTES:
        raise MetadataRefused("larger than 2 MB")
    return body.decode("utf-8", "replace")


def sp_metadata() -> str:
    """Our metadata, for the providers to register Carnet."""
    settings = OneLogin_Saml2_Settings(_settings(), sp_validation_only=True)
    return settings.get_sp_metadata()


def _auth(metadata: str, post: dict | None = None) -> OneLogin_Saml2_Auth:
    """The toolkit for one provider, seeing the request as addressed to PUBLIC_URL (the
    destination it checks), not as the proxy in front of Carnet passed it on."""
    public = urlsplit(current_app.config["PUBLIC_URL"])
    https = public.scheme == "https"
    request_data = {
        "https": "on" if https else "off",
        "http_host": public.netloc,
        "script_name": url_for("sso.saml_acs"),
        "get_data": {},
        "post_data": post or {},
    }
    return OneLogin_Saml2_Auth(request_data, _settings(metadata))


def _key(kind: str, value: str) -> str:
    return f"carnet:saml:{kind}:{value}"


def start(provider: IdentityProvider, target: str):
    """The redirection to the provider with our request, remembered server-side."""
    auth = _auth(provider.metadata_xml)
    location = auth.login()
    redis_connection().set(
        _key("request", auth.get_last_request_id()),
        json.dumps({"provider": provider.id, "next": target}),
        ex=REQUEST_SECONDS,
    )
    return redirect(location)


def answered(saml_response: str) -> tuple[IdentityProvider, str, str]:
    """The provider, request ID and target of the request a response says it answers (read
    before any check, then taken: a response can't answer the same request twice)."""
    try:
        root = ElementTree.fromstring(base64.b64decode(saml_response, validate=False))
    except (binascii.Error, ValueError, ElementTree.ParseError, DefusedXmlException) as exc:
        raise Refused(f"not a SAML response: {type(exc).__name__}") from exc
    request_id = root.get("InResponseTo") or ""
    kept = redis_connection().getdel(_key("request", request_id)) if request_id else None
    if kept is None:
        raise Refused("no request of ours waits for this response (unsolicited or replayed)")
    kept = json.loads(kept)
    provider = db.session.get(IdentityProvider, kept["provider"])
    if provider is None or not provider.enabled:
        raise Refused("the provider asked is gone")
    return provider, request_id, kept["next"]


def finish(provider: IdentityProvider, request_id: str, saml_response: str):
    """(NameID, attributes, mfa) from a response checked in full; Refused otherwise."""
    auth = _auth(provider.metadata_xml, {"SAMLResponse": saml_response})
    try:
        auth.process_response(request_id=request_id)
    except Exception as exc:  # the toolkit raises several kinds: each is a refusal
        raise Refused(f"{type(exc).__name__}: {exc}", provider) from exc
    if auth.get_errors() or not auth.is_authenticated():
        reason = auth.get_last_error_reason() or ", ".join(auth.get_errors()) or "refused"
        raise Refused(reason, provider)
    assertion_id = auth.get_last_assertion_id()
    lifetime = REQUEST_SECONDS + Constants.ALLOWED_CLOCK_DRIFT * 2
    if not redis_connection().set(_key("assertion", assertion_id), "1", nx=True, ex=lifetime):
        raise Refused(f"assertion {assertion_id} already used", provider)
    classes = set(auth.get_last_authn_contexts() or [])
    return auth.get_nameid() or "", auth.get_attributes(), bool(classes & MFA_CLASSES)
