"""Broadcast lists that keep themselves up to date, and the groups the direction makes (SPEC
§13, seed 003): a rule-defined list follows imports, class changes, the rollover and account
states in the same transaction; a fixed list does not move; deleting a group takes its rules
and members and leaves its name to the messages that named it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Guardianship, Profile
from portal.admin import rollover
from portal.core.audit import AuditEntry, AuditTag
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups import lists, manage, people, reachability
from portal.groups import rules as communication
from portal.groups import services as groups
from portal.groups.models import CommunicationRule, Group, GroupKind
from portal.imports import services as imports
from portal.messaging import services as messages
from portal.messaging.delivery import recipients_of
from portal.messaging.models import MessageAddress
from tests import factories as make
from tests.imports.files import SIECLE_PUPILS, csv_bytes, pupil

pytestmark = pytest.mark.usefixtures("db_ctx")


def ids(group: Group) -> set[int]:
    return set(groups.member_ids(group))


def reached(group: Group) -> set[int]:
    """Members as a message reaches them: blocked people left out."""
    return {user.id for user in groups.members(group, reachable_only=True)}


@pytest.fixture
def school():
    school = make.school()
    head = make.user(school, "admin")
    six_a, five_b = make.school_class(school, "6A"), make.school_class(school, "5B")
    ulis = groups.create_group(school, GroupKind.TEACHING, "ULIS")
    return school, head, six_a, five_b, ulis


def parents_list(head, name, sources, rank=None):
    found = manage.create(head, head.school, GroupKind.BROADCAST_LIST, name, profile=Profile.PARENT)
    manage.set_list_rule(head, found, defined=True, source_ids=[g.id for g in sources], rank=rank)
    return found


def test_a_rule_defined_list_follows_an_import_that_moves_a_pupil_in_the_same_transaction(school):
    school, head, six_a, five_b, _ulis = school
    jules, (marc, sophie) = make.family(school, six_a)
    jules.national_id = "0123456789A"
    of_6a = parents_list(head, "Parents de 6A", [six_a])
    of_5b = parents_list(head, "Parents de 5B", [five_b])
    assert (ids(of_6a), ids(of_5b)) == ({marc.id, sophie.id}, set())
    changed_before = of_6a.members_changed_at
    line = pupil("0123456789A", jules.last_name, jules.first_name, "14/03/2013", "5B")
    run = imports.upload(head, "pupils", "", "eleves.csv", csv_bytes(SIECLE_PUPILS, [line]))
    imports.start_apply(head, run)
    # Not committed yet: the lists moved with the import, in its transaction.
    assert [g.name for g in groups.classes_of(jules)] == ["5B"]
    assert (ids(of_6a), ids(of_5b)) == (set(), {marc.id, sophie.id})
    assert of_6a.members_changed_at is not None and of_6a.members_changed_at != changed_before


def test_a_list_follows_guardianship_rank_a_teaching_group_and_the_rollover(school):
    school, head, six_a, _five_b, ulis = school
    lea, (anne, alain) = make.family(school, six_a)
    first_of_ulis = parents_list(head, "Responsables 1 ULIS", [ulis], rank=1)
    assert ids(first_of_ulis) == set()
    groups.add_member(ulis, lea)
    assert ids(first_of_ulis) == {anne.id}  # guardian 2 is not on it
    first_link = db.session.scalars(
        select(Guardianship).where(Guardianship.pupil_id == lea.id, Guardianship.rank == 1)
    ).one()
    people.unlink_guardian(first_link)
    assert ids(first_of_ulis) == set()
    of_6a = parents_list(head, "Parents de 6A", [six_a])
    assert ids(of_6a) == {alain.id}
    rollover.run(head, school, "2026-2027")
    assert ids(of_6a) == set()  # 6A is last year's: nobody is a parent of it any more


def test_a_blocked_guardian_is_left_out_and_comes_back_when_unblocked(school):
    school, head, six_a, _five_b, _ulis = school
    _pupil, (anne, alain) = make.family(school, six_a)
    of_6a = parents_list(head, "Parents de 6A", [six_a])
    accounts.block(anne)
    assert reached(of_6a) == {alain.id}
    teacher = make.user(school, "teacher")
    communication.add_rule(head, groups.school_profile_group(school.id, "teacher"), of_6a)
    message = messages.send(teacher, bcc=[f"group:{of_6a.id}"], subject="Sortie", body="<p>x</p>")
    assert set(recipients_of(message)) == {alain.id}
    accounts.unblock(anne)
    assert reached(of_6a) == {anne.id, alain.id}


def test_a_school_wide_list_takes_new_people_and_a_fixed_list_does_not_move(school):
    school, head, six_a, _five_b, _ulis = school
    staff = manage.create(head, school, GroupKind.BROADCAST_LIST, "Personnels", profile="staff")
    manage.set_list_rule(head, staff, defined=True, source_ids=[], rank=None)
    fixed = manage.create(
        head, school, GroupKind.BROADCAST_LIST, "Parents choisis", profile="parent"
    )
    _pupil, (anne, alain) = make.family(school, six_a)
    manage.add_people(head, fixed, [anne])
    newcomer = make.user(school, "staff")
    assert newcomer.id in ids(staff)
    _other, (claire, _) = make.family(school, six_a)
    assert ids(fixed) == {anne.id}  # a fixed list does not follow 6A
    with pytest.raises(ValidationError) as refused:
        manage.add_people(head, staff, [make.user(school, "staff")])
    assert "rule" in refused.value.errors["user"]
    with pytest.raises(ValidationError):
        manage.add_people(head, fixed, [make.user(school, "teacher")])  # one profile
    assert ids(fixed) == {anne.id}
    people.delete_account(anne)
    assert ids(fixed) == set() and claire.id not in ids(fixed)


def test_a_list_over_a_class_of_another_school_is_refused_and_nothing_changes(school):
    school, head, six_a, _five_b, _ulis = school
    elsewhere = make.school_class(make.school(), "6A")
    found = manage.create(head, school, GroupKind.BROADCAST_LIST, "Parents", profile="parent")
    with pytest.raises(ValidationError) as refused:
        manage.set_list_rule(head, found, defined=True, source_ids=[elsewhere.id], rank=None)
    assert "sources" in refused.value.errors
    assert not found.list_defined and lists.sources(found) == []


def test_a_manual_group_starts_without_rules_and_is_renamed_with_before_and_after(school):
    school, head, six_a, _five_b, _ulis = school
    choir = manage.create(
        head, school, GroupKind.MANUAL, "Chorale", "Le mardi midi", profile="parent"
    )
    assert communication.rules_of(choir) == ([], []) and not choir.internal
    assert choir.profile is None  # a profile is a list's only
    manage.change(head, choir, "Chorale du collège", "Le mardi midi")
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.tag == AuditTag.GROUP_CHANGED.value)
    ).one()
    assert entry.details["before"]["name"] == "Chorale"
    assert entry.details["after"]["name"] == "Chorale du collège"
    for name, field in (("", "name"), ("x" * 121, "name"), ("6A", None)):
        if field is None:
            manage.create(head, school, GroupKind.MANUAL, name)  # a class's name is free
            continue
        with pytest.raises(ValidationError) as refused:
            manage.create(head, school, GroupKind.MANUAL, name)
        assert field in refused.value.errors
    with pytest.raises(ValidationError) as refused:
        manage.change(head, choir, "6A", "")
    assert refused.value.errors == {"name": "This school already has a group with this name."}


def test_deleting_a_group_ends_its_rules_and_members_and_keeps_its_name_for_messages(school):
    school, head, six_a, _five_b, _ulis = school
    teacher = make.user(school, "teacher")
    lea, _parents = make.family(school, six_a)
    choir = manage.create(head, school, GroupKind.MANUAL, "Chorale")
    manage.add_people(head, choir, [lea, teacher])
    communication.add_rule(head, choir, choir, confirmed=True)  # internal communication
    assert reachability.may_write(lea, teacher)
    message = messages.send(
        teacher, to=[f"group:{choir.id}"], subject="Répétition", body="<p>x</p>"
    )
    impact = manage.ending_impact(choir)
    # Léa loses the teacher; the teacher still writes to her through the school's own rules.
    assert (impact.lose.writers, impact.lose.reachable, impact.gain.writers) == (1, 1, 0)
    manage.delete_group(head, choir)
    assert not reachability.may_write(lea, teacher)
    assert ids(choir) == set() and choir.deleted_at is not None
    assert (
        db.session.scalars(
            select(CommunicationRule).where(CommunicationRule.target_group_id == choir.id)
        ).all()
        == []
    )
    address = db.session.scalars(
        select(MessageAddress).where(MessageAddress.message_id == message.id)
    ).one()
    assert address.group.name == "Chorale"
    assert choir not in groups.school_groups(school.id, GroupKind.MANUAL)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.tag == AuditTag.GROUP_DELETED.value)
    ).one()
    assert entry.details["name"] == "Chorale" and entry.details["members"] == 2
    # The name is free again.
    assert manage.create(head, school, GroupKind.MANUAL, "Chorale").id != choir.id


def test_a_pasted_list_finds_logins_and_national_ids_and_names_what_it_cannot(school):
    school, head, six_a, _five_b, ulis = school
    lea, (anne, _alain) = make.family(school, six_a)
    lea.national_id = "0123456789A"
    teacher = make.user(school, "teacher")
    other = make.user(make.school(), "pupil")
    pasted = manage.read_pasted(
        ulis, f"0123456789a; {teacher.login.upper()}\n{anne.login}, nobody.here {other.login}"
    )
    assert [p.id for p in pasted.found] == [lea.id, teacher.id]
    assert [person.id for person, _why in pasted.refused] == [anne.id]  # a parent in ULIS
    assert pasted.unknown == ["nobody.here", other.login]
    with pytest.raises(ValidationError):
        manage.read_pasted(ulis, " ,; ")


def test_archiving_ends_rules_and_keeps_the_group_with_the_school_year(school):
    school, head, six_a, _five_b, _ulis = school
    club = manage.create(head, school, GroupKind.MANUAL, "Club échecs")
    communication.add_rule(head, club, groups.school_profile_group(school.id, "admin"))
    manage.archive(head, club)
    assert club.archived_at is not None and club.school_year
    assert communication.rules_of(club) == ([], [])
    with pytest.raises(ValidationError):
        manage.archive(head, club)
    assert db.session.get(Group, club.id).deleted_at is None
