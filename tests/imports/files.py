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


#: SIECLE's custom extraction, one line per pupil, with the headings of the real export: the
#: guardians' blocks 'resp. légal1/2' (guardian 1's mobile heading is given by the test: the
#: export writes 'Tel mobile resp. légal1', other tools 'Tél. portable resp. légal1').
def siecle_real_pupils(mobile_heading: str = "Tel mobile resp. légal{n}") -> list[str]:
    return [
        "Nom",
        "Prénom 1",
        "Date de naissance",
        "Code Structure",
        "Civilité resp. légal1",
        "Nom resp. légal1",
        "Prénom resp. légal1",
        "Courriel resp. légal1",
        mobile_heading.format(n=1),
        "Autorise SMS légal1",
        "Nom de famille resp. légal2",
        "Prénom resp. légal2",
        "Courriel resp. légal2",
        mobile_heading.format(n=2),
        "Autorise SMS légal2",
    ]


#: SIECLE's extraction with one line per guardian (SE3's list, accents as the export writes
#: them), the pupil's columns repeated.
SIECLE_GUARDIAN_LINES = [
    "Nom",
    "Prénom 1",
    "Date de naissance",
    "N° Interne",
    "INE",
    "Division",
    "Légal",
    "Financier",
    "Civilité resp.",
    "Nom resp.",
    "Prénom resp.",
    "Tel mobile resp.",
    "Courriel resp.",
]
#: ONDE's pupils extraction (the EOLE sample's header, ' Cycle' with its leading space).
ONDE_REAL_PUPILS = [
    "Nom élève",
    "Nom d'usage élève",
    "Prénom élève",
    "Date naissance",
    "Sexe",
    "INE",
    "Adresse1",
    "Cp1",
    "Commune1",
    "Pays1",
    "Adresse2",
    "Cp2",
    "Commune2",
    "Pays2",
    " Cycle",
    "Niveau",
    "Libellé classe",
    "Identifiant classe",
    "Attestation fournie",
    "Autorisation associations",
    "Autorisation photo",
    "Décision de passage",
]
#: ONDE's guardians extraction: the guardian, then four blocks of children under the same
#: headings.
ONDE_REAL_GUARDIANS = [
    "Civilité Responsable",
    "Nom usage responsable",
    "Nom responsable",
    "Prénom responsable",
    "Adresse responsable",
    "CP responsable",
    "Commune responsable",
    "Pays",
    "Courriel",
    "Téléphone domicile",
    "Téléphone travail",
    "Téléphone portable",
    *["Nom d'usage enfant", "Nom de famille enfant", "Prénom enfant", "Classes enfants"] * 4,
]


def onde_real_pupil(last, first, born, ine, classe) -> list[str]:
    address = ["1 rue de l'École", "97110", "Pointe-à-Pitre", "France", "", "", "", ""]
    return [last, "", first, born, "F", ine, *address, "CYCLE III", "CM1", classe, "0991"]


def onde_real_guardian(last, first, email, mobile, *children) -> list[str]:
    """``children``: (last name, first name, classes) of each child named on the line."""
    blocks = [["", last_name, first_name, classes] for last_name, first_name, classes in children]
    blocks += [["", "", "", ""]] * (4 - len(blocks))
    return [
        "MME",
        "",
        last,
        first,
        "1 rue de l'École",
        "97110",
        "Pointe-à-Pitre",
        "France",
        email,
        "",
        "",
        mobile,
        *[value for block in blocks for value in block],
    ]
