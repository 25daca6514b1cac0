"""The annual rollover: a dry run that changes nothing, then the year's classes and teaching
groups archived with their messages kept, memberships and rules ended, people and guardians
kept, and this year's classes free to be made again."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.accounts.models import Guardianship
from portal.admin import rollover
from portal.core.audit import AuditEntry, AuditTag
from portal.extensions import db
from portal.groups import restore
from portal.groups import services as groups
from portal.groups.models import CommunicationRule, Group, GroupKind, GroupMember
from portal.messaging import delivery
from portal.messaging import services as messaging
from tests.school import in_english, person
from tests.web import csrf_token, logged_in, text


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _message_to_parents_of_5b(world) -> int:
    parents_5b = groups.sub_groups(db.session.get(Group, world.groups["5B"]))["parent"]
    message = messaging.send(
        person(world, "teacher"),
        bcc=[f"group:{parents_5b.id}"],
        subject="Sortie au musée",
        body="<p>Départ à 9 h.</p>",
    )
    db.session.commit()
    delivery.deliver(message.id)
    db.session.commit()
    return message.id


def test_the_dry_run_tells_what_would_end_and_changes_nothing(app, world):
    with in_english(app):
        _message_to_parents_of_5b(world)
        school = person(world, "admin").school
        before = (_count(GroupMember), _count(CommunicationRule))
        report = rollover.dry_run(school, "2025-2026")
        assert report.classes == ["4A", "5B"] and report.teaching_groups == ["ULIS"]
        # 5B: the teacher, Léa and Hugo; 4A: the colleague, Chloé and Zoé; ULIS: teacher, Hugo
        assert report.memberships == 8
        assert report.parent_places == 5  # Anne (in both classes), Alain, Béatrice, Carole
        assert report.messages == 1 and report.rules > 0
        assert (_count(GroupMember), _count(CommunicationRule)) == before
        assert len(groups.school_groups(world.school, GroupKind.CLASS)) == 2


def test_closing_the_year_archives_the_groups_and_keeps_what_was_said(app, world):
    with in_english(app):
        message_id = _message_to_parents_of_5b(world)
        guardianships = _count(Guardianship)
        admin = person(world, "admin")
        rollover.run(admin, admin.school, "2025-2026")
        db.session.commit()
        assert groups.school_groups(world.school, GroupKind.CLASS) == []
        assert groups.school_groups(world.school, GroupKind.TEACHING) == []
        archived = db.session.get(Group, world.groups["5B"])
        assert archived.school_year == "2025-2026" and archived.archived_at is not None
        year_groups = select(Group.id).where(
            (Group.id.in_(world.groups.values())) | (Group.class_id.in_(world.groups.values()))
        )
        assert _count(GroupMember, GroupMember.group_id.in_(year_groups)) == 0
        assert (
            _count(
                CommunicationRule,
                CommunicationRule.source_group_id.in_(year_groups)
                | CommunicationRule.target_group_id.in_(year_groups),
            )
            == 0
        )
        assert groups.classes_of(person(world, "léa")) == []
        assert _count(Guardianship) == guardianships
        assert restore.drift(world.school).missing == []  # the school's own rules are whole
        assert _count(AuditEntry, AuditEntry.tag == AuditTag.ROLLOVER_DONE.value) == 1
        # This year's 5B can be made again, and is another group.
        new_5b = groups.create_group(admin.school, GroupKind.CLASS, "5B")
        assert new_5b.id != world.groups["5B"]
        db.session.commit()
    anne = logged_in(app, world.logins["anne"])
    page = anne.get(f"/messages/{message_id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Sortie au musée" in text(page)
    teacher = logged_in(app, world.logins["teacher"])
    page = teacher.get(f"/messages/{message_id}", headers={"Accept-Language": "en"})
    assert "Parents of 5B (2025-2026)" in text(page)  # the year the class was


def test_the_page_shows_the_dry_run_then_asks_to_confirm(app, world):
    admin = logged_in(app, world.logins["admin"])
    for language, words in (("en", "What closing 2025-2026 would do"), ("fr", "Ce que ferait")):
        headers = {"Accept-Language": language}
        page = admin.get("/admin/rollover/?school_year=2025-2026", headers=headers)
        assert page.status_code == 200 and words in text(page) and "5B" in text(page)
    bad = admin.get("/admin/rollover/?school_year=2025", headers={"Accept-Language": "en"})
    assert bad.status_code == 400 and "Write the school year as 2025-2026." in text(bad)
    token = csrf_token(admin, "/admin/rollover/?school_year=2025-2026")
    answer = admin.post(
        "/admin/rollover/",
        data={"csrf_token": token, "school_year": "2025-2026"},
        headers={"Accept-Language": "fr"},
    )
    assert answer.status_code == 400 and "Cochez la case pour confirmer." in text(answer)
    with app.app_context():
        assert len(groups.school_groups(world.school, GroupKind.CLASS)) == 2
    answer = admin.post(
        "/admin/rollover/",
        data={"csrf_token": token, "school_year": "2025-2026", "confirm": "y"},
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/classes"
    with app.app_context():
        assert groups.school_groups(world.school, GroupKind.CLASS) == []
    again = admin.post(
        "/admin/rollover/",
        data={"csrf_token": token, "school_year": "2025-2026", "confirm": "y"},
        headers={"Accept-Language": "en"},
    )
    assert again.status_code == 400 and "no classes or teaching groups" in text(again)
    assert logged_in(app, world.logins["teacher"]).get("/admin/rollover/").status_code == 403
