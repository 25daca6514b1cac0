"""Accounts: states, activation, passwords, guardianship, contact details (SPEC §1, §4)."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.accounts import contact, credentials, guardianship
from portal.accounts import services as accounts
from portal.accounts.models import AccountState, EmailPriority, EmailSource, User
from portal.core import clock
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.groups import people
from tests import factories as make

pytestmark = pytest.mark.usefixtures("db_ctx")


def test_new_account_is_inactive_and_cannot_log_in():
    person = make.user(make.school(), "parent", active=False)
    assert person.state == AccountState.INACTIVE
    with pytest.raises(credentials.LoginRefused):
        credentials.authenticate(person.login, "anything-at-all")


def test_activation_code_works_once_and_sets_the_password():
    person = make.user(make.school(), "parent", active=False)
    code = credentials.issue_activation_code(person)
    credentials.activate(code.lower().replace("-", ""), "a-new-password")
    assert person.state == AccountState.ACTIVE
    assert credentials.authenticate(person.login, "a-new-password") == person
    with pytest.raises(ValidationError) as refused:
        credentials.activate(code, "another-password")
    assert "code" in refused.value.errors


def test_expired_and_replaced_activation_codes_are_refused():
    person = make.user(make.school(), "pupil", active=False)
    old = credentials.issue_activation_code(person)
    new = credentials.issue_activation_code(person)
    with pytest.raises(ValidationError):
        credentials.activate(old, "a-new-password")
    clock.advance(dt.timedelta(days=91))
    with pytest.raises(ValidationError):
        credentials.activate(new, "a-new-password")
    assert person.state == AccountState.INACTIVE


def test_short_password_is_refused_at_activation_and_nothing_changes():
    person = make.user(make.school(), "pupil", active=False)
    code = credentials.issue_activation_code(person)
    with pytest.raises(ValidationError, match="10"):
        credentials.activate(code, "short")
    assert person.state == AccountState.INACTIVE
    assert person.password_hash is None


def test_blocked_account_cannot_log_in_and_its_sessions_end():
    person = make.user(make.school(), "pupil")
    session_id = person.get_id()
    accounts.block(person)
    assert person.get_id() != session_id
    with pytest.raises(credentials.LoginRefused, match="blocked"):
        credentials.authenticate(person.login, make.PASSWORD)
    accounts.unblock(person)
    assert credentials.authenticate(person.login, make.PASSWORD) == person


def test_unknown_login_and_wrong_password_get_the_same_answer():
    person = make.user(make.school(), "teacher")
    with pytest.raises(credentials.LoginRefused) as unknown:
        credentials.authenticate("nobody.here", make.PASSWORD)
    with pytest.raises(credentials.LoginRefused) as wrong:
        credentials.authenticate(person.login, "wrong-password")
    assert unknown.value.message == wrong.value.message


def test_logins_are_made_from_names_and_kept_unique():
    school = make.school()
    first = people.create_user(school, "pupil", "Zoé", "Le Gall")
    second = people.create_user(school, "pupil", "Zoé", "Le Gall")
    assert (first.login, second.login) == ("zoe.le-gall", "zoe.le-gall2")


def test_names_are_required_and_bounded():
    school = make.school()
    with pytest.raises(ValidationError, match="required"):
        people.create_user(school, "pupil", "  ", "Martin")
    with pytest.raises(ValidationError, match="100"):
        people.create_user(school, "pupil", "Léa", "M" * 101)


# --- guardianship ----------------------------------------------------------------------------


def test_a_pupil_has_at_most_one_guardian_per_rank_and_each_parent_once():
    school = make.school()
    pupil, (first, _second) = make.family(school)
    with pytest.raises(ValidationError, match="rank"):
        people.link_guardian(make.user(school, "parent"), pupil, 1)
    with pytest.raises(ValidationError, match="already a guardian"):
        people.link_guardian(first, pupil, 2)


def test_only_parents_are_guardians_and_only_of_pupils():
    school = make.school()
    with pytest.raises(ValidationError):
        people.link_guardian(make.user(school, "teacher"), make.user(school, "pupil"), 1)
    with pytest.raises(ValidationError):
        people.link_guardian(make.user(school, "parent"), make.user(school, "staff"), 1)


def test_guardianship_keeps_its_flags():
    school = make.school()
    pupil = make.user(school, "pupil")
    link = people.link_guardian(
        make.user(school, "parent"), pupil, 1, financial=True, contact=False, accepts_sms=True
    )
    (stored,) = guardianship.guardianships_of(pupil)
    assert stored is link
    assert (stored.rank, stored.financial, stored.contact, stored.accepts_sms) == (
        1,
        True,
        False,
        True,
    )


# --- e-mail ownership (seed 001) ------------------------------------------------------------


def _person(priority: EmailPriority, email=None, source=None):
    school = make.school()
    accounts.set_email_priority(school, priority)
    person = make.user(school, "parent")
    if email:
        contact.set_email(person, email, source)
    return person


@pytest.mark.parametrize("priority", list(EmailPriority))
def test_user_may_always_enter_an_address_when_none_is_set(priority):
    person = _person(priority)
    assert contact.set_email(person, "Parent@Example.org", EmailSource.USER)
    assert (person.email, person.email_source) == ("Parent@example.org", "user")


@pytest.mark.parametrize("priority", list(EmailPriority))
def test_user_may_always_change_an_address_they_entered(priority):
    person = _person(priority, "old@example.org", EmailSource.USER)
    assert contact.set_email(person, "new@example.org", EmailSource.USER)
    assert person.email == "new@example.org"


def test_when_admin_wins_user_cannot_change_an_address_set_by_the_school():
    person = _person(EmailPriority.ADMIN, "school@example.org", EmailSource.IMPORT)
    with pytest.raises(ValidationError, match="school"):
        contact.set_email(person, "mine@example.org", EmailSource.USER)
    assert person.email == "school@example.org"


def test_when_user_wins_user_may_change_an_address_set_by_the_school():
    person = _person(EmailPriority.USER, "school@example.org", EmailSource.ADMIN)
    assert contact.set_email(person, "mine@example.org", EmailSource.USER)
    assert (person.email, person.email_source) == ("mine@example.org", "user")


def test_when_user_wins_an_import_does_not_replace_the_address_they_entered():
    person = _person(EmailPriority.USER, "mine@example.org", EmailSource.USER)
    assert not contact.set_email(person, "register@example.org", EmailSource.IMPORT)
    assert person.email == "mine@example.org"


def test_when_admin_wins_an_import_replaces_the_address_the_user_entered():
    person = _person(EmailPriority.ADMIN, "mine@example.org", EmailSource.USER)
    assert contact.set_email(person, "register@example.org", EmailSource.IMPORT)
    assert (person.email, person.email_source) == ("register@example.org", "import")


@pytest.mark.parametrize("priority", list(EmailPriority))
def test_admin_can_always_change_an_address_individually(priority):
    person = _person(priority, "mine@example.org", EmailSource.USER)
    assert contact.set_email(person, "fixed@example.org", EmailSource.ADMIN)
    assert (person.email, person.email_source) == ("fixed@example.org", "admin")


def test_two_guardians_may_share_one_address():
    school = make.school()
    _pupil, parents = make.family(school, email="famille.martin@example.org")
    db.session.flush()
    assert {p.email for p in parents} == {"famille.martin@example.org"}
    shared = db.session.query(User).filter_by(email="famille.martin@example.org").count()
    assert shared == 2


def test_invalid_address_is_refused_and_nothing_changes():
    person = _person(EmailPriority.USER, "mine@example.org", EmailSource.USER)
    with pytest.raises(ValidationError, match="not valid"):
        contact.set_email(person, "not an address", EmailSource.USER)
    assert person.email == "mine@example.org"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("+33 7 81 23 45 67", "+33781234567"),
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_mobile_numbers_are_stored_in_e164(typed, stored):
    person = make.user(make.school(), "parent")
    contact.set_mobile(person, typed)
    assert person.mobile == stored


@pytest.mark.parametrize("typed", ["01 23 45 67 89", "12", "not a number", "+33 6 12"])
def test_landlines_and_garbage_are_not_mobile_numbers(typed):
    person = make.user(make.school(), "parent")
    with pytest.raises(ValidationError, match="mobile"):
        contact.set_mobile(person, typed)
    assert person.mobile is None


def test_keeping_a_school_managed_address_is_never_refused():
    person = _person(EmailPriority.ADMIN, "school@example.org", EmailSource.ADMIN)
    assert not contact.set_email(person, " school@example.org ", EmailSource.USER)
    assert person.email_source == "admin"
