"""Saved recipient lists (seed 003's 'favoris'): a sender's own, checked against the rules
again at every send; members no longer reachable are named and left out, never sent to."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.extensions import db
from portal.groups import reachability, saved
from portal.groups import services as groups
from portal.groups.models import SavedList
from portal.messaging.delivery import recipients_of
from portal.messaging.models import Message
from tests import factories as make
from tests.web import field_error, log_in, post, text

EN = {"Accept-Language": "en"}


@pytest.fixture
def six_a(app):
    with app.app_context():
        school = make.school()
        teacher = make.user(school, "teacher")
        class_group = make.school_class(school, "6A", teacher)
        families = [make.family(school, class_group) for _ in range(3)]
        other_teacher = make.user(make.school(), "teacher")
        db.session.commit()
        found = {
            "teacher": teacher.login,
            "teacher_id": teacher.id,
            "parents": [parents[0].id for _pupil, parents in families],
            "parent_logins": [parents[0].login for _pupil, parents in families],
            "parents_group": groups.sub_groups(class_group)["parent"].id,
            "other_teacher": other_teacher.login,
        }
    return found


def test_a_list_saved_from_compose_is_picked_in_bcc_and_left_out_members_are_named(app, six_a):
    client = app.test_client()
    log_in(client, six_a["teacher"])
    tokens = [f"user:{i}" for i in six_a["parents"]]
    answer = post(
        client,
        "/directory/lists",
        {"to": tokens[:2], "bcc": tokens[2:], "list_name": "Mes 6e"},
        page="/account",
        headers={"HX-Request": "true", **EN},
    )
    assert answer.status_code == 200
    assert "Saved as Mes 6e" in text(answer)
    with app.app_context():
        found = db.session.scalars(select(SavedList)).one()
        assert sorted(e.user_id for e in found.entries) == sorted(six_a["parents"])
        list_id = found.id
        # One of them is blocked meanwhile: the list still names them, the rules refuse them.
        blocked = db.session.get(accounts.User, six_a["parents"][0])
        accounts.block(blocked)
        blocked_name = blocked.display_name
        db.session.commit()
    chip = client.get(f"/messages/chip?field=bcc&token=saved:{list_id}", headers=EN)
    assert chip.status_code == 200 and "Mes 6e (saved list)" in text(chip)
    picker = client.get("/directory/picker?q=mes", headers=EN)
    assert f'data-recipient="saved:{list_id}"' in picker.get_data(as_text=True)
    sent = post(
        client,
        "/messages/new",
        {"bcc": f"saved:{list_id}", "subject": "Sortie", "body": "Mardi."},
        page="/account",
        headers=EN,
        follow_redirects=True,
    )
    assert sent.status_code == 200
    assert f"no longer let you write to them: {blocked_name}" in text(sent)
    with app.app_context():
        message = db.session.scalars(select(Message).where(Message.subject == "Sortie")).one()
        assert set(recipients_of(message)) == set(six_a["parents"][1:])
        assert {a.field for a in message.addresses} == {"bcc"}


def test_another_persons_list_is_not_found_and_bad_names_are_refused_next_to_the_field(app, six_a):
    with app.app_context():
        teacher = db.session.get(accounts.User, six_a["teacher_id"])
        mine = saved.save(teacher, "Mes 6e", [f"user:{six_a['parents'][0]}"])
        db.session.commit()
        list_id = mine.id
    stranger = app.test_client()
    log_in(stranger, six_a["other_teacher"])
    assert stranger.get(f"/messages/chip?field=to&token=saved:{list_id}").status_code == 404
    renamed = post(stranger, f"/directory/lists/{list_id}", {"list_name": "À moi"}, page="/account")
    assert renamed.status_code == 404
    crafted = post(
        stranger,
        "/messages/new",
        {"to": f"saved:{list_id}", "subject": "x", "body": "y"},
        page="/account",
        headers=EN,
    )
    assert crafted.status_code == 400 and "Mes 6e" not in text(crafted)
    owner = app.test_client()
    log_in(owner, six_a["teacher"])
    hx = {"HX-Request": "true", **EN}
    for name, members, expected in (
        ("", [f"user:{six_a['parents'][1]}"], "Give the list a name."),
        ("x" * 121, [f"user:{six_a['parents'][1]}"], "At most 120 characters."),
        ("mes 6E", [f"user:{six_a['parents'][1]}"], "You already have a list with this name."),
        ("Vide", [], "Pick at least one recipient first."),
        ("Ailleurs", ["user:999999"], "You cannot write to 1 of these recipients."),
    ):
        answer = post(
            owner, "/directory/lists", {"to": members, "list_name": name}, "/account", headers=hx
        )
        assert answer.status_code == 422, name
        assert expected in text(answer), name
    renamed = post(owner, f"/directory/lists/{list_id}", {"list_name": " "}, "/account", headers=EN)
    assert renamed.status_code == 400
    assert field_error(renamed, f"name-{list_id}") == "Give the list a name."
    with app.app_context():
        assert db.session.scalars(select(SavedList.name)).all() == ["Mes 6e"]


def test_a_group_in_a_saved_list_is_checked_again_when_it_is_expanded(app, six_a):
    with app.app_context():
        teacher = db.session.get(accounts.User, six_a["teacher_id"])
        group = db.session.get(groups.Group, six_a["parents_group"])
        mine = saved.save(teacher, "Parents de 6A", [f"group:{group.id}"])
        assert saved.expand(teacher, mine).groups == [group]
        # The teacher leaves 6A: the rule teachers of 6A -> parents of 6A no longer covers them.
        groups.remove_member(db.session.get(groups.Group, group.class_id), teacher)
        assert not reachability.may_write_to_group(teacher, group)
        expanded = saved.expand(teacher, mine)
        assert expanded.groups == [] and expanded.left_out == [
            "Parents de 6A"
        ]  # the school speaks French
        db.session.rollback()
