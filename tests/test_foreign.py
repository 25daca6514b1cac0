"""School B of the authorization matrix (tests/foreign.py) is real: each id it hands out opens,
for B's own people, the page or action of its kind. Another school's 404 on these ids then
comes from the school check, not from a row that isn't there."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from portal.accounts.models import (
    ExternalIdentity,
    Guardianship,
    IdentityProvider,
    LoginSession,
    School,
    User,
)
from portal.attendance.models import (
    AbsenceReason,
    Alert,
    AlertRule,
    AttendanceMark,
    ClassSession,
    PupilContact,
)
from portal.content.models import Announcement, AnnouncementComment, Homework
from portal.extensions import db
from portal.groups.models import CommunicationRule, Group, SavedList
from portal.imports.models import ImportMapping, ImportRun
from portal.liaison.models import Justification, LiaisonNote
from portal.messaging.models import Attachment, FlashMessage, Message
from portal.notifications.models import Notification
from portal.pupil_files.models import FileEvent, FileEventType
from portal.sms.models import Sms, SmsAction, SmsProvider
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests import factories as make
from tests import foreign
from tests.sms.twilio import twilio_signature
from tests.web import csrf_token, logged_in, text

EN = {"Accept-Language": "en"}
#: URL arguments that are not ids of a school's objects.
NOT_IDS = {"filename", "how", "job_id", "key", "kind", "name", "queue", "token"}
#: The kinds of object that carry their school themselves.
OWNED = {
    "action_id": SmsAction,
    "alert_id": Alert,
    "announcement_id": Announcement,
    "attachment_id": Attachment,
    "delivery_id": WebhookDelivery,
    "endpoint_id": WebhookEndpoint,
    "event_id": FileEvent,
    "flash_id": FlashMessage,
    "group_id": Group,
    "homework_id": Homework,
    "justification_id": Justification,
    "reason_id": AbsenceReason,
    "mark_id": AttendanceMark,
    "message_id": Message,
    "message_id@scheduled": Message,
    "message_id@draft": Message,
    "notification_id": Notification,
    "person_id": User,
    "pupil_id": User,
    "user_id": User,
    "provider_id": SmsProvider,
    "provider_id@providers": IdentityProvider,
    "rule_id@alert_rules": AlertRule,
    "run_id": ImportRun,
    "mapping_id": ImportMapping,
    "session_id": ClassSession,
    "sms_id": Sms,
    "thread_id": Message,
    "type_id": FileEventType,
}


@pytest.fixture(autouse=True)
def _no_attachments(app):
    """School B's PDF is stored in the attachment folder: it goes with the test."""
    yield
    shutil.rmtree(app.config["ATTACHMENT_DIR"], ignore_errors=True)


@pytest.fixture
def school_b(app):
    with app.app_context():
        webmaster = make.user(None, "webmaster").login
        db.session.commit()
        return foreign.build(), webmaster


def _get(client, url: str, expected: int = 200) -> str:
    answer = client.get(url, headers=EN)
    assert answer.status_code == expected, (url, answer.status_code, text(answer)[:300])
    return text(answer)


def _post(client, url: str, page: str, data: dict | None = None, expected: int = 302):
    token = csrf_token(client, page)
    answer = client.post(url, data={"csrf_token": token, **(data or {})}, headers=EN)
    assert answer.status_code == expected, (url, answer.status_code, text(answer)[:300])
    return answer


