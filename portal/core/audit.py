"""Audit entries: who did what, when, with what before and after. Never edited, never deleted.

record() writes one in the current transaction; any domain records what it changes here, and the
audit log's pages (portal/audit/) read them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.core import clock
from portal.extensions import db


class AuditTag(StrEnum):
    """'domain:subject:action'."""

    RULE_ADDED = "groups:rule:add"
    RULE_REMOVED = "groups:rule:remove"
    INTERNAL_CHANGED = "groups:internal:change"
    MAIL_SETTINGS_CHANGED = "platform:mail:change"
    CONVERSATIONS_LISTED = "messaging:conversations:list"
    CONVERSATION_EXPORTED = "messaging:conversation:export"
    HOMEWORK_DELETED = "content:homework:delete"
    ALERT_RULE_SAVED = "attendance:alert_rule:save"
    ALERT_RULE_DELETED = "attendance:alert_rule:delete"
    WEBHOOK_SAVED = "webhooks:endpoint:save"
    WEBHOOK_SECRET_ROTATED = "webhooks:endpoint:rotate"  # noqa: S105 - a tag
    WEBHOOK_DELETED = "webhooks:endpoint:delete"
    WEBHOOK_SETTINGS_CHANGED = "platform:webhooks:change"
    EVENT_TYPE_SAVED = "pupil_files:event_type:save"
    EVENT_TYPE_DELETED = "pupil_files:event_type:delete"
    SECOND_FACTOR_ENROLLED = "accounts:second_factor:enrol"
    SECOND_FACTOR_REMOVED = "accounts:second_factor:remove"
    SECOND_FACTOR_RECOVERY_USED = "accounts:second_factor:recovery"
    SSO_PROVIDER_SAVED = "accounts:provider:save"
    SSO_PROVIDER_DELETED = "accounts:provider:delete"
    SSO_LINKED = "accounts:sso:link"
    SSO_UNLINKED = "accounts:sso:unlink"
    SSO_REFUSED = "accounts:sso:refuse"
    ABSENCE_REASON_SAVED = "attendance:reason:save"
    ABSENCE_REASON_DELETED = "attendance:reason:delete"
    FILE_EVENT_RECORDED = "pupil_files:event:record"
    FILE_EVENT_CHANGED = "pupil_files:event:change"
    FILE_EVENT_DELETED = "pupil_files:event:delete"
    SCHOOL_SETTINGS_CHANGED = "school:settings:change"
    SMS_PROVIDER_CHANGED = "sms:provider:change"
    SMS_ACTION_SAVED = "sms:action:save"
    SMS_ACTION_DELETED = "sms:action:delete"
    SMS_CONSENT_CHANGED = "sms:consent:change"
    USER_CREATED = "accounts:user:create"
    USER_CHANGED = "accounts:user:change"
    USER_BLOCKED = "accounts:user:block"
    USER_UNBLOCKED = "accounts:user:unblock"
    USER_DELETED = "accounts:user:delete"
    ACTIVATION_CODES_ISSUED = "accounts:activation_codes:issue"
    IMPORT_APPLIED = "imports:file:apply"
    IMPORT_MAPPING_CHANGED = "imports:mapping:change"
    ROLLOVER_DONE = "groups:rollover:run"
    GROUP_CREATED = "groups:group:create"
    GROUP_CHANGED = "groups:group:change"
    GROUP_MEMBERS_CHANGED = "groups:members:change"
    GROUP_ARCHIVED = "groups:group:archive"
    GROUP_DELETED = "groups:group:delete"
    LIST_RULE_CHANGED = "groups:list_rule:change"
    AUDIT_EXPORTED = "audit:log:export"
    SCHOOL_CREATED = "platform:school:create"
    SCHOOL_SUSPENDED = "platform:school:suspend"
    SCHOOL_RESUMED = "platform:school:resume"


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)
    #: Who acted; None for the platform itself (imports run by a job, the demo).
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    #: The school concerned, for filtering; None for platform-wide actions.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    tag: Mapped[str] = mapped_column(String(60), index=True)
    #: What changed: ids, names, and 'before' / 'after' where something was replaced.
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class AuditEntryIsFinal(Exception):
    """Raised when something tries to change or delete an audit entry: the log is kept as
    written (SPEC §10)."""


@event.listens_for(Session, "before_flush")
def _entries_stay_as_written(session, _flush_context, _instances) -> None:
    for entry in session.deleted:
        if isinstance(entry, AuditEntry):
            raise AuditEntryIsFinal(f"audit entry {entry.id} can't be deleted")
    for entry in session.dirty:
        if isinstance(entry, AuditEntry) and session.is_modified(entry):
            raise AuditEntryIsFinal(f"audit entry {entry.id} can't be changed")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_change_of_entries(state) -> None:
    """``update(AuditEntry)`` or ``delete(AuditEntry)`` run through the session: refused too."""
    table = getattr(state.statement, "table", None)
    aimed = getattr(table, "name", None) == AuditEntry.__tablename__
    if aimed and (state.is_update or state.is_delete):
        raise AuditEntryIsFinal("audit entries can't be changed or deleted")


def record(actor, tag: AuditTag, school_id: int | None, **details) -> AuditEntry:
    """Write one audit entry in the current transaction (it stands or falls with the change)."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        school_id=school_id,
        tag=tag.value,
        details=details,
    )
    db.session.add(entry)
    db.session.flush()
    return entry
