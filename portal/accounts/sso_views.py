"""Logging in through an identity provider: off to the provider, back with its answer, and,
for an identifier no account is linked to yet, the page that says whom to ask and lets the
person link their own account once."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user

from portal.accounts import credentials, identities, saml, sso
from portal.accounts.forms import LinkAccountForm
from portal.accounts.models import AccountState, IdentityProvider, LinkedBy, ProviderKind
from portal.accounts.views import LOGIN_SCHOOL, log_in
from portal.core import clock
from portal.core.errors import ValidationError
from portal.core.navigation import home_url, safe_next
from portal.core.web import keep_refused
from portal.extensions import csrf, db, limiter

log = logging.getLogger(__name__)

bp = Blueprint("sso", __name__, url_prefix="/login/provider")

#: The provider the person was sent to, and where they go once logged in.
PROVIDER, TARGET = "sso_provider", "sso_next"
#: An identifier the provider vouched for that no account is linked to yet: the link page's.
PENDING = "sso_pending"
PENDING_SECONDS = 600


def _provider(provider_id: int) -> IdentityProvider:
    provider = db.session.get(IdentityProvider, provider_id)
    if provider is None or not provider.enabled:
        abort(404)
    if provider.school is not None and provider.school.suspended_at is not None:
        abort(404)
    return provider


def _failed(provider: IdentityProvider, reason: str, subject: str = "", user=None, message=None):
    identities.refuse(provider, reason, subject, user)
    flash(str(message or identities.REFUSED), "error")
    return redirect(url_for("accounts.login"))


@bp.get("/<int:provider_id>")
def start(provider_id: int):
    provider = _provider(provider_id)
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    target = safe_next("")
    try:
        if provider.kind == ProviderKind.SAML:
            # The answer comes back by the provider's POST, without our cookies: the request
            # and where to go afterwards are kept server-side (portal.accounts.saml).
            return saml.start(provider, target)
        session[PROVIDER], session[TARGET] = provider.id, target
        return sso.start(provider, identities.callback_url())
    except sso.SignInFailed as failed:
        return _failed(provider, failed.reason)
    except saml.MetadataRefused as refused:
        return _failed(provider, str(refused))


@bp.get("/back")
def back():
    """The one return address of every provider (registered there once): the session says
    which provider the person was sent to."""
    provider_id = session.pop(PROVIDER, None)
    if provider_id is None:
        flash(_("Log in again: your visit to the identity provider was not found."), "info")
        return redirect(url_for("accounts.login"))
    provider = _provider(provider_id)
    try:
        assertion = sso.finish(provider, identities.callback_url())
    except sso.SignInFailed as failed:
        return _failed(provider, failed.reason)
    return _received(assertion, session.pop(TARGET, ""))


@bp.post("/saml/acs")
@csrf.exempt  # the provider's signature on the assertion is the proof, and the request we sent
def saml_acs():
    """SAML's assertion consumer service (HTTP-POST)."""
    response = request.form.get("SAMLResponse", "")
    try:
        provider, request_id, target = saml.answered(response)
    except saml.Refused as refused:
        log.warning("saml response refused: %s", refused.reason)
        flash(str(identities.REFUSED), "error")
        return redirect(url_for("accounts.login"))
    try:
        subject, attributes, mfa = saml.finish(provider, request_id, response)
    except saml.Refused as refused:
        return _failed(provider, refused.reason)
    if provider.identifier_attribute:
        subject = sso.attribute(attributes, provider.identifier_attribute)
    if not subject:
        return _failed(provider, "no identifier in the assertion")
    return _received(sso.Assertion(provider, subject.strip(), attributes, mfa), target)


@bp.get("/saml/metadata")
def saml_metadata():
    """Carnet's service provider metadata, for the providers to register it."""
    return Response(saml.sp_metadata(), mimetype="application/samlmetadata+xml")


