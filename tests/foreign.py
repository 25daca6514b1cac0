"""School B for the authorization matrix: one live object of every kind a route takes the id of,
made through the product's services as the school itself would make them.

``build()`` returns, for each argument name of the app's URLs, the id of one of B's objects of
that kind; a user of another school asking for it must get 403, 404 or the login page, never
the object. Because every id is real and reachable by B's own people (tests/test_foreign.py
proves it), a 404 seen by school A comes from the school check, not from a missing row.

The people of B, with the class they share:

- the direction (admin), the school life office (staff), the teacher of 5B;
- Léo, a pupil of 5B, whose guardian 1 Nadia accepts SMS and has a mobile; Léo has a tutor.

What B holds: a message from the teacher to Nadia and Léo with a PDF attached, delivered (so
Nadia has its notification), a scheduled one and a draft; news with Nadia's comment; homework;
a flash message; yesterday's 5B session with Léo absent, then late: its SMS left while he was
counted absent and now waits to be corrected; an alert rule that fired for him; a webhook
endpoint with a test delivery; an SMS provider and action; a pupil file event of a type of B's
own; a previewed import and a column mapped for its staff files; a communication rule added
by the direction.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.accounts import contact
from portal.accounts.models import (
    ExternalIdentity,
    IdentityProvider,
    LoginSession,
    ProviderKind,
)
from portal.attendance import absence_sms, alert_rules, alerts, reasons
from portal.attendance import services as attendance
from portal.attendance.models import AttendanceMark, MarkKind
from portal.content import announcements, homework
from portal.core import clock, outbox, settings
from portal.extensions import db
from portal.groups import people, saved
from portal.groups import rules as communication
from portal.groups import services as groups
from portal.groups.models import CommunicationRule, GroupKind
from portal.imports import services as imports
from portal.imports.models import ImportMapping
from portal.liaison import justifications, notes
from portal.liaison.models import Asks
from portal.messaging import attachments, flash
from portal.messaging import services as messaging
from portal.notifications.models import Notification
from portal.pupil_files import event_types
from portal.pupil_files import services as files
from portal.sms import services as sms
from portal.sms import setup as sms_setup
from portal.webhooks import services as webhooks
from tests import factories as make
from tests.imports.files import csv_bytes

#: The smallest PDF the attachment check accepts.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
#: Nadia's mobile; SMS to it never leave the machine (the provider's address is a closed port).
MOBILE = "+33612345678"
#: The Twilio-compatible provider of B: the token signs its callbacks.
SMS_ACCOUNT = "ACb0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
SMS_TOKEN = "tok-school-b-0123456789abcdef"
SMS_API = "http://127.0.0.1:9"
#: Where B's webhook points: a closed port on loopback, so nothing is ever received.
WEBHOOK_URL = "http://127.0.0.1:9/carnet"


def _people() -> tuple:
    school = make.school("Collège B")
    admin = make.user(school, "admin", first_name="Bérénice", last_name="Direction")
    staff = make.user(school, "staff", first_name="Bastien", last_name="Scolarité")
    teacher = make.user(school, "teacher", first_name="Boris", last_name="Professeur")
    class_5b = make.school_class(school, "5B", teacher)
    pupil = make.user(school, "pupil", first_name="Léo", last_name="Bernard")
    groups.add_member(class_5b, pupil)
    parent = make.user(school, "parent", first_name="Nadia", last_name="Bernard")
    link = people.link_guardian(parent, pupil, 1, financial=True, accepts_sms=True)
    contact.set_mobile(parent, MOBILE)
    return school, admin, staff, teacher, class_5b, pupil, parent, link


def _messages(teacher, parent, pupil) -> dict[str, int]:
    """A message with a file, delivered as the worker would; a scheduled one; a draft."""
    pdf = attachments.store(teacher, FileStorage(io.BytesIO(PDF), filename="sortie.pdf"))
    to = [f"user:{parent.id}", f"user:{pupil.id}"]
    message = messaging.send(
        teacher,
        to=to,
        subject="Sortie au musée",
        body="<p>Signez l'autorisation.</p>",
        files=[pdf.id],
    )
    later = messaging.send(
        teacher,
        to=to,
        subject="Rappel",
        body="<p>N'oubliez pas.</p>",
        send_at=clock.now() + dt.timedelta(days=2),
    )
    draft = messaging.save_draft(teacher, to=to, subject="Brouillon", text="À finir")
    ids = {
        "message_id": message.id,
        "message_id@scheduled": later.id,
        "message_id@draft": draft.id,
        "attachment_id": pdf.id,
        "thread_id": message.thread_id,
    }
    item_id = message.delivery_item_id
    db.session.commit()
    outbox.run_item(item_id)  # the delivery job, here: inbox rows and notifications
    ids["notification_id"] = db.session.scalar(
        select(Notification.id).where(
            Notification.recipient_id == parent.id, Notification.type == "message"
        )
    )
    return ids


def _content(admin, teacher, parent, class_5b) -> dict[str, int]:
    now = clock.now()
    news = announcements.publish(
        teacher,
        announcements.AnnouncementInput(
            title="Sortie au musée",
            body="<p>Jeudi, la 5B visite le musée.</p>",
            profiles=["parent", "pupil"],
            group_ids=[class_5b.id],
            publish_at=None,
            expires_at=None,
            comments_allowed=True,
        ),
    )
    comment = announcements.add_comment(parent, news, "Merci !")
    work = homework.set_homework(
        teacher,
        homework.HomeworkInput(
            group=class_5b,
            title="Exercices page 12",
            description="<p>Dans le cahier.</p>",
            due_on=clock.today(admin.school.timezone) + dt.timedelta(days=3),
            visible_from=None,
        ),
    )
    news_flash = flash.create(
        admin,
        flash.FlashInput(
            title="Grève jeudi",
            body="<p>Le collège ferme jeudi.</p>",
            profiles=["parent"],
            group_ids=[],
            starts_at=None,
            ends_at=now + dt.timedelta(days=2),
        ),
    )
    return {
        "announcement_id": news.id,
        "comment_id": comment.id,
        "homework_id": work.id,
        "flash_id": news_flash.id,
    }


def _sms_setup(admin):
    provider = sms_setup.save_provider(
        admin,
        sms_setup.ProviderInput(
            kind="twilio",
            account_key=SMS_ACCOUNT,
            secret=SMS_TOKEN,
            sender="0146000000",
            api_url=SMS_API,
        ),
    )
    action = sms_setup.save_action(
        admin,
        sms_setup.ActionInput(
            short_label="SMS",
            long_label="Envoi de SMS",
            template="{school} : {pupil} ({class}) absent le {date} de {start} à {end}.",
            response_days=2,
        ),
    )
    return provider, action


def _attendance(admin, teacher, pupil, class_5b, action) -> dict[str, int]:
    """Yesterday's 5B session: Léo absent, his SMS sent, then he turns out to have been late
    (the SMS that left is now to correct); the alert rule 'absent at all' fires for him."""
    school = admin.school
    yesterday = (clock.now().astimezone(ZoneInfo(school.timezone)) - dt.timedelta(days=1)).date()
    (session,) = attendance.schedule(admin, class_5b, teacher, yesterday, dt.time(10), dt.time(11))
    mark = attendance.record(teacher, session, pupil, MarkKind.ABSENT)
    (texted,) = absence_sms.queue_for_mark(admin, mark, action, ["guardian1"])
    sms.send(admin, [texted.id])
    rule = alert_rules.save(
        admin,
        alert_rules.RuleInput(
            name="Absent au moins une fois",
            colour="#b91c1c",
            population="pupil",
            metric="sessions_missed",
            counted="all",
            trigger="more",
            low=0,
            high=None,
            period_amount=30,
            period_unit="days",
        ),
    )
    (alert,) = alerts.evaluate(rule, [pupil.id])
    mark = attendance.record(teacher, session, pupil, MarkKind.LATE, 10)
    return {
        "session_id": session.id,
        "mark_id": mark.id,
        "sms_id": texted.id,
        "rule_id@alert_rules": rule.id,
        "alert_id": alert.id,
    }


def _webhook(admin) -> dict[str, int]:
    """An endpoint on a closed loopback port (private addresses are allowed only while it is
    made) and its test delivery."""
    before = settings.current().webhooks_private_allowed
    settings.save(webhooks_private_allowed=True)
    endpoint, _secret = webhooks.create(admin, WEBHOOK_URL, "Vie scolaire B")
    settings.save(webhooks_private_allowed=before)
    delivery = webhooks.send_test(admin, endpoint)
    return {"endpoint_id": endpoint.id, "delivery_id": delivery.id}


def _pupil_file(admin, pupil) -> dict[str, int]:
    """An event type of B's own, and a meeting of that type in Léo's file today."""
    kind = event_types.create_type(admin, event_types.TypeInput(name="Entretien de suivi"))
    event = files.record(
        admin,
        pupil,
        kind,
        files.EventInput(day=clock.today(admin.school.timezone), comment="Premier entretien."),
    )
    return {"type_id": kind.id, "event_id": event.id}


def _communication_rule(admin, school, class_5b) -> int:
    """The direction lets 5B write to the pupils' council."""
    council = groups.create_group(school, GroupKind.MANUAL, "Conseil de vie collégienne")
    communication.add_rule(admin, class_5b, council, confirmed=True)
    return db.session.scalar(
        select(CommunicationRule.id).where(
            CommunicationRule.source_group_id == class_5b.id,
            CommunicationRule.target_group_id == council.id,
        )
    )


