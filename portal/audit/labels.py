"""Words of the audit log on screen: each kind of entry, its domain, and its details as
'what: value' lines ('before → after' where something was replaced), in the reader's
language."""

from __future__ import annotations

import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from portal.accounts.labels import profile_label
from portal.accounts.models import Profile, User
from portal.audit.search import GROUP_KEYS, GROUP_MAPS, NAMES_SHOWN, PERSON_KEYS, PERSON_LISTS
from portal.core.audit import AuditTag
from portal.groups.labels import label as group_label
from portal.groups.models import Group

PROFILES = frozenset(Profile)

TAG_LABELS = {
    AuditTag.RULE_ADDED: _l("Communication rule added"),
    AuditTag.RULE_REMOVED: _l("Communication rule removed"),
    AuditTag.INTERNAL_CHANGED: _l("Internal communication changed"),
    AuditTag.MAIL_SETTINGS_CHANGED: _l("Mail settings changed"),
    AuditTag.CONVERSATIONS_LISTED: _l("A person's conversations listed"),
    AuditTag.CONVERSATION_EXPORTED: _l("Conversation exported"),
    AuditTag.HOMEWORK_DELETED: _l("Homework deleted"),
    AuditTag.ALERT_RULE_SAVED: _l("Alert rule saved"),
    AuditTag.ALERT_RULE_DELETED: _l("Alert rule deleted"),
    AuditTag.WEBHOOK_SAVED: _l("Webhook saved"),
    AuditTag.WEBHOOK_SECRET_ROTATED: _l("Webhook secret replaced"),
    AuditTag.WEBHOOK_DELETED: _l("Webhook deleted"),
    AuditTag.WEBHOOK_SETTINGS_CHANGED: _l("Webhook settings changed"),
    AuditTag.EVENT_TYPE_SAVED: _l("Pupil file event type saved"),
    AuditTag.EVENT_TYPE_DELETED: _l("Pupil file event type deleted"),
    AuditTag.SECOND_FACTOR_ENROLLED: _l("Second factor set up"),
    AuditTag.SECOND_FACTOR_REMOVED: _l("Second factor turned off or reset"),
    AuditTag.SECOND_FACTOR_RECOVERY_USED: _l("Recovery code used to log in"),
    AuditTag.SSO_PROVIDER_SAVED: _l("Identity provider saved"),
    AuditTag.SSO_PROVIDER_DELETED: _l("Identity provider deleted"),
    AuditTag.SSO_LINKED: _l("Account linked to an identity provider"),
    AuditTag.SSO_UNLINKED: _l("Account unlinked from an identity provider"),
    AuditTag.SSO_REFUSED: _l("Login through an identity provider refused"),
    AuditTag.ABSENCE_REASON_SAVED: _l("Reason for absences saved"),
    AuditTag.ABSENCE_REASON_DELETED: _l("Reason for absences deleted"),
    AuditTag.FILE_EVENT_RECORDED: _l("Pupil file event recorded"),
    AuditTag.FILE_EVENT_CHANGED: _l("Pupil file event corrected"),
    AuditTag.FILE_EVENT_DELETED: _l("Pupil file event deleted"),
    AuditTag.SCHOOL_SETTINGS_CHANGED: _l("School settings changed"),
    AuditTag.SMS_PROVIDER_CHANGED: _l("SMS provider changed"),
    AuditTag.SMS_ACTION_SAVED: _l("SMS action saved"),
    AuditTag.SMS_ACTION_DELETED: _l("SMS action deleted"),
    AuditTag.SMS_CONSENT_CHANGED: _l("Consent to SMS changed"),
    AuditTag.USER_CREATED: _l("Account created"),
    AuditTag.USER_CHANGED: _l("Account changed"),
    AuditTag.USER_BLOCKED: _l("Account blocked"),
    AuditTag.USER_UNBLOCKED: _l("Account unblocked"),
    AuditTag.USER_DELETED: _l("Account deleted"),
    AuditTag.ACTIVATION_CODES_ISSUED: _l("Activation codes issued"),
    AuditTag.IMPORT_APPLIED: _l("Import applied"),
    AuditTag.IMPORT_MAPPING_CHANGED: _l("Import column mapping changed"),
    AuditTag.ROLLOVER_DONE: _l("New school year prepared"),
    AuditTag.GROUP_CREATED: _l("Group created"),
    AuditTag.GROUP_CHANGED: _l("Group renamed or described"),
    AuditTag.GROUP_MEMBERS_CHANGED: _l("Group members changed"),
    AuditTag.GROUP_ARCHIVED: _l("Group archived"),
    AuditTag.GROUP_DELETED: _l("Group deleted"),
    AuditTag.LIST_RULE_CHANGED: _l("Broadcast list's rule changed"),
    AuditTag.AUDIT_EXPORTED: _l("Audit log exported"),
    AuditTag.SCHOOL_CREATED: _l("School created"),
    AuditTag.SCHOOL_SUSPENDED: _l("School suspended"),
    AuditTag.SCHOOL_RESUMED: _l("School resumed"),
}

