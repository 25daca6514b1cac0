"""Justifying absences over HTTP: a guardian sends a reason and a document from the phone's
page, the staff answer; every form tells bad input next to its field in French and in English;
another family's pupil, mark or justification is not found; the direction keeps the school's
reasons."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from portal.attendance import reasons
from portal.attendance.models import AbsenceReason, AttendanceMark
from portal.core import clock
from portal.core.audit import AuditEntry, AuditTag
from portal.extensions import db
from portal.liaison.models import Justification, Outcome
from tests.foreign import PDF
from tests.liaison import marks
from tests.school import MONDAY
from tests.web import field_error, logged_in, post, text

EN, FR = {"Accept-Language": "en"}, {"Accept-Language": "fr"}


@pytest.fixture
def absent(app, world):
    """Léa missed a 5B session the Friday before the frozen Monday; its mark's id."""
    with app.app_context():
        mark = marks.absent(world, "léa", MONDAY - dt.timedelta(days=3))
        db.session.commit()
        return mark.id


def _reason_id(app, world, label: str) -> int:
    with app.app_context():
        return next(r.id for r in reasons.reasons_of(world.school) if r.label == label)


def _justify(client, world, mark_id, data, headers=EN, **kwargs):
    page = f"/liaison/children/{world.ids['léa']}/justify" + (f"?mark={mark_id}" if mark_id else "")
    return post(client, page, data, page, headers=headers, content_type="multipart/form-data")


def test_a_guardian_justifies_with_a_pdf_and_the_staff_accept(app, world, absent):
    anne = logged_in(app, world.logins["anne"])
    attendance_page = text(anne.get(f"/attendance/people/{world.ids['léa']}", headers=EN))
    assert f"/liaison/children/{world.ids['léa']}/justify?mark={absent}" in attendance_page
    sent = _justify(
        anne,
        world,
        absent,
        {
            "reason": _reason_id(app, world, "Maladie"),
            "comment": "Fièvre depuis jeudi soir.",
            "document": (io.BytesIO(PDF), "certificat.pdf"),
        },
    )
    assert sent.status_code == 302, text(sent)[:400]
    carnet = text(anne.get(f"/liaison/children/{world.ids['léa']}", headers=EN))
    assert "waiting for the school" in carnet and "certificat.pdf" in carnet
    staff = logged_in(app, world.logins["staff"])
    listing = text(staff.get("/liaison/justifications", headers=EN))
    assert "Fièvre depuis jeudi soir." in listing and '<span class="badge">1</span>' in listing
    with app.app_context():
        found_id = db.session.scalar(select(Justification.id))
    with staff.get(f"/liaison/justifications/{found_id}/file") as download:
        assert (download.status_code, download.data) == (200, PDF)
    page = f"/liaison/justifications/{found_id}"
    answered = post(staff, page, {"outcome": "accepted", "answer": ""}, page, headers=EN)
    assert answered.status_code == 302
    with app.app_context():
        mark = db.session.get(AttendanceMark, absent)
        assert (mark.justified, mark.reason) == (True, "Maladie")
    assert "accepted" in text(anne.get(f"/liaison/children/{world.ids['léa']}", headers=EN))


@pytest.mark.parametrize("headers", [EN, FR], ids=["en", "fr"])
def test_bad_input_is_told_next_to_its_field_in_each_language(app, world, absent, headers):
    anne = logged_in(app, world.logins["anne"])
    exclusion = _reason_id(app, world, "Exclusion")
    illness = _reason_id(app, world, "Maladie")
    english = headers is EN
    tomorrow = (clock.today("Europe/Paris") + dt.timedelta(days=1)).isoformat()
    for mark_id, data, field, words in (
        (absent, {}, "reason", "Choose one of the reasons." if english else "Choisissez un"),
        (absent, {"reason": exclusion}, "reason", "reasons" if english else "motifs"),
        (
            absent,
            {"reason": illness, "document": (io.BytesIO(b"<script>"), "x.pdf")},
            "document",
            "not accepted" if english else "n'est pas accepté",
        ),
        (
            absent,
            {"reason": illness, "comment": "x" * 501},
            "comment",
            "At most 500" if english else "500 caractères",
        ),
        (None, {"reason": illness}, "first_day", "first day" if english else "premier jour"),
        (
            None,
            {"reason": illness, "first_day": tomorrow, "last_day": "2026-11-01"},
            "last_day",
            "after the first" if english else "après le premier",
        ),
    ):
        answer = _justify(anne, world, mark_id, data, headers)
        assert answer.status_code == 400, (data, text(answer)[:300])
        assert words in (field_error(answer, field) or ""), (field, text(answer)[:2000])
    staff = logged_in(app, world.logins["staff"])
    with app.app_context():
        assert db.session.scalar(select(func.count(Justification.id))) == 0
    sent = _justify(anne, world, absent, {"reason": illness})
    assert sent.status_code == 302
    with app.app_context():
        page = f"/liaison/justifications/{db.session.scalar(select(Justification.id))}"
    for data, field, words in (
        ({"outcome": "refused"}, "answer", "why" if english else "pourquoi"),
        ({"outcome": "maybe"}, "outcome", "Choose what" if english else "Choisissez"),
    ):
        answer = post(staff, page, data, page, headers=headers)
        assert answer.status_code == 400
        assert words in (field_error(answer, field) or ""), (field, text(answer)[:2000])
    with app.app_context():
        assert db.session.scalar(select(Justification.outcome)) == Outcome.PENDING


