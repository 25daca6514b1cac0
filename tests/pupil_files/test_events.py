"""A pupil's file and its events (SPEC §7), each case of seed 002: entry, positive exit with its
certificate, abandonment and its mandatory reason, rupture and whom it tells, phase changes and
the time per phase, events after the fact or to come, several events on one day, deletion and
what it leaves to correct; and who may see or change what."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.accounts.models import School
from portal.attendance import services as attendance
from portal.attendance.models import ClassSession, MarkKind
from portal.core import clock, outbox
from portal.core.audit import AuditEntry
from portal.core.outbox import OutboxItem
from portal.extensions import db
from portal.notifications.models import Notification
from portal.pupil_files import event_types, services
from portal.pupil_files.indicators import indicators_of
from portal.pupil_files.models import FileEvent, FileEventType, FileStatus
from tests.school import MONDAY, in_english, person, schedule_5b
from tests.web import csrf_token, logged_in, text

DAY = dt.timedelta(days=1)
TODAY = MONDAY.date()


def _type(world, kind: str) -> FileEventType:
    return db.session.scalar(
        select(FileEventType).where(
            FileEventType.school_id == world.school, FileEventType.kind == kind
        )
    )


def _record(world, kind: str, day=TODAY, who="léa", actor="admin", **given) -> FileEvent:
    event = services.record(
        person(world, actor),
        person(world, who),
        _type(world, kind),
        services.EventInput(day=day, **given),
    )
    db.session.commit()
    return event


def _status(world, who="léa") -> str:
    db.session.expire_all()
    found = services.file_of(person(world, who))
    return found.status if found else FileStatus.NOT_STARTED


def _told(event_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(Notification.recipient_id).where(
                Notification.subject_key == f"file_event:{event_id}"
            )
        )
    )


def _register(world, start_hour: int, absent: bool = False, late: int | None = None) -> None:
    """A one-hour 5B session on the frozen Monday, its register taken by the teacher when the
    session starts (a register opens minutes before its session, not earlier)."""
    session = db.session.get(ClassSession, schedule_5b(world, start_hour, start_hour + 1))
    states = {}
    if absent:
        states[world.ids["léa"]] = (MarkKind.ABSENT, None)
    if late:
        states[world.ids["léa"]] = (MarkKind.LATE, late)
    now = clock.now()
    clock.freeze(session.starts_at)
    attendance.take_register(person(world, "teacher"), session, states)
    db.session.commit()
    clock.freeze(now)


@pytest.fixture
def ctx(app, world):
    with in_english(app):
        yield world


def test_every_school_starts_with_the_types_of_seed_002(ctx):
    kinds = [t.kind for t in event_types.types_of(ctx.school)]
    assert kinds == [
        "entry", "positive_exit", "abandonment", "rupture", "phase_change", "step_validated"
    ]  # fmt: skip
    assert _type(ctx, "abandonment").reason_required and _type(ctx, "rupture").reason_required


def test_entry_sets_in_progress_and_starts_the_duration(ctx):
    assert _status(ctx) == FileStatus.NOT_STARTED
    _record(ctx, "entry", comment="Objectifs : reprise des cours")
    assert _status(ctx) == FileStatus.IN_PROGRESS
    pupil = person(ctx, "léa")
    figures = indicators_of(pupil, services.file_of(pupil))
    assert (figures.entered_on, figures.days, figures.left_on) == (TODAY, 0, None)
    clock.advance(10 * DAY)
    figures = indicators_of(pupil, services.file_of(pupil))
    assert figures.days == 10  # to today, while it goes on


def test_a_positive_exit_completes_the_file_with_its_duration_hours_and_certificate(app, world):
    with in_english(app):
        _record(world, "entry", day=TODAY)
        _register(world, 10)  # attended
        _register(world, 11, absent=True)
        _register(world, 14, late=15)
        clock.advance(30 * DAY)
        exit_event = _record(world, "positive_exit", day=TODAY + 30 * DAY, comment="Diplôme")
        assert _status(world) == FileStatus.COMPLETED
        assert exit_event.triggered["status"] == ["in_progress", "completed"]
        pupil = person(world, "léa")
        figures = indicators_of(pupil, services.file_of(pupil))
        assert (figures.days, figures.left_on) == (30, TODAY + 30 * DAY)
        assert (figures.scheduled_minutes, figures.attended_minutes) == (180, 105)
        assert (figures.hours_attended, figures.attendance_rate) == (1.8, 58.3)
        clock.advance(5 * DAY)
        assert indicators_of(pupil, services.file_of(pupil)).days == 30  # the exit stops it

    admin = logged_in(app, world.logins["admin"])
    answer = admin.get(f"/files/{world.ids['léa']}", headers={"Accept-Language": "en"})
    assert "Download the certificate" in text(answer)
    pdf = admin.get(f"/files/{world.ids['léa']}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    words = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    words = " ".join(words.split())
    assert "Attestation de présence" in words  # the school's language
    assert "Léa Martin" in words
    assert "du 23 novembre 2026 au 23 décembre 2026" in words
    assert "Heures de présence : 1,8" in words
    assert "Taux de présence : 58,3 %" in words
    assert "Durée : 30 jours" in words


def test_no_certificate_before_a_positive_exit(app, world):
    with in_english(app):
        _record(world, "entry")
    admin = logged_in(app, world.logins["admin"])
    assert admin.get(f"/files/{world.ids['léa']}/certificate.pdf").status_code == 404


def test_an_abandonment_without_its_reason_is_refused_next_to_the_field(app, world):
    with in_english(app):
        _record(world, "entry")
        abandonment = _type(world, "abandonment").id
    admin = logged_in(app, world.logins["admin"])
    url = f"/files/{world.ids['léa']}/events/new"
    for language, message in (
        ("en", "Give the reason: it is mandatory for this event."),
        ("fr", "Indiquez le motif : il est obligatoire pour cet événement."),
    ):
        answer = admin.post(
            url,
            data={
                "csrf_token": csrf_token(admin, url),
                "type_id": abandonment,
                "day": TODAY.isoformat(),
                "reason": "   ",
            },
            headers={"Accept-Language": language},
        )
        assert answer.status_code == 400
        html = text(answer)
        assert message in html
        assert 'id="reason-error"' in html and 'aria-invalid="true"' in html
    with in_english(app):
        assert _status(world) == FileStatus.IN_PROGRESS
        recorded = select(FileEvent.id).where(FileEvent.type_id == abandonment)
        assert db.session.scalar(recorded) is None


def test_a_rupture_notifies_the_parties_its_type_names(ctx):
    _record(ctx, "entry")
    rupture = _record(ctx, "rupture", reason="Contrat rompu par l'employeur", actor="staff")
    assert _status(ctx) == FileStatus.BROKEN_OFF
    ids = ctx.ids
    # Léa's guardians, the direction; the staff except the author, who knows.
    assert _told(rupture.id) == {ids["anne"], ids["alain"], ids["admin"]}
    notified = rupture.triggered["notified"]
    assert set(notified) == {"guardians", "admins"}
    assert sorted(name for _id, name in notified["guardians"]) == ["Alain Martin", "Anne Martin"]
    note = db.session.scalar(select(Notification).where(Notification.recipient_id == ids["anne"]))
    assert note.type == "pupil_file_event"


def test_a_phase_change_records_both_phases_and_the_time_in_each(app, world):
    with in_english(app):
        _record(world, "entry")
        url = f"/files/{world.ids['léa']}/events/new?type_id={_type(world, 'phase_change').id}"
    clock.advance(5 * DAY)
    admin = logged_in(app, world.logins["admin"])
    form = text(admin.get(url, headers={"Accept-Language": "en"}))
    assert 'name="phase_to"' in form and 'name="reason"' not in form
    with in_english(app):
        _record(world, "phase_change", TODAY + 5 * DAY, phase_from="Bilan", phase_to="Suivi")
    clock.advance(7 * DAY)
    form = text(admin.get(url, headers={"Accept-Language": "en"}))
    assert 'value="Suivi"' in form  # the previous phase is the current one
    with in_english(app):
        _record(world, "phase_change", TODAY + 12 * DAY, phase_from="Suivi", phase_to="Bilan final")
        clock.advance(3 * DAY)
        pupil = person(world, "léa")
        figures = indicators_of(pupil, services.file_of(pupil))
        assert figures.phase == "Bilan final"
        assert [(p.name, p.days) for p in figures.phases] == [
            ("Bilan", 5), ("Suivi", 7), ("Bilan final", 3)
        ]  # fmt: skip
        events = services.events_of(services.file_of(pupil))
        assert events[1].values == {"phase_from": "Bilan", "phase_to": "Suivi"}
    html = text(admin.get(f"/files/{world.ids['léa']}", headers={"Accept-Language": "en"}))
    assert "Bilan final" in html and "Time spent in each phase" in html


def test_an_event_after_the_fact_fires_no_date_bound_action_and_says_so(app, world):
    admin = logged_in(app, world.logins["admin"])
    url = f"/files/{world.ids['léa']}/events/new"
    with in_english(app):
        exit_type = _type(world, "positive_exit").id
    answer = admin.post(
        url,
        data={
            "csrf_token": csrf_token(admin, url),
            "type_id": exit_type,
            "day": (TODAY - 3 * DAY).isoformat(),
        },
        headers={"Accept-Language": "en", "HX-Request": "true"},
    )
    assert answer.status_code == 200
    html = text(answer)
    assert "recorded after the fact" in html and "sent no notification" in html
    assert "entered after the fact: no notification sent" in html
    assert 'id="file-status"' in html and "Completed" in html  # the badge, swapped in place
    with in_english(app):
        event = db.session.scalar(select(FileEvent))
        assert event.after_the_fact and "notified" not in event.triggered
        assert _told(event.id) == set()
        assert _status(world) == FileStatus.COMPLETED  # its place in the history still counts


def test_a_future_event_takes_effect_on_its_day_once(ctx):
    _record(ctx, "entry")
    exit_day = TODAY + 2 * DAY
    event = _record(ctx, "positive_exit", day=exit_day)
    assert event.applied_at is None and _status(ctx) == FileStatus.IN_PROGRESS
    assert _told(event.id) == set()
    item = db.session.get(OutboxItem, event.due_item_id)
    assert item.kind == "file_event_due"
    assert item.available_at == dt.datetime(2026, 11, 24, 23, 0, tzinfo=dt.UTC)  # Paris midnight
    clock.freeze(item.available_at)
    assert outbox.run_item(item.id) == "done"
    db.session.expire_all()
    assert _status(ctx) == FileStatus.COMPLETED
    event = db.session.get(FileEvent, event.id)
    assert event.applied_at is not None and not event.after_the_fact
    told = _told(event.id)
    assert told == {ctx.ids["anne"], ctx.ids["alain"], ctx.ids["teacher"]}
    assert services.apply(event) is False  # a duplicated job does nothing more
    assert _told(event.id) == told


def test_several_events_on_one_day_keep_their_entry_order(app, world):
    with in_english(app):
        _record(world, "entry", comment="first")
        _record(world, "step_validated", comment="second")
        _record(world, "phase_change", phase_to="Consolidation", comment="third")
        history = services.events_of(services.file_of(person(world, "léa")))
        assert [e.comment for e in history] == ["first", "second", "third"]
        newest = services.events_of(services.file_of(person(world, "léa")), newest_first=True)
        assert [e.comment for e in newest] == ["third", "second", "first"]
    admin = logged_in(app, world.logins["admin"])
    page = f"/files/{world.ids['léa']}/events"
    html = text(admin.get(page, headers={"Accept-Language": "en"}))
    assert html.index(">first<") < html.index(">second<") < html.index(">third<")
    admin.post(
        f"/files/{world.ids['léa']}/events/order",
        data={"csrf_token": csrf_token(admin, page), "newest_first": "1"},
    )
    html = text(admin.get(page, headers={"Accept-Language": "en"}))
    assert html.index(">third<") < html.index(">second<") < html.index(">first<")


def test_deleting_an_event_lists_what_to_correct_and_is_audited(app, world):
    with in_english(app):
        _record(world, "entry")
        abandonment = _record(world, "abandonment", reason="Déménagement").id
    admin = logged_in(app, world.logins["admin"])
    url = f"/files/events/{abandonment}/delete"
    page = text(admin.get(url, headers={"Accept-Language": "en"}))
    assert "does not undo what it triggered" in page
    assert "the status goes back to “In progress”" in page
    assert "Guardians were notified" in page and "Anne Martin" in page
    with in_english(app):
        assert _status(world) == FileStatus.ABANDONED  # nothing changed by looking
    answer = admin.post(url, data={"csrf_token": csrf_token(admin, url)})
    assert answer.status_code == 302
    with in_english(app):
        assert db.session.get(FileEvent, abandonment) is None
        assert _status(world) == FileStatus.IN_PROGRESS
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.tag == "pupil_files:event:delete")
        )
        assert entry.details["reason"] == "Déménagement" and entry.details["to_correct"]
        assert "pupil_files:event:record" in set(db.session.scalars(select(AuditEntry.tag)))


def test_deleting_a_future_event_calls_off_its_day(ctx):
    event = _record(ctx, "entry", day=TODAY + DAY)
    item_id = event.due_item_id
    services.delete(person(ctx, "admin"), event)
    db.session.commit()
    assert db.session.get(OutboxItem, item_id).state == "cancelled"


def test_correcting_an_event_sends_nothing_again_and_is_audited(app, world):
    with in_english(app):
        _record(world, "entry")
        rupture = _record(world, "rupture", reason="Absences").id
        told = _told(rupture)
    admin = logged_in(app, world.logins["admin"])
    url = f"/files/events/{rupture}/edit"
    answer = admin.post(
        url,
        data={
            "csrf_token": csrf_token(admin, url),
            "day": TODAY.isoformat(),
            "reason": "Absences répétées non justifiées",
            "comment": "Précision",
        },
    )
    assert answer.status_code == 302, text(answer)[:400]
    with in_english(app):
        assert db.session.get(FileEvent, rupture).reason == "Absences répétées non justifiées"
        assert _told(rupture) == told
        change = db.session.scalar(
            select(AuditEntry).where(AuditEntry.tag == "pupil_files:event:change")
        )
        assert change.details["before"]["reason"] == "Absences"


def test_who_may_see_and_change_a_file(app, world):
    with in_english(app):
        _record(world, "entry")
        admins_event = _record(world, "step_validated", comment="by the direction").id
    lea = world.ids["léa"]
    page = f"/files/{lea}/events"
    teacher = logged_in(app, world.logins["teacher"])
    assert teacher.get(page).status_code == 200
    assert "+ New event" not in text(teacher.get(page, headers={"Accept-Language": "en"}))
    assert teacher.get(f"/files/{lea}/events/new").status_code == 403
    assert logged_in(app, world.logins["colleague"]).get(page).status_code == 404  # 4A's
    assert logged_in(app, world.logins["other_admin"]).get(page).status_code == 404
    staff = logged_in(app, world.logins["staff"])
    assert staff.get(f"/files/events/{admins_event}/edit").status_code == 403
    mother = logged_in(app, world.logins["anne"])
    assert mother.get(page).status_code == 404  # the school has not opened files to families

    with in_english(app):
        db.session.get(School, world.school).families_see_file = True
        db.session.commit()
    assert mother.get(page).status_code == 200
    assert mother.get(f"/files/{world.ids['zoé']}").status_code == 200  # her other child
    assert mother.get(f"/files/{lea}/events/new").status_code == 403
    assert mother.get(f"/files/events/{admins_event}/delete").status_code == 403
    assert logged_in(app, world.logins["carole"]).get(page).status_code == 404  # Chloé's mother
    assert logged_in(app, world.logins["léa"]).get(page).status_code == 200
    assert logged_in(app, world.logins["hugo"]).get(page).status_code == 404
