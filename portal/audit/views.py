"""The audit log: the direction reads its school's entries at /admin/audit, the webmaster every
entry of the platform at /webmaster/audit; both filter it and export it as CSV. No route
changes or deletes an entry (SPEC §10: kept)."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Response, render_template, request, stream_with_context
from flask_babel import force_locale, get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import AccountState, Profile, School
from portal.accounts.permissions import is_webmaster
from portal.audit import search
from portal.audit.forms import AuditFilterForm
from portal.audit.labels import Details, tag_label
from portal.core import clock, spreadsheet
from portal.core.audit import AuditTag, record
from portal.core.blueprints import profile_blueprint
from portal.core.web import is_htmx
from portal.extensions import db

bp = profile_blueprint("audit", __name__, "/admin/audit", Profile.ADMIN)
platform_bp = profile_blueprint("platform_audit", __name__, "/webmaster/audit", Profile.WEBMASTER)

#: Cells a spreadsheet would read as a formula start with one of these: such a cell is
#: written after an apostrophe.
#: Further than any log goes; a bigger page number would overflow the database's offset.
LAST_PAGE = 1_000_000


def _form() -> AuditFilterForm:
    """The filters of the query string; the webmaster also chooses a school."""
    if not is_webmaster(current_user):
        return AuditFilterForm(request.args)
    schools = db.session.execute(select(School.id, School.name).order_by(School.name)).all()
    choices = [("", _("Every school and the platform")), (search.PLATFORM, _("The platform"))]
    return AuditFilterForm(request.args, schools=choices + [(str(i), n) for i, n in schools])


def _zone(form: AuditFilterForm) -> ZoneInfo:
    """The direction reads its school's time; the webmaster the chosen school's, else the
    platform's."""
    if "school" in form and form.school.data and form.school.data.isdigit() and not form.errors:
        school = db.session.get(School, int(form.school.data))
        if school is not None:
            return ZoneInfo(school.timezone)
    return ZoneInfo(str(get_timezone()))


def _search(form: AuditFilterForm, zone: ZoneInfo, before_id: int | None = None):
    def start_of(day: dt.date | None) -> dt.datetime | None:
        if day is None:
            return None
        return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)

    if is_webmaster(current_user):
        chosen = form.school.data
        school = int(chosen) if chosen.isdigit() else (chosen or None)
    else:
        school = current_user.school_id
    until = form.date_to.data + dt.timedelta(days=1) if form.date_to.data else None
    return search.Search(
        school=school,
        actor=(form.actor.data or "").strip(),
        tag=form.kind.data or "",
        since=start_of(form.date_from.data),
        until=start_of(until),
        before_id=before_id,
    )


def _log_page():
    """The page, or for htmx the table alone; the filters and the table together when the
    filters are refused or were refused (their messages go by their fields)."""
    form = _form()
    valid = form.validate()
    zone = _zone(form)
    page = min(max(request.args.get("page", 1, type=int), 1), LAST_PAGE)
    lines, has_next = search.page_of(_search(form, zone), page) if valid else ([], False)
    people, groups = search.names_of(
        lines, None if is_webmaster(current_user) else current_user.school_id
    )
    context = {
        "form": form,
        "lines": lines,
        "details": Details(people, groups),
        "page": page,
        "has_next": has_next,
        "filters": form.filters() if valid else {},
        "zone": zone,
        "when": _when(zone),
        "tag_label": tag_label,
        "endpoint": request.blueprint,
    }
    status = 200 if valid else 400
    if not is_htmx():
        return render_template("audit/log.html", **context), status
    if valid and request.headers.get("HX-Target") != "audit-log":
        return render_template("audit/_entries.html", **context), status
    headers = {"HX-Retarget": "#audit-log", "HX-Reswap": "innerHTML"}
    return render_template("audit/_log.html", **context), status, headers


@bp.get("/", endpoint="index")
@platform_bp.get("/", endpoint="index")
def log():
    return _log_page()


def _csv_rows(asked: search.Search, zone: ZoneInfo, locale: str):
    """The file a line at a time: a byte order mark and ';' so that a French spreadsheet opens
    it as it is. Runs after the view has returned: it reads nothing of the request's user, and
    speaks the language chosen while the view ran."""
    with force_locale(locale):
        yield from _csv_lines(asked, zone)


def _csv_lines(asked: search.Search, zone: ZoneInfo):
    headings = [_("Date"), _("Who"), _("Login"), _("Kind code"), _("Kind"), _("School")]
    yield from spreadsheet.lines(
        [
            [*headings, _("Details")],
            *(
                [
                    line.entry.created_at.astimezone(zone).isoformat(timespec="seconds"),
                    line.actor.display_name if line.actor else _("The platform"),
                    line.actor.login
                    if line.actor and line.actor.state != AccountState.DELETED
                    else "",
                    line.entry.tag,
                    tag_label(line.entry.tag),
                    line.school_name or "",
                    json.dumps(line.entry.details or {}, ensure_ascii=False, sort_keys=True),
                ]
                for line in search.every_line(asked)
            ),
        ]
    )


@bp.post("/export.csv", endpoint="export")
@platform_bp.post("/export.csv", endpoint="export")
def export():
    """Every entry the filters find, not one page; the export is itself written to the log."""
    form = _form()
    if not form.validate():
        return _log_page()
    zone = _zone(form)
    filters = form.filters()
    if filters.get("school", "").isdigit():
        filters["school_name"] = db.session.get(School, int(filters["school"])).name
    entry = record(current_user, AuditTag.AUDIT_EXPORTED, current_user.school_id, filters=filters)
    day = clock.now().astimezone(zone).date().isoformat()
    return Response(
        stream_with_context(_csv_rows(_search(form, zone, entry.id), zone, str(get_locale()))),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{day}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _when(zone: ZoneInfo):
    """When an entry was written, in the zone of the page, in the reader's language."""

    def shown(value: dt.datetime) -> str:
        return format_datetime(value, "medium", tzinfo=zone, locale=get_locale())

    return shown
