"""Migrations run on a school's database that already holds people, not only on an empty one:
on SQLite, where changing a table means copying it, rows that point at it must not stop the
copy (migrations/env.py), and every row and key comes through."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from portal import create_app
from portal.accounts.models import School, User
from portal.extensions import db
from tests import factories as make

#: Before the school's first added switch (groups the direction makes, migration 0017).
BEFORE_SCHOOL_COLUMNS = "d4b2a1c8e316"


def test_a_populated_sqlite_database_goes_down_and_up_again(tmp_path):
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'school.sqlite'}"}
    )
    with app.app_context():
        upgrade()
        school = make.school("Collège Jean Jaurès")
        teacher = make.user(school, "teacher")
        make.school_class(school, "6A", teacher, make.user(school, "pupil"))
        db.session.commit()
        downgrade(revision=BEFORE_SCHOOL_COLUMNS)  # drops columns of school: copies it
        upgrade()  # and adds them again
        db.session.remove()
        assert db.session.scalar(select(func.count(User.id))) == 2
        assert db.session.scalar(select(School.name)) == "Collège Jean Jaurès"
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()
