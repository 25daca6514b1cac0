"""Liaison notes (SPEC §13, seed 003): who a note is for, when it counts as confirmed or
answered for a pupil, answers changed until the deadline, and a confirmation that reaches its
note whatever the rules have become."""

from __future__ import annotations

import datetime as dt
import io
from unittest.mock import ANY as mock_any

import pytest
from werkzeug.datastructures import FileStorage

from portal.accounts import services as accounts
from portal.accounts.models import Guardianship
from portal.core import clock
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups import people, rules
from portal.groups import services as groups
from portal.groups.models import CommunicationRule
from portal.liaison import notes
from portal.liaison.models import Asks
from portal.messaging import attachments
from portal.notifications.models import Notification
from tests import factories as make
from tests.foreign import PDF

pytestmark = pytest.mark.usefixtures("db_ctx")


@pytest.fixture
def six_a():
    school = make.school()
    teacher = make.user(school, "teacher")
    class_group = make.school_class(school, "6A", teacher)
    return school, teacher, class_group


def note(author, class_group, asks=Asks.CONFIRMATION, **terms):
    return notes.write(
        author,
        title="Sortie au musée",
        body="<p>Jeudi 10 décembre.</p>",
        asks=asks,
        group_ids=[class_group.id],
        **terms,
    )


def done(found, school) -> dict[int, bool]:
    return {row.pupil.id: row.done for row in notes.status(found, school)}


def test_one_guardian_confirms_for_the_pupil_unless_the_school_asks_both(six_a):
    school, teacher, class_group = six_a
    lea, (anne, alain) = make.family(school, class_group)
    found = note(teacher, class_group)
    assert done(found, school) == {lea.id: False}
    notes.reply(anne, found, lea)
    assert done(found, school) == {lea.id: True}
    school.liaison_both_guardians = True
    assert done(found, school) == {lea.id: False}
    notes.reply(alain, found, lea)
    notes.reply(alain, found, lea)  # a second tap changes nothing
    assert done(found, school) == {lea.id: True}
    assert len(notes.status(found, school)[0].replies) == 2


def test_a_class_of_28_with_guardians_for_20_names_exactly_who_is_missing(six_a):
    school, teacher, class_group = six_a
    families = [make.family(school, class_group, guardians=2 if n < 20 else 0) for n in range(28)]
    found = note(teacher, class_group)
    for n, (pupil, guardians) in enumerate(families[:12]):
        notes.reply(guardians[n % 2], found, pupil)  # guardian 1 or 2, either counts
    missing = {row.pupil.id for row in notes.status(found, school) if not row.done}
    assert missing == {pupil.id for pupil, _g in families[12:]}  # 8 unanswered, 8 orphans
    orphans = {row.pupil.id for row in notes.status(found, school) if not row.guardians}
    assert orphans == {pupil.id for pupil, _g in families[20:]}


def test_a_confirmation_reaches_its_note_after_a_class_change_and_a_removed_rule(six_a):
    school, teacher, class_group = six_a
    lea, (anne, _alain) = make.family(school, class_group)
    found = note(teacher, class_group)
    five_b = make.school_class(school, "5B")
    groups.remove_member(class_group, lea)
    groups.add_member(five_b, lea)
    head = make.user(school, "admin")
    subs = groups.sub_groups(class_group)
    for rule in db.session.scalars(
        db.select(CommunicationRule).where(
            CommunicationRule.source_group_id == subs["parent"].id,
            CommunicationRule.target_group_id == subs["teacher"].id,
        )
    ):
        rules.remove_rule(head, rule)
    notes.reply(anne, found, lea)
    assert done(found, school) == {lea.id: True}
    (told,) = _told(teacher, "liaison_reply")  # the author hears of it all the same
    assert [item["guardian"] for item in told.payload["items"]] == [anne.display_name]


def test_answers_change_until_the_deadline_and_not_after(six_a):
    school, teacher, class_group = six_a
    lea, (anne, _alain) = make.family(school, class_group)
    until = clock.now() + dt.timedelta(hours=1)
    coupon = note(
        teacher,
        class_group,
        Asks.ANSWER,
        choices=["J'autorise", "Je n'autorise pas"],
        answer_until=until,
    )
    first = notes.reply(anne, coupon, lea, choice=0)
    notes.reply(anne, coupon, lea, choice=1, comment="  Il sera  chez sa grand-mère. ")
    assert (first.choice, first.comment) == (1, "Il sera chez sa grand-mère.")
    for wrong in (None, 2, -1):
        with pytest.raises(ValidationError):
            notes.reply(anne, coupon, lea, choice=wrong)
    coupon.answer_until = clock.now() - dt.timedelta(seconds=1)
    with pytest.raises(ValidationError) as closed:
        notes.reply(anne, coupon, lea, choice=0)
    assert closed.value.errors == {"choice": "Answers to this note are closed."}
    assert first.choice == 1


def test_another_family_a_blocked_guardian_and_a_pupil_the_note_is_not_for_are_refused(six_a):
    school, teacher, class_group = six_a
    lea, (anne, alain) = make.family(school, class_group)
    tom, (claire, _) = make.family(school, class_group)
    outsider, (marc, _) = make.family(school, make.school_class(school, "5B"))
    found = note(teacher, class_group)
    for guardian, pupil in ((claire, lea), (marc, outsider), (anne, outsider)):
        with pytest.raises(LookupError):
            notes.reply(guardian, found, pupil)
    accounts.block(alain)
    with pytest.raises(LookupError):
        notes.reply(alain, found, lea)
    assert [g.id for g in notes.status(found, school)[0].guardians] == [anne.id]
    people.unlink_guardian(
        db.session.scalars(
            db.select(Guardianship).where(
                Guardianship.parent_id == anne.id, Guardianship.pupil_id == lea.id
            )
        ).one()
    )
    with pytest.raises(LookupError):
        notes.reply(anne, found, lea)  # no longer a guardian of Léa


