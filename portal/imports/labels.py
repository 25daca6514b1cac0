"""An import's words on screen, in the reader's language: each line's reasons and changes are
kept as (code, values) and put into words when shown."""

from __future__ import annotations

import datetime as dt

from flask_babel import format_date, ngettext, pgettext
from flask_babel import gettext as _

from portal.accounts.labels import profile_label
from portal.core.phones import refusal_text
from portal.imports.models import STALE, RowStatus, RunState
from portal.imports.shapes import KINDS, REGISTERS, SHAPES, Reading, kept_reading


def who_label(who: str) -> str:
    if who.startswith("child") and who[5:].isdigit():
        return _("Child %(n)d", n=int(who[5:]))
    return {
        "pupil": _("Pupil"),
        "guardian": _("Guardian"),
        "guardian1": _("Guardian 1"),
        "guardian2": _("Guardian 2"),
        "person": _("Person"),
        "group": _("Group"),
    }.get(who, who)


#: Whose a field outside any block is, by kind of file.
OWNER = {"pupils": "pupil", "staff": "person", "structures": "group", "guardians": "guardian"}


def column_label(kind: str, field: str) -> str:
    """A field as the preview names what a column is taken as: 'Guardian 1 · mobile'."""
    who, name = field.split(".", 1) if "." in field else (OWNER.get(kind, ""), field)
    return f"{who_label(who)} · {field_label(name)}"


def missing_text(reading: Reading) -> str:
    """The columns a file lacks, each as the field and the heading that would give it, and
    the file's own columns: what the direction reads next to the file field."""
    shape = reading.shape

    def named(field: str) -> str:
        return _(
            "%(field)s (“%(heading)s”)",
            field=column_label(shape.kind, field),
            heading=shape.example(field),
        )

    needs = [" / ".join(" + ".join(map(named, fields)) for fields in n) for n in reading.missing]
    columns = ", ".join(_("“%(heading)s”", heading=c.heading) for c in reading.columns)
    return " ".join(
        (
            ngettext(
                "This column is missing: %(missing)s.",
                "These columns are missing: %(missing)s.",
                len(needs),
                missing="; ".join(needs),
            ),
            _("The file's columns: %(columns)s.", columns=columns),
        )
    )


def free_fields(run) -> list[str]:
    """The fields of the run's export that no column gives: what an ignored column may be."""
    read = {field for _heading, field, how in run.columns if how in ("recognised", "mapped")}
    return [f for f in SHAPES[f"{run.shape}-{run.kind}"].fields if f not in read]


def how_label(how: str) -> str:
    return {
        "mapped": _("mapped by you"),
        "repeat": _("ignored: read from another column"),
        "ignored": _("ignored"),
    }.get(how, "")


def import_missing(run) -> str:
    """missing_text() of an incomplete import, from what its columns were taken as."""
    return missing_text(kept_reading(f"{run.shape}-{run.kind}", run.columns))


def field_label(name: str) -> str:
    if "." in name:  # 'guardian1.accepts_sms'
        who, flag = name.split(".", 1)
        return f"{who_label(who)}, {field_label(flag)}"
    return {
        "last_name": _("last name"),
        "first_name": _("first name"),
        "birth_date": _("birth date"),
        "national_id": _("national identifier"),
        "email": _("e-mail"),
        "mobile": _("mobile"),
        "class": _("class"),
        "teaching": _("teaching groups"),
        "groups": _("teaching groups"),
        "register_number": _("register number (N° interne)"),
        "sso_login": _("identifier at the identity provider"),
        "rank": _("rank"),
        "profile": _("function"),
        "classes": _("classes"),
        "name": _("name"),
        "type": _("kind of structure"),
        "financial": _("financially responsible"),
        "contact": _("to be contacted"),
        "accepts_sms": _("accepts SMS"),
        "guardian1": _("guardian 1"),
        "guardian2": _("guardian 2"),
    }.get(name, name)


