"""An ENT login column in the register's export links each person to the identity provider
the direction chose for the import (as SACoche imports the ENT's identifiers): applied once,
audited as the import's, a second import changes nothing, and an identifier another account
holds is a warning that links nobody."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from portal.accounts.models import ExternalIdentity, User
from portal.core.audit import AuditEntry, AuditTag
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.imports import services
from portal.imports.models import ImportRow, ImportRun
from tests.imports.files import SIECLE_PUPILS, SIECLE_STAFF, csv_bytes, guardian, pupil
from tests.school import in_english, person
from tests.sso.helpers import provider
from tests.web import csrf_token, field_error, logged_in, text

HEADINGS = [*SIECLE_PUPILS, "Identifiant ENT", "Identifiant ENT resp. légal1"]
JULES = [
    *pupil("0123456789A", "DURAND", "Jules", "14/03/2013", "5B", "", guardian("DURAND", "Marc")),
    "jules.durand",
    "marc.durand",
]


@pytest.fixture
def ent(app, world):
    with app.app_context():
        made = provider(world.school)
        db.session.commit()
        return made.id


def _links() -> dict[str, str]:
    return {
        link.subject: db.session.get(User, link.user_id).first_name
        for link in db.session.scalars(select(ExternalIdentity))
    }


def test_a_file_with_identifiers_names_the_provider_they_come_from(app, world, ent):
    with in_english(app):
        with pytest.raises(ValidationError) as refused:
            services.upload(
                person(world, "admin"), "pupils", "", "eleves.csv", csv_bytes(HEADINGS, [JULES])
            )
        assert "choose the identity provider" in refused.value.errors["provider"]
        with pytest.raises(ValidationError):
            services.upload(
                person(world, "admin"),
                "pupils",
                "",
                "eleves.csv",
                csv_bytes(HEADINGS, [JULES]),
                ent + 1000,  # not one of the school's providers
            )


def test_identifiers_are_linked_once_audited_and_a_second_import_changes_nothing(app, world, ent):
    with in_english(app):
        admin = person(world, "admin")
        run = services.upload(admin, "pupils", "", "eleves.csv", csv_bytes(HEADINGS, [JULES]), ent)
        db.session.commit()
        assert run.counts["created"] == 1
        services.start_apply(admin, run)
        db.session.commit()
        assert _links() == {"jules.durand": "Jules", "marc.durand": "Marc"}
        audited = db.session.scalars(
            select(AuditEntry).where(AuditEntry.tag == AuditTag.SSO_LINKED.value)
        ).all()
        assert {entry.details["subject"] for entry in audited} == {"jules.durand", "marc.durand"}
        assert {entry.actor_id for entry in audited} == {admin.id}
        assert {entry.details["by"] for entry in audited} == {"import"}
        again = services.upload(
            admin, "pupils", "", "eleves.csv", csv_bytes(HEADINGS, [JULES]), ent
        )
        db.session.commit()
        assert again.counts["unchanged"] == 1 and again.counts["updated"] == 0
        # a new identifier from the ENT replaces the earlier one
        moved = [*JULES[:-2], "jules.durand2", "marc.durand"]
        third = services.upload(
            admin, "pupils", "", "eleves.csv", csv_bytes(HEADINGS, [moved]), ent
        )
        db.session.commit()
        assert third.counts["updated"] == 1
        services.start_apply(admin, third)
        db.session.commit()
        assert _links() == {"jules.durand2": "Jules", "marc.durand": "Marc"}


def test_an_identifier_another_account_holds_is_a_warning(app, world, ent):
    with in_english(app):
        admin = person(world, "admin")
        teacher = person(world, "teacher")
        db.session.add(
            ExternalIdentity(
                provider_id=ent, user_id=teacher.id, subject="jules.durand", linked_by="direction"
            )
        )
        db.session.commit()
        run = services.upload(admin, "pupils", "", "eleves.csv", csv_bytes(HEADINGS, [JULES]), ent)
        db.session.commit()
        (row,) = db.session.scalars(select(ImportRow).where(ImportRow.run_id == run.id))
        assert ["warning", "sso_taken"] in [[code, values.get("why")] for code, values in row.notes]
        services.start_apply(admin, run)
        db.session.commit()
        assert _links() == {"jules.durand": "Paul", "marc.durand": "Marc"}


def test_staff_are_linked_from_their_file(app, world, ent):
    rows = [["NOIR", "Jeanne", "Enseignant", "jeanne.noir@example.org", "", "", "j.noir"]]
    with in_english(app):
        admin = person(world, "admin")
        run = services.upload(
            admin, "staff", "", "f_wind.csv", csv_bytes([*SIECLE_STAFF, "Login ENT"], rows), ent
        )
        db.session.commit()
        services.start_apply(admin, run)
        db.session.commit()
        assert _links() == {"j.noir": "Jeanne"}


def test_the_import_page_asks_for_the_provider_next_to_its_field(app, world, ent):
    client = logged_in(app, world.logins["admin"])

    def upload(**extra):
        return client.post(
            "/admin/imports/",
            data={
                "csrf_token": csrf_token(client, "/admin/imports/"),
                "kind": "pupils",
                "register": "",
                "file": (io.BytesIO(csv_bytes(HEADINGS, [JULES])), "eleves.csv"),
                **extra,
            },
            headers={"Accept-Language": "en"},
            content_type="multipart/form-data",
        )

    page = text(client.get("/admin/imports/", headers={"Accept-Language": "en"}))
    assert "Identity provider of the identifiers" in page
    refused = upload(provider="")
    assert refused.status_code == 400
    assert "choose the identity provider" in field_error(refused, "provider")
    accepted = upload(provider=str(ent))
    assert accepted.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ImportRun.provider_id)) == ent