def test_a_note_is_refused_field_by_field_and_teachers_address_their_own_pupils(six_a):
    school, teacher, class_group = six_a
    lea, _parents = make.family(school, class_group)
    other_class = make.school_class(school, "5B")
    tom, _ = make.family(school, other_class)
    with pytest.raises(ValidationError) as refused:
        notes.write(
            teacher,
            title="",
            body="<p> </p>",
            asks=Asks.ANSWER,
            choices=["Oui"],
            group_ids=[other_class.id],
            pupil_ids=[tom.id],
            answer_until=clock.now() - dt.timedelta(minutes=1),
        )
    assert set(refused.value.errors) == {
        "title",
        "body",
        "choices",
        "answer_until",
        "groups",
        "pupils",
    }
    with pytest.raises(ValidationError) as nobody:
        notes.write(teacher, title="", body="<p>x</p>", asks=Asks.NOTHING)
    assert set(nobody.value.errors) == {"title", "groups"}  # every field told at once
    head = make.user(school, "admin")
    by_head = notes.write(head, title="Mot", body="<p>x</p>", asks=Asks.NOTHING, pupil_ids=[tom.id])
    assert [row.pupil_id for row in by_head.pupils] == [tom.id]
    assert done(by_head, school) == {tom.id: True}  # information only
    with pytest.raises(PermissionError):
        notes.write(
            _parents[0], title="Mot", body="<p>x</p>", asks=Asks.NOTHING, pupil_ids=[lea.id]
        )


def _told(person, type_key: str) -> list[Notification]:
    db.session.expire_all()  # notify() writes in bulk, beside the objects already loaded
    return list(
        db.session.scalars(
            db.select(Notification).where(
                Notification.recipient_id == person.id, Notification.type == type_key
            )
        )
    )


def test_families_are_told_once_and_reminded_once_a_day_only_those_still_waited_for(six_a):
    school, teacher, class_group = six_a
    lea, (anne, alain) = make.family(school, class_group)
    tom, (claire,) = make.family(school, class_group, guardians=1)
    sam, _ = make.family(school, class_group, guardians=0)
    people.link_guardian(anne, sam, 1)  # Anne's second child in the class: one notification
    found = note(teacher, class_group)
    for guardian in (anne, alain, claire):
        (told,) = _told(guardian, "liaison_note")
        assert told.events == 1 and told.payload["items"][0]["text"] == "Sortie au musée"
    assert _told(lea, "liaison_note") == []  # the author did not let pupils read it
    notes.reply(alain, found, lea)
    notes.reply(anne, found, sam)
    assert notes.remind(teacher, found) == 1  # Claire alone: Tom's note is not done
    assert [n.events for n in _told(claire, "liaison_note")] == [2]
    assert [n.events for n in _told(anne, "liaison_note")] == [1]
    with pytest.raises(ValidationError) as twice:
        notes.remind(teacher, found)
    assert twice.value.errors == {"remind": "The families were reminded today already."}
    clock.advance(dt.timedelta(days=1))
    school.liaison_both_guardians = True  # now Anne is waited for Léa too
    assert notes.remind(teacher, found) == 2
    notes.reply(anne, found, lea)
    notes.reply(claire, found, tom)
    clock.advance(dt.timedelta(days=1))
    with pytest.raises(ValidationError) as nobody:
        notes.remind(teacher, found)
    assert nobody.value.errors == {"remind": "Nobody is waited for."}


def test_pupils_picked_one_by_one_files_kept_and_the_list_for_the_class_folder(six_a, app):
    school, teacher, class_group = six_a
    lea, (anne, alain) = make.family(school, class_group)
    tom, (claire,) = make.family(school, class_group, guardians=1)
    orphan, _ = make.family(school, class_group, guardians=0)
    with app.test_request_context():
        pdf = attachments.store(teacher, FileStorage(io.BytesIO(PDF), filename="autorisation.pdf"))
    coupon = notes.write(
        teacher,
        title="Sortie",
        body="<p>Jeudi.</p>",
        asks=Asks.ANSWER,
        choices=["Oui", "Non"],
        pupil_ids=[lea.id, orphan.id],
        pupils_see=True,
        files=[pdf],
    )
    assert {row.pupil_id for row in coupon.pupils} == {lea.id, orphan.id}
    assert [f.filename for f in coupon.files] == ["autorisation.pdf"]
    assert _told(claire, "liaison_note") == [] and len(_told(lea, "liaison_note")) == 1
    with pytest.raises(ValidationError):  # already joined: not an upload for a message
        attachments.pending(teacher, [pdf.id])
    notes.reply(alain, coupon, lea, choice=1, comment="Malade")
    header, rows = notes.table(coupon, school)
    assert header[0] == "Pupil" and len(rows) == 3  # Léa's two guardians, the orphan
    by_guardian = {row[3]: row for row in rows}
    assert by_guardian[alain.sort_name][2:] == ["yes", alain.sort_name, mock_any, "Non", "Malade"]
    assert by_guardian[anne.sort_name][4:] == ["", "", ""]
    assert by_guardian["No guardian"][:3] == [orphan.sort_name, "6A", "no"]