#: The first part of a tag ('groups:rule:add'), in the order the kind filter lists them.
DOMAIN_LABELS = {
    "accounts": _l("Accounts"),
    "imports": _l("Imports"),
    "groups": _l("Groups and communication rules"),
    "messaging": _l("Messaging"),
    "content": _l("Homework"),
    "attendance": _l("Attendance and alerts"),
    "webhooks": _l("Webhooks"),
    "pupil_files": _l("Pupil files"),
    "sms": _l("SMS"),
    "school": _l("School"),
    "audit": _l("Audit log"),
    "platform": _l("Platform"),
}

#: Names of the details' keys; a key missing here is shown as written, underscores as spaces.
KEY_LABELS = {
    "accepts_sms": _l("Accepts SMS"),
    "account_key": _l("Account key"),
    "action_id": _l("SMS action"),
    "actor": _l("Who"),
    "added": _l("Added"),
    "after": _l("After"),
    "before": _l("Before"),
    "birth_date": _l("Date of birth"),
    "bounce_address": _l("Bounce address"),
    "classes": _l("Classes"),
    "code": _l("Code"),
    "comment": _l("Remark"),
    "conversations": _l("Number of conversations"),
    "counts": _l("Rows"),
    "created": _l("Newly created"),
    "date_from": _l("From"),
    "date_to": _l("To"),
    "day": _l("Date"),
    "delivery": _l("Handed out by"),
    "description": _l("Description"),
    "direction_id": _l("Direction account"),
    "direction_login": _l("Direction login"),
    "due_on": _l("Due on"),
    "emailed": _l("Sent by e-mail"),
    "enabled": _l("Switched on"),
    "endpoint_id": _l("Webhook"),
    "event_id": _l("Event"),
    "families_see_file": _l("Guardians and pupils may read the pupil's file"),
    "filename": _l("File name"),
    "filters": _l("Filters"),
    "first_name": _l("First name"),
    "group": _l("Group"),
    "group_id": _l("Group"),
    "guardian_id": _l("Guardian"),
    "homework_id": _l("Homework"),
    "internal": _l("Internal communication"),
    "justification": _l("Justification"),
    "kind": _l("Kind"),
    "last_name": _l("Last name"),
    "login": _l("Login"),
    "members": _l("Members"),
    "messages": _l("Number of messages"),
    "name": _l("Name"),
    "national_id": _l("Register identifier"),
    "notification_email": _l("Send notifications by e-mail"),
    "person": _l("Person"),
    "person_id": _l("Person"),
    "profile": _l("Profile"),
    "pupil_id": _l("Pupil"),
    "reason": _l("Reason"),
    "register": _l("National register"),
    "register_opens_minutes": _l("Minutes a register opens before its session"),
    "rank": _l("Guardian rank"),
    "rejected": _l("Rejected"),
    "removed": _l("Removed"),
    "restored_default": _l("Default rule restored"),
    "rule_id": _l("Rule"),
    "rules": _l("Communication rules"),
    "run_id": _l("Import run"),
    "school": _l("School"),
    "school_name": _l("School's name"),
    "school_year": _l("School year"),
    "secret_changed": _l("Secret replaced"),
    "sender": _l("Sender"),
    "short_label": _l("Short label"),
    "sources": _l("Classes and groups"),
    "source_group_id": _l("From group"),
    "staff_manage_groups": _l("Staff may make and fill groups"),
    "liaison_both_guardians": _l("Liaison notes wait for both guardians"),
    "second_factor_required": _l("Second factor required of the direction and staff"),
    "trust_provider_mfa": _l("Identity providers’ second factor trusted"),
    "password_off": _l("Profiles logging in only through a provider"),
    "subject": _l("Subject"),
    "suspended_at": _l("Suspended since"),
    "target_group_id": _l("To group"),
    "template": _l("Text of the SMS"),
    "thread_id": _l("Conversation"),
    "title": _l("Title"),
    "to_correct": _l("To correct by hand"),
    "triggered": _l("Done on recording"),
    "type": _l("Type"),
    "type_id": _l("Event type"),
    "updated": _l("Updated"),
    "url": _l("Address"),
    "user_id": _l("Person"),
    "user_ids": _l("People"),
    "who": _l("For"),
}


