"""Families out of reach (SPEC §12): per class, the guardians whom no channel reaches."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select

from portal.accounts import contact
from portal.accounts import services as accounts
from portal.accounts.models import AccountState, EmailSource, Guardianship, User
from portal.admin.reach import Missing, reach
from portal.core import clock
from portal.extensions import db
from portal.groups import people
from portal.groups import services as groups
from portal.notifications.types import Channel
from tests import factories as make
from tests.web import logged_in, post, text

ENGLISH = {"Accept-Language": "en"}
FRENCH = {"Accept-Language": "fr"}


def _guardian(school, name: str, *, active=False, email=None, mobile=None):
    first, last = name.split()
    return make.user(
        school,
        "parent",
        first_name=first,
        last_name=last,
        active=active,
        email=email,
        mobile=mobile,
    )


def _pupil(school, class_group, name: str):
    first, last = name.split()
    pupil = make.user(school, "pupil", first_name=first, last_name=last)
    groups.add_member(class_group, pupil)
    return pupil


@pytest.fixture
def families(app):
    """5B: Léa (Nora: mobile without consent, no e-mail, never activated; Rita: refuses
    e-mail, no mobile), Hugo (Emma: e-mail only; Sam: SMS only), Inès (Alex: activated account
    only; Fanny: every channel), Tom (only a blocked and a deleted guardian).
    4A: Zoé (Nora again, who consents to SMS for her), Chloé (Olga: nothing at all).
    A class of last year and another school each have a guardian out of reach."""
    with app.app_context():
        school = make.school()
        c5b = make.school_class(school, "5B")
        c4a = make.school_class(school, "4A")
        old = make.school_class(school, "3C")
        old.archived_at, old.school_year = clock.now(), "2025-2026"
        nora = _guardian(school, "Nora Sansmail", mobile="06 12 34 56 78")
        rita = _guardian(school, "Rita Refus", email="rita@example.org")
        contact.set_refuses_email(rita, True)
        lea = _pupil(school, c5b, "Léa Martin")
        people.link_guardian(nora, lea, 1)
        people.link_guardian(rita, lea, 2)
        hugo = _pupil(school, c5b, "Hugo Bernard")
        people.link_guardian(_guardian(school, "Emma Courriel", email="emma@example.org"), hugo, 1)
        sam = _guardian(school, "Sam Texto", mobile="06 98 76 54 32")
        people.link_guardian(sam, hugo, 2, accepts_sms=True)
        ines = _pupil(school, c5b, "Inès Petit")
        people.link_guardian(_guardian(school, "Alex Compte", active=True), ines, 1)
        fanny = _guardian(
            school, "Fanny Partout", active=True, email="f@example.org", mobile="0611223344"
        )
        people.link_guardian(fanny, ines, 2, accepts_sms=True)
        tom = _pupil(school, c5b, "Tom Seul")
        bob = _guardian(school, "Bob Bloque")
        people.link_guardian(bob, tom, 1)
        accounts.block(bob)
        dan = _guardian(school, "Dan Efface")
        people.link_guardian(dan, tom, 2)
        dan.state = AccountState.DELETED
        zoe = _pupil(school, c4a, "Zoé Martin")
        people.link_guardian(nora, zoe, 1, accepts_sms=True)
        chloe = _pupil(school, c4a, "Chloé Durand")
        people.link_guardian(_guardian(school, "Olga Absente"), chloe, 1)
        past = _pupil(school, old, "Paul Ancien")
        people.link_guardian(_guardian(school, "Pia Passee"), past, 1)
        admin = make.user(school, "admin")
        other = make.school()
        other_class = make.school_class(other, "5B")
        stranger = _pupil(other, other_class, "Sven Ailleurs")
        people.link_guardian(_guardian(other, "Otto Autre"), stranger, 1)
        other_admin = make.user(other, "admin")
        teacher, staff = make.user(school, "teacher"), make.user(school, "staff")
        db.session.commit()
        link = db.session.scalar(
            select(Guardianship.id).where(
                Guardianship.parent_id == nora.id, Guardianship.pupil_id == lea.id
            )
        )
        return SimpleNamespace(
            admin=admin.login,
            other_admin=other_admin.login,
            teacher=teacher.login,
            parent=fanny.login,
            staff=staff.login,
            ids={"nora": nora.id, "lea": lea.id, "rita": rita.id, "tom": tom.id},
            link=link,
            classes={"5B": c5b.id, "4A": c4a.id, "3C": old.id, "other": other_class.id},
        )


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _section(page: str, class_id: int) -> str:
    start = page.index(f'<section id="class-{class_id}"')
    return page[start : page.index("</section>", start)]


def _rows(section: str, table: str) -> dict[str, str]:
    """The rows of one table of a class's section, by guardian's name: their words."""
    if f'class="{table}"' not in section:
        return {}
    start = section.index(f'class="{table}"')
    body = section[start : section.index("</table>", start)]
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    return {_plain(row).split(" (")[0]: row for row in rows}


def _page(app, login: str, headers=ENGLISH, query: str = "") -> str:
    answer = logged_in(app, login).get(f"/admin/reach{query}", headers=headers)
    assert answer.status_code == 200
    return text(answer)


@pytest.mark.parametrize(
    ("contacts", "channels", "missing"),
    [
        ((True, False, True, True, True), {"email", "sms", "homepage"}, ()),
        (
            (False, False, False, False, False),
            set(),
            ("email", "mobile", "sms_consent", "activation"),
        ),
        ((True, True, True, False, False), set(), ("refuses_email", "sms_consent", "activation")),
        ((False, False, True, True, False), {"sms"}, ("email", "activation")),
        ((False, False, False, True, True), {"homepage"}, ("email", "mobile")),
    ],
)
def test_reach_names_the_channels_and_what_is_missing(contacts, channels, missing):
    email, refuses, mobile, consent, activated = contacts
    found, gaps = reach(
        email=email, refuses_email=refuses, mobile=mobile, accepts_sms=consent, activated=activated
    )
    assert found == {Channel(c) for c in channels}
    assert gaps == tuple(Missing(m) for m in missing)


def test_each_missing_contact_is_named_next_to_the_guardian(app, families):
    section = _section(_page(app, families.admin), families.classes["5B"])
    out = _rows(section, "out-of-reach")
    assert sorted(out) == ["Nora Sansmail", "Rita Refus"]
    nora = _plain(out["Nora Sansmail"])
    assert "Léa Martin" in nora
    assert "No e-mail address" in nora and "No consent to SMS for this pupil" in nora
    assert "Account never activated" in nora and "No mobile number" not in nora
    rita = _plain(out["Rita Refus"])
    assert "Refuses all e-mail" in rita and "No mobile number" in rita
    assert "No e-mail address" not in rita


def test_each_row_links_to_where_it_is_fixed(app, families):
    section = _section(_page(app, families.admin), families.classes["5B"])
    nora = _rows(section, "out-of-reach")["Nora Sansmail"]
    ids = families.ids
    assert f'href="/admin/users/{ids["nora"]}">E-mail and mobile of Nora Sansmail' in nora
    assert f'href="/admin/users/{ids["nora"]}">Activation code of Nora Sansmail' in nora
    assert f'href="/admin/users/{ids["lea"]}">SMS consent, on the record of Léa Martin' in nora


def test_a_guardian_reached_one_way_is_not_out_of_reach_but_listed_apart(app, families):
    section = _section(_page(app, families.admin), families.classes["5B"])
    out = _rows(section, "out-of-reach")
    apart = _rows(section, "one-channel")
    assert sorted(apart) == ["Alex Compte", "Emma Courriel", "Sam Texto"]
    assert not {"Alex Compte", "Emma Courriel", "Sam Texto", "Fanny Partout"} & set(out)
    assert "Fanny Partout" not in section  # every channel reaches her
    assert "E-mail" in _plain(apart["Emma Courriel"])
    assert "SMS" in _plain(apart["Sam Texto"]) and "No e-mail address" in _plain(apart["Sam Texto"])


def test_blocked_and_deleted_guardians_are_not_listed_but_their_pupil_is(app, families):
    page = _page(app, families.admin)
    assert "Bob Bloque" not in page and "Dan Efface" not in page
    section = _section(page, families.classes["5B"])
    without = section.split('class="without-guardian"', 1)[1]
    assert f'href="/admin/users/{families.ids["tom"]}">Tom Seul' in without


def test_another_schools_and_last_years_classes_are_not_listed(app, families):
    page = _page(app, families.admin)
    assert "Otto Autre" not in page and "Pia Passee" not in page and "3C" not in page
    other = _page(app, families.other_admin)
    assert "Otto Autre" in other and "Nora Sansmail" not in other
    asked = logged_in(app, families.admin).get(f"/admin/reach?class={families.classes['other']}")
    assert asked.status_code == 404
    past = logged_in(app, families.admin).get(f"/admin/reach?class={families.classes['3C']}")
    assert past.status_code == 404
    assert logged_in(app, families.admin).get("/admin/reach?class=5B").status_code == 400


def test_consent_is_per_pupil_so_a_guardian_may_be_out_of_reach_in_one_class_only(app, families):
    page = _page(app, families.admin)
    assert "Nora Sansmail" in _rows(_section(page, families.classes["5B"]), "out-of-reach")
    in_4a = _section(page, families.classes["4A"])
    assert sorted(_rows(in_4a, "out-of-reach")) == ["Olga Absente"]
    assert "Nora Sansmail" in _rows(in_4a, "one-channel")


def test_the_class_filter_shows_one_class(app, families):
    page = _page(app, families.admin, query=f"?class={families.classes['4A']}")
    assert "Olga Absente" in page and "Rita Refus" not in page
    assert f'<option value="{families.classes["4A"]}" selected>' in page


def test_counts_per_class_and_on_the_home_page_in_english_and_french(app, families):
    admin = logged_in(app, families.admin)
    page = text(admin.get("/admin/reach", headers=ENGLISH))
    counts = {
        name: _plain(re.search(rf'<tr id="count-{cid}">(.*?)</tr>', page, re.S).group(1))
        for name, cid in families.classes.items()
        if name in ("5B", "4A")
    }
    assert counts == {"5B": "5B 2 3 1", "4A": "4A 1 1 0"}
    assert "2 guardians out of reach" in page and "3 guardians reached one way only" in page
    home = text(admin.get("/admin/", headers=ENGLISH))
    # Nora (for Léa), Rita and Olga: three people, Nora counted once.
    assert re.search(r'Guardians out of reach</a></dt><dd id="out-of-reach">3</dd>', home)
    french = text(admin.get("/admin/", headers=FRENCH))
    assert re.search(r'Responsables injoignables</a></dt><dd id="out-of-reach">3</dd>', french)
    page_fr = html.unescape(text(admin.get("/admin/reach", headers=FRENCH)))
    assert "Familles injoignables" in page_fr and "Aucune adresse e-mail" in page_fr
    assert "2 responsables injoignables" in page_fr


def test_fixing_a_contact_takes_the_guardian_off_the_list(app, families):
    admin = logged_in(app, families.admin)
    consent = post(admin, f"/sms/consent/{families.link}", {"accepts": "1"}, page="/admin/reach")
    assert consent.status_code == 302
    with app.app_context():
        contact.set_email(db.session.get(User, families.ids["rita"]), None, EmailSource.ADMIN)
        contact.set_refuses_email(db.session.get(User, families.ids["rita"]), False)
        db.session.commit()
    section = _section(_page(app, families.admin), families.classes["5B"])
    assert "Nora Sansmail" in _rows(section, "one-channel")  # SMS, for Léa now
    assert sorted(_rows(section, "out-of-reach")) == ["Rita Refus"]  # still no address
    assert "No e-mail address" in _plain(_rows(section, "out-of-reach")["Rita Refus"])
    home = text(admin.get("/admin/", headers=ENGLISH))
    assert '<dd id="out-of-reach">2</dd>' in home


@pytest.mark.parametrize("who", ["teacher", "parent", "staff"])
def test_only_the_direction_sees_the_page(app, families, who):
    assert logged_in(app, getattr(families, who)).get("/admin/reach").status_code == 403


def test_the_page_takes_the_same_few_queries_whatever_the_schools_size(app, families):
    admin = logged_in(app, families.admin)

    def statements() -> int:
        seen = []

        def count(*args):
            seen.append(args[2])

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert admin.get("/admin/reach").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    small = statements()
    with app.app_context():
        school = db.session.get(User, families.ids["nora"]).school
        for n in range(3):
            class_group = make.school_class(school, f"6{n}")
            for _ in range(4):
                make.family(school, class_group)
        db.session.commit()
    assert statements() == small
