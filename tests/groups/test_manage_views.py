"""The direction's screens for the groups it makes, over HTTP: bad input gets its message next
to the field and writes nothing; a teacher is refused; another school's group is not found;
staff come in only when their school lets them."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.core.audit import AuditEntry
from portal.extensions import db
from portal.groups import manage
from portal.groups import services as groups
from portal.groups.models import CommunicationRule, Group, GroupKind, GroupMember
from tests import factories as make
from tests.web import field_error, log_in, post, text

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(app):
    with app.app_context():
        school = make.school()
        head = make.user(school, "admin")
        teacher = make.user(school, "teacher")
        staff = make.user(school, "staff")
        six_a = make.school_class(school, "6A", teacher)
        lea, (anne, _alain) = make.family(school, six_a)
        lea.national_id = "0123456789A"
        choir = manage.create(head, school, GroupKind.MANUAL, "Chorale")
        other = make.school()
        stranger = make.user(other, "pupil")
        elsewhere = manage.create(
            make.user(other, "admin"), other, GroupKind.MANUAL, "Chorale d'ailleurs"
        )
        db.session.commit()
        return {
            "admin": head.login,
            "teacher": teacher.login,
            "staff": staff.login,
            "school": school.id,
            "choir": choir.id,
            "six_a": six_a.id,
            "lea": lea.id,
            "lea_login": lea.login,
            "anne_login": anne.login,
            "stranger": stranger.id,
            "stranger_login": stranger.login,
            "elsewhere": elsewhere.id,
        }


def _as(app, login):
    client = app.test_client()
    log_in(client, login)
    return client


def _counts(app) -> tuple[int, int, int, int]:
    """Groups, memberships, rules and audit entries: what a refused form must leave alone."""
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(table))
            for table in (Group, GroupMember, CommunicationRule, AuditEntry)
        )


def test_bad_input_on_every_form_is_told_next_to_its_field_and_writes_nothing(app, world):
    admin = _as(app, world["admin"])
    page = "/admin/groups/"
    group_page = f"/admin/groups/{world['choir']}"
    before = _counts(app)
    cases = [
        (page, {"kind": "manual", "name": ""}, "name", "Give the group a name."),
        (page, {"kind": "manual", "name": "x" * 121}, "name", "At most 120 characters."),
        (page, {"kind": "manual", "name": "chorale"}, "name", "already has a group"),
        (page, {"kind": "broadcast_list", "name": "L", "profile": ""}, "profile", "one profile"),
        (page, {"kind": "class", "name": "6Z"}, "kind", "Not a valid choice"),
        (group_page, {"name": "  ", "description": ""}, "name", "Give the group a name."),
        (group_page, {"name": "C", "description": "x" * 501}, "description", "At most 500"),
        (
            f"{group_page}/paste",
            {"text": f"{world['lea_login']}\nnobody.here"},
            "text",
            "nobody.here",
        ),
        (
            f"{group_page}/paste",
            {"text": world["stranger_login"]},
            "text",
            world["stranger_login"],
        ),
        (f"{group_page}/paste", {"text": " ; "}, "text", "Paste at least one"),
        (f"{group_page}/add-from", {"profile": "pupil", "source": "999999"}, "source", "valid"),
    ]
    for url, data, field, expected in cases:
        answer = post(admin, url, data, page, headers=EN)
        assert answer.status_code == 400, (url, data)
        assert expected in (field_error(answer, field) or ""), (url, data, text(answer)[:300])
    # A member of another school, named by id, is refused and written nowhere.
    answer = post(admin, f"{group_page}/add", {"user_id": world["stranger"]}, page, headers=EN)
    assert answer.status_code == 400 and "another school" in text(answer)
    assert _counts(app) == before


def test_a_rule_over_a_deleted_group_is_refused_next_to_the_field(app, world):
    admin = _as(app, world["admin"])
    with app.app_context():
        school_parents = groups.school_profile_group(world["school"], "parent").id
    group_page = f"/admin/groups/{world['choir']}"
    post(admin, f"{group_page}/end/delete", {"confirmed": "1"}, "/admin/groups/")
    before = _counts(app)
    answer = post(
        admin,
        f"/rules/groups/{school_parents}/add",
        {"target_id": world["choir"], "confirmed": "1"},
        "/rules/",
        headers=EN,
    )
    assert answer.status_code == 400
    assert "Not a valid choice" in field_error(answer, "target_id")
    assert admin.get(group_page).status_code == 404  # out of every screen
    assert admin.get(f"/rules/groups/{world['choir']}").status_code == 404
    assert _counts(app) == before


def test_a_pasted_list_is_previewed_then_added_when_confirmed(app, world):
    admin = _as(app, world["admin"])
    url = f"/admin/groups/{world['choir']}/paste"
    pasted = {
        "text": "",
        "upload": (io.BytesIO(f"0123456789a;{world['anne_login']}\n".encode()), "choir.csv"),
    }
    preview = post(admin, url, pasted, "/admin/groups/", headers=EN)
    assert preview.status_code == 200
    assert "2 people will be added" in text(preview)
    with app.app_context():
        assert groups.member_ids(db.session.get(Group, world["choir"])) == []
    text_field = f"0123456789A\n{world['anne_login']}"
    done = post(admin, url, {"text": text_field, "confirmed": "1"}, "/admin/groups/", headers=EN)
    assert done.status_code == 302
    with app.app_context():
        assert len(groups.member_ids(db.session.get(Group, world["choir"]))) == 2


def test_teachers_are_refused_staff_only_when_allowed_and_another_schools_group_not_found(
    app, world
):
    teacher = _as(app, world["teacher"])
    assert teacher.get("/admin/groups/").status_code == 403
    assert teacher.get(f"/admin/groups/{world['choir']}").status_code == 403
    staff = _as(app, world["staff"])
    assert staff.get("/admin/groups/").status_code == 403
    admin = _as(app, world["admin"])
    settings = {"email_priority": "user", "register_opens_minutes": "10"}
    post(admin, "/admin/settings", {**settings, "staff_manage_groups": "y"}, "/admin/settings")
    assert staff.get("/admin/groups/").status_code == 200
    page = text(staff.get("/admin/groups/", headers=EN))
    assert "Broadcast lists" not in page  # the direction's alone
    created = post(
        staff,
        "/admin/groups/",
        {"kind": "broadcast_list", "name": "L", "profile": "parent"},
        "/admin/groups/",
        headers=EN,
    )
    assert created.status_code == 400 and field_error(created, "kind")
    for url in (
        f"/admin/groups/{world['elsewhere']}",
        f"/admin/groups/{world['six_a']}",  # a class is not made here
    ):
        assert admin.get(url).status_code == 404
    refused = post(
        admin,
        f"/admin/groups/{world['elsewhere']}/end/delete",
        {"confirmed": "1"},
        "/admin/groups/",
    )
    assert refused.status_code == 404
    with app.app_context():
        assert db.session.get(Group, world["elsewhere"]).deleted_at is None


def test_a_pupils_teaching_groups_change_from_their_record(app, world):
    with app.app_context():
        school = db.session.get(Group, world["choir"]).school
        head = db.session.scalars(select(User).where(User.login == world["admin"])).one()
        ulis = manage.create(head, school, GroupKind.TEACHING, "ULIS")
        db.session.commit()
        ulis_id = ulis.id
    admin = _as(app, world["admin"])
    record = f"/admin/users/{world['lea']}"
    page = text(admin.get(record, headers=EN))
    assert "Add to a teaching group" in page and f'value="{ulis_id}">ULIS' in page
    joined = post(admin, f"{record}/teaching-groups", {"group_id": ulis_id}, record)
    assert joined.status_code == 302
    with app.app_context():
        assert groups.member_ids(db.session.get(Group, ulis_id)) == [world["lea"]]
    # A class, or another school's group, is not a teaching group to join here.
    for group_id in (world["six_a"], world["elsewhere"]):
        answer = post(admin, f"{record}/teaching-groups", {"group_id": group_id}, record)
        assert answer.status_code == 404
    left = post(admin, f"{record}/teaching-groups/{ulis_id}/leave", {}, record)
    assert left.status_code == 302
    with app.app_context():
        assert groups.member_ids(db.session.get(Group, ulis_id)) == []
        tags = db.session.scalars(select(AuditEntry.tag).order_by(AuditEntry.id)).all()
        assert tags[-2:] == ["groups:members:change", "groups:members:change"]


def test_adding_a_whole_class_is_previewed_then_done_when_confirmed(app, world):
    admin = _as(app, world["admin"])
    url = f"/admin/groups/{world['choir']}/add-from"
    asked = {"profile": "parent", "source": str(world["six_a"])}
    preview = post(admin, url, asked, "/admin/groups/", headers=EN)
    assert preview.status_code == 200 and "2 people will be added" in text(preview)
    with app.app_context():
        assert groups.member_ids(db.session.get(Group, world["choir"])) == []
    done = post(admin, url, {**asked, "confirmed": "1"}, "/admin/groups/", headers=EN)
    assert done.status_code == 302
    with app.app_context():
        assert len(groups.member_ids(db.session.get(Group, world["choir"]))) == 2
    again = post(admin, url, asked, "/admin/groups/", headers=EN)
    assert "They were all members already." in text(again)
