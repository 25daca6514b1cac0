"""Families justify absences online (SPEC §13, seeds 000 and 004): a guardian gives a reason
the school lets families choose, the staff accept (alert rules then count the absence as
justified), refuse with a reply or ask for a document; an absence announced ahead justifies
the marks recorded later; the staff's own reasons are never shown to families."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.attendance import alerts, reasons
from portal.attendance.models import Alert, AlertRule, AttendanceMark
from portal.core import clock
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.liaison import justifications
from portal.liaison.models import Justification, Outcome
from portal.notifications.models import Notification
from tests.foreign import PDF
from tests.liaison.marks import absent
from tests.school import MONDAY, in_english, person
from tests.web import logged_in, text

DAY = dt.timedelta(days=1)


@pytest.fixture
def ctx(app, world):
    with in_english(app):
        yield world


def _reason(world, label: str):
    return next(r for r in reasons.reasons_of(world.school) if r.label == label)


def _told(recipient_id: int, type_key: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.recipient_id == recipient_id, Notification.type == type_key
            )
        )
    )


def test_a_justified_absence_leaves_an_unjustified_rule_and_does_not_fire_it_again(ctx):
    rule = AlertRule(
        school_id=ctx.school,
        name="Absences non justifiées",
        population="pupil",
        metric="sessions_missed",
        counted="unjustified",
        trigger="more",
        low=1,
        high=None,
        period_amount=30,
        period_unit="days",
    )
    db.session.add(rule)
    yesterday = absent(ctx, "léa", MONDAY - DAY)
    absent(ctx, "léa", MONDAY - 2 * DAY)
    assert len(alerts.evaluate(rule, [ctx.ids["léa"]])) == 1  # two unjustified: more than 1
    anne, lea = person(ctx, "anne"), person(ctx, "léa")
    found = justifications.submit(
        anne,
        lea,
        reason_id=_reason(ctx, "Maladie").id,
        comment="Fièvre",
        mark=yesterday,
        document=FileStorage(io.BytesIO(PDF), filename="certificat.pdf"),
    )
    (told,) = _told(ctx.ids["staff"], "justification")
    assert [item["pupil"] for item in told.payload["items"]] == [lea.display_name]
    justifications.decide(person(ctx, "staff"), found, "accepted")
    mark = db.session.get(AttendanceMark, yesterday.id)
    assert (mark.reason, mark.justified, mark.reason_id) == ("Maladie", True, found.reason_id)
    assert alerts.evaluate(rule, [lea.id]) == []  # one unjustified left: recovered
    absent(ctx, "léa", MONDAY - 3 * DAY)  # two again: a new crossing fires once more
    assert len(alerts.evaluate(rule, [lea.id])) == 1
    assert alerts.evaluate(rule, [lea.id]) == []
    assert db.session.query(Alert).filter_by(rule_id=rule.id).count() == 2
    (outcome,) = _told(anne.id, "justification_outcome")
    assert outcome.payload["outcome"] == "accepted"


def test_staff_only_reasons_are_refused_to_families_and_never_shown_to_them(app, world):
    with in_english(app):
        anne, lea = person(world, "anne"), person(world, "léa")
        mark = absent(world, "léa", MONDAY - DAY)
        with pytest.raises(ValidationError) as refused:
            justifications.submit(anne, lea, reason_id=_reason(world, "Exclusion").id, mark=mark)
        assert refused.value.errors == {"reason": "Choose one of the reasons."}
        other_school = reasons.reasons_of(person(world, "other_admin").school_id)[0]
        with pytest.raises(ValidationError):
            justifications.submit(anne, lea, reason_id=other_school.id, mark=mark)
        reasons.explain(mark, "EXCLUSION", True)  # typed by the staff, whatever the case
        assert mark.reason_id == _reason(world, "Exclusion").id
        assert reasons.for_family(mark) == ""
        day, lea_id = mark.day, lea.id
        db.session.commit()
    parent = logged_in(app, world.logins["anne"])
    attendance_page = text(parent.get(f"/attendance/people/{lea_id}"))
    assert "Absent" in attendance_page and "EXCLUSION" not in attendance_page
    form = text(parent.get(f"/liaison/children/{lea_id}/justify"))
    assert "Maladie" in form and "Exclusion" not in form and "Sortie ou voyage" not in form
    staff = logged_in(app, world.logins["staff"])
    assert "EXCLUSION" in text(staff.get(f"/attendance/marks?day={day.isoformat()}"))


def test_an_absence_announced_ahead_justifies_the_marks_recorded_during_it(ctx):
    anne, lea = person(ctx, "anne"), person(ctx, "léa")
    tuesday = dt.date(2026, 11, 24)
    found = justifications.submit(
        anne,
        lea,
        reason_id=_reason(ctx, "Rendez-vous médical").id,
        first_day=tuesday,
        last_day=tuesday + DAY,
    )
    assert found.mark_id is None and found.outcome == Outcome.PENDING
    before = absent(ctx, "léa", MONDAY + DAY)  # recorded before the staff answered: fixed
    justifications.decide(person(ctx, "admin"), found, "accepted")
    assert db.session.get(AttendanceMark, before.id).justified
    during = absent(ctx, "léa", MONDAY + 2 * DAY)
    after = absent(ctx, "léa", MONDAY + 3 * DAY)
    hugo = absent(ctx, "hugo", MONDAY + 2 * DAY)
    assert (during.justified, during.reason) == (True, "Rendez-vous médical")
    assert (after.justified, hugo.justified) == (False, False)


def test_a_refusal_needs_words_and_a_document_asked_brings_the_justification_back(ctx):
    anne, lea, staff = person(ctx, "anne"), person(ctx, "léa"), person(ctx, "staff")
    mark = absent(ctx, "léa", MONDAY - DAY)
    found = justifications.submit(
        anne, lea, reason_id=_reason(ctx, "Raison familiale").id, mark=mark
    )
    with pytest.raises(ValidationError) as refused:
        justifications.submit(anne, lea, reason_id=_reason(ctx, "Maladie").id, mark=mark)
    assert "already waiting" in refused.value.errors["reason"]
    with pytest.raises(ValidationError) as refused:
        justifications.decide(staff, found, "refused", "  ")
    assert refused.value.errors == {"answer": "Tell the family why."}
    justifications.decide(staff, found, "document_asked", "Merci de joindre la convocation.")
    assert found.outcome == Outcome.DOCUMENT_ASKED and not mark.justified
    with pytest.raises(ValidationError):
        justifications.add_document(anne, found, FileStorage(io.BytesIO(b""), filename="x.pdf"))
    justifications.add_document(anne, found, FileStorage(io.BytesIO(PDF), filename="c.pdf"))
    assert found.outcome == Outcome.PENDING and found.attachment.filename == "c.pdf"
    assert found.attachment.attached_at is not None  # never forgotten as a pending upload
    justifications.decide(staff, found, "refused", "Le motif n'est pas recevable.")
    assert not db.session.get(AttendanceMark, mark.id).justified
    with pytest.raises(ValidationError):
        justifications.decide(staff, found, "accepted")  # answered already
    outcomes = [n.payload["outcome"] for n in _told(anne.id, "justification_outcome")]
    assert sorted(outcomes) == ["document_asked", "refused"]


def test_another_familys_pupil_or_mark_is_not_theirs_to_justify(ctx):
    anne, hugo = person(ctx, "anne"), person(ctx, "hugo")
    illness = _reason(ctx, "Maladie").id
    with pytest.raises(LookupError):
        justifications.submit(anne, hugo, reason_id=illness, mark=absent(ctx, "hugo", MONDAY))
    with pytest.raises(LookupError):  # her own child with another pupil's mark
        justifications.submit(
            anne, person(ctx, "léa"), reason_id=illness, mark=absent(ctx, "hugo", MONDAY - DAY)
        )
    assert db.session.scalar(select(Justification.id)) is None


def test_days_ahead_are_checked(ctx):
    anne, lea = person(ctx, "anne"), person(ctx, "léa")
    illness = _reason(ctx, "Maladie").id
    today = clock.today("Europe/Paris")
    for first, last, field, words in (
        (None, None, "first_day", "Give the first day"),
        (today - DAY, None, "first_day", "justify it from the list"),
        (today + 2 * DAY, today + DAY, "last_day", "comes after the first"),
        (today, today + 40 * DAY, "last_day", "At most 31 days"),
    ):
        with pytest.raises(ValidationError) as refused:
            justifications.submit(anne, lea, reason_id=illness, first_day=first, last_day=last)
        assert words in refused.value.errors[field], (first, last)
