"""The registers' real exports, written independently of Carnet's model files: SIECLE's pupils
with their guardians' 'resp. légal1/2' columns, SIECLE's pupils then guardians one a line joined
on the N° Interne, ONDE's pupils then guardians joined by name and class; what each column is
taken as; a guardian's field that can't be read is a warning; overseas mobiles (SPEC §13)."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.accounts.models import Guardianship, User
from portal.extensions import db
from portal.groups import services as groups
from portal.imports import services
from portal.imports.models import ImportRow, RunState
from tests.imports.files import (
    ONDE_REAL_GUARDIANS,
    ONDE_REAL_PUPILS,
    SIECLE_GUARDIAN_LINES,
    csv_bytes,
    onde_real_guardian,
    onde_real_pupil,
    siecle_real_pupils,
)
from tests.school import in_english, person


def _import(world, content: bytes, kind: str = "pupils"):
    run = services.upload(person(world, "admin"), kind, "", "export.csv", content)
    db.session.commit()
    return run


def _apply(world, run) -> None:
    services.start_apply(person(world, "admin"), run)
    db.session.commit()


def _pupil(**where) -> User:
    query = select(User).where(User.profile == "pupil")
    for name, value in where.items():
        query = query.where(getattr(User, name) == value)
    return db.session.scalars(query).one()


def _guardians(pupil: User) -> dict[int, tuple[User, Guardianship]]:
    links = db.session.scalars(select(Guardianship).where(Guardianship.pupil_id == pupil.id))
    return {link.rank: (link.parent, link) for link in links}


def _row(run, line: int) -> ImportRow:
    return db.session.scalars(
        select(ImportRow).where(ImportRow.run_id == run.id, ImportRow.line == line)
    ).one()


def _siecle_lines():
    return [
        [
            "DURAND",
            "Jules",
            "14/03/2013",
            "5B",
            "M.",
            "DURAND",
            "Marc",
            "marc.durand@example.org",
            "06 12 34 56 78",
            "Oui",
            "DURAND",
            "Sophie",
            "",
            "0690 12 34 56",
            "Non",
        ],
        # Guardian 1's mobile is no number of any territory: a warning, not a rejection.
        ["PETIT", "Inès", "02/09/2013", "4A", "MME", "PETIT", "Rose", "", "0639 12 34 56", "Oui"]
        + [""] * 5,
    ]


def _check_siecle_import(world, mobile_heading: str) -> None:
    run = _import(world, csv_bytes(siecle_real_pupils(mobile_heading), _siecle_lines(), "cp1252"))
    assert (run.shape, run.kind, run.state) == ("siecle", "pupils", RunState.PREVIEWED)
    taken = {heading: (field, how) for heading, field, how in run.columns}
    assert taken["Code Structure"] == ("class", "recognised")
    assert taken["Nom resp. légal1"] == ("guardian1.last_name", "recognised")
    assert taken["Nom de famille resp. légal2"] == ("guardian2.last_name", "recognised")
    assert taken[mobile_heading.format(n=1)] == ("guardian1.mobile", "recognised")
    assert taken["Autorise SMS légal2"] == ("guardian2.accepts_sms", "recognised")
    assert taken["Civilité resp. légal1"] == (None, "ignored")
    assert run.counts == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "warnings": 1,
    }
    warning = _row(run, 3).notes
    assert warning == [
        [
            "warning",
            {
                "who": "guardian1",
                "column": mobile_heading.format(n=1),
                "value": "0639 12 34 56",
                "why": "unknown_prefix",
            },
        ]
    ]
    _apply(world, run)

    jules = _pupil(first_name="Jules")
    assert [g.name for g in groups.classes_of(jules)] == ["5B"]
    (marc, marc_link), (sophie, sophie_link) = _guardians(jules)[1], _guardians(jules)[2]
    assert (marc.first_name, marc.last_name) == ("Marc", "DURAND")
    assert (marc.email, marc.mobile, marc_link.accepts_sms) == (
        "marc.durand@example.org",
        "+33612345678",
        True,
    )
    assert (sophie.first_name, sophie.mobile, sophie_link.accepts_sms) == (
        "Sophie",
        "+590690123456",
        False,
    )
    ines = _pupil(first_name="Inès")
    assert [g.name for g in groups.classes_of(ines)] == ["4A"]
    rose, rose_link = _guardians(ines)[1]
    assert (rose.first_name, rose.mobile, rose_link.accepts_sms) == ("Rose", None, True)


def test_a_siecle_export_brings_its_pupils_with_their_guardians_and_classes(app, world):
    with in_english(app):
        _check_siecle_import(world, "Tel mobile resp. légal{n}")


def test_the_mobile_heading_other_tools_write_is_read_as_well(app, world):
    with in_english(app):
        _check_siecle_import(world, "Tél. portable resp. légal{n}")


def test_siecle_pupils_then_their_guardians_one_a_line_joined_on_the_internal_number(app, world):
    pupils = [
        ["DURAND", "Jules", "14/03/2013", "5B", "01234"],
        ["DURAND", "Émile", "02/09/2014", "4A", "01235"],
    ]
    headings = ["Nom", "Prénom 1", "Date de naissance", "Division", "N° Interne"]
    guardian_lines = [
        # Nom, Prénom 1, born, N° Interne, INE, Division, Légal, Financier, title, name...
        ["DURAND", "Jules", "14/03/2013", "01234", "", "5B", "1", "VRAI", "M.", "DURAND", "Marc"]
        + ["0692 12 34 56", "marc@example.org"],
        ["DURAND", "Jules", "14/03/2013", "01234", "", "5B", "2", "FAUX", "MME", "DURAND"]
        + ["Sophie", "", "sophie@example.org"],
        ["DURAND", "Émile", "02/09/2014", "01235", "", "4A", "1", "VRAI", "M.", "DURAND", "Marc"]
        + ["0692 12 34 56", "marc@example.org"],
        # Not a legal guardian: left out.
        ["DURAND", "Émile", "02/09/2014", "01235", "", "4A", "0", "FAUX", "M.", "DURAND", "Gaston"]
        + ["", ""],
        # A pupil the school does not have.
        ["ROUX", "Tom", "02/09/2014", "09999", "", "4A", "1", "VRAI", "M.", "ROUX", "Ali"]
        + ["", ""],
    ]
    with in_english(app):
        _apply(world, _import(world, csv_bytes(headings, pupils)))
        jules = _pupil(register_number="01234")
        assert jules.first_name == "Jules" and _guardians(jules) == {}

        # Uploaded as 'pupils and their guardians': read as the guardians file it is.
        run = _import(world, csv_bytes(SIECLE_GUARDIAN_LINES, guardian_lines))
        assert (run.shape, run.kind) == ("siecle", "guardians")
        taken = {heading: field for heading, field, _how in run.columns}
        assert taken["N° Interne"] == "pupil.register_number"
        assert taken["Légal"] == "guardian.rank"
        assert taken["Nom resp."] == "guardian.last_name"
        assert run.counts == {
            "created": 2,
            "updated": 1,
            "unchanged": 1,
            "rejected": 1,
            "warnings": 0,
        }
        assert _row(run, 6).notes[0][0] == "pupil_not_found"
        _apply(world, run)

        emile = _pupil(register_number="01235")
        marc, marc_link = _guardians(jules)[1]
        sophie, _link = _guardians(jules)[2]
        assert (marc.mobile, marc.email, marc_link.financial) == (
            "+262692123456",
            "marc@example.org",
            True,
        )
        assert (sophie.first_name, sophie.email) == ("Sophie", "sophie@example.org")
        assert {rank: p.id for rank, (p, _l) in _guardians(emile).items()} == {1: marc.id}
        assert (
            db.session.scalar(select(func.count(User.id)).where(User.first_name == "Gaston")) == 0
        )


def test_onde_pupils_then_their_guardians_found_by_name_and_class(app, world):
    pupils = [
        onde_real_pupil("BÉNARD", "Élodie", "03/04/2016", "1234567890K", "4A"),
        onde_real_pupil("BÉNARD", "Noé", "05/06/2017", "1234567891K", "5B"),
    ]
    guardian_lines = [
        onde_real_guardian(
            "BÉNARD",
            "Hélène",
            "helene@example.org",
            "0696 12 34 56",
            ("BÉNARD", "Élodie", "4A"),
            ("BÉNARD", "Noé", "5B"),
        ),
        onde_real_guardian("BÉNARD", "Luc", "", "0694 20 12 34", ("BÉNARD", "Noé", "5B")),
        # A child named in another class than the school's: not this school's Élodie.
        onde_real_guardian("ROUX", "Ana", "", "", ("BÉNARD", "Élodie", "CM2 B")),
    ]
    with in_english(app):
        run = _import(world, csv_bytes(ONDE_REAL_PUPILS, pupils, "cp1252"))
        assert (run.shape, run.kind, run.counts["created"]) == ("onde", "pupils", 2)
        taken = {heading: field for heading, field, _how in run.columns}
        assert taken["Libellé classe"] == "class" and taken["Nom élève"] == "last_name"
        _apply(world, run)

        run = _import(world, csv_bytes(ONDE_REAL_GUARDIANS, guardian_lines, "cp1252"), "guardians")
        assert (run.shape, run.kind) == ("onde", "guardians")
        taken = [field for _heading, field, _how in run.columns]
        assert taken[12:20] == [None, "child1.last_name", "child1.first_name", "child1.class"] + [
            None,
            "child2.last_name",
            "child2.first_name",
            "child2.class",
        ]
        assert run.counts["created"] == 2 and run.counts["rejected"] == 1
        assert _row(run, 4).notes[0][0] == "pupil_not_found"
        _apply(world, run)

        elodie, noe = _pupil(first_name="Élodie"), _pupil(first_name="Noé")
        helene, _link = _guardians(elodie)[1]
        assert (helene.first_name, helene.email, helene.mobile) == (
            "Hélène",
            "helene@example.org",
            "+596696123456",
        )
        ranks = {rank: p.first_name for rank, (p, _l) in _guardians(noe).items()}
        assert ranks == {1: "Hélène", 2: "Luc"}
        assert _guardians(noe)[2][0].mobile == "+594694201234"
