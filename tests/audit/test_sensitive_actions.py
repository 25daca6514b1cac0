"""The audit log records each sensitive action of the earlier issues (SPEC §10): each one is
done over HTTP by the profile that does it, then found on the audit page (the direction's, or
the webmaster's for the platform's settings) with its words and who did it. No secret ever
reaches the log."""

from __future__ import annotations

import json
import re

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from portal.accounts.models import ExternalIdentity, Profile
from portal.attendance import reasons
from portal.attendance.models import AlertRule
from portal.audit.labels import tag_label
from portal.content import homework
from portal.core import settings
from portal.core.audit import AuditEntry, AuditTag
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import CommunicationRule, Group
from portal.pupil_files.models import FileEventType
from portal.webhooks.models import WebhookEndpoint
from tests.accounts.totp import enrol
from tests.attendance.test_alert_views import FORM as ALERT_RULE
from tests.attendance.test_alerts import _rule
from tests.content.test_homework import _asked
from tests.factories import PASSWORD
from tests.pupil_files.test_events import _record, _type
from tests.school import in_english, person
from tests.sms.conftest import ACCOUNT
from tests.sso.helpers import provider
from tests.web import csrf_token, logged_in, text

EN = {"Accept-Language": "en"}
#: Tags written by the Administration issue itself, tested with their own pieces.
ADMINISTRATION = {
    AuditTag.USER_CREATED,
    AuditTag.USER_CHANGED,
    AuditTag.USER_BLOCKED,
    AuditTag.USER_UNBLOCKED,
    AuditTag.USER_DELETED,
    AuditTag.ACTIVATION_CODES_ISSUED,
    AuditTag.IMPORT_APPLIED,
    AuditTag.IMPORT_MAPPING_CHANGED,
    AuditTag.ROLLOVER_DONE,
    AuditTag.AUDIT_EXPORTED,
    AuditTag.SCHOOL_CREATED,
    AuditTag.SCHOOL_SUSPENDED,
    AuditTag.SCHOOL_RESUMED,
}
NAMES = {"admin": "Dora Direction", "teacher": "Paul Prof", "staff": "Simon Scolaire"}
JUSTIFICATION = "Demande écrite de la famille du 3 mars, dossier 2026-14"


def _post(client, url: str, page: str, data: dict | None = None):
    """A form sent from ``page``, as the browser would."""
    token = csrf_token(client, page)
    return client.post(url, data={"csrf_token": token, **(data or {})}, headers=EN)


def _sent(answer, *statuses) -> None:
    assert answer.status_code in (statuses or (302,)), text(answer)[:600]


def _allow_private() -> None:
    settings.save(webhooks_private_allowed=True)
    db.session.commit()


def _class_rule(world) -> tuple[int, int]:
    """The default rule 'teachers of 5B → parents of 5B', as (teachers' id, parents' id)."""
    subs = groups.sub_groups(db.session.get(Group, world.groups["5B"]))
    return subs[Profile.TEACHER].id, subs[Profile.PARENT].id


# --- each action, done over HTTP; returns who did it -----------------------------------------


def homework_deleted(app, world, fixtures):
    with in_english(app):
        homework_id = homework.set_homework(person(world, "teacher"), _asked(world)).id
        db.session.commit()
    teacher = logged_in(app, world.logins["teacher"])
    url = f"/homework/{homework_id}/delete"
    _sent(_post(teacher, url, url))
    return "teacher"


def rule_removed(app, world, fixtures):
    with in_english(app):
        teachers, parents = _class_rule(world)
        rule_id = db.session.scalar(
            select(CommunicationRule.id).where(
                CommunicationRule.source_group_id == teachers,
                CommunicationRule.target_group_id == parents,
            )
        )
    admin = logged_in(app, world.logins["admin"])
    _sent(_post(admin, f"/rules/{rule_id}/remove", "/rules/", {"confirmed": "1"}))
    return "admin"


