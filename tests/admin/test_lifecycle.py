"""The life of an account as the direction runs it (SPEC §1, §10): creating and changing a
person, blocking, unblocking and deleting them, and handing out activation codes, over HTTP,
with the real messaging, directory, e-mail (SMTP on loopback) and activation pages."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.accounts import credentials, guardianship
from portal.accounts import services as accounts
from portal.accounts.models import AccountState, ActivationCode, Guardianship, Profile, User
from portal.admin import lifecycle
from portal.core.audit import AuditEntry, AuditTag
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import Group, GroupMember
from portal.groups.people import link_guardian
from portal.messaging import services as messaging
from portal.messaging.models import InboxEntry
from portal.notifications.models import Notification
from tests import factories as make
from tests.school import in_english, person
from tests.web import csrf_token, log_in, logged_in, post, text

ENGLISH = {"Accept-Language": "en"}
FRENCH = {"Accept-Language": "fr"}
CODE = re.compile(r"\b[A-Z0-9]{5}-[A-Z0-9]{5}\b")
NEW_PASSWORD = "a-brand-new-password"


@pytest.fixture
def deputy(app, world):
    """A second admin of the school: the one told of the other admin's actions."""
    with app.app_context():
        school = db.session.get(User, world.ids["admin"]).school
        deputy = make.user(school, "admin", first_name="Denis", last_name="Adjoint")
        db.session.commit()
        return deputy.id


def _admin(app, world):
    return logged_in(app, world.logins["admin"])


def _sub_group(world, class_name: str, profile: Profile) -> Group:
    return groups.sub_groups(db.session.get(Group, world.groups[class_name]))[profile]


def _member_ids(group: Group) -> set[int]:
    return set(
        db.session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == group.id))
    )


def _audit(tag: AuditTag) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.tag == tag.value)))


def _told(user_id: int) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.recipient_id == user_id, Notification.type == "admin_action"
            )
        )
    )


def _users() -> int:
    return db.session.scalar(select(func.count(User.id)))


# --- creating --------------------------------------------------------------------------------


def test_a_pupil_is_created_in_a_class_and_the_record_offers_the_code(app, world, deputy):
    client = _admin(app, world)
    answer = post(
        client,
        "/admin/users/new",
        {
            "profile": "pupil",
            "first_name": " Inès ",
            "last_name": "Benali",
            "email": "ines@example.org",
            "mobile": "06 12 34 56 78",
            "birth_date": "2013-05-02",
            "national_id": "123456789ab",
            "class_id": str(world.groups["5B"]),
        },
        page="/admin/users/new",
        headers=ENGLISH,
    )
    assert answer.status_code == 302, text(answer)[:2000]
    user_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    record = text(client.get(f"/admin/users/{user_id}", headers=ENGLISH))
    assert "Print an activation code" in record
    assert "E-mail the code to ines@example.org" in record
    with in_english(app):
        pupil = db.session.get(User, user_id)
        assert (pupil.first_name, pupil.last_name, pupil.login) == ("Inès", "Benali", "ines.benali")
        assert pupil.state == AccountState.INACTIVE
        assert (pupil.mobile, pupil.national_id) == ("+33612345678", "123456789AB")
        assert pupil.birth_date == dt.date(2013, 5, 2)
        assert user_id in _member_ids(db.session.get(Group, world.groups["5B"]))
        assert user_id in _member_ids(_sub_group(world, "5B", Profile.PUPIL))
        (entry,) = _audit(AuditTag.USER_CREATED)
        assert entry.actor_id == world.ids["admin"]
        assert entry.details["user_id"] == user_id and entry.details["classes"] == ["5B"]
        (told,) = _told(deputy)
        assert "Inès Benali" in str(told.payload)
        assert _told(world.ids["admin"]) == []  # never the author


