"""The audit log (SPEC §10): the direction reads its school's entries, the webmaster every entry
of the platform; filters by who, kind, days (the school's time zone) and school; pages of 50;
the CSV export, itself written to the log; entries that nothing can change or delete."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import delete, select, update

from portal.accounts.models import AccountState, User
from portal.audit.labels import DOMAIN_LABELS, TAG_LABELS
from portal.core import clock
from portal.core.audit import AuditEntry, AuditEntryIsFinal, AuditTag, record
from portal.extensions import db
from tests import factories as make
from tests.school import MONDAY
from tests.web import csrf_token, logged_in, text

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
LOG = "/admin/audit/"
PLATFORM_LOG = "/webmaster/audit/"
#: Sunday 22 November 2026, 23:30 UTC: already Monday in Paris.
SUNDAY_NIGHT = dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)


def _write(app, tag: AuditTag, actor: int | None, school: int | None, at=MONDAY, **details):
    """One entry written at ``at`` as the services write them; returns its id."""
    with app.app_context():
        clock.freeze(at)
        entry = record(db.session.get(User, actor) if actor else None, tag, school, **details)
        db.session.commit()
        clock.freeze(MONDAY)
        return entry.id


@pytest.fixture
def entries(app, world, webmaster):
    """Four entries of the world's school, one of another school, one of the platform."""
    ids = world.ids
    _write(app, AuditTag.IMPORT_APPLIED, None, world.school, MONDAY - dt.timedelta(days=22))
    _write(
        app,
        AuditTag.HOMEWORK_DELETED,
        ids["teacher"],
        world.school,
        MONDAY - dt.timedelta(days=3),
        title="Rédaction",
    )
    _write(
        app,
        AuditTag.INTERNAL_CHANGED,
        ids["colleague"],
        world.school,
        SUNDAY_NIGHT,
        group_id=world.groups["ULIS"],
        before=False,
        after=True,
    )
    _write(
        app,
        AuditTag.RULE_ADDED,
        ids["admin"],
        world.school,
        source_group_id=world.groups["5B"],
        target_group_id=world.groups["ULIS"],
    )
    with app.app_context():
        other_school = db.session.get(User, ids["other_admin"]).school_id
    _write(app, AuditTag.RULE_REMOVED, ids["other_admin"], other_school, note="Autre collège")
    with app.app_context():
        webmaster_id = db.session.scalar(select(User.id).where(User.login == webmaster))
    _write(
        app,
        AuditTag.MAIL_SETTINGS_CHANGED,
        webmaster_id,
        None,
        before={"notification_email": True, "bounce_address": None},
        after={"notification_email": False, "bounce_address": None},
    )
    return world


def _table(answer) -> str:
    """The table of entries of a page (the kind filter also names every kind)."""
    found = re.search(r'<table class="audit-entries">.*?</table>', text(answer), re.S)
    return found.group(0) if found else ""


def _rows(answer) -> int:
    return _table(answer).count("<time ")