def rule_added(app, world, fixtures):
    rule_removed(app, world, fixtures)
    with in_english(app):
        teachers, parents = _class_rule(world)
    admin = logged_in(app, world.logins["admin"])
    page = f"/rules/groups/{teachers}"
    _sent(_post(admin, f"{page}/add", page, {"target_id": parents, "confirmed": "1"}))
    return "admin"


def internal_changed(app, world, fixtures):
    admin = logged_in(app, world.logins["admin"])
    url = f"/rules/groups/{world.groups['ULIS']}/internal"
    _sent(_post(admin, url, "/rules/", {"internal": "y"}), 200)  # previewed first
    _sent(_post(admin, url, "/rules/", {"internal": "y", "confirmed": "1"}))
    return "admin"


def alert_rule_saved(app, world, fixtures):
    admin = logged_in(app, world.logins["admin"])
    _sent(_post(admin, "/alerts/rules/new", "/alerts/rules/new", ALERT_RULE))
    return "admin"


def alert_rule_deleted(app, world, fixtures):
    with in_english(app):
        rule_id = _rule(world).id
    admin = logged_in(app, world.logins["admin"])
    _sent(_post(admin, f"/alerts/rules/{rule_id}/delete", "/alerts/rules/"))
    with in_english(app):
        assert db.session.get(AlertRule, rule_id) is None
    return "admin"


def _new_webhook(app, world) -> int:
    with in_english(app):
        _allow_private()
    admin = logged_in(app, world.logins["admin"])
    answer = _post(
        admin,
        "/alerts/webhooks/new",
        "/alerts/webhooks/new",
        {"url": "https://hooks.example.org/carnet", "description": "Vie scolaire"},
    )
    _sent(answer, 303)  # to the page that shows the secret once
    with in_english(app):
        return db.session.scalar(select(func.max(WebhookEndpoint.id)))


def webhook_saved(app, world, fixtures):
    _new_webhook(app, world)
    return "admin"


def webhook_rotated(app, world, fixtures):
    endpoint_id = _new_webhook(app, world)
    admin = logged_in(app, world.logins["admin"])
    url = f"/alerts/webhooks/{endpoint_id}"
    _sent(_post(admin, f"{url}/rotate", url), 303)
    return "admin"


def webhook_deleted(app, world, fixtures):
    endpoint_id = _new_webhook(app, world)
    admin = logged_in(app, world.logins["admin"])
    url = f"/alerts/webhooks/{endpoint_id}/delete"
    _sent(_post(admin, url, url))
    return "admin"


def webhook_settings_changed(app, world, fixtures):
    webmaster = logged_in(app, fixtures.webmaster)
    _sent(_post(webmaster, "/webmaster/webhooks", "/webmaster/webhooks", {"private_allowed": "y"}))
    return "webmaster"


def _new_event_type(app, world) -> int:
    admin = logged_in(app, world.logins["admin"])
    data = {"name": "Stage en entreprise", "sets_status": "", "notify": ["staff"]}
    _sent(_post(admin, "/admin/events/new", "/admin/events/new", data))
    with in_english(app):
        return db.session.scalar(
            select(FileEventType.id).where(FileEventType.name == "Stage en entreprise")
        )


def event_type_saved(app, world, fixtures):
    _new_event_type(app, world)
    return "admin"


def event_type_deleted(app, world, fixtures):
    type_id = _new_event_type(app, world)
    admin = logged_in(app, world.logins["admin"])
    _sent(_post(admin, f"/admin/events/{type_id}/delete", "/admin/events/"))
    return "admin"


def _turned_off(admin) -> str:
    """The admin's second factor off again, so that the log is read with the password alone."""
    _sent(_post(admin, "/account/second-factor/off", "/account", {"password": PASSWORD}))
    return "admin"


def second_factor_enrolled(app, world, fixtures):
    admin = logged_in(app, world.logins["admin"])
    enrol(admin)
    return _turned_off(admin)