def test_a_teacher_is_created_with_the_classes_they_teach(app, world):
    client = _admin(app, world)
    answer = post(
        client,
        "/admin/users/new",
        {
            "profile": "teacher",
            "first_name": "Marc",
            "last_name": "Lenoir",
            "login": "m.lenoir",
            "taught_class_ids": [str(world.groups["5B"]), str(world.groups["4A"])],
        },
        page="/admin/users/new",
    )
    assert answer.status_code == 302
    with in_english(app):
        teacher = db.session.scalar(select(User).where(User.login == "m.lenoir"))
        for name in ("5B", "4A"):
            assert teacher.id in _member_ids(_sub_group(world, name, Profile.TEACHER))


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        (
            ENGLISH,
            [
                "This field is required.",
                "This e-mail address is not valid.",
                "This mobile number is not valid.",
                "This login is already used.",
                "Another person of the school has this national identifier.",
                "The school keeps a birth date for pupils only.",
                "Only a pupil is in a class",
            ],
        ),
        (
            FRENCH,
            [
                "Ce champ est obligatoire.",
                "Cette adresse e-mail n&#39;est pas valide.",
                "Ce numéro de mobile n&#39;est pas valide.",
                "Cet identifiant est déjà utilisé.",
                "Une autre personne de l’établissement a cet identifiant national.",
                "L’établissement ne garde la date de naissance que des élèves.",
                "Seul un élève est dans une classe",
            ],
        ),
    ],
)
def test_bad_input_is_refused_next_to_each_field_and_nothing_is_saved(app, world, headers, words):
    with app.app_context():
        taken = person(world, "teacher")
        taken.national_id = "REG42"
        db.session.commit()
        before = _users()
    client = _admin(app, world)
    answer = post(
        client,
        "/admin/users/new",
        {
            "profile": "staff",
            "first_name": "  ",
            "last_name": "Roux",
            "email": "not an address",
            "mobile": "12",
            "login": world.logins["teacher"],
            "national_id": "reg 42",
            "birth_date": "1990-01-01",
            "class_id": str(world.groups["5B"]),
        },
        page="/admin/users/new",
        headers=headers,
    )
    assert answer.status_code == 400
    page = text(answer)
    for message in words:
        assert message in page, message
    for field in ("first_name", "email", "mobile", "login", "national_id", "birth_date"):
        assert f'id="{field}-error"' in page, field
    assert 'value="Roux"' in page  # what was typed is kept
    with app.app_context():
        assert _users() == before
        assert _audit(AuditTag.USER_CREATED) == []


def test_a_class_of_another_school_or_a_webmaster_profile_is_refused(app, world):
    with app.app_context():
        other = make.school_class(db.session.get(User, world.ids["other_admin"]).school, "6C")
        db.session.commit()
        other_id = other.id
    client = _admin(app, world)
    for data, field, message in (
        ({"profile": "webmaster"}, "profile", "Choose a profile."),
        (
            {"profile": "pupil", "class_id": str(other_id)},
            "class_id",
            "Choose one of this year&#39;s classes.",
        ),
    ):
        answer = post(
            client,
            "/admin/users/new",
            {"first_name": "Ana", "last_name": "Silva", **data},
            page="/admin/users/new",
            headers=ENGLISH,
        )
        assert answer.status_code == 400
        assert message in text(answer) and f'id="{field}-error"' in text(answer)


# --- editing ---------------------------------------------------------------------------------


def test_editing_changes_names_identifiers_and_class_and_the_parents_groups_follow(app, world):
    client = _admin(app, world)
    lea = world.ids["léa"]
    form = text(client.get(f"/admin/users/{lea}/edit", headers=ENGLISH))
    assert 'value="Léa"' in form
    answer = post(
        client,
        f"/admin/users/{lea}/edit",
        {
            "first_name": "Léa-Rose",
            "last_name": "Martin",
            "birth_date": "2013-09-01",
            "national_id": "0123456789X",
            "class_id": str(world.groups["4A"]),
        },
        page=f"/admin/users/{lea}/edit",
    )
    assert answer.status_code == 302
    with in_english(app):
        pupil = db.session.get(User, lea)
        assert pupil.display_name == "Léa-Rose Martin"
        assert (pupil.birth_date, pupil.national_id) == (dt.date(2013, 9, 1), "0123456789X")
        assert lea in _member_ids(_sub_group(world, "4A", Profile.PUPIL))
        assert lea not in _member_ids(_sub_group(world, "5B", Profile.PUPIL))
        alain = world.ids["alain"]  # Léa's guardian, with no other child
        assert alain in _member_ids(_sub_group(world, "4A", Profile.PARENT))
        assert alain not in _member_ids(_sub_group(world, "5B", Profile.PARENT))
        (entry,) = _audit(AuditTag.USER_CHANGED)
        assert entry.details["first_name"] == ["Léa", "Léa-Rose"]
        assert entry.details["classes"] == [["5B"], ["4A"]]


