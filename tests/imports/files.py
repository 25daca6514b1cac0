"""Export files shaped like the registers' own: French headings, ';', Latin-1 or UTF-8 with BOM."""

from __future__ import annotations

import codecs

SIECLE_PUPILS = [
    "INE",
    "Nom de famille",
    "Prénom 1",
    "Date de naissance",
    "Division",
    "Groupes",
    *[
        f"{heading} {n}"
        for n in (1, 2)
        for heading in (
            "Nom représentant légal",
            "Prénom représentant légal",
            "Courriel représentant légal",
            "Tél. portable représentant légal",
            "Responsable financier",
            "Personne à contacter",
            "Accepte SMS",
        )
    ],
]
ONDE_PUPILS = [
    "Identifiant national élève",
    "Nom élève",
    "Prénom élève",
    "Date naissance",
    "Classe",
    *[
        f"{heading} {n}"
        for n in (1, 2)
        for heading in (
            "Nom responsable",
            "Prénom responsable",
            "Courriel responsable",
            "Téléphone portable responsable",
            "Financier responsable",
            "Contact responsable",
            "SMS responsable",
        )
    ],
]
SIECLE_STRUCTURES = ["Code structure", "Type structure"]
SIECLE_STAFF = ["Nom d'usage", "Prénom", "Fonction", "Courriel", "Tél. portable", "Divisions"]


def guardian(last: str, first: str, email="", mobile="", financial="Oui", contact="Oui", sms="Non"):
    return [last, first, email, mobile, financial, contact, sms]


NO_GUARDIAN = [""] * 7


def csv_bytes(headings: list[str], rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    """The file as the register writes it: one line per row, ';' between values, CRLF."""
    lines = [";".join(headings)] + [";".join(row) for row in rows]
    text = "\r\n".join(lines) + "\r\n"
    if encoding == "utf-8-sig":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    return text.encode(encoding)


def pupil(ine, last, first, born, division, groups="", g1=None, g2=None) -> list[str]:
    return [ine, last, first, born, division, groups, *(g1 or NO_GUARDIAN), *(g2 or NO_GUARDIAN)]


def onde_pupil(ine, last, first, born, classe, g1=None, g2=None) -> list[str]:
    return [ine, last, first, born, classe, *(g1 or NO_GUARDIAN), *(g2 or NO_GUARDIAN)]