def second_factor_removed(app, world, fixtures):
    admin = logged_in(app, world.logins["admin"])
    enrol(admin)
    return _turned_off(admin)


def second_factor_recovery_used(app, world, fixtures):
    admin = logged_in(app, world.logins["admin"])
    _secret, codes = enrol(admin)
    _post(admin, "/logout", "/account")
    _post(admin, "/login", "/login", {"login": world.logins["admin"], "password": PASSWORD})
    _sent(_post(admin, "/login/code", "/login/code", {"code": codes[0]}))
    return _turned_off(admin)


def absence_reason_saved(app, world, fixtures):
    admin = logged_in(app, world.logins["admin"])
    page = "/attendance/reasons"
    _sent(_post(admin, page, page, {"label": "Compétition sportive", "families_choose": "y"}))
    return "admin"


def absence_reason_deleted(app, world, fixtures):
    with in_english(app):
        reason_id = reasons.reasons_of(world.school)[0].id
    admin = logged_in(app, world.logins["admin"])
    _sent(_post(admin, f"/attendance/reasons/{reason_id}/delete", "/attendance/reasons"))
    return "admin"


def file_event_recorded(app, world, fixtures):
    with in_english(app):
        entry = _type(world, "entry").id
    admin = logged_in(app, world.logins["admin"])
    url = f"/files/{world.ids['léa']}/events/new"
    _sent(_post(admin, url, url, {"type_id": entry, "day": "2026-11-23"}))
    return "admin"


def file_event_changed(app, world, fixtures):
    with in_english(app):
        event_id = _record(world, "entry").id
    admin = logged_in(app, world.logins["admin"])
    url = f"/files/events/{event_id}/edit"
    _sent(_post(admin, url, url, {"day": "2026-11-23", "comment": "Arrivée en cours d'année"}))
    return "admin"


def file_event_deleted(app, world, fixtures):
    with in_english(app):
        event_id = _record(world, "entry").id
    admin = logged_in(app, world.logins["admin"])
    url = f"/files/events/{event_id}/delete"
    _sent(_post(admin, url, url))
    return "admin"


def school_settings_changed(app, world, fixtures):
    admin = logged_in(app, world.logins["admin"])
    data = {"email_priority": "user", "families_see_file": "y"}
    _sent(_post(admin, "/admin/settings", "/admin/settings", data))
    return "admin"


def sms_provider_changed(app, world, fixtures):
    fixtures.sms()
    admin = logged_in(app, world.logins["admin"])
    data = {
        "kind": "twilio",
        "account_key": ACCOUNT,
        "secret": "",  # kept
        "sender": "College",
        "api_url": fixtures.twilio().url,
    }
    _sent(_post(admin, "/admin/sms/", "/admin/sms/", data))
    return "admin"


def sms_action_saved(app, world, fixtures):
    fixtures.sms()
    admin = logged_in(app, world.logins["admin"])
    data = {
        "short_label": "Retard",
        "long_label": "Retard en cours",
        "template": "{pupil} est arrivé en retard le {date}.",
        "response_days": "0",
        "sender": "",
        "provider_code": "0",
        "enabled": "y",
    }
    _sent(_post(admin, "/admin/sms/actions/new", "/admin/sms/actions/new", data))
    return "admin"


def sms_action_deleted(app, world, fixtures):
    action_id = fixtures.sms().action
    admin = logged_in(app, world.logins["admin"])
    _sent(_post(admin, f"/admin/sms/actions/{action_id}/delete", "/admin/sms/"))
    return "admin"


def sms_consent_changed(app, world, fixtures):
    link_id = fixtures.sms().links[world.ids["anne"]]
    staff = logged_in(app, world.logins["staff"])
    _sent(_post(staff, f"/sms/consent/{link_id}", "/sms/", {"accepts": "0"}))
    return "staff"


def mail_settings_changed(app, world, fixtures):
    webmaster = logged_in(app, fixtures.webmaster)
    data = {"bounce_address": "bounces@example.org"}  # notifications by e-mail switched off
    _sent(_post(webmaster, "/webmaster/mail/settings", "/webmaster/mail", data))
    return "webmaster"