def test_a_national_identifier_already_used_in_the_school_is_refused_next_to_the_field(app, world):
    with app.app_context():
        person(world, "hugo").national_id = "111222333AA"
        db.session.commit()
    client = _admin(app, world)
    lea = world.ids["léa"]
    answer = post(
        client,
        f"/admin/users/{lea}/edit",
        {"first_name": "Lou", "last_name": "Martin", "national_id": "111 222 333 aa"},
        page=f"/admin/users/{lea}/edit",
        headers=FRENCH,
    )
    assert answer.status_code == 400
    assert "Une autre personne de l’établissement a cet identifiant national." in text(answer)
    assert 'id="national_id-error"' in text(answer)
    with app.app_context():
        assert person(world, "léa").first_name == "Léa"  # nothing half-saved


# --- blocking and unblocking -----------------------------------------------------------------


def _visible_to_teacher(client, world, who: str) -> dict[str, bool]:
    user_id = world.ids[who]
    parents_5b = None
    with in_english(client.application):
        parents_5b = _sub_group(world, "5B", Profile.PARENT).id
    return {
        "directory": f"/directory/people/{user_id}" in text(client.get("/directory/")),
        "picker": f"user:{user_id}" in text(client.get("/directory/picker?q=Martin")),
        "group": "Martin Anne" in text(client.get(f"/groups/{parents_5b}")),
        "card": client.get(f"/directory/people/{user_id}").status_code == 200,
    }


def test_a_blocked_person_vanishes_everywhere_at_once_and_their_session_ends(
    app, world, worker, deputy
):
    anne = world.ids["anne"]
    anne_client = logged_in(app, world.logins["anne"])
    assert anne_client.get("/parent/").status_code == 200
    teacher = logged_in(app, world.logins["teacher"])
    assert _visible_to_teacher(teacher, world, "anne") == dict.fromkeys(
        ("directory", "picker", "group", "card"), True
    )
    admin = _admin(app, world)
    page = text(admin.get(f"/admin/users/{anne}/block", headers=ENGLISH))
    assert "any session they have open ends at once" in page
    answer = post(
        admin,
        f"/admin/users/{anne}/block",
        {"reason": "Threatening messages"},
        page=f"/admin/users/{anne}/block",
    )
    assert answer.status_code == 302
    # Her open session ends at its next request; she can't log in again.
    assert anne_client.get("/parent/").status_code == 302
    refused = post(
        app.test_client(),
        "/login",
        {"login": world.logins["anne"], "password": make.PASSWORD},
        headers=ENGLISH,
    )
    assert refused.status_code == 400 and "This account is blocked" in text(refused)
    # Gone from the teacher's directory, picker, group page and her card.
    assert _visible_to_teacher(teacher, world, "anne") == dict.fromkeys(
        ("directory", "picker", "group", "card"), False
    )
    # A message to the parents of 5B reaches the others, not her; naming her is refused.
    with in_english(app):
        parents_5b = _sub_group(world, "5B", Profile.PARENT)
        sent = messaging.send(
            person(world, "teacher"), to=[f"group:{parents_5b.id}"], subject="Trip", body="Hi"
        )
        db.session.commit()
        message_id = sent.id
        with pytest.raises(ValidationError):
            messaging.send(person(world, "teacher"), to=[f"user:{anne}"], subject="x", body="y")
        db.session.rollback()
    worker()
    with app.app_context():
        readers = set(
            db.session.scalars(
                select(InboxEntry.recipient_id).where(InboxEntry.message_id == message_id)
            )
        )
        assert world.ids["alain"] in readers and anne not in readers
        (entry,) = _audit(AuditTag.USER_BLOCKED)
        assert entry.details["reason"] == "Threatening messages"
        assert len(_told(deputy)) == 1
    assert "Threatening messages" in text(admin.get(f"/admin/users/{anne}", headers=ENGLISH))

    # Unblocking gives everything back.
    answer = post(admin, f"/admin/users/{anne}/unblock", page=f"/admin/users/{anne}")
    assert answer.status_code == 302
    assert _visible_to_teacher(teacher, world, "anne") == dict.fromkeys(
        ("directory", "picker", "group", "card"), True
    )
    # The session open before the blocking stays ended: she logs in again.
    assert anne_client.get("/parent/").status_code == 302
    assert log_in(app.test_client(), world.logins["anne"]).status_code == 302
    with app.app_context():
        assert person(world, "anne").state == AccountState.ACTIVE
        assert len(_audit(AuditTag.USER_UNBLOCKED)) == 1


