"""A long list's pager speaks the reader's language and keeps the list's filters."""

from __future__ import annotations

from portal.admin.services import PAGE_SIZE
from portal.extensions import db
from tests import factories as make
from tests.school import in_english, person
from tests.web import logged_in, text


def test_the_people_list_pages_in_french_and_english_keeping_its_filters(app, world):
    with in_english(app):
        school = person(world, "admin").school
        for _n in range(PAGE_SIZE + 1):
            make.user(school, "pupil")
        db.session.commit()
    admin = logged_in(app, world.logins["admin"])
    for language, words in (("fr", "Page suivante"), ("en", "Next page")):
        page = text(admin.get("/admin/users?profile=pupil", headers={"Accept-Language": language}))
        assert f'rel="next">{words}<' in page
        assert "/admin/users?page=2&amp;profile=pupil" in page
    second = text(admin.get("/admin/users?profile=pupil&page=2", headers={"Accept-Language": "fr"}))
    assert 'rel="prev">Page précédente<' in second and 'rel="next"' not in second
