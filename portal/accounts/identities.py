"""Identity providers and the identifiers that link people to them.

Linking, never guessing: an identifier reaches an account only through an ExternalIdentity, made
by an import column, by the direction on the person's page, or by the person, once, after
logging in through the provider and proving the Carnet account with its password or activation
code. Every link, unlink and refused login through a provider is audited.

Every function flushes and never commits. Bad input raises ValidationError(field, message)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.accounts import saml
from portal.accounts.labels import profile_plural
from portal.accounts.models import (
    AccountState,
    ExternalIdentity,
    IdentityProvider,
    LinkedBy,
    Profile,
    ProviderKind,
    School,
    User,
)
from portal.core import audit, clock, guard, settings, vault
from portal.core.audit import AuditTag
from portal.core.errors import ValidationError
from portal.extensions import db

log = logging.getLogger(__name__)

#: The profiles whose password the direction may switch off once a provider logs them in; the
#: direction keeps its own, so that a broken provider never locks the school out (and the
#: webmaster, who belongs to no school, always has one).
PASSWORD_OFF_PROFILES = (Profile.TEACHER, Profile.STAFF, Profile.PARENT, Profile.PUPIL)

SUBJECT_MAX = 255


# --- providers ------------------------------------------------------------------------------


@dataclass
class ProviderFields:
    kind: str
    name: str
    url: str
    client_id: str = ""
    #: Empty on a change: the sealed secret is kept.
    secret: str = ""
    identifier_attribute: str = ""
    profile_attribute: str = ""
    #: Profile -> the values, separated by commas, that mean it.
    profile_values: dict[str, str] | None = None
    enabled: bool = True
    #: SAML: the provider's metadata, pasted (else read from ``url``).
    metadata: str = ""


def providers_of(school_id: int | None) -> list[IdentityProvider]:
    """A school's own providers, or the platform's (``None``)."""
    owner = (
        IdentityProvider.school_id.is_(None)
        if school_id is None
        else IdentityProvider.school_id == school_id
    )
    return list(
        db.session.scalars(select(IdentityProvider).where(owner).order_by(IdentityProvider.name))
    )


def _values(text: str) -> list[str]:
    return sorted({value.strip().lower() for value in (text or "").split(",") if value.strip()})


def save_provider(
    actor: User, school_id: int | None, fields: ProviderFields, provider=None
) -> IdentityProvider:
    """A new provider for ``school_id`` (None: the platform's), or ``provider`` changed."""
    name, url = fields.name.strip(), fields.url.strip()
    if fields.kind not in tuple(ProviderKind):
        raise ValidationError("kind", _("Choose a protocol."))
    if not name:
        raise ValidationError("name", _("Give the name people will see on the login page."))
    if url or fields.kind != ProviderKind.SAML:  # a SAML provider may have pasted metadata only
        _check_address(url)
    metadata = _saml_metadata(fields, url) if fields.kind == ProviderKind.SAML else ""
    oidc = fields.kind == ProviderKind.OIDC
    if oidc and not fields.client_id.strip():
        raise ValidationError("client_id", _("Give the client identifier the provider gave you."))
    if oidc and not fields.secret and not (provider and provider.secret):
        raise ValidationError("secret", _("Give the client secret the provider gave you."))
    values = {profile: _values(text) for profile, text in (fields.profile_values or {}).items()}
    values = {profile: found for profile, found in values.items() if found}
    if fields.profile_attribute.strip() and not values:
        raise ValidationError(
            "profile_attribute",
            _("Say which values of this attribute mean each profile, or leave it empty."),
        )
    new = provider is None
    if new:
        provider = IdentityProvider(school_id=school_id)
        db.session.add(provider)
    provider.kind = ProviderKind(fields.kind)
    provider.name, provider.url = name[:80], url[:300]
    provider.client_id = fields.client_id.strip()[:200] if oidc else ""
    if oidc and fields.secret:
        provider.secret, provider.secret_hint = vault.seal(fields.secret), fields.secret[-4:]
    if not oidc:
        provider.secret, provider.secret_hint = "", ""
    provider.metadata_xml = metadata
    provider.identifier_attribute = fields.identifier_attribute.strip()[:80]
    provider.profile_attribute = fields.profile_attribute.strip()[:80]
    provider.profile_values = values
    provider.enabled = fields.enabled
    db.session.flush()
    audit.record(
        actor,
        AuditTag.SSO_PROVIDER_SAVED,
        school_id,
        provider_id=provider.id,
        name=provider.name,
        kind=provider.kind.value,
        url=provider.url,
        new=new,
    )
    return provider


def _check_address(url: str) -> None:
    try:
        guard.check_url(url, settings.current().webhooks_private_allowed)
    except guard.Refused as refusal:
        raise ValidationError("url", str(refusal.reason)) from refusal


def _saml_metadata(fields: ProviderFields, url: str) -> str:
    """The SAML provider's metadata, pasted or read from its address, checked usable."""
    metadata = fields.metadata.strip()
    if not metadata and not url:
        raise ValidationError(
            "metadata_xml",
            _("Paste the provider's metadata, or give the address it publishes them at."),
        )
    if not metadata:  # the address was checked by the caller
        try:
            metadata = saml.fetch_metadata(url)
        except saml.MetadataRefused as refused:
            raise ValidationError(
                "url", _("The metadata could not be read there: %(why)s", why=str(refused))
            ) from refused
    try:
        saml.check_metadata(metadata)
    except saml.MetadataRefused as refused:
        raise ValidationError(
            "metadata_xml",
            _("These are not an identity provider's usable metadata: %(why)s", why=str(refused)),
        ) from refused
    return metadata


def delete_provider(actor: User, provider: IdentityProvider) -> None:
    """The provider and every link to it: its people log in with their password again."""
    links = db.session.scalars(
        select(ExternalIdentity).where(ExternalIdentity.provider_id == provider.id)
    ).all()
    audit.record(
        actor,
        AuditTag.SSO_PROVIDER_DELETED,
        provider.school_id,
        provider_id=provider.id,
        name=provider.name,
        links=len(links),
    )
    for link in links:
        db.session.delete(link)
    db.session.delete(provider)
    db.session.flush()


# --- links ----------------------------------------------------------------------------------


def links_of(user: User) -> list[ExternalIdentity]:
    return list(
        db.session.scalars(
            select(ExternalIdentity)
            .where(ExternalIdentity.user_id == user.id)
            .order_by(ExternalIdentity.linked_at)
        )
    )


def for_school(provider: IdentityProvider, school_id: int | None) -> bool:
    """Whether the provider serves this school's people (its own, or the platform's)."""
    return provider.school_id is None or provider.school_id == school_id


def link(
    actor: User | None, user: User, provider: IdentityProvider, subject: str, how: LinkedBy
) -> ExternalIdentity:
    """``user`` known to ``provider`` as ``subject`` from now on."""
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError("subject", _("Give the person's identifier at this provider."))
    if len(subject) > SUBJECT_MAX:
        raise ValidationError("subject", _("At most %(n)d characters.", n=SUBJECT_MAX))
    if not for_school(provider, user.school_id):
        raise ValidationError("provider", _("Choose one of the school's providers."))
    taken = db.session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.provider_id == provider.id, ExternalIdentity.subject == subject
        )
    )
    if taken is not None and taken.user_id != user.id:
        raise ValidationError("subject", _("This identifier is already linked to another account."))
    if taken is not None:
        return taken
    if db.session.scalar(
        select(ExternalIdentity.id).where(
            ExternalIdentity.provider_id == provider.id, ExternalIdentity.user_id == user.id
        )
    ):
        raise ValidationError(
            "provider",
            _("This account is already linked to this provider: unlink it first."),
        )
    identity = ExternalIdentity(provider=provider, user=user, subject=subject, linked_by=how)
    db.session.add(identity)
    db.session.flush()
    audit.record(
        actor,
        AuditTag.SSO_LINKED,
        user.school_id,
        person_id=user.id,
        provider_id=provider.id,
        provider=provider.name,
        subject=subject,
        by=how.value,
    )
    return identity