def _conversation(app, world) -> str:
    """The teacher writes to Anne; returns the conversation's id."""
    teacher = logged_in(app, world.logins["teacher"])
    data = {"to": f"user:{world.ids['anne']}", "subject": "Sortie", "body": "Bonjour"}
    answer = _post(teacher, "/messages/new", "/messages/new", data)
    _sent(answer)
    return answer.headers["Location"].rsplit("/", 1)[1]


def conversations_listed(app, world, fixtures):
    _conversation(app, world)
    admin = logged_in(app, world.logins["admin"])
    url = f"/messages/export/{world.ids['teacher']}"
    _sent(_post(admin, url, url, {"justification": JUSTIFICATION}), 200)
    return "admin"


def conversation_exported(app, world, fixtures):
    thread_id = _conversation(app, world)
    admin = logged_in(app, world.logins["admin"])
    url = f"/messages/export/{world.ids['teacher']}"
    _sent(_post(admin, f"{url}/{thread_id}", url, {"justification": JUSTIFICATION}), 200)
    return "admin"


def _new_group(app, world, **fields) -> int:
    """A group made on the direction's screen; its id."""
    admin = logged_in(app, world.logins["admin"])
    data = {"kind": "manual", "name": "Chorale", "description": "", "profile": "", **fields}
    _sent(_post(admin, "/admin/groups/", "/admin/groups/", data))
    with in_english(app):
        return db.session.scalar(select(func.max(Group.id)).where(Group.name == data["name"]))


def group_created(app, world, fixtures):
    _new_group(app, world)
    return "admin"


def group_changed(app, world, fixtures):
    url = f"/admin/groups/{_new_group(app, world)}"
    admin = logged_in(app, world.logins["admin"])
    _sent(_post(admin, url, url, {"name": "Chorale du collège", "description": "Le mardi"}))
    return "admin"


def group_members_changed(app, world, fixtures):
    url = f"/admin/groups/{_new_group(app, world)}"
    admin = logged_in(app, world.logins["admin"])
    data = {"profile": "pupil", "source": str(world.groups["5B"])}
    _sent(_post(admin, f"{url}/add-from", url, data), 200)  # previewed first
    _sent(_post(admin, f"{url}/add-from", url, {**data, "confirmed": "1"}))
    return "admin"


def _group_ended(app, world, how: str):
    url = f"/admin/groups/{_new_group(app, world)}"
    admin = logged_in(app, world.logins["admin"])
    _sent(_post(admin, f"{url}/end/{how}", url), 200)  # previewed first
    _sent(_post(admin, f"{url}/end/{how}", url, {"confirmed": "1"}))
    return "admin"


def group_archived(app, world, fixtures):
    return _group_ended(app, world, "archive")


def group_deleted(app, world, fixtures):
    return _group_ended(app, world, "delete")


def list_rule_changed(app, world, fixtures):
    list_id = _new_group(app, world, kind="broadcast_list", name="Parents", profile="parent")
    url = f"/admin/groups/{list_id}"
    admin = logged_in(app, world.logins["admin"])
    data = {"mode": "defined", "sources": str(world.groups["5B"]), "rank": "1"}
    _sent(_post(admin, f"{url}/list-rule", url, data))
    return "admin"


def _identity_provider(app, world) -> int:
    with app.app_context():
        made = provider(world.school)
        db.session.commit()
        return made.id


def sso_provider_saved(app, world, fixtures):
    with app.app_context():
        _allow_private()
    admin = logged_in(app, world.logins["admin"])
    data = {"kind": "cas", "name": "ENT", "url": "http://127.0.0.1:9/cas", "enabled": "y"}
    _sent(_post(admin, "/providers/new", "/providers/new", data))
    return "admin"