def _link(answer, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', text(answer))
    return html.unescape(found.group(1)) if found else None


def test_the_direction_reads_its_schools_entries_newest_first(app, entries):
    admin = logged_in(app, entries.logins["admin"])
    answer = admin.get(LOG, headers=EN)
    assert answer.status_code == 200
    table = _table(answer)
    order = [
        table.index(label)
        for label in (
            "Communication rule added",
            "Internal communication changed",
            "Homework deleted",
            "Import applied",
        )
    ]
    assert order == sorted(order)
    for who in ("Dora Direction", "Claire Collègue", "Paul Prof", "The platform"):
        assert html.escape(who) in table or who in table, who
    # When, in the school's time zone (10:00 in Paris is 09:00 UTC); the details, readable.
    assert "Nov 23, 2026, 10:00:00" in table
    assert "Times are shown in the time zone Europe/Paris." in text(answer)
    assert "<dt>From group</dt><dd>5B</dd>" in table and "<dt>To group</dt><dd>ULIS</dd>" in table
    assert (
        "<dt>Before → after</dt><dd>no → yes</dd>" in table
        and "<dt>Group</dt><dd>ULIS</dd>" in table
    )
    # Neither another school's entries nor the platform's.
    assert "Autre collège" not in table and "Mail settings changed" not in table
    assert _rows(answer) == 4


def test_the_log_speaks_french(app, entries):
    admin = logged_in(app, entries.logins["admin"])
    table = _table(admin.get(LOG, headers=FR))
    assert "Règle de communication ajoutée" in table and "La plateforme" in table
    assert "<dt>Avant → après</dt><dd>non → oui</dd>" in table


@pytest.mark.parametrize(
    ("filters", "shown"),
    [
        ({"actor": "DORA"}, ["Communication rule added"]),
        ({"actor": "collegue"}, ["Internal communication changed"]),  # accents folded
        ({"actor": "paul.prof"}, ["Homework deleted"]),  # a login
        ({"kind": "content:homework:delete"}, ["Homework deleted"]),
        # Days in Paris: Sunday 23:30 UTC is Monday there.
        (
            {"date_from": "2026-11-23"},
            ["Communication rule added", "Internal communication changed"],
        ),
        ({"date_to": "2026-11-22"}, ["Homework deleted", "Import applied"]),
        (
            {"date_from": "2026-11-20", "date_to": "2026-11-20", "actor": "prof"},
            ["Homework deleted"],
        ),
        ({"actor": "nobody"}, []),
    ],
)
def test_the_filters_choose_the_entries(app, entries, filters, shown):
    admin = logged_in(app, entries.logins["admin"])
    answer = admin.get(LOG, query_string=filters, headers=EN)
    assert answer.status_code == 200
    table = _table(answer)
    assert _rows(answer) == len(shown)
    for label in shown:
        assert label in table
    if not shown:
        assert "No entry matches." in table


@pytest.mark.parametrize(
    ("headers", "messages"),
    [
        (
            EN,
            {
                "date_to": "The end date comes before the start date.",
                "kind": "Not a valid choice.",
            },
        ),
        (
            FR,
            {
                "date_to": "La date de fin précède la date de début.",
                "kind": "N&#39;est pas un choix valide.",
            },
        ),
    ],
)
def test_bad_filters_are_refused_next_to_their_field(app, entries, headers, messages):
    admin = logged_in(app, entries.logins["admin"])
    answer = admin.get(
        LOG,
        query_string={"date_from": "2026-11-24", "date_to": "2026-11-20", "kind": "nope"},
        headers=headers,
    )
    assert answer.status_code == 400
    page = text(answer)
    for field, message in messages.items():
        assert re.search(rf'<small id="{field}-error" class="field-error"[^>]*>{message}<', page)
        assert f'id="{field}" name="{field}"' in page or f'name="{field}"' in page
    assert _rows(answer) == 0  # nothing listed under refused filters


@pytest.mark.parametrize(
    ("value", "english", "french"),
    [
        ("2026-02-30", "Not a valid date value.", "une date valide"),
        (
            "1900-01-01",
            "Give a date between 2000 and 2100.",
            "Indiquez une date entre 2000 et 2100.",
        ),
    ],
)
def test_a_date_that_is_no_date_is_refused(app, entries, value, english, french):
    admin = logged_in(app, entries.logins["admin"])
    for headers, message in ((EN, english), (FR, french)):
        answer = admin.get(LOG, query_string={"date_from": value}, headers=headers)
        assert answer.status_code == 400
        found = re.search(r'<small id="date_from-error"[^>]*>([^<]+)<', text(answer))
        assert found and message in html.unescape(found.group(1))


def test_pages_of_fifty_newest_first_keep_the_filters(app, world):
    with app.app_context():
        admin = db.session.get(User, world.ids["admin"])
        for number in range(120):
            clock.freeze(MONDAY + dt.timedelta(minutes=number))
            record(admin, AuditTag.SMS_CONSENT_CHANGED, world.school, number=number)
        record(admin, AuditTag.RULE_ADDED, world.school)
        db.session.commit()
    client = logged_in(app, world.logins["admin"])
    first = client.get(LOG, query_string={"kind": "sms:consent:change"}, headers=EN)
    assert _rows(first) == 50 and _link(first, "prev") is None
    assert _table(first).index("<dd>119</dd>") < _table(first).index("<dd>118</dd>")
    second_url = _link(first, "next")
    assert parse_qs(urlsplit(second_url).query) == {"kind": ["sms:consent:change"], "page": ["2"]}
    second = client.get(second_url, headers=EN)
    assert _rows(second) == 50 and "<dd>69</dd>" in _table(second)
    third = client.get(_link(second, "next"), headers=EN)
    assert _rows(third) == 20 and _link(third, "next") is None
    assert "<dd>0</dd>" in _table(third) and "Communication rule added" not in _table(third)
    assert "page=2" in _link(third, "prev")


def test_htmx_redraws_the_table_alone_and_the_filters_with_their_reasons(app, entries):
    admin = logged_in(app, entries.logins["admin"])
    htmx = {**EN, "HX-Request": "true"}
    rows = admin.get(
        LOG, query_string={"kind": "groups:rule:add"}, headers={**htmx, "HX-Target": "audit-rows"}
    )
    assert rows.status_code == 200 and "HX-Retarget" not in rows.headers
    assert "HX-Request" in rows.headers["Vary"]
    assert '<form method="get"' not in text(rows) and _rows(rows) == 1
    refused = admin.get(
        LOG,
        query_string={"date_from": "2026-11-24", "date_to": "2026-11-20"},
        headers={**htmx, "HX-Target": "audit-rows"},
    )
    assert refused.status_code == 400 and refused.headers["HX-Retarget"] == "#audit-log"
    assert "The end date comes before the start date." in text(refused)
    assert 'data-hx-target="#audit-log"' in text(refused)  # until they are right again
    mended = admin.get(
        LOG, query_string={"date_from": "2026-11-20"}, headers={**htmx, "HX-Target": "audit-log"}
    )
    assert mended.status_code == 200 and 'data-hx-target="#audit-rows"' in text(mended)
    assert "field-error" not in text(mended) and _rows(mended) == 3


def _export(client, url: str, filters: dict, headers=EN):
    token = csrf_token(client, url)
    return client.post(
        f"{url}export.csv", query_string=filters, data={"csrf_token": token}, headers=headers
    )


def _csv(answer) -> list[list[str]]:
    assert answer.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig")), delimiter=";"))


def test_the_csv_holds_every_entry_the_filters_find(app, entries):
    with app.app_context():
        admin = db.session.get(User, entries.ids["admin"])
        for _number in range(60):
            record(admin, AuditTag.SMS_CONSENT_CHANGED, entries.school, accepts_sms=True)
        formula = make.user(admin.school, "staff", first_name="Simone", last_name="Tableur")
        formula.first_name = "=SUM(A1)"
        gone = make.user(admin.school, "staff", first_name="Gaston", last_name="Parti")
        record(formula, AuditTag.SMS_CONSENT_CHANGED, entries.school, accepts_sms=False)
        record(gone, AuditTag.SMS_CONSENT_CHANGED, entries.school, accepts_sms=False)
        gone.state = AccountState.DELETED
        db.session.commit()
        school_name, gone_login = admin.school.name, gone.login
    client = logged_in(app, entries.logins["admin"])
    answer = _export(client, LOG, {"kind": "sms:consent:change"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    header, *rows = _csv(answer)
    assert header == ["Date", "Who", "Login", "Kind code", "Kind", "School", "Details"]
    assert len(rows) == 62  # every page, not the first 50
    assert {row[3] for row in rows} == {"sms:consent:change"}
    assert {row[4] for row in rows} == {"Consent to SMS changed"}
    assert {row[5] for row in rows} == {school_name}
    when = dt.datetime.fromisoformat(rows[-1][0])
    assert when == MONDAY and when.utcoffset() == dt.timedelta(hours=1)  # Paris in November
    assert rows[-1][1:3] == ["Dora Direction", entries.logins["admin"]]
    assert json.loads(rows[-1][6]) == {"accepts_sms": True}
    who = {row[1]: row[2] for row in rows}
    assert who["'=SUM(A1) Tableur"] != ""  # a spreadsheet reads it as text, not a formula
    assert who["Former user"] == "" and gone_login not in answer.data.decode()
    page = _table(client.get(LOG, query_string={"kind": "sms:consent:change"}, headers=EN))
    assert "Former user" in page and "Gaston" not in page
    assert _rows(client.get(LOG, query_string={"actor": "gaston"}, headers=EN)) == 0
    # Without filters: the school's entries, never another school's or the platform's.
    _header, *everything = _csv(_export(client, LOG, {}))
    assert len(everything) == 62 + 4 + 1  # and the first export
    assert not {"Autre collège", "Mail settings changed"} & {c for r in everything for c in r}


def test_the_export_is_itself_in_the_log_with_its_filters(app, entries):
    client = logged_in(app, entries.logins["admin"])
    filters = {"kind": "groups:rule:add", "date_from": "2026-11-01", "actor": "dora"}
    _header, *rows = _csv(_export(client, LOG, filters))
    assert [row[3] for row in rows] == ["groups:rule:add"]  # not the export's own entry
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.tag == "audit:log:export")
        ).one()
        assert (entry.actor_id, entry.school_id) == (entries.ids["admin"], entries.school)
        assert entry.details == {"filters": filters}
    table = _table(client.get(LOG, query_string={"kind": "audit:log:export"}, headers=EN))
    assert "Audit log exported" in table
    assert (
        "<dt>Filters</dt><dd>Who: dora; Kind: Communication rule added; From: 2026-11-01</dd>"
        in table
    )
    # A refused filter exports nothing and writes nothing.
    refused = _export(client, LOG, {"date_from": "2026-11-24", "date_to": "2026-11-01"})
    assert refused.status_code == 400 and "The end date comes before" in text(refused)
    with app.app_context():
        exports = select(AuditEntry).where(AuditEntry.tag == "audit:log:export")
        assert len(db.session.scalars(exports).all()) == 1


def test_another_schools_entries_never_show_to_an_admin(app, entries):
    other = logged_in(app, entries.logins["other_admin"])
    answer = other.get(LOG, query_string={"school": str(entries.school)}, headers=EN)
    table = _table(answer)
    assert _rows(answer) == 1 and "Autre collège" in table
    assert "Dora Direction" not in table and "Mail settings changed" not in table
    assert 'name="school"' not in text(answer)  # the school filter is the webmaster's
    _header, *rows = _csv(_export(other, LOG, {"school": str(entries.school)}))
    assert [row[3] for row in rows] == ["groups:rule:remove"]


def test_the_webmaster_reads_every_entry_and_filters_by_school(app, entries, webmaster):
    client = logged_in(app, webmaster)
    everything = client.get(PLATFORM_LOG, headers=EN)
    assert everything.status_code == 200 and _rows(everything) == 6
    table = _table(everything)
    assert "Autre collège" in table and "Mail settings changed" in table
    assert "<dt>Send notifications by e-mail</dt><dd>yes → no</dd>" in table
    own = client.get(PLATFORM_LOG, query_string={"school": str(entries.school)}, headers=EN)
    assert _rows(own) == 4 and "Autre collège" not in _table(own)
    platform = client.get(PLATFORM_LOG, query_string={"school": "platform"}, headers=EN)
    assert _rows(platform) == 1 and "Mail settings changed" in _table(platform)
    unknown = client.get(PLATFORM_LOG, query_string={"school": "99999"}, headers=EN)
    assert unknown.status_code == 400 and "Not a valid choice." in text(unknown)
    _header, *rows = _csv(_export(client, PLATFORM_LOG, {"school": "platform"}))
    assert [(row[1], row[3], row[5]) for row in rows] == [
        ("Wanda Webmestre", "platform:mail:change", "")
    ]
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.tag == "audit:log:export")
        ).one()
        assert entry.school_id is None and entry.details == {"filters": {"school": "platform"}}