def unlink(actor: User, identity: ExternalIdentity) -> None:
    audit.record(
        actor,
        AuditTag.SSO_UNLINKED,
        identity.user.school_id,
        person_id=identity.user_id,
        provider_id=identity.provider_id,
        provider=identity.provider.name,
        subject=identity.subject,
    )
    db.session.delete(identity)
    db.session.flush()


def linked(provider: IdentityProvider, subject: str) -> ExternalIdentity | None:
    return db.session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.provider_id == provider.id, ExternalIdentity.subject == subject
        )
    )


# --- logging in through a provider ------------------------------------------------------------


#: What a person refused at a provider's login reads: never which check failed.
REFUSED = _l(
    "Your school's identity provider did not let us log you in. Try again, or log in with your "
    "Carnet password."
)
WRONG_PROFILE = _l(
    "The identity provider says you are not the kind of account you are linked to (for example "
    "a pupil's account linked to a parent's). Ask your school to check the link."
)


def refuse(provider: IdentityProvider, reason: str, subject: str = "", user=None) -> None:
    """A login through ``provider`` refused: logged, and audited in the school it concerns."""
    log.warning("sso refused: provider %s (%s): %s", provider.id, provider.name, reason)
    school_id = user.school_id if user is not None else provider.school_id
    audit.record(
        None,
        AuditTag.SSO_REFUSED,
        school_id,
        provider_id=provider.id,
        provider=provider.name,
        subject=subject[:SUBJECT_MAX],
        person_id=user.id if user is not None else None,
        reason=reason[:300],
    )


