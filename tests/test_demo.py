"""The demo platform has what the README promises."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.accounts.models import AccountState, Guardianship, School, User
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import Group, GroupKind
from portal.platform import demo
from tests.web import csrf_token, log_in


def test_demo_platform_is_realistic_and_its_logins_work(app, client):
    with app.app_context():
        known = demo.build()
        db.session.commit()
        assert db.session.scalar(select(func.count(School.id))) == 2
        for class_group in db.session.scalars(select(Group).where(Group.kind == GroupKind.CLASS)):
            pupils = groups.sub_groups(class_group)["pupil"]
            assert 25 <= len(groups.members(pupils)) <= 31, class_group.name
        states = dict(
            db.session.execute(select(User.state, func.count()).group_by(User.state)).all()
        )
        assert states[AccountState.INACTIVE] >= 1 and states[AccountState.BLOCKED] >= 1
        shared = db.session.execute(
            select(User.email)
            .where(User.email.is_not(None))
            .group_by(User.email)
            .having(func.count() > 1)
        ).all()
        assert shared, "some guardians share one address"
        demo_parent = db.session.scalar(select(User).where(User.login == "demo.parent"))
        schools_of_children = {
            link.pupil.school_id
            for link in db.session.scalars(
                select(Guardianship).where(Guardianship.parent_id == demo_parent.id)
            )
        }
        assert len(schools_of_children) == 2  # one family, two schools
    homes = {
        "admin": "/admin/",
        "teacher": "/teacher/",
        "staff": "/staff/",
        "parent": "/parent/",
        "pupil": "/pupil/",
        "webmaster": "/webmaster/",
    }
    for profile, login in known.items():
        answer = log_in(client, login, demo.PASSWORD)
        assert answer.headers["Location"] == homes[profile]
        assert client.get(homes[profile]).status_code == 200
        client.post("/logout", data={"csrf_token": csrf_token(client, homes[profile])})


def test_the_demo_sends_no_email_even_with_an_smtp_server(app, smtp, worker, tmp_path):
    """The demo's families have addresses under the reserved .example domain: with SMTP_URL
    set, their notification e-mails are written to the mail folder, never sent. An e-mail to a
    real address leaves by the same server meanwhile."""
    import datetime as dt

    from portal.core import clock, mail
    from tests.notifications.helpers import deliver_due

    previous = app.config["MAIL_DIR"]
    app.config["MAIL_DIR"] = str(tmp_path)
    try:
        with app.app_context():
            demo.build()
            mail.queue_mail("someone@example.org", "Real", "A real address.")
            db.session.commit()
            clock.advance(dt.timedelta(hours=2))
            assert deliver_due() > 50  # the demo's announcement and homework, told to families
            worker()
        assert [m.rcpt_tos for m in smtp.messages] == [["someone@example.org"]]
        written = list(tmp_path.glob("*.eml"))
        assert len(written) > 50
        assert all(b"@demo.carnet.example" in path.read_bytes() for path in written)
    finally:
        app.config["MAIL_DIR"] = previous


def test_the_run_commands_demo_offers_its_identity_providers_and_asks_demo_admin_a_code(
    app, client
):
    """What `python3 -m portal run` loads (demo_command): the collège offers the demo's
    ÉduConnect and ENT, linked to demo.parent and demo.teacher (logging in through them is
    tests/sso's), and demo.admin confirms with a code from the documented key."""
    import pyotp

    from portal.accounts.models import ExternalIdentity

    with app.app_context():
        demo.build()
        demo.sign_in_options()
        db.session.commit()
        links = {
            (str(link.provider.kind), link.user.login)
            for link in db.session.scalars(select(ExternalIdentity))
        }
    assert links == {("oidc", "demo.parent"), ("cas", "demo.teacher")}
    page = client.get(f"/login?school={demo.SCHOOLS[0][1]}").get_data(as_text=True)
    assert "ÉduConnect (démo)" in page and "ENT (démo)" in page
    answer = log_in(client, "demo.admin", demo.PASSWORD)
    assert answer.headers["Location"] == "/login/code"
    code = pyotp.TOTP(demo.ADMIN_TOTP_SECRET).now()
    confirmed = client.post(
        "/login/code", data={"code": code, "csrf_token": csrf_token(client, "/login/code")}
    )
    assert confirmed.headers["Location"] == "/admin/"
