"""An import's words on screen, in the reader's language: each line's reasons and changes are
kept as (code, values) and put into words when shown."""

from __future__ import annotations

import datetime as dt

from flask_babel import format_date, pgettext
from flask_babel import gettext as _

from portal.accounts.labels import profile_label
from portal.imports.models import STALE, RowStatus, RunState
from portal.imports.shapes import KINDS, REGISTERS


def who_label(who: str) -> str:
    return {
        "pupil": _("Pupil"),
        "guardian1": _("Guardian 1"),
        "guardian2": _("Guardian 2"),
        "person": _("Person"),
        "group": _("Group"),
    }.get(who, who)


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
        return _("%(who)s: the mobile number “%(value)s” is not valid.", who=who, value=value)
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
    }