def test_an_account_never_activated_goes_back_to_inactive_when_unblocked(app, world):
    with app.app_context():
        school = person(world, "admin").school
        waiting = make.user(school, "parent", active=False)
        db.session.commit()
        waiting_id = waiting.id
    admin = _admin(app, world)
    post(admin, f"/admin/users/{waiting_id}/block", page=f"/admin/users/{waiting_id}/block")
    post(admin, f"/admin/users/{waiting_id}/unblock", page=f"/admin/users/{waiting_id}")
    with app.app_context():
        assert db.session.get(User, waiting_id).state == AccountState.INACTIVE


def test_an_admin_can_block_or_delete_neither_themself_nor_the_last_active_admin(
    app, world, deputy
):
    admin = _admin(app, world)
    me = world.ids["admin"]
    for action, message in (("block", "your own account"), ("delete", "your own account")):
        answer = post(
            admin,
            f"/admin/users/{me}/{action}",
            page=f"/admin/users/{me}/{action}",
            headers=ENGLISH,
        )
        assert answer.status_code == 400, action
        assert message in text(answer)
    with in_english(app):
        assert person(world, "admin").state == AccountState.ACTIVE
        # The deputy blocked, the head is the last active admin: nobody may take them away,
        # not even the webmaster.
        lifecycle.block_person(person(world, "admin"), db.session.get(User, deputy))
        webmaster = make.user(None, "webmaster")
        for act in (lifecycle.block_person, lifecycle.delete_person):
            with pytest.raises(ValidationError, match="last active administrator"):
                act(webmaster, person(world, "admin"))
        db.session.rollback()


# --- deleting --------------------------------------------------------------------------------


def test_a_deleted_person_becomes_former_user_their_messages_stay_and_their_data_goes(
    app, world, worker, deputy
):
    anne, teacher_id = world.ids["anne"], world.ids["teacher"]
    with in_english(app):
        someone = person(world, "anne")
        someone.email, someone.mobile = "anne@example.org", "+33612345678"
        someone.national_id, someone.birth_date = "REG7", dt.date(1985, 1, 2)
        sent = messaging.send(
            someone, to=[f"user:{teacher_id}"], subject="About Léa", body="She is ill today."
        )
        db.session.commit()
        message_id = sent.id
    worker()
    admin = _admin(app, world)
    confirm = text(admin.get(f"/admin/users/{anne}/delete", headers=ENGLISH))
    assert "signed “Former user”" in confirm and "can’t be undone" in confirm
    answer = post(admin, f"/admin/users/{anne}/delete", page=f"/admin/users/{anne}/delete")
    assert answer.status_code == 302

    teacher = logged_in(app, world.logins["teacher"])
    reading = text(teacher.get(f"/messages/{message_id}", headers=ENGLISH))
    assert "She is ill today." in reading and "Former user" in reading
    assert "Anne" not in reading
    with in_english(app):
        gone = db.session.get(User, anne)
        assert gone.state == AccountState.DELETED and gone.deleted_at is not None
        assert (gone.first_name, gone.last_name, gone.login) == ("", "", f"deleted-{anne}")
        assert gone.email is gone.mobile is gone.password_hash is None
        assert gone.national_id is gone.birth_date is None
        assert gone.display_name == "Former user"
        assert (
            db.session.scalars(select(Guardianship).where(Guardianship.parent_id == anne)).all()
            == []
        )
        assert (
            db.session.scalars(select(GroupMember).where(GroupMember.user_id == anne)).all() == []
        )
        # Léa and Zoé keep their other links; the parents' groups no longer hold Anne.
        assert [g.parent_id for g in guardianship.guardianships_of(person(world, "léa"))] == [
            world.ids["alain"]
        ]
        assert anne not in _member_ids(_sub_group(world, "4A", Profile.PARENT))
        (entry,) = _audit(AuditTag.USER_DELETED)
        assert entry.details["name"] == "Anne Martin" and entry.details["user_id"] == anne
        assert len(_told(deputy)) == 1
    refused = post(
        app.test_client(),
        "/login",
        {"login": world.logins["anne"], "password": make.PASSWORD},
        headers=ENGLISH,
    )
    assert refused.status_code == 400
    # Listed only among former users; the record is read-only.
    assert f"/admin/users/{anne}" not in text(admin.get("/admin/users?q=deleted"))
    listed = text(admin.get("/admin/users?state=deleted", headers=ENGLISH))
    assert f"/admin/users/{anne}" in listed and "Former user" in listed
    record = text(admin.get(f"/admin/users/{anne}", headers=ENGLISH))
    assert "This account was deleted on" in record
    assert "Delete the account" not in record and "/contact" not in record
    for url in (f"/admin/users/{anne}/edit", f"/admin/users/{anne}/delete"):
        assert post(admin, url, {"first_name": "X"}, page="/admin/users").status_code == 403
    contact = post(
        admin, f"/admin/users/{anne}/contact", {"email": "x@example.org"}, page="/admin/users"
    )
    assert contact.status_code == 403


