"""What an import must not do: give SMS consent back after STOP, hand a parent's flags to the
other parent when they swap ranks, touch another school's guardian, make a second account for a
parent whose own address was kept, apply twice, or miscount lines."""

from __future__ import annotations

import codecs

import pytest
from sqlalchemy import func, select

from portal.accounts.models import EmailSource, Guardianship, User
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.imports import services
from portal.imports.models import ImportRow
from portal.imports.read import read
from portal.sms.models import SmsOptOut
from tests.imports.files import SIECLE_PUPILS, csv_bytes, guardian, pupil
from tests.school import in_english, person

#: An export with names only: the flags keep the values the school has.
NAMES_ONLY = [
    "Nom de famille",
    "Prénom 1",
    "Date de naissance",
    "Division",
    "Nom représentant légal 1",
    "Prénom représentant légal 1",
    "Nom représentant légal 2",
    "Prénom représentant légal 2",
]


def _import(world, content: bytes):
    run = services.upload(person(world, "admin"), "pupils", "siecle", "f.csv", content)
    db.session.commit()
    return run


def _apply(world, run):
    services.start_apply(person(world, "admin"), run)
    db.session.commit()


def _link(pupil_id: int, parent_id: int) -> Guardianship:
    return db.session.scalars(
        select(Guardianship).where(
            Guardianship.pupil_id == pupil_id, Guardianship.parent_id == parent_id
        )
    ).one()


def _notes(run) -> list:
    rows = db.session.scalars(select(ImportRow.notes).where(ImportRow.run_id == run.id))
    return [code for notes in rows for code, _values in notes]


def test_swapped_guardians_keep_their_own_flags(app, world):
    with in_english(app):
        lea, anne, alain = (world.ids[k] for k in ("léa", "anne", "alain"))
        _link(lea, anne).accepts_sms = True
        _link(lea, alain).financial = True
        db.session.commit()
        line = ["Martin", "Léa", "12/12/2013", "5B", "Martin", "Alain", "Martin", "Anne"]
        run = _import(world, csv_bytes(NAMES_ONLY, [line]))
        assert run.counts["updated"] == 1 and run.counts["created"] == 0
        _apply(world, run)
        anne_link, alain_link = _link(lea, anne), _link(lea, alain)
        assert (alain_link.rank, alain_link.financial, alain_link.accepts_sms) == (1, True, False)
        assert (anne_link.rank, anne_link.financial, anne_link.accepts_sms) == (2, False, True)
        assert db.session.scalar(select(func.count(User.id)).where(User.first_name == "Anne")) == 1
        assert _import(world, csv_bytes(NAMES_ONLY, [line])).counts["unchanged"] == 1


def test_an_import_does_not_give_sms_consent_back_after_stop(app, world):
    with in_english(app):
        anne = person(world, "anne")
        anne.mobile = "+33611223344"
        db.session.add(
            SmsOptOut(school_id=world.school, person_id=anne.id, phone=anne.mobile, words="STOP")
        )
        db.session.commit()
        g1 = guardian("Martin", "Anne", "", "06 11 22 33 44", "Non", "Oui", "Oui")
        g2 = guardian("Martin", "Alain", financial="Non")
        line = pupil("", "Martin", "Léa", "12/12/2013", "5B", "", g1, g2)
        run = _import(world, csv_bytes(SIECLE_PUPILS, [line]))
        assert "sms_stop_kept" in _notes(run)
        _apply(world, run)
        assert _link(world.ids["léa"], anne.id).accepts_sms is False


def test_another_schools_guardian_is_linked_and_left_alone(app, world):
    with in_english(app):
        from portal.groups import people

        hugo, other = person(world, "hugo"), person(world, "other_parent")
        other.email = "elsewhere@example.org"
        people.link_guardian(other, hugo, 2)
        db.session.commit()
        g2 = guardian(other.last_name, other.first_name, "new@example.org", financial="Non")
        line = pupil(
            "",
            "Martin",
            "Hugo",
            "01/02/2013",
            "5B",
            "ULIS",
            guardian("Martin", "Béatrice", financial="Non"),
            g2,
        )
        run = _import(world, csv_bytes(SIECLE_PUPILS, [line]))
        assert "elsewhere" in _notes(run)
        _apply(world, run)
        assert person(world, "other_parent").email == "elsewhere@example.org"
        assert _link(hugo.id, other.id).rank == 2


def test_a_parent_whose_own_address_was_kept_is_found_again(app, world):
    with in_english(app):
        anne = person(world, "anne")
        anne.email, anne.email_source = "anne@famille.example", EmailSource.USER
        db.session.commit()
        a = guardian("Martin", "Anne", "anne@register.example")
        rows = [
            pupil("", "Martin", "Léa", "12/12/2013", "5B", "", a, guardian("Martin", "Alain")),
            pupil("0123456789A", "Martin", "Noé", "03/03/2016", "4A", "", a),  # a new brother
        ]
        run = _import(world, csv_bytes(SIECLE_PUPILS, rows))
        _apply(world, run)
        noe = db.session.scalars(select(User).where(User.first_name == "Noé")).one()
        assert _link(noe.id, anne.id).rank == 1  # Anne, not a second Anne
        assert db.session.scalar(select(func.count(User.id)).where(User.first_name == "Anne")) == 1
        again = _import(world, csv_bytes(SIECLE_PUPILS, rows))
        assert again.counts == {
            "created": 0,
            "updated": 0,
            "unchanged": 2,
            "rejected": 0,
            "warnings": 0,
        }
        with pytest.raises(ValidationError):
            services.start_apply(person(world, "admin"), again)


def test_an_import_is_applied_once_however_often_apply_is_asked(app, world):
    with in_english(app):
        line = pupil("0123456789A", "Petit", "Jade", "04/04/2013", "5B")
        run = _import(world, csv_bytes(SIECLE_PUPILS, [line]))
        _apply(world, run)
        with pytest.raises(ValidationError):
            services.start_apply(person(world, "admin"), run)
        assert db.session.scalar(select(func.count(User.id)).where(User.first_name == "Jade")) == 1


def test_lines_are_counted_as_a_spreadsheet_shows_them():
    content = b'\r\n\r\nNom;Pr\xc3\xa9nom\r\n"Le\r\nGall";Zo\xc3\xa9\r\n\r\nMartin;L\xc3\xa9a\r\n'
    table = read(codecs.BOM_UTF8 + content)
    assert table.headings == ["Nom", "Prénom"]
    assert table.lines == [(4, ["Le\r\nGall", "Zoé"]), (7, ["Martin", "Léa"])]
    with pytest.raises(ValidationError) as refused:
        read(codecs.BOM_UTF8 + "Nom;Prénom\r\nLefèvre;Zoé\r\n".encode("latin-1"))
    assert "UTF-8" in refused.value.errors["file"]
