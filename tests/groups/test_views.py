"""The directory and the rules console over HTTP (SPEC §2)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Profile, School, User
from portal.core.audit import AuditEntry
from portal.extensions import db
from portal.groups import restore
from portal.groups import services as groups
from portal.groups.models import CommunicationRule, Group
from portal.notifications.models import Notification
from tests import factories as make
from tests.web import field_error, log_in, post, text

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(app):
    with app.app_context():
        school = make.school()
        ids = {"school": school.id}
        for name in ("5B", "4A"):
            teacher = make.user(school, "teacher", last_name=f"Teacher{name}")
            class_group = make.school_class(school, name, teacher)
            pupil, (parent, _) = make.family(school, class_group)
            parent.last_name = f"Parent{name}"
            subs = groups.sub_groups(class_group)
            ids[name] = {
                "teacher": teacher.login,
                "teacher_id": teacher.id,
                "parent": parent.login,
                "parent_id": parent.id,
                "pupil_id": pupil.id,
                "class": class_group.id,
                "teachers": subs[Profile.TEACHER].id,
                "parents": subs[Profile.PARENT].id,
            }
        admin = make.user(school, "admin")
        ids["admin"] = admin.login
        ids["all_teachers"] = groups.school_profile_group(school.id, Profile.TEACHER).id
        ids["all_parents"] = groups.school_profile_group(school.id, Profile.PARENT).id
        other = make.school()
        ids["other_admin"] = make.user(other, "admin").login
        ids["other_group"] = groups.school_profile_group(other.id, Profile.PARENT).id
        db.session.commit()
        return ids


def _rule_id(app, source, target):
    with app.app_context():
        return db.session.scalar(
            select(CommunicationRule.id).where(
                CommunicationRule.source_group_id == source,
                CommunicationRule.target_group_id == target,
            )
        )


def test_parent_directory_lists_only_whom_they_may_write_to(client, world):
    log_in(client, world["5B"]["parent"])
    page = text(client.get("/directory/", headers=EN))
    assert "Teacher5B" in page and "Teacher4A" not in page and "Parent4A" not in page


def test_directory_live_search_answers_the_fragment_to_htmx(client, world):
    log_in(client, world["admin"])
    answer = client.get("/directory/?q=teacher4", headers={**EN, "HX-Request": "true"})
    assert answer.status_code == 200
    assert "<html" not in text(answer) and "Teacher4A" in text(answer)
    assert "Teacher5B" not in text(answer)
    assert "HX-Request" in answer.headers["Vary"]
    full = client.get("/directory/?q=teacher4", headers=EN)
    assert "<html" in text(full) and "Teacher4A" in text(full)


def test_crafted_directory_request_for_someone_outside_the_rules_is_refused(client, world):
    log_in(client, world["5B"]["parent"])
    assert client.get(f"/directory/people/{world['5B']['teacher_id']}").status_code == 200
    refused = client.get(f"/directory/people/{world['4A']['parent_id']}", headers=EN)
    assert refused.status_code == 404
    assert "no communication rule of your school allows it" in text(refused)


def test_teacher_cannot_open_the_rules_console(client, world):
    log_in(client, world["5B"]["teacher"])
    assert client.get("/rules/").status_code == 403
    assert client.get(f"/rules/groups/{world['all_teachers']}").status_code == 403


def test_another_schools_rules_screen_is_404(client, world):
    log_in(client, world["other_admin"])
    assert client.get(f"/rules/groups/{world['all_teachers']}").status_code == 404
    rule = world["all_teachers"]
    answer = post(client, f"/rules/groups/{rule}/internal", {"internal": ""}, page="/rules/")
    assert answer.status_code == 404


def test_removing_a_rule_is_previewed_with_its_impact_then_confirmed(app, client, world):
    log_in(client, world["admin"])
    rule_id = _rule_id(app, world["all_teachers"], world["all_parents"])
    preview = post(client, f"/rules/{rule_id}/remove", page="/rules/", headers=EN)
    assert preview.status_code == 200
    assert "Before you confirm" in text(preview)
    # each teacher loses the two guardians of the other class, and nobody gains anyone
    assert "2 people lose the right to write to 4 other people." in text(preview)
    assert "gain" not in _impact(preview)
    assert _rule_id(app, world["all_teachers"], world["all_parents"]) == rule_id
    done = post(client, f"/rules/{rule_id}/remove", {"confirmed": "1"}, page="/rules/")
    assert done.status_code == 302
    assert _rule_id(app, world["all_teachers"], world["all_parents"]) is None


def test_opening_both_directions_warns_before_confirming(app, client, world):
    log_in(client, world["admin"])
    teachers, parents = world["5B"]["teachers"], world["5B"]["parents"]
    rule_id = _rule_id(app, teachers, parents)
    post(client, f"/rules/{rule_id}/remove", {"confirmed": "1"}, page="/rules/")
    preview = post(
        client,
        f"/rules/groups/{teachers}/add",
        {"target_id": parents},
        page=f"/rules/groups/{teachers}",
        headers=EN,
    )
    assert "internal communication turns on for Teachers of 5B, Parents of 5B" in text(preview)
    assert _rule_id(app, teachers, parents) is None
    post(
        client,
        f"/rules/groups/{teachers}/add",
        {"target_id": parents, "confirmed": "1"},
        page=f"/rules/groups/{teachers}",
    )
    assert _rule_id(app, teachers, parents) is not None
    with app.app_context():
        assert db.session.get(Group, parents).internal


def _add(client, source, target):
    return post(
        client,
        f"/rules/groups/{source}/add",
        {"target_id": target, "confirmed": "1"},
        page=f"/rules/groups/{source}",
    )


def _remove(app, client, source, target):
    rule_id = _rule_id(app, source, target)
    return post(client, f"/rules/{rule_id}/remove", {"confirmed": "1"}, page="/rules/")


def _switch(client, group, internal: bool, *, confirmed: bool = False, headers=EN):
    data = {"internal": "y"} if internal else {}
    if confirmed:
        data["confirmed"] = "1"
    return post(client, f"/rules/groups/{group}/internal", data, page="/rules/", headers=headers)


def _internal(app, group) -> bool:
    with app.app_context():
        return db.session.get(Group, group).internal


def _impact(answer) -> str:
    found = re.search(r'<div class="impact">(.*?)</div>', text(answer), re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()) if found else ""


def _ticked(answer) -> bool:
    box = re.search(r'<input[^>]*\bid="internal"[^>]*>', text(answer))
    assert box, "no internal communication box on the page"
    return "checked" in box.group(0)


def _open_parents_both_ways(client, world):
    _add(client, world["5B"]["parents"], world["4A"]["parents"])
    _add(client, world["4A"]["parents"], world["5B"]["parents"])


def test_removing_internal_with_both_directions_open_names_the_rules_to_remove(app, client, world):
    log_in(client, world["admin"])
    parents = world["5B"]["parents"]
    _open_parents_both_ways(client, world)
    assert _internal(app, parents)
    for confirmed in (False, True):  # refused at the preview, and when confirmed anyway
        refused = _switch(client, parents, False, confirmed=confirmed)
        assert refused.status_code == 400
        assert field_error(refused, "internal") == (
            "Rules open in both directions keep internal communication on. Remove one of them "
            "first: Parents of 5B → Parents of 4A or Parents of 4A → Parents of 5B."
        )
        assert _internal(app, parents)


def test_the_refusal_names_the_rules_in_french(app, client, world):
    log_in(client, world["admin"])
    _open_parents_both_ways(client, world)
    refused = _switch(client, world["5B"]["parents"], False, headers={"Accept-Language": "fr"})
    assert refused.status_code == 400
    message = field_error(refused, "internal")
    assert "Parents de 5B → Parents de 4A" in message
    assert "Parents de 4A → Parents de 5B" in message
    assert "Enseignants" not in message  # the class's teachers and parents hold nothing


def test_internal_communication_switches_off_once_one_direction_is_closed(app, client, world):
    log_in(client, world["admin"])
    parents_5b, parents_4a = world["5B"]["parents"], world["4A"]["parents"]
    _open_parents_both_ways(client, world)
    _remove(app, client, parents_5b, parents_4a)
    preview = _switch(client, parents_5b, False)
    assert preview.status_code == 200 and "Before you confirm" in text(preview)
    assert _internal(app, parents_5b)  # nothing saved before the confirmation
    # the two guardians of the 5B pupil no longer reach each other
    assert _impact(preview) == "2 people lose the right to write to 2 other people."
    assert _switch(client, parents_5b, False, confirmed=True).status_code == 302
    assert _switch(client, parents_4a, False, confirmed=True).status_code == 302
    assert not _internal(app, parents_5b) and not _internal(app, parents_4a)


def test_the_box_shows_the_stored_internal_communication_on_every_page(app, client, world):
    log_in(client, world["admin"])
    parents = world["5B"]["parents"]
    assert not _ticked(client.get(f"/rules/groups/{parents}"))
    _switch(client, parents, True, confirmed=True)
    assert _ticked(client.get(f"/rules/groups/{parents}"))
    # another form of the page posted: the box still says what is stored
    preview = post(
        client,
        f"/rules/groups/{parents}/add",
        {"target_id": world["all_parents"]},
        page=f"/rules/groups/{parents}",
        headers=EN,
    )
    assert "Before you confirm" in text(preview) and _ticked(preview)
    # a refused switch-off: the box stays ticked beside the refusal, as it stays on
    _open_parents_both_ways(client, world)
    refused = _switch(client, parents, False)
    assert refused.status_code == 400 and _ticked(refused)


def test_a_removed_and_re_added_default_rule_is_in_place_only_with_the_default_flags(
    app, client, world
):
    log_in(client, world["admin"])
    teachers, parents = world["5B"]["teachers"], world["5B"]["parents"]
    assert "Every default rule is in place." in text(client.get("/rules/", headers=EN))
    _remove(app, client, teachers, parents)
    page = text(client.get("/rules/", headers=EN))
    assert "Every default rule is in place." not in page
    assert "Teachers of 5B → Parents of 5B" in page
    _add(client, teachers, parents)  # both ways again: internal communication turns on
    page = text(client.get("/rules/", headers=EN))
    assert "Every default rule is in place." not in page
    assert "Internal communication on, off by default:" in page
    assert "<li>Parents of 5B</li>" in page and "<li>Teachers of 5B</li>" in page
    for group in (teachers, parents):
        assert _switch(client, group, False, confirmed=True).status_code == 302
    assert "Every default rule is in place." in text(client.get("/rules/", headers=EN))


def test_restoring_the_defaults_is_previewed_then_confirmed(app, client, world):
    with app.app_context():
        deputy = make.user(db.session.get(School, world["school"]), "admin").id
        db.session.commit()
    log_in(client, world["admin"])
    _open_parents_both_ways(client, world)
    _remove(app, client, world["all_teachers"], world["all_parents"])
    page = text(client.get("/rules/", headers=EN))
    assert "Preview the return to the defaults" in page
    preview = post(client, "/rules/defaults", page="/rules/", headers=EN)
    assert preview.status_code == 200 and "Before you confirm" in text(preview)
    shown = " ".join(text(preview).split())
    assert "Rules added</h3><ul><li>All teachers → All parents</li>" in shown
    assert "<li>Parents of 5B → Parents of 4A</li>" in shown
    assert "Internal communication turned off in</h3><ul><li>Parents of 4A</li>" in shown
    # teachers get back the other class's guardians; the four guardians lose each other
    assert _impact(preview) == (
        "2 people gain the right to write to 4 other people. "
        "4 people lose the right to write to 4 other people."
    )
    assert _rule_id(app, world["all_teachers"], world["all_parents"]) is None  # not yet
    done = post(client, "/rules/defaults", {"confirmed": "1"}, page="/rules/")
    assert done.status_code == 302
    page = text(client.get("/rules/", headers=EN))
    assert "Every default rule is in place." in page
    assert "Preview the return to the defaults" not in page
    with app.app_context():
        assert not restore.drift(world["school"])
        assert (
            db.session.scalar(
                select(func.count()).where(
                    AuditEntry.tag.like("groups:%"),
                    AuditEntry.details["restored_default"].as_boolean(),
                )
            )
            == 5
        )  # one rule added, two removed, two groups switched off
        told = db.session.scalars(
            select(Notification.payload).where(Notification.recipient_id == deputy)
        ).all()
        assert "put back to those of a new school" in str(told)


def test_impact_counts_only_people_whose_reach_changes(app, client, world):
    with app.app_context():
        club = groups.create_group(db.session.get(School, world["school"]), "manual", "Club")
        for teacher in (world["5B"]["teacher_id"], world["4A"]["teacher_id"]):
            groups.add_member(club, db.session.get(User, teacher))
        club = club.id
        db.session.commit()
    log_in(client, world["admin"])
    # the teachers reach the 5B parents already, through 'All teachers -> All parents'
    preview = post(
        client,
        f"/rules/groups/{world['all_teachers']}/add",
        {"target_id": world["5B"]["parents"]},
        page="/rules/",
        headers=EN,
    )
    assert _impact(preview) == "Nobody gains or loses the right to write to anyone."
    # the two teachers already write to each other through the internal communication of
    # 'All teachers'; the guardians of the 5B pupil don't
    preview = _switch(client, club, True)
    assert _impact(preview) == "Nobody gains or loses the right to write to anyone."
    preview = _switch(client, world["5B"]["parents"], True)
    assert _impact(preview) == "2 people gain the right to write to 2 other people."
    preview = _switch(client, world["all_teachers"], False)
    assert _impact(preview) == "2 people lose the right to write to 2 other people."


def test_admin_cannot_add_a_rule_to_another_schools_group(app, client, world):
    log_in(client, world["admin"])
    answer = post(
        client,
        f"/rules/groups/{world['all_teachers']}/add",
        {"target_id": world["other_group"], "confirmed": "1"},
        page="/rules/",
    )
    assert answer.status_code == 400  # not among the choices: refused next to the field
    assert _rule_id(app, world["all_teachers"], world["other_group"]) is None


def test_why_names_the_rule_or_says_none(client, world):
    log_in(client, world["admin"])
    allowed = client.get(
        f"/rules/why?a={world['5B']['pupil_id']}&b={world['5B']['teacher_id']}", headers=EN
    )
    assert "the rule Pupils of 5B → Teachers of 5B" in text(allowed)
    refused = client.get(
        f"/rules/why?a={world['5B']['parent_id']}&b={world['4A']['parent_id']}", headers=EN
    )
    assert "No rule lets" in text(refused) and "reply right" in text(refused)
    empty = client.get("/rules/why?a=&b=", headers=EN)
    assert empty.status_code == 400 and "Choose a person." in text(empty)


def test_why_tells_apart_two_people_of_the_same_name(app, client, world):
    with app.app_context():
        pupil = db.session.get(User, world["5B"]["pupil_id"])
        twin = make.user(
            pupil.school, "pupil", first_name=pupil.first_name, last_name=pupil.last_name
        )
        db.session.commit()
        name, logins = pupil.sort_name, (pupil.login, twin.login)
    log_in(client, world["admin"])
    page = text(
        client.get(
            f"/rules/why?a={world['5B']['pupil_id']}&b={world['5B']['teacher_id']}", headers=EN
        )
    )
    options = re.findall(
        rf"<option value=\"\d+\" (?:selected)?>({re.escape(name)}[^<]*)</option>", page
    )
    assert len(options) == 4 and len(set(options)) == 2  # each list has both, told apart
    assert all(any(login in option for option in options) for login in logins)
    assert f"({logins[0]}) may write to" in page


@pytest.mark.parametrize("who", ["admin", "teacher", "parent"])
def test_recipient_picker_suggests_exactly_what_the_directory_lists(app, client, world, who):
    import re

    from portal.accounts.models import User
    from portal.groups.reachability import reachable

    login = world[who] if who == "admin" else world["5B"][who]
    log_in(client, login)
    html = text(client.get("/directory/picker?q=", headers={"HX-Request": "true"}))
    suggested = {int(i) for i in re.findall(r'data-recipient="user:(\d+)"', html)}
    groups_suggested = {int(i) for i in re.findall(r'data-recipient="group:(\d+)"', html)}
    with app.app_context():
        sender = db.session.scalar(select(User).where(User.login == login))
        expected = reachable(sender, per_page=10)
        assert suggested == {p.id for p in expected.people}
        assert groups_suggested == {g.id for g in expected.groups}
    assert suggested


def test_webmaster_opens_a_rule_across_schools_from_the_console(app, client, world):
    with app.app_context():
        webmaster = make.user(None, "webmaster").login
        db.session.commit()
    log_in(client, webmaster)
    source = world["all_teachers"]
    page = text(client.get(f"/rules/groups/{source}?target_school=2", headers=EN))
    assert "New rule towards the groups of" in page
    answer = post(
        client,
        f"/rules/groups/{source}/add",
        {"target_id": world["other_group"], "target_school": "2", "confirmed": "1"},
        page=f"/rules/groups/{source}",
    )
    assert answer.status_code == 302
    assert _rule_id(app, source, world["other_group"]) is not None


def test_admin_console_offers_no_other_school(client, world):
    log_in(client, world["admin"])
    page = text(client.get(f"/rules/groups/{world['all_teachers']}?target_school=2", headers=EN))
    assert "New rule towards the groups of" not in page


def test_directory_speaks_french(client, world):
    log_in(client, world["5B"]["parent"])
    page = text(client.get("/directory/", headers={"Accept-Language": "fr"}))
    assert "Annuaire" in page and "Les personnes et les groupes à qui vous pouvez écrire." in page


def test_directory_with_a_bad_filter_still_searches_by_name(client, world):
    log_in(client, world["admin"])
    answer = client.get("/directory/?q=teacher4&profile=hacker&class_id=999", headers=EN)
    assert answer.status_code == 200
    assert "Teacher4A" in text(answer) and "Teacher5B" not in text(answer)
    assert "Not a valid choice" in text(answer)