def test_every_id_of_school_b_opens_for_its_own_people(app, school_b):
    ids, webmaster = school_b
    every_argument = {
        argument for rule in app.url_map.iter_rules() for argument in rule.arguments
    } - NOT_IDS
    assert every_argument <= set(ids), every_argument - set(ids)
    assert all(isinstance(ids[a], int) for a in every_argument)
    assert ids["school"] == ids["school_id"] and ids["rule_id"] == ids["rule_id@alert_rules"]
    assert set(ids["logins"]) == {"admin", "staff", "teacher", "parent", "pupil"}
    reached: set[str] = set()  # the arguments whose id was seen to open its page or action

    admin = logged_in(app, ids["logins"]["admin"])
    for argument, url in (
        ("action_id", "/admin/sms/actions/{}"),
        ("endpoint_id", "/alerts/webhooks/{}"),
        ("rule_id@alert_rules", "/alerts/rules/{}/edit"),
        ("announcement_id", "/announcements/{}"),
        ("homework_id", "/homework/{}"),
        ("pupil_id", "/files/{}"),
        ("event_id", "/files/events/{}/edit"),
        ("flash_id", "/flash/{}"),
        ("run_id", "/admin/imports/{}"),
        ("type_id", "/admin/events/{}/edit"),
        ("user_id", "/admin/users/{}"),
        ("person_id", "/attendance/people/{}"),
        ("group_id", "/groups/{}"),
        ("mark_id", "/sms/marks/{}"),
        ("notification_id", "/notifications/audit/{}"),
        ("group_id@manage_groups", "/admin/groups/{}"),
        ("note_id", "/liaison/{}"),
        ("justification_id", "/liaison/justifications/{}"),
        ("provider_id@providers", "/providers/{}"),
    ):
        _get(admin, url.format(ids[argument]))
        reached.add(argument)
    # Ids that only appear as the action of a form: on the page of the object they belong to.
    record = _get(admin, f"/admin/users/{ids['user_id']}")
    for argument, action in (
        ("tutor_id", f"/tutors/{ids['tutor_id']}/delete"),
        ("link_id", f"/sms/consent/{ids['link_id']}"),
        ("identity_id", f"/identities/{ids['identity_id']}/unlink"),
    ):
        assert action in record
        reached.add(argument)
    for argument, page, action in (
        ("comment_id", f"/announcements/{ids['announcement_id']}", "/comments/{}/remove"),
        ("alert_id", "/alerts/", "/alerts/{}/archive"),
        ("reason_id", "/attendance/reasons", "/attendance/reasons/{}/delete"),
        ("sms_id", f"/sms/marks/{ids['mark_id']}", "/sms/{}/correct"),
        ("rule_id@rules", f"/rules/groups/{ids['group_id']}", "/rules/{}/remove"),
        ("mapping_id", "/admin/imports/", "/admin/imports/mappings/{}/undo"),
        ("position", f"/admin/imports/{ids['run_id']}", "/columns/{}/undo"),
    ):
        assert action.format(ids[argument]) in _get(admin, page), argument
        reached.add(argument)
    # And the actions themselves, where they change nothing that matters here.
    rules_page = f"/rules/groups/{ids['group_id']}"
    _post(admin, f"/rules/{ids['rule_id@rules']}/remove", rules_page, expected=200)  # confirm?
    webhook = f"/alerts/webhooks/{ids['endpoint_id']}"
    _post(admin, f"{webhook}/deliveries/{ids['delivery_id']}/again", webhook)
    assert "Only a finished delivery" in _get(admin, webhook)  # it is still pending
    reached.add("delivery_id")
    _post(admin, f"/sms/{ids['sms_id']}/correct", "/sms/")
    export = f"/messages/export/{ids['user_id']}"
    reason = {"justification": "Demande écrite de la famille, dossier 2026-14"}
    exported = _post(admin, f"{export}/{ids['thread_id']}", export, reason, expected=200)
    assert "Sortie au musée" in text(exported)
    reached.add("thread_id")

    teacher = logged_in(app, ids["logins"]["teacher"])
    _get(teacher, f"/messages/{ids['message_id']}")
    _get(teacher, f"/messages/{ids['message_id@scheduled']}")
    _get(teacher, f"/messages/{ids['message_id@draft']}", expected=302)  # opens the editor
    _get(teacher, f"/attendance/sessions/{ids['session_id']}/register")
    assert f"/directory/lists/{ids['list_id']}" in _get(teacher, "/directory/lists")
    reached.add("list_id")
    reached |= {"message_id", "message_id@scheduled", "message_id@draft", "session_id"}

    parent = logged_in(app, ids["logins"]["parent"])
    assert "Sortie au musée" in _get(parent, f"/messages/{ids['message_id']}")
    with parent.get(f"/messages/{ids['message_id']}/files/{ids['attachment_id']}") as pdf:
        assert (pdf.status_code, pdf.data) == (200, foreign.PDF)
    opened = parent.get(f"/notifications/{ids['notification_id']}")
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"/messages/{ids['message_id']}")
    _get(parent, f"/parent/children/{ids['pupil_id']}")
    reached.add("attachment_id")
    _post(parent, f"/account/sessions/{ids['session_id']}/end", "/account")
    reached.add("session_id")

    _get(logged_in(app, ids["logins"]["staff"]), f"/attendance/people/{ids['person_id']}")
    _get(logged_in(app, ids["logins"]["pupil"]), f"/homework/{ids['homework_id']}")
    _get(logged_in(app, webmaster), f"/webmaster/schools/{ids['school_id']}")
    reached.add("school_id")

    # The provider's callback, signed with B's token, is taken (an unknown SMS: 202).
    url = f"/sms/hooks/{ids['provider_id']}/reports"
    fields = {"MessageSid": "SM-unknown", "MessageStatus": "delivered"}
    signature = twilio_signature(foreign.SMS_TOKEN, app.config["PUBLIC_URL"] + url, fields)
    hook = app.test_client().post(url, data=fields, headers={"X-Twilio-Signature": signature})
    assert hook.status_code == 202
    reached.add("provider_id")

    with app.app_context():
        corrections = db.session.scalar(
            select(func.count(Sms.id)).where(Sms.corrects_id == ids["sms_id"])
        )
        rules_left = db.session.scalar(
            select(func.count(CommunicationRule.id)).where(
                CommunicationRule.id == ids["rule_id@rules"]
            )
        )
    assert (corrections, rules_left) == (1, 1)
    plain = {argument.split("@")[0] for argument in reached}
    assert plain == every_argument, every_argument - plain
    # Every id handed out was seen at work (plain rule_id is the alert rule's, seen above).
    assert reached == set(ids) - {"logins", "school", "rule_id"}


