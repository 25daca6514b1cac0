"""Alert rules that text the guardians (SPEC §6, §8): the rule names an SMS action whose text
an alert can fill ({alert}, {count}); when it fires for a pupil, each guardian who accepts SMS
and has a valid mobile gets one, at once through the provider, but never at night nor during
their quiet hours. The rule form and the action form keep the two in step, field by field, in
both languages; an absence is never offered an alert's text; a suspended school's SMS stay."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from portal.accounts.models import Guardianship, School
from portal.admin import lifecycle
from portal.attendance import absence_sms, alerts
from portal.attendance.models import AlertRule
from portal.core import clock
from portal.core.audit import AuditEntry, AuditTag
from portal.core.errors import ValidationError
from portal.core.outbox import OutboxItem
from portal.extensions import db
from portal.notifications import choices
from portal.platform import services as platform
from portal.sms import recipients, setup
from portal.sms.models import Sms, SmsAction, SmsKind, SmsProvider, SmsState
from tests import factories as make
from tests.attendance.test_alert_views import FORM
from tests.attendance.test_alerts import _mark, _rule
from tests.school import MONDAY, in_english, person
from tests.sms.conftest import ANNE
from tests.web import csrf_token, field_error, logged_in, text

ALERT_TEXT = "{school}: {pupil} ({class}) a manqué {count} cours ({alert}) au {date}."
EN = {"Accept-Language": "en"}


def _alert_action(world) -> int:
    action = setup.save_action(
        person(world, "admin"),
        setup.ActionInput(
            short_label="Alerte",
            long_label="Alerte d'absences",
            template=ALERT_TEXT,
            response_days=0,
        ),
    )
    db.session.commit()
    return action.id


def _fire_for_lea(world, action_id: int) -> AlertRule:
    """Léa misses two sessions; the rule 'more than 1 session' fires for her."""
    rule = _rule(world, low=1, sms_action_id=action_id)
    _mark(world, "léa")
    _mark(world, "léa", at=clock.now() - dt.timedelta(hours=2))
    [alert] = alerts.evaluate(rule, [world.ids["léa"]])
    db.session.commit()
    return rule


def _alert_sms() -> list[Sms]:
    db.session.expire_all()
    return list(db.session.scalars(select(Sms).where(Sms.kind == SmsKind.ALERT).order_by(Sms.id)))


def test_a_firing_rule_texts_the_guardians_who_accept_sms_at_once(
    app, world, sms_school, twilio, worker
):
    with in_english(app):
        _fire_for_lea(world, _alert_action(world))
        school = person(world, "admin").school.name
        # Guardian 2, Alain, does not accept SMS; the pupil is not a guardian.
        [sms] = _alert_sms()
        assert (sms.person_id, sms.recipient, sms.phone) == (world.ids["anne"], "guardian1", ANNE)
        assert (
            sms.body
            == f"{school}: Léa Martin (5B) a manqué 2 cours (Absences répétées) au 23/11/2026."
        )
        assert sms.state == SmsState.SENDING, "an alert's SMS skips 'SMS to send'"
        assert sms.event == "Absences répétées : 2 séances manquées"
        assert sms.action_label == "Alerte" and sms.alert_id is not None
    worker()
    [call] = twilio.calls
    assert call.fields["To"] == ANNE and call.fields["Body"].endswith("au 23/11/2026.")
    with in_english(app):
        [sms] = _alert_sms()
        assert sms.state == SmsState.SENT
    # The direction sees on the alert that the family was told, and the SMS in the follow-up.
    direction = logged_in(app, world.logins["admin"])
    page = text(direction.get("/alerts/", headers=EN))
    assert "SMS to Guardian 1 · Anne Martin: in transit" in page
    page = text(direction.get("/sms/follow-up?tab=transit", headers=EN))
    assert "Absences répétées : 2 séances manquées" in page and "Alerte" in page
    # Evaluated again while it still holds: no second alert, no second SMS.
    with in_english(app):
        rule = db.session.scalars(select(AlertRule)).one()
        assert alerts.evaluate(rule, [world.ids["léa"]]) == []
        assert len(_alert_sms()) == 1


def test_an_alert_at_night_waits_for_the_morning_and_for_each_guardians_quiet_hours(
    app, world, sms_school
):
    # 21:00 UTC is 22:00 in Paris: outside the hours for automatic SMS (8:00 to 20:00).
    clock.freeze(MONDAY.replace(hour=21))
    with in_english(app):
        db.session.execute(
            update(Guardianship)
            .where(Guardianship.parent_id == world.ids["alain"])
            .values(accepts_sms=True)
        )
        choices.set_timing(person(world, "anne"), 18, 7, 9)  # quiet from 7:00 to 9:00
        db.session.commit()
        _fire_for_lea(world, _alert_action(world))
        leaving = {sms.recipient: sms.submitted_at for sms in _alert_sms()}
        tuesday = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
        assert leaving == {
            "guardian1": tuesday.replace(hour=8),  # 9:00 in Paris, when Anne's quiet hours end
            "guardian2": tuesday.replace(hour=7),  # 8:00 in Paris
        }
        waiting = sorted(
            item.available_at
            for item in db.session.scalars(select(OutboxItem).where(OutboxItem.kind == "sms"))
        )
        assert waiting == [tuesday.replace(hour=7), tuesday.replace(hour=8)]
        # Blocked before it left: Anne's SMS is withdrawn, Alain's still goes.
        lifecycle.block_person(person(world, "admin"), person(world, "anne"))
        db.session.commit()
        states = {sms.recipient: (sms.state, sms.error) for sms in _alert_sms()}
        assert states == {
            "guardian1": (SmsState.WITHDRAWN, "The person's account was blocked."),
            "guardian2": (SmsState.SENDING, None),
        }
        refusal = recipients.candidates(person(world, "léa"))[0].refusal
        assert refusal == "The account is blocked or deleted."


def test_a_suspended_schools_sms_do_not_leave(app, world, sms_school, twilio, worker):
    with in_english(app):
        _fire_for_lea(world, _alert_action(world))
        webmaster = make.user(None, "webmaster")
        platform.suspend_school(webmaster, db.session.get(School, world.school))
        db.session.commit()
    worker()
    assert twilio.calls == []
    with in_english(app):
        [sms] = _alert_sms()
        assert sms.state == SmsState.FAILED
        assert sms.error == "L'établissement a été suspendu avant le départ du SMS."


def _rule_form(client, **fields) -> dict:
    return {**FORM, "csrf_token": csrf_token(client, "/alerts/rules/new"), **fields}


def test_the_rule_form_offers_only_texts_an_alert_can_fill_and_says_why_next_to_the_field(
    app, world, sms_school
):
    with in_english(app):
        texted = _alert_action(world)
        switched_off = setup.save_action(
            person(world, "admin"),
            setup.ActionInput("Ancienne", "Ancienne alerte", ALERT_TEXT, 0, enabled=False),
        ).id
        db.session.commit()
    direction = logged_in(app, world.logins["admin"])
    form = text(direction.get("/alerts/rules/new"))
    assert f'<option value="{texted}">Alerte d&#39;absences</option>' in form
    assert f'value="{sms_school.action}"' not in form, "the absence's text names {start}"
    assert f'value="{switched_off}"' not in form
    assert "de 8:00 à 20:00" in form
    url = "/alerts/rules/new"
    for fields, headers, message in (
        (
            {"sms_action": str(sms_school.action)},
            {},
            "Le texte de ce SMS parle d'une séance ({start}, {end}, {minutes}), qu'une alerte "
            "n'a pas : choisissez-en ou écrivez-en un autre.",
        ),
        ({"sms_action": str(switched_off)}, {}, "Choisissez une action SMS de l'établissement."),
        ({"sms_action": "99999"}, EN, "Choose an SMS action of the school."),
        (
            {"sms_action": str(texted), "population": "teacher", "metric": "absence_hours"},
            EN,
            "The SMS goes to pupils' guardians: watch pupils.",
        ),
    ):
        answer = direction.post(url, data=_rule_form(direction, **fields), headers=headers)
        assert answer.status_code == 400
        assert field_error(answer, "sms_action") == message
    with in_english(app):
        assert db.session.scalars(select(AlertRule)).all() == []
    answer = direction.post(url, data=_rule_form(direction, sms_action=str(texted)))
    assert answer.status_code == 302
    with in_english(app):
        rule = db.session.scalars(select(AlertRule)).one()
        assert rule.sms_action_id == texted
        rule_id = rule.id
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.tag == AuditTag.ALERT_RULE_SAVED)
        ).one()
        assert entry.details["after"]["sms_action_id"] == texted
    edit = text(direction.get(f"/alerts/rules/{rule_id}/edit"))
    assert f'<option selected value="{texted}">' in edit
    # Without a provider, no rule may count on SMS.
    with in_english(app):
        db.session.execute(SmsProvider.__table__.delete())
        db.session.commit()
    answer = direction.post(url, data=_rule_form(direction, sms_action=str(texted)), headers=EN)
    assert field_error(answer, "sms_action") == "The direction must set up the SMS provider first."


def test_an_action_an_alert_sends_keeps_a_text_it_can_fill_and_stays_on(app, world, sms_school):
    with in_english(app):
        texted = _alert_action(world)
        _rule(world, sms_action_id=texted)
    direction = logged_in(app, world.logins["admin"])
    page = f"/admin/sms/actions/{texted}"
    fields = {
        "short_label": "Alerte",
        "long_label": "Alerte d'absences",
        "template": ALERT_TEXT,
        "response_days": "0",
        "provider_code": "0",
        "enabled": "y",
    }
    answer = direction.post(
        page,
        data={**fields, "csrf_token": csrf_token(direction, page), "template": "{pupil} à {start}"},
    )
    assert answer.status_code == 400
    assert field_error(answer, "template") == (
        "L'alerte « Absences répétées » envoie ce SMS, et une alerte n'a pas de séance : "
        "retirez {start}, {end} et {minutes}."
    )
    off = {k: v for k, v in fields.items() if k != "enabled"}
    answer = direction.post(
        page, data={**off, "csrf_token": csrf_token(direction, page)}, headers=EN
    )
    assert field_error(answer, "enabled") == (
        "The alert “Absences répétées” sends this SMS: choose another SMS for it first."
    )
    both = {**fields, "template": "{pupil} absent à {start} ({count})"}
    answer = direction.post(
        "/admin/sms/actions/new",
        data={**both, "csrf_token": csrf_token(direction, "/admin/sms/actions/new")},
        headers=EN,
    )
    assert field_error(answer, "template") == (
        "An SMS tells of one absence ({start}, {end}, {minutes}) or of an alert ({alert}, "
        "{count}), not both."
    )
    token = csrf_token(direction, "/admin/sms/")
    answer = direction.post(
        f"/admin/sms/actions/{texted}/delete", data={"csrf_token": token}, headers=EN
    )
    assert answer.status_code == 302
    listed = text(direction.get("/admin/sms/", headers=EN))
    assert "The alert “Absences répétées” sends this SMS" in listed
    with in_english(app):
        action = db.session.get(SmsAction, texted)
        assert (action.template, action.enabled) == (ALERT_TEXT, True)
    assert "<td>alerts</td>" in listed and "<td>absences</td>" in listed


def test_an_absence_is_never_offered_an_alerts_text(app, world, sms_school):
    with in_english(app):
        texted = _alert_action(world)
        mark = _mark(world, "léa")
        with pytest.raises(ValidationError) as refused:
            absence_sms.queue_for_mark(
                person(world, "staff"), mark, db.session.get(SmsAction, texted), ["guardian1"]
            )
        assert refused.value.errors["action"] == "Choose an SMS action."
        db.session.rollback()
        mark_id = mark.id
    staff = logged_in(app, world.logins["staff"])
    page = text(staff.get(f"/sms/marks/{mark_id}"))
    assert f'value="{sms_school.action}"' in page
    assert f'value="{texted}"' not in page