def build() -> dict:
    """Make school B and everything in it (commits); the id of one of B's objects for each URL
    argument name, plus ``logins`` (B's people by profile) and ``school``.

    ``rule_id`` names two kinds: ``rule_id@alert_rules`` (/alerts/rules/<rule_id>/...) and
    ``rule_id@rules`` (/rules/<rule_id>/remove); plain ``rule_id`` is the alert rule.
    ``message_id@scheduled`` and ``message_id@draft`` are the teacher's other messages."""
    school, admin, staff, teacher, class_5b, pupil, parent, link = _people()
    provider, action = _sms_setup(admin)
    ids: dict = {
        "school_id": school.id,
        "group_id": class_5b.id,
        "user_id": pupil.id,
        "pupil_id": pupil.id,
        "person_id": pupil.id,
        "link_id": link.id,
        "provider_id": provider.id,
        "action_id": action.id,
    }
    ids["tutor_id"] = attendance.add_tutor(pupil, "Marc Tuteur", "marc.tuteur@example.org").id
    ids |= _content(admin, teacher, parent, class_5b)
    ids |= _attendance(admin, teacher, pupil, class_5b, action)
    ids["rule_id"] = ids["rule_id@alert_rules"]
    ids["rule_id@rules"] = _communication_rule(admin, school, class_5b)
    ids["group_id@manage_groups"] = db.session.scalar(
        select(CommunicationRule.target_group_id).where(
            CommunicationRule.id == ids["rule_id@rules"]
        )
    )
    ids["list_id"] = saved.save(teacher, "Mes 5B", [f"user:{parent.id}"]).id
    ids["note_id"] = notes.write(
        teacher,
        title="Sortie au musée",
        body="<p>Merci de confirmer.</p>",
        asks=Asks.CONFIRMATION,
        group_ids=[class_5b.id],
    ).id
    ids["reason_id"] = reasons.reasons_of(school.id)[0].id
    ids["justification_id"] = justifications.submit(
        parent,
        pupil,
        reason_id=ids["reason_id"],
        comment="Rendez-vous chez le médecin",
        mark=db.session.get(AttendanceMark, ids["mark_id"]),
    ).id
    elsewhere = LoginSession(user_id=parent.id, token_digest="b" * 64, user_agent="Firefox")
    db.session.add(elsewhere)
    db.session.flush()
    ids["session_id"] = elsewhere.id  # the parent's session on another device
    provider = IdentityProvider(
        school_id=school.id, kind=ProviderKind.CAS, name="ENT", url="http://127.0.0.1:9/cas"
    )
    db.session.add(provider)
    db.session.add(
        ExternalIdentity(provider=provider, user=pupil, subject="ent-pupil", linked_by="import")
    )
    db.session.flush()
    ids["provider_id@providers"] = provider.id  # an identity provider; plain provider_id is SMS's
    ids["identity_id"] = db.session.scalar(select(ExternalIdentity.id))
    ids |= _webhook(admin)
    ids |= _pupil_file(admin, pupil)
    run = imports.upload(
        admin,
        "staff",
        "siecle",
        "enseignants.csv",
        csv_bytes(["Nom", "Prénom", "Fonction", "Tel perso"], [["Noir", "Ada", "ENS", "06"]]),
    )
    imports.map_columns(admin, run, {3: "mobile"})
    ids["run_id"] = run.id
    ids["position"] = 3  # the run's column B mapped (a place in the file, not an object)
    ids["mapping_id"] = db.session.scalar(select(ImportMapping.id))
    logins = {
        "admin": admin.login,
        "staff": staff.login,
        "teacher": teacher.login,
        "parent": parent.login,
        "pupil": pupil.login,
    }
    ids |= _messages(teacher, parent, pupil)  # commits, then delivers
    db.session.commit()
    return {**ids, "logins": logins, "school": ids["school_id"]}