def test_deleting_voids_the_pending_code_and_nothing_else_of_theirs_goes(app, world, worker):
    with app.app_context():
        school = person(world, "admin").school
        waiting = make.user(school, "pupil", active=False)
        groups.add_member(db.session.get(Group, world.groups["5B"]), waiting)
        code = credentials.issue_activation_code(waiting)
        sent = messaging.send(
            person(world, "teacher"), to=[f"user:{waiting.id}"], subject="Hello", body="Welcome"
        )
        db.session.commit()
        waiting_id, message_id = waiting.id, sent.id
    worker()
    admin = _admin(app, world)
    post(admin, f"/admin/users/{waiting_id}/delete", page=f"/admin/users/{waiting_id}/delete")
    answer = post(
        app.test_client(),
        "/activate",
        {"code": code, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        page="/activate",
        headers=ENGLISH,
    )
    assert answer.status_code == 400 and "not valid" in text(answer)
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).where(
                    ActivationCode.user_id == waiting_id, ActivationCode.used_at.is_(None)
                )
            )
            == 0
        )
        # The row and what points at it stay: the message they received is still theirs.
        assert (
            db.session.scalar(
                select(func.count()).where(
                    InboxEntry.message_id == message_id, InboxEntry.recipient_id == waiting_id
                )
            )
            == 1
        )


# --- activation codes ------------------------------------------------------------------------


@pytest.fixture
def newcomers(app, world):
    """Into 5B: two pupils never activated, with guardians never activated (one of them with
    an address, another sharing a guardian with a 5B pupil), and a blocked pupil."""
    with app.app_context():
        school = person(world, "admin").school
        class_5b = db.session.get(Group, world.groups["5B"])
        people = {}
        for name in ("Nina", "Omar"):
            pupil = make.user(school, "pupil", active=False, first_name=name, last_name="Neuf")
            groups.add_member(class_5b, pupil)
            people[name] = pupil
        mum = make.user(
            school,
            "parent",
            active=False,
            first_name="Maud",
            last_name="Neuf",
            email="maud@example.org",
        )
        # Names in any script print as they are written.
        dad = make.user(school, "parent", active=False, first_name="Łukasz", last_name="Nguyễn")
        link_guardian(mum, people["Nina"], 1)
        link_guardian(dad, people["Nina"], 2)
        link_guardian(mum, people["Omar"], 1)  # once on the sheet
        blocked = make.user(school, "pupil", active=False, first_name="Bob", last_name="Bloqué")
        groups.add_member(class_5b, blocked)
        accounts.block(blocked)
        earlier = credentials.issue_activation_code(people["Nina"])
        db.session.commit()
        return {
            "waiting": {p.id: p.login for p in (*people.values(), mum, dad)},
            "blocked": blocked.id,
            "earlier": earlier,
            "mum": mum.id,
        }