@pytest.mark.parametrize("name", ["teacher", "staff", "anne", "léa"])
def test_only_the_direction_and_the_webmaster_read_the_log(app, entries, name):
    client = logged_in(app, entries.logins[name])
    token = csrf_token(client, "/account")
    for url in (LOG, PLATFORM_LOG):
        assert client.get(url).status_code == 403, url
        assert client.post(f"{url}export.csv", data={"csrf_token": token}).status_code == 403
    with app.app_context():
        assert (
            db.session.scalars(select(AuditEntry).where(AuditEntry.tag == "audit:log:export")).all()
            == []
        )


def test_the_direction_and_the_webmaster_keep_to_their_own_log(app, entries, webmaster):
    assert logged_in(app, entries.logins["admin"]).get(PLATFORM_LOG).status_code == 403
    assert logged_in(app, webmaster).get(LOG).status_code == 403


def test_the_homes_link_to_the_log(app, entries, webmaster):
    admin_home = text(logged_in(app, entries.logins["admin"]).get("/admin/", headers=EN))
    assert f'href="{LOG}"' in admin_home
    webmaster_home = text(logged_in(app, webmaster).get("/webmaster/", headers=EN))
    assert f'href="{PLATFORM_LOG}"' in webmaster_home


def test_no_route_changes_or_deletes_an_entry(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("audit", "platform_audit")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == {
        ("audit.index", "GET"),
        ("audit.export", "POST"),
        ("platform_audit.index", "GET"),
        ("platform_audit.export", "POST"),
    }


def test_an_entry_cannot_be_changed_or_deleted_through_the_session(app, world):
    entry_id = _write(app, AuditTag.HOMEWORK_DELETED, world.ids["teacher"], world.school, title="A")
    with app.app_context():
        entry = db.session.get(AuditEntry, entry_id)
        entry.details = {"title": "B"}
        with pytest.raises(AuditEntryIsFinal):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEntry, entry_id))
        with pytest.raises(AuditEntryIsFinal):
            db.session.commit()
        db.session.rollback()
        for statement in (
            update(AuditEntry).values(actor_id=None),
            delete(AuditEntry).where(AuditEntry.id == entry_id),
            AuditEntry.__table__.delete(),
        ):
            with pytest.raises(AuditEntryIsFinal):
                db.session.execute(statement)
            db.session.rollback()
    with app.app_context():
        entry = db.session.get(AuditEntry, entry_id)
        assert (entry.tag, entry.actor_id, entry.details) == (
            "content:homework:delete",
            world.ids["teacher"],
            {"title": "A"},
        )
        assert entry.created_at == MONDAY


