"""Who gets an SMS and what happens after (SPEC §8, §12): a guardian without consent or without
a valid mobile gets none, and the screen says why before anything is queued; STOP withdraws the
consent, is recorded and shown on the guardian's record, and stops the next SMS; an absence
cancelled or turned into a lateness withdraws its queued SMS, or offers a correction once it
left; a reply lands on the pupil's attendance record; an unanswered absence alerts the staff;
a flash message goes by SMS to the guardians who accept it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.accounts.models import Guardianship
from portal.attendance import absence_sms, reasons
from portal.attendance import services as attendance
from portal.attendance.models import AttendanceMark, ClassSession, MarkKind
from portal.core import clock
from portal.core.errors import ValidationError
from portal.core.outbox import OutboxItem
from portal.extensions import db
from portal.liaison import justifications
from portal.messaging import flash
from portal.notifications.models import Notification
from portal.sms import inbound, recipients, services
from portal.sms.models import Sms, SmsAction, SmsOptOut, SmsReply, SmsState
from tests.attendance.test_alerts import _mark
from tests.school import in_english, person
from tests.sms.conftest import ANNE
from tests.sms.twilio import twilio_signature
from tests.web import csrf_token, logged_in, text

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}


def _last_mark() -> AttendanceMark:
    return db.session.scalars(select(AttendanceMark).order_by(AttendanceMark.id.desc())).first()


def _queue(world, sms_school, recipients=("guardian1",)) -> list[Sms]:
    queued = absence_sms.queue_for_mark(
        person(world, "staff"),
        _last_mark(),
        db.session.get(SmsAction, sms_school.action),
        list(recipients),
    )
    db.session.commit()
    return queued


def _inbound(app, sms_school, phone: str, body: str, sid: str = "SM-in-1"):
    """A text from a family, posted and signed as Twilio posts inbound messages."""
    from tests.sms.conftest import TOKEN

    path = f"/sms/hooks/{sms_school.provider}/inbound"
    fields = {"From": phone, "To": "+33146000000", "Body": body, "MessageSid": sid}
    signature = twilio_signature(TOKEN, app.config["PUBLIC_URL"].rstrip("/") + path, fields)
    return app.test_client().post(path, data=fields, headers={"X-Twilio-Signature": signature})


def test_who_will_not_receive_it_is_said_before_anything_is_queued(app, world, sms_school):
    with in_english(app):
        _mark(world, "léa")
        mark_id = _last_mark().id
        lea = [(c.recipient, c.refusal) for c in recipients.candidates(person(world, "léa"))]
        assert lea == [
            ("guardian1", None),
            ("guardian2", "Does not accept SMS."),
            ("pupil", "No mobile number."),
        ]
        hugo = [c.refusal for c in recipients.candidates(person(world, "hugo"))]
        assert hugo == ["No mobile number.", "No guardian of this rank.", "No mobile number."]
        person(world, "hugo").mobile = "+33100"
        assert recipients.candidates(person(world, "hugo"))[2].refusal == (
            "The mobile number is not valid. “+33100” is too short for a phone number."
        )
        with pytest.raises(ValidationError) as refused:
            _queue(world, sms_school, ["guardian1", "guardian2"])
        assert (
            "Guardian 2 (Alain Martin): Does not accept SMS." in refused.value.errors["recipients"]
        )
        db.session.rollback()
        assert db.session.scalars(select(Sms)).all() == []
    staff = logged_in(app, world.logins["staff"])
    page = text(staff.get(f"/sms/marks/{mark_id}", headers=EN))
    assert "Will not receive it: Does not accept SMS." in page
    assert "Will not receive it: No mobile number." in page
    page = text(staff.get(f"/sms/marks/{mark_id}", headers=FR))
    assert "Ne le recevra pas : n’accepte pas les SMS." in page
    token = csrf_token(staff, f"/sms/marks/{mark_id}")
    answer = staff.post(
        f"/sms/marks/{mark_id}",
        data={"csrf_token": token, "action": sms_school.action, "recipients": ["guardian2"]},
        headers=EN,
    )
    assert answer.status_code == 400 and "Does not accept SMS." in text(answer)
    answer = staff.post(
        f"/sms/marks/{mark_id}",
        data={"csrf_token": token, "action": sms_school.action, "recipients": ["guardian1"]},
        headers=EN,
    )
    assert answer.status_code == 302
    with app.app_context():
        [sms] = db.session.scalars(select(Sms)).all()
        assert (sms.state, sms.phone, sms.recipient) == (SmsState.QUEUED, ANNE, "guardian1")


def test_stop_withdraws_consent_records_it_and_stops_the_next_sms(app, world, sms_school):
    for words in ("STOP", "Stop.", "stop sms", "Arrêt", "STOP 36180", " stop ! "):
        assert inbound.is_stop(words), words
    for words in ("Stop, elle est malade", "Elle arrive", "stopper le bus"):
        assert not inbound.is_stop(words), words
    assert _inbound(app, sms_school, ANNE, "Stop.").status_code == 200
    with in_english(app):
        anne = person(world, "anne")
        links = db.session.scalars(select(Guardianship).where(Guardianship.parent_id == anne.id))
        assert [link.accepts_sms for link in links] == [False, False]  # Léa's and Zoé's
        [stop] = db.session.scalars(select(SmsOptOut)).all()
        assert (stop.person_id, stop.phone, stop.words) == (anne.id, ANNE, "Stop.")
        _mark(world, "léa")
        refusal = recipients.candidates(person(world, "léa"))[0].refusal
        assert refusal == "Answered STOP on 11/23/26."
        with pytest.raises(ValidationError):
            _queue(world, sms_school)
    admin = logged_in(app, world.logins["admin"])
    page = text(admin.get(f"/admin/users/{world.ids['anne']}", headers=EN))
    assert "Answered “Stop.” from +33612345678" in page
    # The school records the consent again, on the pupil's record.
    token = csrf_token(admin, f"/admin/users/{world.ids['léa']}")
    link_id = sms_school.links[world.ids["anne"]]
    admin.post(f"/sms/consent/{link_id}", data={"csrf_token": token, "accepts": "1"})
    with in_english(app):
        assert recipients.candidates(person(world, "léa"))[0].reachable


def test_a_cancelled_absence_withdraws_its_queued_sms(app, world, sms_school):
    with in_english(app):
        _mark(world, "léa")
        mark = _last_mark()
        session, lea = mark.session, person(world, "léa")
        [first] = _queue(world, sms_school)
        attendance.record(person(world, "teacher"), session, lea, MarkKind.LATE, 10)
        db.session.commit()
        assert db.session.get(Sms, first.id).state == SmsState.WITHDRAWN
        assert db.session.get(Sms, first.id).error == "It became a late arrival."
        [second] = _queue(world, sms_school)  # about the lateness now
        attendance.record(person(world, "teacher"), session, lea, None)
        db.session.commit()
        assert db.session.get(Sms, second.id).state == SmsState.WITHDRAWN
        assert db.session.get(Sms, second.id).error == "The absence was cancelled."


def test_blocking_or_deleting_a_guardian_withdraws_the_sms_waiting_for_them(app, world, sms_school):
    from portal.admin import lifecycle

    with in_english(app):
        alain = person(world, "alain")
        alain.mobile = "+33622334455"
        db.session.scalars(
            select(Guardianship).where(Guardianship.parent_id == alain.id)
        ).one().accepts_sms = True
        db.session.commit()
        _mark(world, "léa")
        [to_anne, to_alain] = _queue(world, sms_school, ("guardian1", "guardian2"))
        lifecycle.block_person(person(world, "admin"), person(world, "anne"))
        db.session.commit()
        assert db.session.get(Sms, to_anne.id).state == SmsState.WITHDRAWN
        assert db.session.get(Sms, to_anne.id).error == "The person's account was blocked."
        assert db.session.get(Sms, to_alain.id).state == SmsState.QUEUED
        lifecycle.delete_person(person(world, "admin"), person(world, "alain"))
        db.session.commit()
        assert db.session.get(Sms, to_alain.id).state == SmsState.WITHDRAWN


def test_a_changed_absence_whose_sms_left_offers_a_correction(app, world, sms_school, worker):
    with in_english(app):
        _mark(world, "léa")
        mark = _last_mark()
        session_id = mark.session_id
        [sms] = _queue(world, sms_school)
        sms_id = sms.id
        services.send(person(world, "staff"), [sms.id])
        db.session.commit()
    worker()
    with in_english(app):
        session = db.session.get(ClassSession, session_id)
        attendance.record(person(world, "teacher"), session, person(world, "léa"), None)
        db.session.commit()
        left = db.session.get(Sms, sms_id)
        assert left.state == SmsState.SENT and left.outdated_reason == "The absence was cancelled."
        assert [s.id for s in services.to_correct(world.school)] == [sms_id]
    staff = logged_in(app, world.logins["staff"])
    page = text(staff.get("/sms/", headers=EN))
    assert "Events changed after their SMS left" in page and "Send a correcting SMS" in page
    answer = staff.post(
        f"/sms/{sms_id}/correct", data={"csrf_token": csrf_token(staff, "/sms/")}, headers=EN
    )
    assert answer.status_code == 302
    with in_english(app):
        correction = db.session.scalars(select(Sms).where(Sms.corrects_id == sms_id)).one()
        assert correction.state == SmsState.SENDING and correction.phone == ANNE
        # In the school's language, like the SMS it corrects.
        assert "rectificatif : Léa Martin était présent(e) le 23/11/2026" in correction.body
        assert services.to_correct(world.school) == []
    other = logged_in(app, world.logins["other_admin"])
    token = csrf_token(other, "/sms/")
    assert other.post(f"/sms/{sms_id}/correct", data={"csrf_token": token}).status_code == 404


def test_a_reply_lands_on_the_attendance_record_and_silence_alerts_the_staff(
    app, world, sms_school, worker
):
    with in_english(app):
        _mark(world, "léa")
        mark_id = _last_mark().id
        [sms] = _queue(world, sms_school)
        services.send(person(world, "staff"), [sms.id])
        db.session.commit()
        sms_id = sms.id
    worker()
    with in_english(app):
        [check] = db.session.scalars(select(OutboxItem).where(OutboxItem.kind == "sms_unanswered"))
        assert check.available_at - clock.now() == dt.timedelta(days=2)
        left = db.session.get(Sms, sms_id)
        assert absence_sms.unanswered(left)
    assert _inbound(app, sms_school, ANNE, "Elle est malade, certificat demain").status_code == 200
    assert _inbound(app, sms_school, ANNE, "Elle est malade, certificat demain").status_code == 200
    with in_english(app):
        [reply] = db.session.scalars(select(SmsReply)).all()  # the replayed one is kept once
        assert (reply.mark_id, reply.person_id) == (mark_id, world.ids["anne"])
        assert not absence_sms.unanswered(db.session.get(Sms, sms_id))
    staff = logged_in(app, world.logins["staff"])
    page = text(staff.get(f"/attendance/people/{world.ids['léa']}", headers=EN))
    assert "Replies to SMS" in page and "Elle est malade, certificat demain" in page
    teacher = logged_in(app, world.logins["teacher"])
    assert "Elle est malade" not in text(teacher.get(f"/attendance/people/{world.ids['léa']}"))
    # Without an answer, the staff are told once the delay is over.
    with in_english(app):
        db.session.delete(reply)
        db.session.commit()
        absence_sms.check_answer(sms_id)
        db.session.commit()
        told = db.session.scalars(
            select(Notification.recipient_id).where(Notification.type == "sms_unanswered")
        ).all()
        assert sorted(told) == sorted([world.ids["admin"], world.ids["staff"]])


def test_a_flash_message_goes_by_sms_to_guardians_who_accept_it(app, world, sms_school):
    with in_english(app):
        message = flash.create(
            person(world, "staff"),
            flash.FlashInput(
                title="Grève demain",
                body="<p>Le collège sera fermé jeudi.</p>",
                profiles=["parent"],
                group_ids=[],
                starts_at=None,
                ends_at=clock.now() + dt.timedelta(days=1),
                texted=True,
            ),
        )
        db.session.commit()
        sent = db.session.scalars(select(Sms).where(Sms.flash_id == message.id)).all()
        # Anne accepts and has a mobile; Béatrice accepts without one; Alain does not accept.
        assert [(s.person_id, s.state) for s in sent] == [(world.ids["anne"], SmsState.SENDING)]
        school = person(world, "staff").school.name
        assert sent[0].body == f"{school}: Grève demain. Le collège sera fermé jeudi."
        assert db.session.scalars(select(OutboxItem).where(OutboxItem.kind == "sms")).one()


def test_a_justification_sent_online_answers_the_absence_sms(app, world, sms_school, worker):
    with in_english(app):
        _mark(world, "léa")
        mark = _last_mark()
        [sms] = _queue(world, sms_school)
        services.send(person(world, "staff"), [sms.id])
        db.session.commit()
        sms_id, mark_id = sms.id, mark.id
    worker()
    with in_english(app):
        assert absence_sms.unanswered(db.session.get(Sms, sms_id))
        illness = reasons.reasons_of(world.school, families=True)[0]
        justifications.submit(
            person(world, "anne"),
            person(world, "léa"),
            reason_id=illness.id,
            mark=db.session.get(AttendanceMark, mark_id),
        )
        assert not absence_sms.unanswered(db.session.get(Sms, sms_id))