def _codes_of(pdf: bytes) -> tuple[list[str], str]:
    words = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return CODE.findall(words), words


def _activate(app, code: str) -> int:
    client = app.test_client()
    answer = post(
        client,
        "/activate",
        {"code": code, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        page="/activate",
    )
    return answer.status_code


def test_the_class_sheet_holds_one_code_per_person_waiting_and_each_activates(
    app, world, newcomers, deputy
):
    admin = _admin(app, world)
    class_id = world.groups["5B"]
    assert f"/admin/classes/{class_id}/activation" in text(admin.get("/admin/classes"))
    preview = text(
        admin.get(f"/admin/classes/{class_id}/activation?who=both&delivery=print", headers=ENGLISH)
    )
    assert "4 people will get a new code" in preview
    assert "Already activated" in preview and "Martin Léa" in preview
    assert "Blocked or deleted: left out" in preview and "Bloqué Bob" in preview
    with app.app_context():
        assert _audit(AuditTag.ACTIVATION_CODES_ISSUED) == []  # nothing issued by looking
    sheet = post(
        admin,
        f"/admin/classes/{class_id}/activation",
        {"who": "both", "delivery": "print"},
        page=f"/admin/classes/{class_id}/activation?who=both&delivery=print",
    )
    assert sheet.status_code == 200
    assert sheet.headers["Content-Type"] == "application/pdf"
    assert sheet.headers["Cache-Control"] == "no-store"
    codes, words = _codes_of(sheet.data)
    assert len(codes) == len(set(codes)) == 4
    for login in newcomers["waiting"].values():
        assert words.count(login) == 1, login
    assert "Guardian of Nina Neuf (5B)" not in words  # the sheet speaks the school's French
    assert "Responsable de Nina Neuf (5B)" in words and "Classe : 5B" in words
    assert "http://127.0.0.1:5000/activate" in words
    assert "Łukasz Nguyễn" in words
    assert _activate(app, newcomers["earlier"]) == 400  # the earlier code stopped working
    for code in codes:
        assert _activate(app, code) == 302
    with app.app_context():
        states = {u.id: u.state for u in db.session.scalars(select(User))}
        assert all(states[i] == AccountState.ACTIVE for i in newcomers["waiting"])
        assert states[newcomers["blocked"]] == AccountState.BLOCKED
        (entry,) = _audit(AuditTag.ACTIVATION_CODES_ISSUED)
        assert sorted(entry.details["user_ids"]) == sorted(newcomers["waiting"])
        assert entry.details["group"] == "5B"
        assert len(_told(deputy)) == 1


def test_codes_for_guardians_only(app, world, newcomers):
    admin = _admin(app, world)
    class_id = world.groups["5B"]
    sheet = post(
        admin,
        f"/admin/classes/{class_id}/activation",
        {"who": "guardians", "delivery": "print"},
        page=f"/admin/classes/{class_id}/activation",
    )
    codes, words = _codes_of(sheet.data)
    assert len(codes) == 2  # Maud (once, for two children) and Łukasz
    assert "Nina Neuf\n" not in words.split("Responsable")[0]


def test_emailed_codes_arrive_through_smtp_and_work_and_the_others_are_printed(
    app, world, newcomers, smtp, worker
):
    admin = _admin(app, world)
    class_id = world.groups["5B"]
    preview = text(
        admin.get(f"/admin/classes/{class_id}/activation?who=both&delivery=email", headers=ENGLISH)
    )
    assert "maud@example.org" in preview and "no e-mail: to print" in preview
    answer = post(
        admin,
        f"/admin/classes/{class_id}/activation",
        {"who": "both", "delivery": "email"},
        page=f"/admin/classes/{class_id}/activation",
        headers=ENGLISH,
    )
    assert answer.status_code == 200
    page = text(answer)
    assert "1 code is being e-mailed." in page
    assert "3 people have no e-mail address: print their codes" in page
    assert smtp.messages == []  # nothing leaves before the commit and a worker
    worker()
    (message,) = smtp.messages
    assert message.rcpt_tos == ["maud@example.org"]
    body = email.message_from_bytes(message.content, policy=email.policy.default)
    plain = body.get_body(("plain",)).get_content()
    assert newcomers["waiting"][newcomers["mum"]] in plain  # her login
    (code,) = set(CODE.findall(plain))
    assert f"http://127.0.0.1:5000/activate?code={code}" in plain
    assert _activate(app, code) == 302
    # Then the sheet for those without an address: three codes, not Maud's.
    sheet = post(
        admin,
        f"/admin/classes/{class_id}/activation",
        {"who": "both", "delivery": "print", "without_email": "y"},
        page=f"/admin/classes/{class_id}/activation",
    )
    codes, words = _codes_of(sheet.data)
    assert len(codes) == 3 and "maud" not in words.lower()
    for printed in codes:
        assert _activate(app, printed) == 302
    with app.app_context():
        assert all(
            db.session.get(User, i).state == AccountState.ACTIVE for i in newcomers["waiting"]
        )


def test_one_persons_code_is_printed_then_a_new_one_asks_for_confirmation(app, world, smtp, worker):
    with app.app_context():
        school = person(world, "admin").school
        waiting = make.user(school, "parent", active=False, email="new@example.org")
        db.session.commit()
        waiting_id = waiting.id
    admin = _admin(app, world)
    record = f"/admin/users/{waiting_id}"
    first = post(admin, f"{record}/activation", {"delivery": "print"}, page=record)
    assert first.headers["Content-Type"] == "application/pdf"
    (first_code,), _words = _codes_of(first.data)
    again = post(admin, f"{record}/activation", {"delivery": "email"}, page=record, headers=ENGLISH)
    assert again.status_code == 200 and "the earlier one stops working" in text(again)
    worker()
    assert smtp.messages == []  # not before the admin confirms
    sent = post(admin, f"{record}/activation", {"delivery": "email", "confirmed": "1"}, page=record)
    assert sent.status_code == 302
    worker()
    (message,) = smtp.messages
    plain = email.message_from_bytes(message.content, policy=email.policy.default)
    (code,) = set(CODE.findall(plain.get_body(("plain",)).get_content()))
    assert _activate(app, first_code) == 400
    assert _activate(app, code) == 302
    with app.app_context():
        assert len(_audit(AuditTag.ACTIVATION_CODES_ISSUED)) == 2


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["teacher", "staff"])
def test_teachers_and_staff_get_403(app, world, profile):
    client = logged_in(app, world.logins[profile])
    lea, class_id = world.ids["léa"], world.groups["5B"]
    gets = [
        "/admin/users/new",
        f"/admin/users/{lea}/edit",
        f"/admin/users/{lea}/block",
        f"/admin/users/{lea}/delete",
        f"/admin/classes/{class_id}/activation",
    ]
    for url in gets:
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/account")
    posts = [*gets, f"/admin/users/{lea}/unblock", f"/admin/users/{lea}/activation"]
    for url in posts:
        answer = client.post(url, data={"csrf_token": token, "delivery": "print", "who": "both"})
        assert answer.status_code == 403, url
    with app.app_context():
        assert person(world, "léa").state == AccountState.ACTIVE


def test_another_schools_person_and_class_are_not_found(app, world):
    with app.app_context():
        other_class = make.school_class(db.session.get(User, world.ids["other_admin"]).school, "6C")
        db.session.commit()
        other_class_id = other_class.id
    admin = _admin(app, world)
    other = world.ids["other_parent"]
    for url in (
        f"/admin/users/{other}/edit",
        f"/admin/users/{other}/block",
        f"/admin/users/{other}/delete",
        f"/admin/classes/{other_class_id}/activation",
    ):
        assert admin.get(url).status_code == 404, url
    for url in (
        f"/admin/users/{other}/block",
        f"/admin/users/{other}/delete",
        f"/admin/users/{other}/unblock",
    ):
        assert post(admin, url, page="/admin/users").status_code == 404, url
    with app.app_context():
        assert person(world, "other_parent").state == AccountState.ACTIVE
