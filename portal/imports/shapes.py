"""The shapes of the national registers' CSV exports, as small declared tables.

A table says, for one kind of file (pupils with their guardians, guardians one a line, classes
and groups, staff) exported by one register, which heading each of our fields may carry. The
headings are those of the real exports (SIECLE, ONDE, STS-web through GEPI's CSV), with the
spelling variants seen in the field: the sources are in README ('Register exports recognised').
Headings are compared folded (no case, no accents, punctuation as spaces, letters and digits
apart), so 'Prénom 1', 'PRENOM1' and 'prénom-1', or 'légal1' and 'Légal 1', are one heading.

Reading a file's headings says, for every column, what Carnet takes it as: a field recognised,
a field the school mapped that heading to (portal.imports.mappings), or nothing. Another export
shape is one more table in SHAPES.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from portal.core.text import fold

#: Children named on one line of ONDE's guardians export (the EOLE sample has four blocks).
MAX_CHILDREN = 4


def heading_key(text: str) -> str:
    """'Tél. portable resp. légal1' -> 'tel portable resp legal 1': how headings, functions
    and structure types are compared."""
    words = re.sub(r"[^0-9a-z]+", " ", fold(text))
    return " ".join(re.sub(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])", " ", words).split())


@dataclass(frozen=True)
class Column:
    #: Our field: 'last_name', 'guardian1.mobile', 'pupil.national_id', or 'child{n}.class'
    #: for a child's block, whose headings say '{n}' (numbered) or repeat (the n-th time).
    field: str
    headings: tuple[str, ...]
    #: Needed whenever a column of its block ('guardian1', 'child2'...) is read; a field
    #: outside any block is needed in every file of the shape.
    required: bool = False

    @property
    def block(self) -> str:
        return self.field.split(".", 1)[0] if "." in self.field else ""


@dataclass(frozen=True)
class Shape:
    #: The register: 'siecle' (secondary schools, STS-web for staff) or 'onde' (primary).
    register: str
    #: What each row is: 'pupils' (a pupil and up to two guardians), 'guardians' (a guardian
    #: and the pupil or children they answer for), 'structures' (a class or a teaching group),
    #: 'staff' (a member of staff, teacher or direction).
    kind: str
    columns: tuple[Column, ...]
    #: Needs besides required columns: for each, a choice of sets of fields, one of which must
    #: be read whole (a guardians file needs some way to find the pupil).
    one_of: tuple[tuple[tuple[str, ...], ...], ...] = ()
    #: folded heading -> (field, or a child field with '{n}' when the heading repeats; its
    #: rank among the column's headings: the first heading present wins).
    index: dict[str, tuple[str, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        index: dict[str, tuple[str, int]] = {}
        for column in self.columns:
            for rank, heading in enumerate(column.headings):
                numbered = "{n}" in heading and "{n}" in column.field
                for n in range(1, MAX_CHILDREN + 1) if numbered else (None,):
                    key = heading_key(heading.format(n=n) if n else heading)
                    target = column.field.format(n=n) if n else column.field
                    assert key not in index, f"{self.key}: '{heading}' read twice"
                    index[key] = (target, rank)
        object.__setattr__(self, "index", index)

    @property
    def key(self) -> str:
        return f"{self.register}-{self.kind}"

    @property
    def fields(self) -> list[str]:
        """Every field a column of this shape may be read as, children counted out."""
        found = []
        for column in self.columns:
            if "{n}" in column.field:
                found += [column.field.format(n=n) for n in range(1, MAX_CHILDREN + 1)]
            else:
                found.append(column.field)
        return list(dict.fromkeys(found))

    def example(self, field_name: str) -> str:
        """The heading a file would give ``field_name`` (the table's first)."""
        template = re.sub(r"^child\d+\.", "child{n}.", field_name)
        n = field_name[5 : field_name.index(".")] if template != field_name else ""
        column = next(c for c in self.columns if c.field in (field_name, template))
        return column.headings[0].format(n=n)


REGISTERS = {
    "siecle": _l("SIECLE / STS-web (secondary schools)"),
    "onde": _l("ONDE (primary schools)"),
}
KINDS = {
    "pupils": _l("Pupils and their guardians"),
    "guardians": _l("Guardians (one line each) of pupils already in Carnet"),
    "structures": _l("Classes and teaching groups"),
    "staff": _l("Teachers, staff and direction"),
}
#: The kinds of file a choice on the upload form may turn out to be: a guardians export
#: uploaded as 'pupils and their guardians' is read as what it is.
KINDS_READ = {"pupils": ("pupils", "guardians")}


def _ranked(block: str, names: dict[str, tuple[str, ...]], required=("last_name", "first_name")):
    """The columns of guardian 1 and guardian 2: each heading has '{n}' for the rank."""
    return tuple(
        Column(f"{block}{rank}.{name}", tuple(h.format(n=rank) for h in headings), name in required)
        for rank in (1, 2)
        for name, headings in names.items()
    )


#: SIECLE: the custom extraction ('Nom resp. légal1'...), the 'Fiches élèves complètes' of BEE
#: ('Nom Resp. Lég. 1'...), GEPI's export ('Tel portable resp. légal 1'), and the headings of
#: Carnet's first model files, still accepted.
_SIECLE_GUARDIAN = {
    "last_name": (
        "Nom resp. légal{n}",
        "Nom de famille resp. légal{n}",
        "Nom Resp. Lég. {n}",
        "Nom Responsable légal {n}",
        "Nom représentant légal {n}",
        "Nom responsable {n}",
        "Nom resp {n}",
    ),
    "first_name": (
        "Prénom resp. légal{n}",
        "Prénom Resp. Lég. {n}",
        "Prénom Responsable légal {n}",
        "Prénom représentant légal {n}",
        "Prénom responsable {n}",
        "Prénom resp {n}",
    ),
    "email": (
        "Courriel resp. légal{n}",
        "Email Resp. Lég. {n}",
        "Mél resp. légal{n}",
        "Courriel représentant légal {n}",
        "Courriel responsable {n}",
        "Mél resp {n}",
    ),
    "mobile": (
        "Tel mobile resp. légal{n}",
        "Tél. portable resp. légal{n}",
        "Téléphone portable resp. légal{n}",
        "Tél. Portable Resp. Lég. {n}",
        "Tél. portable représentant légal {n}",
        "Portable responsable {n}",
        "Tél portable resp {n}",
    ),
    "financial": ("Responsable financier {n}", "Resp financier {n}"),
    "contact": ("Personne à contacter {n}", "À contacter {n}"),
    "accepts_sms": ("Autorise SMS légal{n}", "Accepte SMS {n}", "Accepte les SMS {n}"),
    "sso_login": ("Identifiant ENT resp. légal{n}", "Identifiant ENT responsable {n}"),
}
#: ONDE's pupils export names no guardian; these are Carnet's first model files' headings.
_ONDE_GUARDIAN = {
    "last_name": ("Nom responsable {n}", "Nom d'usage responsable {n}"),
    "first_name": ("Prénom responsable {n}",),
    "email": ("Courriel responsable {n}", "Adresse courriel responsable {n}"),
    "mobile": ("Téléphone portable responsable {n}", "Portable responsable {n}"),
    "financial": ("Financier responsable {n}", "Responsable financier {n}"),
    "contact": ("Contact responsable {n}", "À contacter responsable {n}"),
    "accepts_sms": ("SMS responsable {n}", "Accord SMS responsable {n}"),
    "sso_login": ("Identifiant ENT responsable {n}",),
}
#: The person's login at the school's identity provider (an ENT's, ÉduConnect's): linked to
#: the provider chosen for the import (portal.accounts.identities), never guessed.
_SSO = ("Identifiant ENT", "Login ENT", "Id ENT", "Identifiant ÉduConnect", "Identifiant SSO")
_SIECLE_INE = ("INE", "Id National", "Numéro national", "N° national", "Identifiant national")
_SIECLE_NUMBER = ("N° Interne", "No Interne", "Numéro interne", "Num. Elève Etab", "Elève No Etab")
_SIECLE_LAST = ("Nom de famille", "Nom")
_SIECLE_FIRST = ("Prénom 1", "Prénom")
_SIECLE_BORN = ("Date de naissance", "Date Naissance", "NE(E) LE", "Date naiss")
_SIECLE_CLASS = ("Division", "Code Structure", "CLASSES", "Classe")

SHAPES: dict[str, Shape] = {
    shape.key: shape
    for shape in (
        Shape(
            "siecle",
            "pupils",
            (
                Column("national_id", _SIECLE_INE),
                Column("last_name", _SIECLE_LAST, required=True),
                Column("first_name", _SIECLE_FIRST, required=True),
                Column("birth_date", _SIECLE_BORN, required=True),
                Column("class", _SIECLE_CLASS, required=True),
                Column("groups", ("Groupes", "Groupe")),
                Column("register_number", _SIECLE_NUMBER),
                Column("sso_login", _SSO),
                *_ranked("guardian", _SIECLE_GUARDIAN),
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
                Column("class", ("Libellé classe", "Classe"), required=True),
                Column("groups", ("Dispositif(s)", "Dispositif", "Regroupement")),
                Column("sso_login", _SSO),
                *_ranked("guardian", _ONDE_GUARDIAN),
            ),
        ),
        # SIECLE's extraction with one line per guardian and a 'Légal' rank (the pupil's
        # columns repeated), and BEE's 'Responsables élèves' ('Nom Personne', 'Id National').
        Shape(
            "siecle",
            "guardians",
            (
                Column("guardian.last_name", ("Nom resp.", "Nom Personne"), required=True),
                Column("guardian.first_name", ("Prénom resp.", "Prénom Personne"), required=True),
                Column("guardian.email", ("Courriel resp.", "Email personne")),
                Column(
                    "guardian.mobile", ("Tel mobile resp.", "Tél. portable resp.", "Tel portable")
                ),
                Column("guardian.rank", ("Légal", "Responsable legal")),
                Column("guardian.financial", ("Financier", "Responsable financier")),
                Column("guardian.contact", ("Personne à contacter",)),
                Column("guardian.accepts_sms", ("Autorise SMS", "Accepte SMS")),
                Column("guardian.sso_login", _SSO),
                Column("pupil.register_number", _SIECLE_NUMBER),
                Column("pupil.national_id", _SIECLE_INE),
                Column("pupil.last_name", _SIECLE_LAST),
                Column("pupil.first_name", _SIECLE_FIRST),
                Column("pupil.birth_date", _SIECLE_BORN),
                Column("pupil.class", _SIECLE_CLASS),
            ),
            one_of=(
                (("guardian.last_name", "guardian.first_name"),),
                (
                    ("pupil.register_number",),
                    ("pupil.national_id",),
                    ("pupil.last_name", "pupil.first_name", "pupil.birth_date"),
                ),
            ),
        ),
        # ONDE's 'Responsables' extraction: one line per guardian, their children after them
        # (blocks repeated under the same headings, or numbered, or a single one), no rank and
        # no pupil identifier: children are found by name, and birth date or class.
        Shape(
            "onde",
            "guardians",
            (
                Column("guardian.last_name", ("Nom responsable",), required=True),
                Column("guardian.first_name", ("Prénom responsable",), required=True),
                Column("guardian.email", ("Courriel", "Courriel responsable")),
                Column("guardian.mobile", ("Téléphone portable", "Tél. portable")),
                Column("guardian.sso_login", _SSO),
                Column(
                    "child{n}.last_name",
                    ("Nom de famille enfant", "Nom de famille élève {n}", "Nom de famille élève"),
                    required=True,
                ),
                Column(
                    "child{n}.first_name",
                    ("Prénom enfant", "Prénom élève {n}", "Prénom élève"),
                    required=True,
                ),
                Column("child{n}.class", ("Classes enfants", "Classes élèves")),
                Column("child{n}.birth_date", ("Date de naissance",)),
            ),
            one_of=(
                (("guardian.last_name", "guardian.first_name"),),
                (("child1.last_name", "child1.first_name"),),
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
        # STS-web exports XML only; GEPI and SambaEdu turn it into f_wind.csv (AINOMU...).
        Shape(
            "siecle",
            "staff",
            (
                Column("national_id", ("Numen", "Identifiant", "NUMIND")),
                Column("last_name", ("Nom d'usage", "Nom", "AINOMU"), required=True),
                Column("first_name", ("Prénom", "AIPREN"), required=True),
                Column("profile", ("Fonction", "Profil", "FONCCO"), required=True),
                Column("email", ("Courriel", "Mél")),
                Column("mobile", ("Tél. portable", "Portable")),
                Column("classes", ("Divisions", "Classes")),
                Column("sso_login", _SSO),
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
                Column("sso_login", _SSO),
            ),
        ),
    )
}

#: How a structures file names the kind of a row ('Division' is a class in SIECLE).
STRUCTURE_TYPES = {
    "division": "class",
    "d": "class",
    "classe": "class",
    "groupe": "teaching",
    "g": "teaching",
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


@dataclass(frozen=True)
class ColumnRead:
    heading: str
    #: The field it is taken as; for 'repeat', the field another column already gives.
    field: str | None
    #: 'recognised', 'mapped' (by the school), 'ignored', or 'repeat' (ignored: the field is
    #: read from another column).
    how: str


@dataclass
class Reading:
    """What a file's columns are taken as, for one shape."""

    shape: Shape
    columns: list[ColumnRead]

    @property
    def positions(self) -> dict[str, int]:
        return {c.field: i for i, c in enumerate(self.columns) if c.how in ("recognised", "mapped")}

    @property
    def headings(self) -> dict[str, str]:
        """field -> the file's heading it is read from."""
        return {self.columns[i].field: self.columns[i].heading for i in self.positions.values()}

    @property
    def missing(self) -> list[tuple[tuple[str, ...], ...]]:
        return missing(self.shape, set(self.positions))


def kept_reading(shape_key: str, columns: list) -> Reading:
    """A Reading as an import keeps it ([heading, field, how] per column)."""
    return Reading(SHAPES[shape_key], [ColumnRead(*column) for column in columns])


def read_columns(shape: Shape, headings: list[str], mapped: dict[str, str]) -> Reading:
    """Each heading taken as the field it names in ``shape``, else as the field the school
    mapped its folded form to (``mapped``), else ignored. A field read from two columns is read
    from the one whose heading comes first in the table (or the first in the file)."""
    claims: list[tuple[str | None, int, str]] = []
    seen_repeats: dict[str, int] = {}
    fields = set(shape.fields)
    for heading in headings:
        key = heading_key(heading)
        if key in shape.index:
            target, rank = shape.index[key]
            if "{n}" in target:  # a child's block repeated under the same headings
                n = seen_repeats[target] = seen_repeats.get(target, 0) + 1
                target = target.format(n=n) if n <= MAX_CHILDREN else None
            claims.append((target, rank, "recognised"))
        elif mapped.get(key) in fields:
            claims.append((mapped[key], 1000, "mapped"))
        else:
            claims.append((None, 0, "ignored"))
    best: dict[str, tuple[int, int]] = {}
    for position, (target, rank, _how) in enumerate(claims):
        if target is not None and (target not in best or rank < best[target][0]):
            best[target] = (rank, position)
    columns = []
    for position, (heading, (target, _rank, how)) in enumerate(zip(headings, claims, strict=True)):
        if target is not None and best[target][1] != position:
            how = "repeat"
        columns.append(ColumnRead(heading, target, how if target is not None else "ignored"))
    return Reading(shape, columns)


def missing(shape: Shape, read: set[str]) -> list[tuple[tuple[str, ...], ...]]:
    """The needs of ``shape`` that the fields ``read`` leave unmet: each as the sets of fields
    one of which would meet it."""
    blocks = {f.split(".", 1)[0] for f in read if "." in f}
    needs = []
    for column in shape.columns:
        if not column.required:
            continue
        if "{n}" in column.field:
            targets = [
                column.field.format(n=n)
                for n in range(1, MAX_CHILDREN + 1)
                if column.block.format(n=n) in blocks
            ]
        elif not column.block or column.block in blocks:
            targets = [column.field]
        else:
            targets = []
        needs += [((target,),) for target in targets if target not in read]
    for choice in shape.one_of:
        met = any(all(f in read for f in fields) for fields in choice)
        told = any(((f,),) in needs for fields in choice for f in fields)
        if not met and not told:
            needs.append(choice)
    return needs


def detect(kind: str, register: str, headings: list[str], mapped_for) -> Reading | None:
    """The shape of a file of ``kind`` (the register given, or any): the one that reads the
    file whole (no column it needs missing), then reads the most columns; None when no shape
    recognises any column. ``mapped_for(shape_key)`` gives the school's mappings."""
    readings = [
        read_columns(shape, headings, mapped_for(shape.key))
        for shape in SHAPES.values()
        if shape.kind in KINDS_READ.get(kind, (kind,)) and register in ("", shape.register)
    ]
    if not readings:
        return None
    best = max(
        readings,
        key=lambda r: (
            not r.missing,
            len(r.positions),
            r.shape.kind == kind,
            r.shape.register == "siecle",
        ),
    )
    return best if best.positions else None
