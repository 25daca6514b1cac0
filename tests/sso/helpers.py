"""What the single sign-on tests make again and again: a school's provider, a person linked to
it, and the refusals the audit log kept."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import ExternalIdentity, IdentityProvider, LinkedBy, ProviderKind
from portal.core.audit import AuditEntry, AuditTag
from portal.extensions import db

NOWHERE = "http://127.0.0.1:9/"  # a closed port: a provider never reached


def provider(school_id: int | None, kind=ProviderKind.CAS, **fields) -> IdentityProvider:
    """A provider of the school (None: the platform's), flushed."""
    made = IdentityProvider(
        school_id=school_id, kind=kind, name=fields.pop("name", "ENT"), **{"url": NOWHERE, **fields}
    )
    db.session.add(made)
    db.session.flush()
    return made


def link(made: IdentityProvider, person, subject: str, how=LinkedBy.IMPORT) -> ExternalIdentity:
    identity = ExternalIdentity(provider=made, user=person, subject=subject, linked_by=how)
    db.session.add(identity)
    db.session.flush()
    return identity


def refusals(app) -> list[str]:
    """Why each refused login through a provider was refused, oldest first."""
    with app.app_context():
        return [
            entry.details["reason"]
            for entry in db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.tag == AuditTag.SSO_REFUSED.value)
                .order_by(AuditEntry.id)
            )
        ]
