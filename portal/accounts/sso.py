"""Single sign-on: a person logs in through an identity provider that already knows them.

Two protocols, each through a maintained library:

- OpenID Connect, the authorization code flow with PKCE (Authlib): the provider's discovery
  document, ``state`` and ``nonce`` kept in the session cookie, the ID token's signature checked
  against the provider's keys (joserfc), its issuer, audience, expiry and nonce;
- CAS 2.0/3.0 (python-cas): the service ticket validated once against the server, for our own
  service address only, with the attributes CAS 3 releases.

Either way the answer is an Assertion: who the provider says the person is. It never creates an
account: portal.accounts.linking finds the account an identifier is linked to, or says nobody.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from authlib.integrations.flask_client.integration import FlaskIntegration
from cas import CASClient
from flask import Response, redirect, request
from joserfc.errors import JoseError
from sqlalchemy import or_, select

from portal.accounts.models import IdentityProvider, ProviderKind, School
from portal.core import vault
from portal.extensions import db

log = logging.getLogger(__name__)

#: Seconds an identity provider has to answer a server-to-server call.
TIMEOUT = 10
#: How long a provider's discovery document and keys are kept before being read again.
METADATA_SECONDS = 3600
#: RFC 8176 methods that are a second factor in themselves, or say that several were used.
MFA_METHODS = frozenset({"mfa", "otp", "hwk", "sms", "tel", "sc", "fpt", "face", "iris", "vbm"})


@dataclass
class Assertion:
    """What a provider said: the person's identifier there, their attributes, and whether it
    asked them for a second factor."""

    provider: IdentityProvider
    subject: str
    attributes: dict = field(default_factory=dict)
    mfa: bool = False


class SignInFailed(Exception):
    """The provider's answer could not be trusted or was a refusal; ``reason`` is for the log,
    never shown as it is."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def offered(school: School | None) -> list[IdentityProvider]:
    """The providers a login page offers: the platform's, and the school's when one is chosen."""
    query = select(IdentityProvider).where(IdentityProvider.enabled)
    if school is None:
        query = query.where(IdentityProvider.school_id.is_(None))
    else:
        query = query.where(
            or_(IdentityProvider.school_id.is_(None), IdentityProvider.school_id == school.id)
        )
    return list(db.session.scalars(query.order_by(IdentityProvider.name, IdentityProvider.id)))


def start(provider: IdentityProvider, return_url: str) -> Response:
    """The redirection to the provider's login page."""
    try:
        if provider.kind == ProviderKind.OIDC:
            return _oidc(provider).authorize_redirect(return_url)
        return redirect(_cas(provider, return_url).get_login_url())
    except (OAuthError, requests.RequestException, ValueError, KeyError, RuntimeError) as exc:
        raise SignInFailed(f"provider unreachable: {exc}") from exc


def finish(provider: IdentityProvider, return_url: str) -> Assertion:
    """The provider's answer on our return address, checked; SignInFailed otherwise."""
    try:
        if provider.kind == ProviderKind.OIDC:
            assertion = _finish_oidc(provider)
        else:
            assertion = _finish_cas(provider, return_url)
    except SignInFailed:
        raise
    except (OAuthError, JoseError) as exc:
        raise SignInFailed(f"{type(exc).__name__}: {exc}") from exc
    except (requests.RequestException, ValueError, LookupError, RuntimeError, SyntaxError) as exc:
        # SyntaxError: a CAS answer that is not XML (ElementTree's ParseError).
        raise SignInFailed(f"{type(exc).__name__}: {exc}") from exc
    if not assertion.subject:
        raise SignInFailed("no identifier in the provider's answer")
    return assertion


def attribute(attributes: dict, name: str) -> str:
    """An attribute's value (the first, where a protocol gives a list)."""
    value = attributes.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value or "").strip()


def _subject(provider: IdentityProvider, own: str | None, attributes: dict) -> str:
    if not provider.identifier_attribute:
        return (own or "").strip()
    return attribute(attributes, provider.identifier_attribute)


# OpenID Connect


#: (provider id, url, client id, sealed secret) -> (the client, when it read the metadata).
_clients: dict[tuple, tuple[FlaskOAuth2App, float]] = {}


def _oidc(provider: IdentityProvider) -> FlaskOAuth2App:
    key = (provider.id, provider.url, provider.client_id, provider.secret)
    cached = _clients.get(key)
    if cached and time.monotonic() - cached[1] < METADATA_SECONDS:
        return cached[0]
    name = f"provider{provider.id}"
    client = FlaskOAuth2App(
        FlaskIntegration(name),
        name=name,
        client_id=provider.client_id,
        client_secret=vault.unseal(provider.secret) if provider.secret else None,
        server_metadata_url=provider.url.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid profile",
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT,
        },
    )
    _clients[key] = (client, time.monotonic())
    return client


def _finish_oidc(provider: IdentityProvider) -> Assertion:
    client = _oidc(provider)
    token = client.authorize_access_token()
    claims = token.get("userinfo")
    if not claims:
        raise SignInFailed("no ID token in the provider's answer")
    amr = claims.get("amr") or []
    claims = dict(claims)
    if client.load_server_metadata().get("userinfo_endpoint"):
        # Most providers release the profile's claims here rather than in the ID token; they
        # are taken only for the subject the ID token named (OIDC Core §5.3.2).
        released = client.userinfo(token=token)
        if released.get("sub") != claims.get("sub"):
            raise SignInFailed("the UserInfo answer names another subject")
        claims = {**released, **claims}
    return Assertion(
        provider,
        _subject(provider, claims.get("sub"), claims),
        claims,
        mfa=bool(MFA_METHODS.intersection(amr)),
    )


# CAS


class _Session(requests.Session):
    """Every call to the CAS server with a time limit."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(*args, **kwargs)


def _cas(provider: IdentityProvider, return_url: str):
    return CASClient(
        version=3,
        service_url=return_url,
        server_url=provider.url.rstrip("/") + "/",
        session=_Session(),
    )


def _finish_cas(provider: IdentityProvider, return_url: str) -> Assertion:
    ticket = request.args.get("ticket", "")
    if not ticket:
        raise SignInFailed("no service ticket")
    user, attributes, _pgtiou = _cas(provider, return_url).verify_ticket(ticket)
    if not user:
        raise SignInFailed("ticket refused by the CAS server")
    attributes = attributes or {}
    return Assertion(
        provider,
        _subject(provider, user, attributes),
        attributes,
        mfa=bool(attributes.get("authnContextClass")),
    )