def profiles_said(provider: IdentityProvider, attributes: dict) -> set[str] | None:
    """The Carnet profiles the provider's attributes allow; None when the provider is not asked."""
    if not provider.profile_attribute:
        return None
    said = attributes.get(provider.profile_attribute) or []
    said = {str(value).strip().lower() for value in ([said] if isinstance(said, str) else said)}
    return {
        profile for profile, values in (provider.profile_values or {}).items() if said & set(values)
    }


def profile_matches(provider: IdentityProvider, attributes: dict, user: User) -> bool:
    allowed = profiles_said(provider, attributes)
    return allowed is None or user.profile in allowed


def signed_in(identity: ExternalIdentity) -> User:
    """The provider vouched for the account: it logs in, and an account imported but never
    activated is active from now on (the provider proved the person)."""
    now = clock.now()
    user = identity.user
    identity.last_login_at = now
    user.last_login_at = now
    if user.state == AccountState.INACTIVE:
        user.state = AccountState.ACTIVE
        user.activated_at = now
    db.session.flush()
    return user


# --- passwords switched off -------------------------------------------------------------------


def provider_works_for(school: School, profile: str) -> bool:
    """Someone of this profile in the school has logged in through a provider: it works."""
    return bool(
        db.session.scalar(
            select(ExternalIdentity.id)
            .join(User, User.id == ExternalIdentity.user_id)
            .where(
                User.school_id == school.id,
                User.profile == profile,
                ExternalIdentity.last_login_at.is_not(None),
            )
            .limit(1)
        )
    )


def set_password_off(actor: User, school: School, profiles: list[str]) -> None:
    """The profiles that log in only through a provider; a profile nobody has yet logged in
    with through a provider is refused (it could lock all of them out)."""
    chosen = {Profile(profile) for profile in profiles}
    if not chosen <= set(PASSWORD_OFF_PROFILES):
        raise ValidationError("password_off", _("The direction always keeps its password."))
    added = chosen - school.password_off_profiles
    for profile in sorted(added):
        if not provider_works_for(school, profile):
            raise ValidationError(
                "password_off",
                _(
                    "No one among “%(profile)s” has logged in through a provider yet: "
                    "check that it works before switching their password off.",
                    profile=profile_plural(profile),
                ),
            )
    value = ",".join(sorted(chosen))
    if value != school.password_off:
        before = school.password_off
        school.password_off = value
        db.session.flush()
        audit.record(
            actor, AuditTag.SCHOOL_SETTINGS_CHANGED, school.id, password_off=value, before=before
        )


def password_off_for(user: User) -> bool:
    """Whether this person may not log in with a password (their school switched it off)."""
    school = user.school
    return (
        school is not None
        and user.profile in PASSWORD_OFF_PROFILES
        and user.profile in school.password_off_profiles
    )


def school_by_code(code: str) -> School | None:
    """The school whose code a login page was given, if it offers a provider and is open."""
    code = (code or "").strip().upper()
    if not code:
        return None
    school = db.session.scalar(select(School).where(func.upper(School.code) == code))
    if school is None or school.suspended_at is not None:
        return None
    return school


def schools_offering() -> list[School]:
    """The open schools with a provider of their own: the login page's list."""
    return list(
        db.session.scalars(
            select(School)
            .where(
                School.suspended_at.is_(None),
                School.id.in_(select(IdentityProvider.school_id).where(IdentityProvider.enabled)),
            )
            .order_by(School.name)
        )
    )


def callback_url() -> str:
    """Our return address, the same for every provider: registered at each of them (OIDC's
    redirect URI, CAS's service)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for("sso.back")