def test_school_b_is_built_beside_the_world_school_on_its_frozen_monday(app, world):
    """As the matrix builds it: beside school A, the clock frozen. Each id is of B, and the
    pairs the routes take together belong together."""
    with app.app_context():
        ids = foreign.build()
        school = ids["school"]
        assert school != world.school

        def get(model, argument):
            found = db.session.get(model, ids[argument])
            assert found is not None, argument
            return found

        owners = {argument: get(model, argument).school_id for argument, model in OWNED.items()}
        owners |= {
            "school_id": get(School, "school_id").id,
            "comment_id": db.session.get(
                Announcement, get(AnnouncementComment, "comment_id").announcement_id
            ).school_id,
            "link_id": get(Guardianship, "link_id").pupil.school_id,
            "tutor_id": db.session.get(User, get(PupilContact, "tutor_id").pupil_id).school_id,
            "rule_id@rules": get(CommunicationRule, "rule_id@rules").source.school_id,
            "group_id@manage_groups": get(Group, "group_id@manage_groups").school_id,
            "list_id": db.session.get(User, get(SavedList, "list_id").owner_id).school_id,
            "note_id": get(LiaisonNote, "note_id").school_id,
            "session_id": db.session.get(User, get(LoginSession, "session_id").user_id).school_id,
            "identity_id": get(ExternalIdentity, "identity_id").user.school_id,
        }
        assert get(Attachment, "attachment_id").message_id == ids["message_id"]
        assert get(WebhookDelivery, "delivery_id").endpoint_id == ids["endpoint_id"]
        assert get(PupilContact, "tutor_id").pupil_id == ids["user_id"]
        assert get(Message, "message_id").thread_id == ids["thread_id"]
        assert get(AttendanceMark, "mark_id").session_id == ids["session_id"]
        assert get(Sms, "sms_id").mark_id == ids["mark_id"]
        told = db.session.get(User, get(Notification, "notification_id").recipient_id)
        assert told.login == ids["logins"]["parent"]
    assert {argument: owner for argument, owner in owners.items() if owner != school} == {}
    assert set(owners) == set(ids) - {"logins", "school", "rule_id", "position"}