def _value(value) -> str:
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return format_date(dt.date.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def note_text(code: str, values: dict) -> str:
    who = who_label(values.get("who", ""))
    value = values.get("value", "")
    if code == "missing_name":
        return _("%(who)s: the first or last name is missing.", who=who)
    if code == "too_long":
        return _("%(who)s: the name is longer than allowed (“%(value)s…”).", who=who, value=value)
    if code == "bad_date":
        return _("“%(value)s” is not a date (day/month/year).", value=value)
    if code == "bad_flag":
        column = field_label(values.get("column", ""))
        return _("%(column)s: “%(value)s” is neither yes nor no.", column=column, value=value)
    if code == "bad_email":
        return _("%(who)s: the e-mail address “%(value)s” is not valid.", who=who, value=value)
    if code == "bad_mobile":
        if "why" in values:
            return f"{who}: {refusal_text(value, values['why'])}"
        return _("%(who)s: the mobile number “%(value)s” is not valid.", who=who, value=value)
    if code == "warning":
        return warning_text(values)
    if code == "bad_register_number":
        return _("The register number “%(value)s” is not valid.", value=value)
    if code == "register_number_taken":
        return _("The register number “%(value)s” is another pupil's.", value=value)
    if code == "not_legal":
        return _("Not a legal guardian: left out.")
    if code == "bad_rank":
        return _("“%(value)s” is not a guardian's rank (1 or 2).", value=value)
    if code == "pupil_not_found":
        pupil = ", ".join(filter(None, (values.get("name"), values.get("key"))))
        return _(
            "No pupil of the school matches (%(pupil)s): import the pupils first, or check the "
            "line.",
            pupil=pupil,
        )
    if code == "pupil_ambiguous":
        return _(
            "Several pupils are called %(name)s: give the birth date or the class.",
            name=values.get("name", ""),
        )
    if code == "rank_given":
        return _(
            "Line %(line)d already gives this pupil's guardian %(rank)d.",
            line=values["line"],
            rank=values["rank"],
        )
    if code == "bad_national_id":
        return _("The national identifier “%(value)s” is not valid.", value=value)
    if code == "national_id_taken":
        return _("The national identifier “%(value)s” is another person's.", value=value)
    if code == "other_national_id":
        return _("A pupil with this name and birth date has another national identifier.")
    if code == "unknown_class":
        return _(
            "Unknown class “%(name)s”: import the classes first, or check the name.",
            name=values["name"],
        )
    if code == "unknown_group":
        return _("Unknown teaching group “%(name)s”.", name=values["name"])
    if code == "duplicate":
        return _("The same person or group as line %(line)d.", line=values["line"])
    if code == "unknown_profile":
        return _("Unknown function “%(value)s”.", value=value)
    if code == "profile_differs":
        return _(
            "Already in the school as %(profile)s: change it by hand if needed.",
            profile=profile_label(values["profile"]),
        )
    if code == "bad_type":
        return _("Unknown kind of structure “%(value)s”.", value=value)
    if code == "changed":
        return _(
            "%(field)s: %(before)s → %(after)s",
            field=field_label(values["field"]),
            before=_value(values["before"]),
            after=_value(values["after"]),
        )
    if code == "email_kept":
        return _(
            "%(who)s: the address the person entered is kept (the school gives them priority).",
            who=values["who"],
        )
    if code == "sms_stop_kept":
        return _(
            "%(who)s answered STOP: their consent to SMS is not given back by an import "
            "(record it on the pupil's record if they give it again).",
            who=values["who"],
        )
    if code == "elsewhere":
        return _(
            "%(who)s belongs to another school, which keeps their contact details.",
            who=values["who"],
        )
    if code == "profile":
        return profile_label(values["profile"])
    if code == "kind":
        return _("Class") if values["kind"] == "class" else _("Teaching group")
    return code


def warning_text(values: dict) -> str:
    """A guardian's field left out, or a child not found: the column and why."""
    who, column, value = who_label(values.get("who", "")), values.get("column", ""), values["value"]
    why = values.get("why", "")
    if why == "missing_name":
        return _(
            "%(who)s: no first or last name (column “%(column)s”): not imported.",
            who=who,
            column=column,
        )
    if why == "too_long":
        return _("%(who)s: the name is longer than allowed: not imported.", who=who)
    if why == "bad_email":
        reason = _("“%(value)s” is not a valid e-mail address.", value=value)
    elif why == "bad_flag":
        reason = _("“%(value)s” is neither yes nor no.", value=value)
    elif why == "pupil_not_found":
        return _("%(who)s %(value)s: no such pupil in the school.", who=who, value=value)
    elif why == "pupil_ambiguous":
        return _(
            "%(who)s %(value)s: several pupils have this name: give the birth date or the class.",
            who=who,
            value=value,
        )
    elif why == "two_guardians":
        return _("%(value)s already has two other guardians: not linked.", value=value)
    elif why == "sso_taken":
        reason = _("The identifier “%(value)s” is already linked to another account.", value=value)
    elif why == "sso_too_long":
        reason = _("The identifier is longer than allowed.")
    else:
        reason = refusal_text(value, why)
    return _(
        "%(who)s, column “%(column)s”: %(reason)s Imported without it.",
        who=who,
        column=column,
        reason=reason,
    )


def status_label(status: str) -> str:
    return {
        RowStatus.CREATED: pgettext("import lines", "Created"),
        RowStatus.UPDATED: pgettext("import lines", "Updated"),
        RowStatus.UNCHANGED: pgettext("import lines", "Unchanged"),
        RowStatus.REJECTED: pgettext("import lines", "Rejected"),
    }[status]


def state_label(state: str) -> str:
    return {
        RunState.PREVIEWING: _("Reading the file"),
        RunState.PREVIEWED: _("Preview ready"),
        RunState.INCOMPLETE: _("Columns missing"),
        RunState.APPLYING: _("Being applied"),
        RunState.APPLIED: _("Applied"),
        RunState.FAILED: _("Not applied"),
        RunState.DISCARDED: _("Discarded"),
    }[state]


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))


def register_label(register: str) -> str:
    return str(REGISTERS.get(register, register))


def error_label(error: str | None) -> str:
    """Why an import was not applied (nothing of it was written)."""
    if error == STALE:
        return _(
            "The school's data changed since the preview: preview the file again and check it "
            "before applying."
        )
    return _("Something went wrong: nothing was changed. Try again, or tell the webmaster.")


def template_globals() -> dict:
    return {
        "import_note": lambda note: note_text(*note),
        "import_status_label": status_label,
        "import_state_label": state_label,
        "import_kind_label": kind_label,
        "import_register_label": register_label,
        "import_error_label": error_label,
        "import_column_label": column_label,
        "import_how_label": how_label,
        "import_free_fields": free_fields,
        "import_missing": import_missing,
    }
