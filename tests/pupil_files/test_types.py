"""Admin → Events: the school's event types, their fields and whom they tell; a type in use is
switched off, never deleted; another school's type is out of reach."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.pupil_files import event_types, services
from portal.pupil_files.models import FileEvent, FileEventType
from tests.school import MONDAY, in_english, person
from tests.web import csrf_token, logged_in, text

NEW = "/admin/events/new"
TODAY = MONDAY.date()


def _custom(world) -> FileEventType | None:
    return db.session.scalar(
        select(FileEventType).where(
            FileEventType.school_id == world.school, FileEventType.kind == "custom"
        )
    )


def test_the_direction_adds_a_type_with_fields_of_its_own(app, world):
    admin = logged_in(app, world.logins["admin"])
    answer = admin.post(
        NEW,
        data={
            "csrf_token": csrf_token(admin, NEW),
            "name": "Changement de financeur",
            "sets_status": "",
            "fields": ["funder"],
            "custom_fields": "Numéro de convention\nMontant",
            "notify": ["staff"],
        },
    )
    assert answer.status_code == 302, text(answer)[:300]
    with in_english(app):
        created = _custom(world)
        assert (created.fields, created.custom_fields, created.notify) == (
            ["funder"], ["Numéro de convention", "Montant"], ["staff"]
        )  # fmt: skip
        type_id = created.id
    url = f"/files/{world.ids['léa']}/events/new"
    form = text(admin.get(f"{url}?type_id={type_id}", headers={"Accept-Language": "en"}))
    assert 'name="funder"' in form and "Numéro de convention" in form
    answer = admin.post(
        url,
        data={
            "csrf_token": csrf_token(admin, url),
            "type_id": type_id,
            "day": "2026-11-23",
            "funder": "Région",
            "custom-0": "C-2026-114",
            "custom-1": "1 200 €",
        },
    )
    assert answer.status_code == 302, text(answer)[:300]
    with in_english(app):
        event = db.session.scalar(select(FileEvent))
        assert event.values == {
            "funder": "Région",
            "custom": {"Numéro de convention": "C-2026-114", "Montant": "1 200 €"},
        }
    history = text(admin.get(f"/files/{world.ids['léa']}/events"))
    assert "C-2026-114" in history and "Région" in history


def test_bad_types_are_refused_next_to_the_field_in_both_languages(app, world):
    admin = logged_in(app, world.logins["admin"])
    for language, name_message, custom_message in (
        ("en", "Give the type a name.", "At most 3 fields of your own."),
        ("fr", "Donnez un nom au type.", "3 champs personnalisés au plus."),
    ):
        answer = admin.post(
            NEW,
            data={
                "csrf_token": csrf_token(admin, NEW),
                "name": "  ",
                "custom_fields": "a\nb\nc\nd",
                "notify": ["everyone"],
            },
            headers={"Accept-Language": language},
        )
        assert answer.status_code == 400
        html = text(answer)
        assert name_message in html and custom_message in html
        assert 'id="name-error"' in html
    with in_english(app):
        assert _custom(world) is None


def test_a_type_in_use_is_switched_off_not_deleted(app, world):
    with in_english(app):
        step = db.session.scalar(
            select(FileEventType).where(
                FileEventType.school_id == world.school, FileEventType.kind == "step_validated"
            )
        )
        services.record(
            person(world, "admin"), person(world, "léa"), step, services.EventInput(day=TODAY)
        )
        db.session.commit()
        step_id = step.id
    admin = logged_in(app, world.logins["admin"])
    page = "/admin/events/"
    answer = admin.post(
        f"/admin/events/{step_id}/delete",
        data={"csrf_token": csrf_token(admin, page)},
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 409
    assert "switch it off rather than delete it" in text(answer)
    admin.post(f"/admin/events/{step_id}/enabled", data={"csrf_token": csrf_token(admin, page)})
    with in_english(app):
        assert db.session.get(FileEventType, step_id).enabled is False
    form = text(admin.get(f"/files/{world.ids['léa']}/events/new?type_id={step_id}"))
    assert f'value="{step_id}"' not in form  # no longer offered
    english = {"Accept-Language": "en"}
    history = text(admin.get(f"/files/{world.ids['léa']}/events", headers=english))
    assert "Step validated" in history  # the history keeps it


def test_only_the_direction_of_the_school_keeps_the_types(app, world):
    with in_english(app):
        entry = event_types.types_of(world.school)[0].id
    for name in ("teacher", "staff", "anne"):
        assert logged_in(app, world.logins[name]).get("/admin/events/").status_code == 403
    other = logged_in(app, world.logins["other_admin"])
    assert other.get(f"/admin/events/{entry}/edit").status_code == 404
    answer = other.post(
        f"/admin/events/{entry}/delete", data={"csrf_token": csrf_token(other, "/admin/events/")}
    )
    assert answer.status_code == 404


def test_a_type_of_another_school_is_refused_next_to_the_field(app, world):
    with in_english(app):
        theirs = db.session.scalar(
            select(FileEventType.id).where(FileEventType.school_id != world.school).limit(1)
        )
    admin = logged_in(app, world.logins["admin"])
    url = f"/files/{world.ids['léa']}/events/new"
    answer = admin.post(
        url,
        data={"csrf_token": csrf_token(admin, url), "type_id": theirs, "day": "2026-11-23"},
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 400
    assert "Choose a type from the list." in text(answer)
    with in_english(app):
        assert db.session.scalar(select(FileEvent.id)) is None