def sso_provider_deleted(app, world, fixtures):
    provider_id = _identity_provider(app, world)
    admin = logged_in(app, world.logins["admin"])
    _sent(_post(admin, f"/providers/{provider_id}/delete", f"/providers/{provider_id}"))
    return "admin"


def _linked(app, world) -> tuple:
    provider_id = _identity_provider(app, world)
    admin = logged_in(app, world.logins["admin"])
    page = f"/admin/users/{world.ids['teacher']}"
    data = {"link-provider": provider_id, "link-subject": "ent.teacher"}
    _sent(_post(admin, f"{page}/identities", page, data))
    return admin, page


def sso_linked(app, world, fixtures):
    _linked(app, world)
    return "admin"


def sso_unlinked(app, world, fixtures):
    admin, page = _linked(app, world)
    with app.app_context():
        link_id = db.session.scalar(select(ExternalIdentity.id))
    _sent(_post(admin, f"{page}/identities/{link_id}/unlink", page))
    return "admin"


def sso_refused(app, world, fixtures):
    """Nobody is logged in: the provider's school keeps the entry, without an actor."""
    provider_id = _identity_provider(app, world)
    anonymous = app.test_client()
    anonymous.get(f"/login/provider/{provider_id}")
    _sent(anonymous.get("/login/provider/back?ticket=ST-1"))
    return None


ACTIONS = {
    AuditTag.SSO_PROVIDER_SAVED: sso_provider_saved,
    AuditTag.SSO_PROVIDER_DELETED: sso_provider_deleted,
    AuditTag.SSO_LINKED: sso_linked,
    AuditTag.SSO_UNLINKED: sso_unlinked,
    AuditTag.SSO_REFUSED: sso_refused,
    AuditTag.HOMEWORK_DELETED: homework_deleted,
    AuditTag.RULE_ADDED: rule_added,
    AuditTag.RULE_REMOVED: rule_removed,
    AuditTag.INTERNAL_CHANGED: internal_changed,
    AuditTag.ALERT_RULE_SAVED: alert_rule_saved,
    AuditTag.ALERT_RULE_DELETED: alert_rule_deleted,
    AuditTag.WEBHOOK_SAVED: webhook_saved,
    AuditTag.WEBHOOK_SECRET_ROTATED: webhook_rotated,
    AuditTag.WEBHOOK_DELETED: webhook_deleted,
    AuditTag.WEBHOOK_SETTINGS_CHANGED: webhook_settings_changed,
    AuditTag.EVENT_TYPE_SAVED: event_type_saved,
    AuditTag.EVENT_TYPE_DELETED: event_type_deleted,
    AuditTag.SECOND_FACTOR_ENROLLED: second_factor_enrolled,
    AuditTag.SECOND_FACTOR_REMOVED: second_factor_removed,
    AuditTag.SECOND_FACTOR_RECOVERY_USED: second_factor_recovery_used,
    AuditTag.ABSENCE_REASON_SAVED: absence_reason_saved,
    AuditTag.ABSENCE_REASON_DELETED: absence_reason_deleted,
    AuditTag.FILE_EVENT_RECORDED: file_event_recorded,
    AuditTag.FILE_EVENT_CHANGED: file_event_changed,
    AuditTag.FILE_EVENT_DELETED: file_event_deleted,
    AuditTag.SCHOOL_SETTINGS_CHANGED: school_settings_changed,
    AuditTag.SMS_PROVIDER_CHANGED: sms_provider_changed,
    AuditTag.SMS_ACTION_SAVED: sms_action_saved,
    AuditTag.SMS_ACTION_DELETED: sms_action_deleted,
    AuditTag.SMS_CONSENT_CHANGED: sms_consent_changed,
    AuditTag.MAIL_SETTINGS_CHANGED: mail_settings_changed,
    AuditTag.CONVERSATIONS_LISTED: conversations_listed,
    AuditTag.CONVERSATION_EXPORTED: conversation_exported,
    AuditTag.GROUP_CREATED: group_created,
    AuditTag.GROUP_CHANGED: group_changed,
    AuditTag.GROUP_MEMBERS_CHANGED: group_members_changed,
    AuditTag.GROUP_ARCHIVED: group_archived,
    AuditTag.GROUP_DELETED: group_deleted,
    AuditTag.LIST_RULE_CHANGED: list_rule_changed,
}