def _received(assertion: sso.Assertion, target: str):
    """What a provider vouched for: the linked account logs in, or the link page."""
    provider = assertion.provider
    identity = identities.linked(provider, assertion.subject)
    if identity is None:
        identities.refuse(provider, "no account linked to this identifier", assertion.subject)
        session[PENDING] = {
            "provider": provider.id,
            "subject": assertion.subject,
            "profiles": _sorted(identities.profiles_said(provider, assertion.attributes)),
            "mfa": assertion.mfa,
            "until": int(clock.now().timestamp()) + PENDING_SECONDS,
        }
        return redirect(url_for("sso.unknown"))
    user = identity.user
    if not identities.profile_matches(provider, assertion.attributes, user):
        return _failed(
            provider,
            f"profile {user.profile} not among what the provider said",
            assertion.subject,
            user,
            identities.WRONG_PROFILE,
        )
    refusal = _may_not_log_in(user)
    if refusal:
        return _failed(provider, f"account {user.state}", assertion.subject, user, refusal)
    return _logged_in(identity, assertion.mfa, target)


def _sorted(profiles: set[str] | None) -> list[str] | None:
    return None if profiles is None else sorted(profiles)


def _may_not_log_in(user) -> str | None:
    """Why this account can't log in now, in words for the person; None when it can."""
    if user.state == AccountState.BLOCKED:
        return str(credentials.BLOCKED)
    if user.state == AccountState.DELETED:
        return str(identities.REFUSED)
    if user.school_suspended:
        return str(credentials.SUSPENDED)
    return None


def _logged_in(identity, mfa: bool, target: str = ""):
    user = identities.signed_in(identity)
    target = target or home_url(user)
    return log_in(user, False, target, provider_mfa=mfa)


def _pending():
    """The provider and what it said, while the link page may still use them."""
    pending = session.get(PENDING)
    if not pending or pending["until"] < clock.now().timestamp():
        return None, None
    provider = db.session.get(IdentityProvider, pending["provider"])
    if provider is None or not provider.enabled:
        return None, None
    return provider, pending


def _link_key() -> str:
    pending = session.get(PENDING) or {}
    return f"sso-link:{pending.get('provider')}:{pending.get('subject')}:{get_remote_address()}"


def _link_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _refused(response) -> bool:
    return response.status_code >= 400


@bp.route("/unknown", methods=["GET", "POST"])
@limiter.limit(_link_limit, key_func=_link_key, methods=["POST"], deduct_when=_refused)
def unknown():
    """No account is linked to the identifier: whom to ask, or link one's own account once."""
    provider, pending = _pending()
    if provider is None:
        session.pop(PENDING, None)
        flash(_("Log in again: the time to link your account is over."), "info")
        return redirect(url_for("accounts.login"))
    form = LinkAccountForm()
    if form.validate_on_submit():
        try:
            user = _prove(form)
            if not identities.for_school(provider, user.school_id):
                raise ValidationError(
                    "login", _("This identity provider is not your school's: ask your school.")
                )
            if pending["profiles"] is not None and user.profile not in pending["profiles"]:
                db.session.rollback()
                reason = f"profile {user.profile} not among {pending['profiles']}"
                identities.refuse(provider, reason, pending["subject"], user)
                keep_refused()  # the refusal is logged though the page refuses
                raise credentials.LoginRefused(str(identities.WRONG_PROFILE))
            identity = identities.link(user, user, provider, pending["subject"], LinkedBy.SELF)
        except ValidationError as error:
            db.session.rollback()
            error.apply_to(form)
        except credentials.LoginRefused as refused:
            db.session.rollback()
            form.form_errors.append(refused.message)
        else:
            response = _logged_in(identity, pending["mfa"])
            # Told in the session the login just started (it starts empty but for the language).
            flash(
                _(
                    "Your account is linked: from now on, log in through %(provider)s.",
                    provider=provider.name,
                ),
                "success",
            )
            return response
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "accounts/sso_unknown.html",
        form=form,
        provider=provider,
        subject=pending["subject"],
        school=provider.school or _school_chosen(),
    ), status


def _school_chosen():
    return identities.school_by_code(session.get(LOGIN_SCHOOL, ""))


def _prove(form: LinkAccountForm):
    """The account the person proves: login and password, or an activation code."""
    if form.code.data:
        activation = credentials.find_activation(form.code.data)
        user = activation.user
        refusal = _may_not_log_in(user)
        if refusal:
            raise ValidationError("code", refusal)
        activation.used_at = clock.now()
        return user
    if not form.login.data or not form.password.data:
        raise ValidationError(
            "login", _("Give your login and password, or the activation code from your school.")
        )
    return credentials.authenticate(form.login.data, form.password.data, linking=True)