def test_every_kind_has_its_words_and_its_domain():
    assert set(TAG_LABELS) == set(AuditTag)
    assert {tag.value.split(":")[0] for tag in AuditTag} <= set(DOMAIN_LABELS)


def test_times_are_read_in_the_schools_time_zone(app, world, webmaster):
    with app.app_context():
        school = make.school(timezone="Indian/Reunion")
        admin = make.user(school, "admin")
        db.session.commit()
        school_id, login = school.id, admin.login
    _write(app, AuditTag.SCHOOL_SETTINGS_CHANGED, None, school_id, families_see_file=True)
    # 09:00 UTC is 13:00 in Réunion; the day filter follows Réunion's days too.
    late = dt.datetime(2026, 11, 22, 21, 0, tzinfo=dt.UTC)  # Monday 01:00 in Réunion
    _write(app, AuditTag.SCHOOL_SETTINGS_CHANGED, None, school_id, late, families_see_file=False)
    admin = logged_in(app, login)
    monday = admin.get(LOG, query_string={"date_from": "2026-11-23"}, headers=EN)
    assert _rows(monday) == 2
    assert re.search(r"Nov 23, 2026, 1:00:00\sPM.*Nov 23, 2026, 1:00:00\sAM", _table(monday), re.S)
    client = logged_in(app, webmaster)
    chosen = client.get(PLATFORM_LOG, query_string={"school": str(school_id)}, headers=EN)
    assert re.search(r"Nov 23, 2026, 1:00:00\sPM", _table(chosen))
    assert "Times are shown in the time zone Indian/Reunion." in text(chosen)
    every = client.get(PLATFORM_LOG, headers=EN)
    assert re.search(r"Nov 23, 2026, 10:00:00\sAM", _table(every))  # the platform's: Paris
    _header, *rows = _csv(_export(client, PLATFORM_LOG, {"school": str(school_id)}))
    assert [row[0] for row in rows] == ["2026-11-23T13:00:00+04:00", "2026-11-23T01:00:00+04:00"]


def test_the_csv_speaks_the_readers_language(app, entries):
    client = logged_in(app, entries.logins["admin"])
    header, *rows = _csv(_export(client, LOG, {"kind": "groups:rule:add"}, headers=FR))
    assert header == ["Date", "Qui", "Identifiant", "Code de la nature", "Nature"] + [
        "Établissement",
        "Détails",
    ]
    assert [row[4] for row in rows] == ["Règle de communication ajoutée"]


def test_a_page_past_the_end_is_empty(app, entries):
    admin = logged_in(app, entries.logins["admin"])
    for page in ("3", "99999999999999999999999", "-4", "x"):
        answer = admin.get(LOG, query_string={"page": page}, headers=EN)
        assert answer.status_code == 200, page
    assert _rows(admin.get(LOG, query_string={"page": "x"}, headers=EN)) == 4
