"""The webmaster's platform console over HTTP: opening a school with its first direction account,
suspending and resuming a school, the platform settings' entry (tests/admin/test_webmaster_health.py
has the health of queues and workers)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.accounts import credentials
from portal.accounts.models import AccountState, Profile, School, User
from portal.core import clock
from portal.core.audit import AuditEntry, AuditTag
from portal.extensions import db
from tests import factories as make
from tests.web import csrf_token, field_error, log_in, logged_in, post, text

ENGLISH = {"Accept-Language": "en"}
FRENCH = {"Accept-Language": "fr"}
CODE_SHOWN = re.compile(r'id="activation-code">([A-Z0-9]{5}-[A-Z0-9]{5})<')


@pytest.fixture
def platform(app):
    """A webmaster, and a school (with a class of one family) whose people have open accounts,
    besides another school."""
    with app.app_context():
        school = make.school("Collège Jean Moulin")
        teacher = make.user(school, "teacher")
        class_group = make.school_class(school, "5B", teacher)
        pupil, (parent, _second) = make.family(school, class_group)
        waiting = make.user(school, "parent", active=False)
        other = make.school("Lycée Victor Hugo")
        people = {
            "webmaster": make.user(None, "webmaster"),
            "admin": make.user(school, "admin"),
            "staff": make.user(school, "staff"),
            "teacher": teacher,
            "parent": parent,
            "pupil": pupil,
            "other_teacher": make.user(other, "teacher"),
        }
        code = credentials.issue_activation_code(waiting)
        db.session.commit()
        return SimpleNamespace(
            school=school.id,
            other_school=other.id,
            school_code=school.code,
            logins={name: person.login for name, person in people.items()},
            waiting_code=code,
        )


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (School, User, AuditEntry)
        )


def _audit(app, tag: AuditTag) -> list[AuditEntry]:
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.tag == tag.value)).all()
        db.session.expunge_all()
        return list(entries)


NEW_SCHOOL = {
    "name": "École du Port",
    "code": "9740123X",
    "timezone": "Indian/Reunion",
    "language": "fr",
    "first_name": "Claire",
    "last_name": "Payet",
    "email": "claire.payet@example.org",
}


# --- opening a school ---------------------------------------------------------------------------


def test_webmaster_opens_a_school_whose_first_direction_activates_with_the_code_shown(
    app, platform, smtp, worker
):
    webmaster = logged_in(app, platform.logins["webmaster"])
    answer = post(webmaster, "/webmaster/schools/new", NEW_SCHOOL, page="/webmaster/schools/new")
    assert answer.status_code == 200, text(answer)[:500]
    code = CODE_SHOWN.search(text(answer)).group(1)
    assert answer.headers["Cache-Control"] == "no-store"
    with app.app_context():
        school = db.session.scalar(select(School).where(School.code == "9740123X"))
        assert (school.name, school.timezone, school.default_language) == (
            "École du Port",
            "Indian/Reunion",
            "fr",
        )
        person = db.session.scalar(select(User).where(User.school_id == school.id))
        assert (person.profile, person.state) == (Profile.ADMIN, AccountState.INACTIVE)
        school_id, login = school.id, person.login
    (entry,) = _audit(app, AuditTag.SCHOOL_CREATED)
    assert entry.school_id == school_id
    assert entry.details["direction_login"] == login
    # The code is shown once: the school's page does not show it again.
    assert code not in text(webmaster.get(f"/webmaster/schools/{school_id}"))

    # The code also leaves by e-mail, in the school's language, through the outbox and a worker.
    assert smtp.messages == []
    assert worker() >= 1
    (message,) = smtp.messages
    assert message.rcpt_tos == ["claire.payet@example.org"]
    parsed = email.message_from_bytes(message.content, policy=email.policy.default)
    body = parsed.get_body(("plain",)).get_content()
    assert code in body
    assert "Bonjour Claire" in body and f"/activate?code={code}" in body

    newcomer = app.test_client()
    activated = post(
        newcomer,
        "/activate",
        {"code": code, "password": "a-good-password", "confirm": "a-good-password"},
        page="/activate",
    )
    assert activated.headers["Location"] == "/admin/"
    assert newcomer.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "english", "french"),
    [
        (
            "code",
            "12",
            "The school code is 6 to 20 letters or digits.",
            "Le code de l'établissement comporte de 6 à 20 lettres ou chiffres.",
        ),
        (
            "code",
            "duplicate",
            "Another school already has this code.",
            "Un autre établissement utilise déjà ce code.",
        ),
        ("timezone", "Mars/Olympus_Mons", "Unknown time zone.", "Fuseau horaire inconnu."),
        (
            "email",
            "claire.payet@",
            "This e-mail address is not valid.",
            "Cette adresse e-mail n'est pas valide.",
        ),
    ],
)
def test_bad_school_input_is_refused_next_to_the_field_and_nothing_is_saved(
    app, platform, field, value, english, french
):
    webmaster = logged_in(app, platform.logins["webmaster"])
    data = {**NEW_SCHOOL, field: platform.school_code if value == "duplicate" else value}
    before = _counts(app)
    for headers, message in ((ENGLISH, english), (FRENCH, french)):
        answer = post(
            webmaster,
            "/webmaster/schools/new",
            data,
            page="/webmaster/schools/new",
            headers=headers,
        )
        assert answer.status_code == 400
        assert field_error(answer, field) == message, text(answer)[:3000]
        assert CODE_SHOWN.search(text(answer)) is None
    assert _counts(app) == before


def test_missing_names_are_refused_next_to_their_field(app, platform):
    webmaster = logged_in(app, platform.logins["webmaster"])
    data = {**NEW_SCHOOL, "name": "", "first_name": " "}
    before = _counts(app)
    answer = post(
        webmaster, "/webmaster/schools/new", data, page="/webmaster/schools/new", headers=ENGLISH
    )
    assert answer.status_code == 400
    for field in ("name", "first_name"):
        assert field_error(answer, field) == "This field is required."
    assert _counts(app) == before


# --- suspending and resuming --------------------------------------------------------------------


def test_suspended_school_people_cannot_log_in_and_open_sessions_end(app, platform):
    webmaster = logged_in(app, platform.logins["webmaster"])
    teacher = logged_in(app, platform.logins["teacher"])
    assert teacher.get("/teacher/").status_code == 200

    confirm = webmaster.get(f"/webmaster/schools/{platform.school}/suspend", headers=ENGLISH)
    assert confirm.status_code == 200
    assert "Suspend Collège Jean Moulin?" in text(confirm)
    assert _audit(app, AuditTag.SCHOOL_SUSPENDED) == []  # nothing happens before confirming
    done = post(webmaster, f"/webmaster/schools/{platform.school}/suspend", page="/webmaster/")
    assert done.status_code == 302

    # The open session ends at its next request.
    assert teacher.get("/teacher/").headers["Location"].startswith("/login")
    for name in ("teacher", "admin", "parent"):
        for headers, message in (
            (ENGLISH, "Your school's access to Carnet is suspended for now."),
            (FRENCH, "L'accès de votre établissement à Carnet est suspendu pour le moment."),
        ):
            client = app.test_client()
            refused = post(
                client,
                "/login",
                {"login": platform.logins[name], "password": make.PASSWORD},
                headers=headers,
            )
            assert refused.status_code == 400
            assert message in text(refused)
    # An account of the school can't be activated either.
    refused = post(
        app.test_client(),
        "/activate",
        {
            "code": platform.waiting_code,
            "password": "a-good-password",
            "confirm": "a-good-password",
        },
        page="/activate",
        headers=ENGLISH,
    )
    assert refused.status_code == 400
    assert "suspended" in text(refused)
    # Another school is not concerned; the list says since when the school is suspended.
    log_in(app.test_client(), platform.logins["other_teacher"])
    listed = text(webmaster.get("/webmaster/", headers=ENGLISH))
    assert "Suspended since" in listed
    (entry,) = _audit(app, AuditTag.SCHOOL_SUSPENDED)
    assert entry.school_id == platform.school

    resumed = post(webmaster, f"/webmaster/schools/{platform.school}/resume", page="/webmaster/")
    assert resumed.status_code == 302
    for name in ("teacher", "admin", "parent"):
        log_in(app.test_client(), platform.logins[name])
    assert "Suspended since" not in text(webmaster.get("/webmaster/", headers=ENGLISH))
    (entry,) = _audit(app, AuditTag.SCHOOL_RESUMED)
    assert entry.school_id == platform.school
    with app.app_context():
        # Nothing was deleted on the way.
        assert (
            db.session.scalar(
                select(func.count()).select_from(User).where(User.school_id == platform.school)
            )
            == 7
        )


def test_no_notification_email_leaves_for_a_suspended_school_and_it_waits_at_home(
    app, platform, worker, smtp
):
    from portal.notifications import services as notifications
    from portal.notifications.models import Notification
    from portal.notifications.types import Channel
    from tests.notifications.helpers import deliver_due

    clock.freeze(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC))
    with app.app_context():
        teacher = db.session.scalar(select(User).where(User.login == platform.logins["teacher"]))
        other_parent = make.user(
            db.session.get(School, platform.other_school), "parent", email="other@example.org"
        )
        parent = db.session.scalar(select(User).where(User.login == platform.logins["parent"]))
        parent.email = "parent@example.org"
        db.session.get(School, platform.school).suspended_at = clock.now()
        payload = {"group": "5B", "text": "Poem", "url": "/homework/7"}
        notifications.notify("homework", [parent], "homework:7", payload, author=teacher)
        notifications.notify("homework", [other_parent], "homework:7", payload, author=teacher)
        clock.advance(dt.timedelta(hours=1))
        assert deliver_due(worker) == 2
        assert [m.rcpt_tos for m in smtp.messages] == [["other@example.org"]]
        kept = db.session.scalar(select(Notification).where(Notification.recipient_id == parent.id))
        assert kept.channel == Channel.HOMEPAGE  # read on the home page once resumed


@pytest.mark.parametrize("profile", ["admin", "staff", "teacher", "parent", "pupil"])
def test_other_profiles_cannot_use_the_console(app, platform, profile):
    client = logged_in(app, platform.logins[profile])
    for url in ("/webmaster/", "/webmaster/schools/new", "/webmaster/health", "/webmaster/mail"):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/account")
    for url in (
        "/webmaster/schools/new",
        f"/webmaster/schools/{platform.school}/suspend",
        f"/webmaster/schools/{platform.school}/resume",
        "/webmaster/health/failed/default/x/requeue",
    ):
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url
    assert _audit(app, AuditTag.SCHOOL_SUSPENDED) == []


def test_platform_settings_are_one_entry_with_a_tab_per_setting(app, platform):
    webmaster = logged_in(app, platform.logins["webmaster"])
    home = text(webmaster.get("/webmaster/", headers=ENGLISH))
    assert 'href="/webmaster/mail">Platform settings</a>' in home
    for page, current in (("/webmaster/mail", "E-mail"), ("/webmaster/webhooks", "Webhooks")):
        shown = text(webmaster.get(page, headers=ENGLISH))
        assert f'aria-current="page">{current}</a>' in shown
        assert 'href="/webmaster/mail"' in shown and 'href="/webmaster/webhooks"' in shown