def tag_label(tag: str) -> str:
    """The kind of an entry in the reader's language; an unknown tag as it is written."""
    found = TAG_LABELS.get(tag)
    return str(found) if found is not None else tag


def kind_choices() -> dict:
    """The kind filter's choices, grouped by domain: {domain label: [(tag, label)]}, the
    'every kind' choice first, outside any group."""
    grouped: dict = {None: [("", _("Every kind"))]}
    for domain, domain_label in DOMAIN_LABELS.items():
        tags = [tag for tag in AuditTag if tag.value.split(":")[0] == domain]
        if tags:
            grouped[str(domain_label)] = sorted(
                ((tag.value, tag_label(tag)) for tag in tags), key=lambda choice: choice[1]
            )
    return grouped


def key_label(key: str) -> str:
    found = KEY_LABELS.get(key)
    return str(found) if found is not None else key.replace("_", " ").capitalize()


class Details:
    """An entry's details as (what, value) lines, naming the people and groups found."""

    def __init__(self, people: dict[int, User], groups: dict[int, Group]):
        self.people, self.groups = people, groups

    def lines(self, tag: str, details: dict | None) -> list[tuple[str, str]]:
        details = dict(details or {})
        lines: list[tuple[str, str]] = []
        if "before" in details and "after" in details:
            lines += self._change(None, details.pop("before"), details.pop("after"))
        for key in [k for k in details if k.endswith("_before")]:
            name = key.removesuffix("_before")
            if f"{name}_after" in details:
                lines += self._change(name, details.pop(key), details.pop(f"{name}_after"))
        for key, value in details.items():
            if tag == AuditTag.USER_CHANGED and isinstance(value, list) and len(value) == 2:
                lines += self._change(key, *value)  # {field: [before, after]}
            else:
                lines.append((key_label(key), self.value(key, value)))
        return lines

    def _change(self, name: str | None, before, after) -> list[tuple[str, str]]:
        """'before → after' for a replaced value; key by key for replaced settings."""
        key = f"{name}_before" if name else None
        if isinstance(before, dict) or isinstance(after, dict):  # a setting made or removed too
            before, after = before or {}, after or {}
        if isinstance(before, dict) and isinstance(after, dict):
            shown = [
                (
                    self._item_label(key, k),
                    self.value(k, before.get(k)),
                    self.value(k, after.get(k)),
                )
                for k in {**before, **after}
            ]
            return [(label, f"{was} → {now}") for label, was, now in shown if was != now]
        label = key_label(name) if name else _("Before → after")
        return [(label, f"{self.value(name or '', before)} → {self.value(name or '', after)}")]

    def _item_label(self, parent: str | None, key: str) -> str:
        if parent in GROUP_MAPS and str(key).isdigit():
            return self._group(int(key))
        return key_label(str(key))

    def value(self, key: str, value) -> str:  # noqa: PLR0911 - one answer per kind of value
        if value is None or value in ("", [], {}):
            return "—"
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if key in PERSON_KEYS and isinstance(value, int):
            return self._person(value)
        if key in PERSON_LISTS and isinstance(value, list):
            return self._people(value)
        if key in GROUP_KEYS and isinstance(value, int):
            return self._group(value)
        if (
            key == "kind" and isinstance(value, str) and value in TAG_LABELS
        ):  # the kind filter of an export
            return tag_label(value)
        if key == "profile" and isinstance(value, str) and value in PROFILES:
            return profile_label(value)
        if isinstance(value, list):
            return ", ".join(self.value("", item) for item in value)
        if isinstance(value, dict):
            return "; ".join(
                f"{self._item_label(key, k)}: {self.value(str(k), v)}" for k, v in value.items()
            )
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False)

    def _person(self, person_id: int) -> str:
        person = self.people.get(person_id)
        return person.display_name if person else f"#{person_id}"

    def _people(self, ids: list) -> str:
        """A few names, then how many more (activation codes may be issued for a whole class)."""
        names = [self._person(i) if isinstance(i, int) else str(i) for i in ids]
        if len(names) <= NAMES_SHOWN:
            return ", ".join(names)
        more = len(names) - NAMES_SHOWN
        return (
            ", ".join(names[:NAMES_SHOWN])
            + " "
            + ngettext("and %(num)d other", "and %(num)d others", more)
        )

    def _group(self, group_id: int) -> str:
        group = self.groups.get(group_id)
        return group_label(group) if group else f"#{group_id}"