def test_another_familys_pupil_mark_and_justification_are_not_found(app, world, absent):
    anne = logged_in(app, world.logins["anne"])
    sent = _justify(anne, world, absent, {"reason": _reason_id(app, world, "Maladie")})
    assert sent.status_code == 302
    with app.app_context():
        found_id = db.session.scalar(select(Justification.id))
    carole = logged_in(app, world.logins["carole"])
    crafted = _justify(carole, world, absent, {"reason": _reason_id(app, world, "Maladie")})
    assert crafted.status_code == 404
    assert carole.get(f"/liaison/justifications/{found_id}/file").status_code == 404
    refused = post(carole, f"/liaison/justifications/{found_id}/document", {}, "/account")
    assert refused.status_code == 404
    zoe = world.ids["zoé"]  # Anne's other child, with Léa's mark: not that child's
    assert anne.get(f"/liaison/children/{zoe}/justify?mark={absent}").status_code == 404
    assert anne.get(f"/liaison/justifications/{found_id}").status_code == 403  # staff's page
    other = logged_in(app, world.logins["other_admin"])
    assert other.get(f"/liaison/justifications/{found_id}").status_code == 404


def test_the_direction_keeps_the_reasons_and_a_name_is_told_once(app, world):
    admin = logged_in(app, world.logins["admin"])
    page = "/attendance/reasons"
    listing = text(admin.get(page, headers=EN))
    assert "Maladie" in listing and "Exclusion" in listing
    for headers, words in ((EN, "already has this reason"), (FR, "a déjà ce motif")):
        twice = post(admin, page, {"label": "maladie"}, page, headers=headers)
        assert twice.status_code == 400
        assert words in (field_error(twice, "label") or ""), text(twice)[:2000]
    empty = post(admin, page, {"label": " "}, page, headers=EN)
    assert "Give the reason a name." in (field_error(empty, "label") or "")
    added = post(admin, page, {"label": "Compétition sportive"}, page, headers=EN)
    assert added.status_code == 302
    with app.app_context():
        found = db.session.scalar(
            select(AbsenceReason).where(AbsenceReason.label == "Compétition sportive")
        )
        found_id = found.id
        assert not found.families_choose  # unticked
        illness = db.session.scalar(
            select(AbsenceReason.id).where(AbsenceReason.label == "Maladie")
        )
    clash = post(
        admin, f"{page}/{found_id}", {f"reason-{found_id}-label": "Maladie"}, page, headers=EN
    )
    assert clash.status_code == 400
    assert "already has this reason" in (field_error(clash, f"reason-{found_id}") or "")
    renamed = post(
        admin,
        f"{page}/{found_id}",
        {f"reason-{found_id}-label": "Compétition", f"reason-{found_id}-families_choose": "y"},
        page,
        headers=EN,
    )
    assert renamed.status_code == 302
    assert post(admin, f"{page}/{illness}/delete", {}, page).status_code == 302
    with app.app_context():
        labels = {r.label: r.families_choose for r in reasons.reasons_of(world.school)}
        assert labels["Compétition"] is True and "Maladie" not in labels
        tags = db.session.scalars(
            select(AuditEntry.tag).where(AuditEntry.tag.like("attendance:reason:%"))
        ).all()
        assert sorted(tags) == [
            AuditTag.ABSENCE_REASON_DELETED,
            AuditTag.ABSENCE_REASON_SAVED,
            AuditTag.ABSENCE_REASON_SAVED,
        ]
