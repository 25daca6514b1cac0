"""Imports of the registers' exports: the preview line by line, applying it in one go, a second
import that changes nothing, Latin-1 files, and the e-mail ownership rule (SPEC §4, §10)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from portal.accounts.models import EmailPriority, EmailSource, Guardianship, User
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import Group, GroupKind
from portal.imports import services
from portal.imports.models import ImportRow, ImportRun, RunState
from tests.imports.files import (
    ONDE_PUPILS,
    SIECLE_PUPILS,
    SIECLE_STAFF,
    SIECLE_STRUCTURES,
    csv_bytes,
    guardian,
    onde_pupil,
    pupil,
)
from tests.school import in_english, person
from tests.web import csrf_token, logged_in, text

MARC = guardian("DURAND", "Marc", "marc.durand@example.org", "06 12 34 56 78", sms="Oui")
SOPHIE = guardian("DURAND", "Sophie", "", "07 98 76 54 32", financial="Non")
ANNE, ALAIN = guardian("Martin", "Anne"), guardian("Martin", "Alain")

#: Two brothers sharing their guardians, Léa (already in 5B) and five lines each wrong in
#: its own way.
SIECLE_FILE = [
    pupil("0123456789A", "DURAND", "Jules", "14/03/2013", "5B", "ULIS", MARC, SOPHIE),
    pupil("0123456790B", "DURAND", "Émile", "02/09/2014", "4A", "", MARC, SOPHIE),
    pupil("0123456791C", "PETIT", "", "01/01/2013", "5B", "", MARC),
    pupil("0123456792D", "LEROY", "Inès", "31/02/2013", "5B"),
    pupil("0123456793E", "MOREAU", "Tom", "05/05/2013", "6Z"),
    pupil(
        "0123456794F",
        "GIRARD",
        "Lou",
        "06/06/2013",
        "5B",
        "",
        guardian("GIRARD", "Eve", "", "01 23"),
    ),
    pupil("0123456789A", "DURAND", "Jules", "14/03/2013", "5B", "ULIS", MARC, SOPHIE),
    pupil(
        "",
        "Martin",
        "Léa",
        "12/12/2013",
        "5B",
        "",
        guardian("Martin", "Anne"),
        guardian("Martin", "Alain"),
    ),
]


def _upload(world, content: bytes, kind: str = "pupils", register: str = "", name="eleves.csv"):
    school_admin = person(world, "admin")
    run = services.upload(school_admin, kind, register, name, content)
    db.session.commit()
    return run


def _reasons(run: ImportRun) -> dict[int, list[str]]:
    rows = db.session.scalars(select(ImportRow).where(ImportRow.run_id == run.id))
    return {
        row.line: [code for code, _values in row.notes] for row in rows if row.status == "rejected"
    }


def test_a_siecle_file_is_previewed_line_by_line_then_applied_once(app, world):
    with in_english(app):
        users_before = db.session.scalar(select(func.count(User.id)))
        run = _upload(world, csv_bytes(SIECLE_PUPILS, SIECLE_FILE))
        assert run.state == RunState.PREVIEWED and run.shape == "siecle"
        assert run.counts == {
            "created": 3,
            "updated": 1,
            "unchanged": 0,
            "rejected": 4,
            "warnings": 1,
        }
        assert _reasons(run) == {
            4: ["missing_name"],
            5: ["bad_date"],
            6: ["unknown_class"],
            8: ["duplicate"],
        }
        # Lou comes in with her mother, whose mobile is left out, and the line says why.
        (lou,) = db.session.scalars(
            select(ImportRow).where(ImportRow.run_id == run.id, ImportRow.line == 7)
        )
        assert (lou.status, lou.warnings) == ("created", 1)
        assert lou.notes == [
            [
                "warning",
                {
                    "who": "guardian1",
                    "column": "Tél. portable représentant légal 1",
                    "value": "01 23",
                    "why": "too_short",
                },
            ]
        ]
        # The preview changed nothing.
        assert db.session.scalar(select(func.count(User.id))) == users_before

        services.start_apply(person(world, "admin"), run)
        db.session.commit()
        assert run.state == RunState.APPLIED and run.content is None
        jules, emile = (
            db.session.scalars(select(User).where(User.national_id == ine)).one()
            for ine in ("0123456789A", "0123456790B")
        )
        assert jules.birth_date == dt.date(2013, 3, 14) and jules.school_id == world.school
        assert [g.name for g in groups.classes_of(jules)] == ["5B"]
        assert [g.name for g in groups.groups_of(jules, GroupKind.TEACHING)] == ["ULIS"]
        links = {(g.pupil_id, g.rank): g for g in db.session.scalars(select(Guardianship))}
        marc = links[(jules.id, 1)].parent
        assert links[(emile.id, 1)].parent_id == marc.id  # one father for both brothers
        assert marc.email == "marc.durand@example.org" and marc.mobile == "+33612345678"
        assert marc.email_source == EmailSource.IMPORT and marc.state == "inactive"
        assert links[(jules.id, 1)].accepts_sms and not links[(jules.id, 2)].financial
        parents_5b = groups.sub_groups(db.session.get(Group, world.groups["5B"]))["parent"]
        parents_4a = groups.sub_groups(db.session.get(Group, world.groups["4A"]))["parent"]
        assert marc.id in {u.id for u in groups.members(parents_5b)}
        assert marc.id in {u.id for u in groups.members(parents_4a)}
        assert person(world, "léa").birth_date == dt.date(2013, 12, 12)
        assert db.session.scalar(select(func.count(User.id))) == users_before + 6
        eve = db.session.scalars(select(User).where(User.first_name == "Eve")).one()
        assert eve.mobile is None

        again = _upload(world, csv_bytes(SIECLE_PUPILS, SIECLE_FILE))
        assert again.counts == {
            "created": 0,
            "updated": 0,
            "unchanged": 4,
            "rejected": 4,
            "warnings": 1,
        }
        with pytest.raises(services.ValidationError):
            services.start_apply(person(world, "admin"), again)


def test_an_onde_file_in_latin_1_keeps_its_accents_and_says_what_it_rejects(app, world):
    helene = guardian("LEFÈVRE", "Hélène", "helene@example.org", "0611223344", "O", "O", "O")
    rows = [
        onde_pupil("1234567890K", "BÉNARD", "Élodie", "03/04/2018", "4A", helene),
        onde_pupil("1234567891K", "", "Noé", "03/04/2018", "4A"),
        onde_pupil("1234567892K", "ROUX", "Inès", "2018-13-01", "4A"),
        onde_pupil("1234567893K", "ROUX", "Jade", "03/04/2018", "CM2 B"),
        onde_pupil(
            "1234567894K", "ROUX", "Lina", "03/04/2018", "4A", guardian("ROUX", "Paul", "", "06 12")
        ),
        onde_pupil("1234567890K", "BÉNARD", "Élodie", "03/04/2018", "4A", helene),
        onde_pupil("1234567895K", "ROUX", "Mia", "03/04/2018", "4A", guardian("ROUX", "Ana", "@")),
    ]
    with in_english(app):
        run = _upload(world, csv_bytes(ONDE_PUPILS, rows, "latin-1"), name="onde.csv")
        assert (run.shape, run.encoding) == ("onde", "cp1252")
        assert run.counts == {
            "created": 3,
            "updated": 0,
            "unchanged": 0,
            "rejected": 4,
            "warnings": 2,
        }
        assert _reasons(run) == {
            3: ["missing_name"],
            4: ["bad_date"],
            5: ["unknown_class"],
            7: ["duplicate"],
        }
        services.start_apply(person(world, "admin"), run)
        db.session.commit()
        elodie = db.session.scalars(select(User).where(User.national_id == "1234567890K")).one()
        assert (elodie.first_name, elodie.last_name) == ("Élodie", "BÉNARD")
        mother = db.session.scalars(
            select(User)
            .join(Guardianship, Guardianship.parent_id == User.id)
            .where(Guardianship.pupil_id == elodie.id)
        ).one()
        assert (mother.first_name, mother.last_name) == ("Hélène", "LEFÈVRE")
        assert db.session.scalars(select(User).where(User.search_key == "lefevre helene")).one()


@pytest.mark.parametrize("priority", [EmailPriority.USER, EmailPriority.ADMIN])
def test_an_address_the_parent_entered_is_kept_when_the_school_gives_them_priority(
    app, world, priority
):
    with in_english(app):
        anne = person(world, "anne")
        anne.school.email_priority = priority
        anne.email, anne.email_source = "anne@famille.example", EmailSource.USER
        db.session.commit()
        line = pupil(
            "",
            "Martin",
            "Léa",
            "12/12/2013",
            "5B",
            "",
            guardian("Martin", "Anne", "anne.martin@register.example"),
        )
        run = _upload(world, csv_bytes(SIECLE_PUPILS, [line]))
        services.start_apply(person(world, "admin"), run)
        db.session.commit()
        notes = db.session.scalars(select(ImportRow.notes).where(ImportRow.run_id == run.id)).one()
        if priority == EmailPriority.USER:
            assert person(world, "anne").email == "anne@famille.example"
            assert ["email_kept", {"who": "MARTIN Anne"}] in notes
        else:
            assert person(world, "anne").email == "anne.martin@register.example"
            assert person(world, "anne").email_source == EmailSource.IMPORT


def test_classes_and_groups_then_staff_with_their_classes(app, world):
    structures = [
        ["6A", "Division"],
        ["6B", "Division"],
        ["LATIN", "Groupe"],
        ["6A", "Division"],
        ["", "Division"],
        ["3C", "Atelier"],
    ]
    staff = [
        ["NOIR", "Jeanne", "Enseignant", "jeanne.noir@example.org", "", "6A, 6B"],
        ["BLANC", "Marc", "CPE", "", "", ""],
        ["ROUX", "Ali", "Enseignant", "", "", "9Z"],
        ["VERT", "Léon", "Jardinier", "", "", ""],
    ]
    with in_english(app):
        run = _upload(world, csv_bytes(SIECLE_STRUCTURES, structures), kind="structures")
        assert run.counts == {
            "created": 3,
            "updated": 0,
            "unchanged": 0,
            "rejected": 3,
            "warnings": 0,
        }
        assert _reasons(run) == {5: ["duplicate"], 6: ["missing_name"], 7: ["bad_type"]}
        services.start_apply(person(world, "admin"), run)
        db.session.commit()
        names = {g.name for g in groups.school_groups(world.school, GroupKind.CLASS)}
        assert {"6A", "6B"} <= names
        assert "LATIN" in {g.name for g in groups.school_groups(world.school, GroupKind.TEACHING)}

        run = _upload(world, csv_bytes(SIECLE_STAFF, staff), kind="staff")
        assert run.counts == {
            "created": 2,
            "updated": 0,
            "unchanged": 0,
            "rejected": 2,
            "warnings": 0,
        }
        assert _reasons(run) == {4: ["unknown_class"], 5: ["unknown_profile"]}
        services.start_apply(person(world, "admin"), run)
        db.session.commit()
        jeanne = db.session.scalars(
            select(User).where(User.email == "jeanne.noir@example.org")
        ).one()
        assert jeanne.profile == "teacher"
        assert sorted(g.name for g in groups.classes_of(jeanne)) == ["6A", "6B"]
        assert (
            db.session.scalars(select(User).where(User.last_name == "BLANC")).one().profile
            == "staff"
        )


def test_the_preview_and_the_result_are_shown_in_the_readers_language(app, world):
    admin = logged_in(app, world.logins["admin"])
    for language, rejected, reason in (
        ("en", "Rejected (4)", "Unknown class “6Z”"),
        ("fr", "Rejetées (4)", "Classe « 6Z » inconnue"),
    ):
        headers = {"Accept-Language": language}
        token = csrf_token(admin, "/admin/imports/")
        answer = admin.post(
            "/admin/imports/",
            data={
                "csrf_token": token,
                "kind": "pupils",
                "register": "siecle",
                "file": (
                    io.BytesIO(csv_bytes(SIECLE_PUPILS, SIECLE_FILE)),
                    "eleves.csv",
                ),
            },
            headers=headers,
            content_type="multipart/form-data",
        )
        assert answer.status_code == 302, text(answer)[:300]
        page = text(admin.get(answer.headers["Location"] + "?status=rejected", headers=headers))
        assert rejected in page and reason in page
    # Each upload is its own run; the school sees both in its list.
    assert text(admin.get("/admin/imports/")).count("eleves.csv") == 2


def test_bad_files_are_refused_next_to_the_field(app, world):
    admin = logged_in(app, world.logins["admin"])
    cases = [
        (b"", "en", "The file is empty."),
        (b"just one heading\r\nvalue\r\n", "en", "The first line should hold the column headings"),
        (csv_bytes(["Code", "Libellé"], [["A", "B"]]), "en", "The headings of this file are not"),
        (
            csv_bytes(["Code", "Libellé"], [["A", "B"]]),
            "fr",
            "Les intitulés de colonnes de ce fichier",
        ),
    ]
    for content, language, message in cases:
        answer = admin.post(
            "/admin/imports/",
            data={
                "csrf_token": csrf_token(admin, "/admin/imports/"),
                "kind": "pupils",
                "register": "",
                "file": (io.BytesIO(content), "x.csv"),
            },
            headers={"Accept-Language": language},
            content_type="multipart/form-data",
        )
        assert answer.status_code == 400
        assert message in text(answer)
    no_file = admin.post(
        "/admin/imports/",
        data={"csrf_token": csrf_token(admin, "/admin/imports/"), "kind": "pupils"},
        headers={"Accept-Language": "fr"},
    )
    assert no_file.status_code == 400 and "Choisissez le fichier à importer." in text(no_file)
    with app.app_context():
        assert db.session.scalar(select(func.count(ImportRun.id))) == 0
    model = admin.get("/admin/imports/models/siecle-pupils.csv")
    assert model.data.decode("utf-8").startswith("\ufeffINE;Nom de famille;Prénom 1;")
    assert admin.get("/admin/imports/models/nothing.csv").status_code == 404


def test_only_the_direction_of_the_school_reaches_its_imports(app, world):
    with in_english(app):
        run_id = _upload(world, csv_bytes(SIECLE_PUPILS, SIECLE_FILE[:1])).id
    assert logged_in(app, world.logins["teacher"]).get("/admin/imports/").status_code == 403
    assert logged_in(app, world.logins["staff"]).get("/admin/imports/").status_code == 403
    other = logged_in(app, world.logins["other_admin"])
    assert other.get(f"/admin/imports/{run_id}").status_code == 404
    token = csrf_token(other, "/admin/imports/")
    assert (
        other.post(f"/admin/imports/{run_id}/apply", data={"csrf_token": token}).status_code == 404
    )
    with app.app_context():
        assert db.session.get(ImportRun, run_id).state == RunState.PREVIEWED
