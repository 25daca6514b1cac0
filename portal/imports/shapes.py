"""The shapes of the national registers' CSV exports, as small declared tables.

A table says, for one kind of file (pupils with their guardians, classes and groups, staff)
exported by one register, which heading each of our fields may carry. Headings are compared
folded (no case, no accents, punctuation as spaces), so 'Prénom 1', 'PRENOM 1' and 'prénom-1'
are one heading. Another export shape is one more table in SHAPES.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.core.text import fold


@dataclass(frozen=True)
class Column:
    field: str
    headings: tuple[str, ...]
    required: bool = False


@dataclass(frozen=True)
class Shape:
    #: The register: 'siecle' (secondary schools) or 'onde' (primary schools).
    register: str
    #: What each row is: 'pupils' (a pupil and up to two guardians), 'structures' (a class or a
    #: teaching group), 'staff' (a member of staff, teacher or direction).
    kind: str
    columns: tuple[Column, ...]

    @property
    def key(self) -> str:
        return f"{self.register}-{self.kind}"


REGISTERS = {
    "siecle": _l("SIECLE / STS-web (secondary schools)"),
    "onde": _l("ONDE (primary schools)"),
}
KINDS = {
    "pupils": _l("Pupils and their guardians"),
    "structures": _l("Classes and teaching groups"),
    "staff": _l("Teachers, staff and direction"),
}


def _guardian_columns(rank: int, names: dict[str, tuple[str, ...]]) -> tuple[Column, ...]:
    """The seven columns of guardian ``rank``: each heading pattern has '{n}' for the rank."""
    return tuple(
        Column(f"guardian{rank}.{field}", tuple(h.format(n=rank) for h in headings))
        for field, headings in names.items()
    )


_SIECLE_GUARDIAN = {
    "last_name": ("Nom représentant légal {n}", "Nom responsable {n}", "Nom resp {n}"),
    "first_name": ("Prénom représentant légal {n}", "Prénom responsable {n}", "Prénom resp {n}"),
    "email": ("Courriel représentant légal {n}", "Courriel responsable {n}", "Mél resp {n}"),
    "mobile": (
        "Tél. portable représentant légal {n}",
        "Portable responsable {n}",
        "Tél portable resp {n}",
    ),
    "financial": ("Responsable financier {n}", "Resp financier {n}"),
    "contact": ("Personne à contacter {n}", "À contacter {n}"),
    "accepts_sms": ("Accepte SMS {n}", "Accepte les SMS {n}"),
}
_ONDE_GUARDIAN = {
    "last_name": ("Nom responsable {n}", "Nom d'usage responsable {n}"),
    "first_name": ("Prénom responsable {n}",),
    "email": ("Courriel responsable {n}", "Adresse courriel responsable {n}"),
    "mobile": ("Téléphone portable responsable {n}", "Portable responsable {n}"),
    "financial": ("Financier responsable {n}", "Responsable financier {n}"),
    "contact": ("Contact responsable {n}", "À contacter responsable {n}"),
    "accepts_sms": ("SMS responsable {n}", "Accord SMS responsable {n}"),
}

SHAPES: dict[str, Shape] = {
    shape.key: shape
    for shape in (
        Shape(
            "siecle",
            "pupils",
            (
                Column("national_id", ("INE", "Numéro national", "N° national")),
                Column("last_name", ("Nom de famille", "Nom"), required=True),
                Column("first_name", ("Prénom 1", "Prénom"), required=True),
                Column("birth_date", ("Date de naissance", "Date naissance", "Date naiss"), True),
                Column("class", ("Division", "Classe")),
                Column("groups", ("Groupes", "Groupe")),
                *_guardian_columns(1, _SIECLE_GUARDIAN),
                *_guardian_columns(2, _SIECLE_GUARDIAN),
            ),
        ),
        Shape(
            "onde",
            "pupils",
            (
                Column("national_id", ("INE", "Identifiant national élève")),
                Column("last_name", ("Nom élève", "Nom d'usage élève"), required=True),
                Column("first_name", ("Prénom élève",), required=True),
                Column("birth_date", ("Date naissance", "Date de naissance"), required=True),
                Column("class", ("Classe", "Libellé classe")),
                Column("groups", ("Dispositif", "Regroupement")),
                *_guardian_columns(1, _ONDE_GUARDIAN),
                *_guardian_columns(2, _ONDE_GUARDIAN),
            ),
        ),
        Shape(
            "siecle",
            "structures",
            (
                Column("name", ("Code structure", "Structure", "Division"), required=True),
                Column("type", ("Type structure", "Type"), required=True),
            ),
        ),
        Shape(
            "onde",
            "structures",
            (
                Column("name", ("Classe", "Libellé classe"), required=True),
                Column("type", ("Type", "Nature")),
            ),
        ),
        Shape(
            "siecle",
            "staff",
            (
                Column("national_id", ("Numen", "Identifiant")),
                Column("last_name", ("Nom d'usage", "Nom"), required=True),
                Column("first_name", ("Prénom",), required=True),
                Column("profile", ("Fonction", "Profil"), required=True),
                Column("email", ("Courriel", "Mél")),
                Column("mobile", ("Tél. portable", "Portable")),
                Column("classes", ("Divisions", "Classes")),
            ),
        ),
        Shape(
            "onde",
            "staff",
            (
                Column("national_id", ("Identifiant",)),
                Column("last_name", ("Nom d'usage", "Nom"), required=True),
                Column("first_name", ("Prénom",), required=True),
                Column("profile", ("Fonction", "Rôle"), required=True),
                Column("email", ("Courriel", "Adresse courriel")),
                Column("mobile", ("Téléphone portable", "Portable")),
                Column("classes", ("Classes", "Classe")),
            ),
        ),
    )
}

#: How a structures file names the kind of a row ('Division' is a class in SIECLE).
STRUCTURE_TYPES = {
    "division": "class",
    "classe": "class",
    "groupe": "teaching",
    "groupe d enseignement": "teaching",
    "dispositif": "teaching",
}
#: How the registers name functions, folded, and the profile each becomes.
FUNCTIONS = {
    "ens": "teacher",
    "enseignant": "teacher",
    "enseignante": "teacher",
    "professeur": "teacher",
    "professeure": "teacher",
    "professeur des ecoles": "teacher",
    "edu": "staff",
    "cpe": "staff",
    "vie scolaire": "staff",
    "surveillant": "staff",
    "aed": "staff",
    "secretariat": "staff",
    "adm": "staff",
    "dir": "admin",
    "direction": "admin",
    "directeur": "admin",
    "directrice": "admin",
    "principal": "admin",
    "principale": "admin",
    "principal adjoint": "admin",
    "proviseur": "admin",
    "proviseur adjoint": "admin",
}
YES = {"oui", "o", "1", "x", "vrai", "yes", "y", "true"}
NO = {"non", "n", "0", "faux", "no", "false", ""}


def heading_key(text: str) -> str:
    """'Tél. portable représentant légal 1' -> 'tel portable representant legal 1': how
    headings, functions and structure types are compared."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(text)).split())


def match_headings(shape: Shape, headings: list[str]) -> tuple[dict[str, int], list[str]]:
    """Which position each field is read from, and the required headings not found (each given
    as its first accepted form)."""
    positions = {heading_key(h): i for i, h in reversed(list(enumerate(headings)))}
    found, missing = {}, []
    for column in shape.columns:
        at = next((positions[k] for k in map(heading_key, column.headings) if k in positions), None)
        if at is not None:
            found[column.field] = at
        elif column.required:
            missing.append(column.headings[0])
    return found, missing


def detect(kind: str, headings: list[str]) -> Shape | None:
    """The register whose table of ``kind`` fits the headings best (all its required headings
    present, then the most headings recognised); None when none fits."""
    fitting = []
    for shape in SHAPES.values():
        if shape.kind != kind:
            continue
        found, missing = match_headings(shape, headings)
        if not missing:
            fitting.append((len(found), shape.register == "siecle", shape))
    return max(fitting, key=lambda t: t[:2])[2] if fitting else None