class Fixtures:
    """The webmaster's login, and the SMS set-up asked for only by the SMS actions."""

    def __init__(self, request, webmaster: str):
        self.request, self.webmaster = request, webmaster

    def sms(self):
        return self.request.getfixturevalue("sms_school")

    def twilio(self):
        return self.request.getfixturevalue("twilio")


def _entries(app, tag: AuditTag) -> list[tuple[int | None, int | None]]:
    """Who wrote each entry of this kind, and for which school, oldest first."""
    with in_english(app):
        found = select(AuditEntry.actor_id, AuditEntry.school_id).where(AuditEntry.tag == tag.value)
        return [tuple(row) for row in db.session.execute(found.order_by(AuditEntry.id))]


def _table(answer) -> str:
    found = re.search(r'<table class="audit-entries">.*?</table>', text(answer), re.S)
    return found.group(0) if found else ""


def test_every_sensitive_action_of_the_earlier_issues_is_tried_here():
    assert set(ACTIONS) == set(AuditTag) - ADMINISTRATION


@pytest.mark.parametrize("tag", list(ACTIONS), ids=lambda tag: tag.value)
def test_each_sensitive_action_is_in_the_audit_log(app, world, webmaster, request, tag):
    before = len(_entries(app, tag))
    actor = ACTIONS[tag](app, world, Fixtures(request, webmaster))
    after = _entries(app, tag)
    assert len(after) > before
    actor_id, school_id = after[-1]
    if actor == "webmaster":  # a setting of the whole platform: the webmaster's log
        assert school_id is None
        client, url, name = logged_in(app, webmaster), "/webmaster/audit/", "Wanda Webmestre"
    else:
        assert (actor_id, school_id) == (world.ids.get(actor), world.school)
        client, url = logged_in(app, world.logins["admin"]), "/admin/audit/"
        name = NAMES[actor] if actor else ""
    answer = client.get(url, query_string={"kind": tag.value}, headers=EN)
    assert answer.status_code == 200
    table = _table(answer)
    with in_english(app):
        label = str(escape(tag_label(tag)))
    assert table.count("<time ") == len(after)
    assert table.count(label) == len(after) and name in table


def test_no_secret_reaches_the_log(app, world, webmaster, request):
    """The webhook's secret, shown once when made and when replaced, and the SMS provider's
    password are kept out of every entry, the page and the export."""
    fixtures = Fixtures(request, webmaster)
    endpoint_id = _new_webhook(app, world)
    admin = logged_in(app, world.logins["admin"])
    url = f"/alerts/webhooks/{endpoint_id}"
    _sent(_post(admin, f"{url}/rotate", url), 303)
    shown = re.search(r"whsec_[A-Za-z0-9+/=]{40,}", text(admin.get(f"{url}/secret")))
    fixtures.sms()
    password = "Sup3r-Secret-Token-4711-ZZ"
    data = {
        "kind": "twilio",
        "account_key": ACCOUNT,
        "secret": password,
        "sender": "College",
        "api_url": fixtures.twilio().url,
    }
    _sent(_post(admin, "/admin/sms/", "/admin/sms/", data))
    page = text(admin.get("/admin/audit/", headers=EN))
    export = admin.post(
        "/admin/audit/export.csv", data={"csrf_token": csrf_token(admin, "/admin/audit/")}
    ).data.decode("utf-8-sig")
    with in_english(app):
        details = json.dumps([e.details for e in db.session.scalars(select(AuditEntry))])
    assert "Secret replaced" in page  # the fact is kept, never the value
    for secret in (shown.group(0), shown.group(0)[6:], password):
        for where in (details, page, export):
            assert secret not in where
    assert "whsec_" not in details + page + export
