"""Schools, accounts, activation, passwords, contact details and guardianship (SPEC §1, §4).

Every function flushes and never commits. Bad input raises ValidationError(field, message).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update

from portal.accounts.models import (
    AccountState,
    ActivationCode,
    EmailPriority,
    EmailSource,
    Guardianship,
    Profile,
    School,
    User,
)
from portal.core import audit, clock, mail, phones, security
from portal.core.audit import AuditTag
from portal.core.errors import ValidationError
from portal.core.text import fold, one_line
from portal.extensions import db

NAME_MAX = 100
PASSWORD_MIN, PASSWORD_MAX = 10, 128
LANGUAGES = ("fr", "en")


def add_school(
    name: str, code: str, timezone: str = "Europe/Paris", language: str = "fr"
) -> School:
    """The school's row, its fields checked. Opening a school whole (its groups, its file event
    types) is portal.admin.platform.create_school."""
    name, code = " ".join(name.split()), code.strip().upper()
    if not name:
        raise ValidationError("name", _("Give the school a name."))
    if not re.fullmatch(r"[0-9A-Z]{6,20}", code):
        raise ValidationError("code", _("The school code is 6 to 20 letters or digits."))
    if db.session.scalar(select(School.id).where(School.code == code)):
        raise ValidationError("code", _("Another school already has this code."))
    if timezone not in zoneinfo.available_timezones():
        raise ValidationError("timezone", _("Unknown time zone."))
    if language not in LANGUAGES:
        raise ValidationError("language", _("Choose French or English."))
    school = School(name=name, code=code, timezone=timezone, default_language=language)
    db.session.add(school)
    db.session.flush()
    return school


def _clean_name(field: str, value: str) -> str:
    return one_line(field, value, NAME_MAX, _("This field is required."))


def ascii_slug(text: str) -> str:
    """'Zoé Le Gall' -> 'zoe-le-gall': what logins and demo addresses are made of."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-") or "user"


def name_filter(text: str) -> list:
    """Conditions matching people whose name contains every word of ``text``, whatever the case
    and accents ('lefevre' finds Lefèvre)."""
    return [User.search_key.like(f"%{word}%") for word in fold(text).split()[:5]]


def _login_for(first_name: str, last_name: str) -> str:
    """'Zoé Le Gall' -> 'zoe.le-gall', then zoe.le-gall2, 3... while taken."""
    base = f"{ascii_slug(first_name)}.{ascii_slug(last_name)}"[:100]
    taken = set(db.session.scalars(select(User.login).where(User.login.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def new_account(
    school: School | None,
    profile: Profile,
    first_name: str,
    last_name: str,
    *,
    login: str | None = None,
    email: str | None = None,
    email_source: EmailSource = EmailSource.ADMIN,
    mobile: str | None = None,
) -> User:
    """A new account, inactive until activated. In no group yet: portal.groups.people.create_user
    also puts it in its school's profile group."""
    if (profile == Profile.WEBMASTER) != (school is None):
        raise ValueError("webmasters, and only they, belong to no school")
    first_name = _clean_name("first_name", first_name)
    last_name = _clean_name("last_name", last_name)
    if login is not None:
        login = login.strip().lower()
        if db.session.scalar(select(User.id).where(User.login == login)):
            raise ValidationError("login", _("This login is already used."))
    user = User(
        school_id=school.id if school else None,
        profile=profile,
        first_name=first_name,
        last_name=last_name,
        login=login or _login_for(first_name, last_name),
        language=None,
    )
    if email:
        user.email, user.email_source = normalise_email(email), email_source
    if mobile:
        user.mobile = normalise_mobile(mobile, school_territory(school))
    db.session.add(user)
    db.session.flush()
    return user


# --- sessions --------------------------------------------------------------------------------


def load_session_user(session_id: str) -> User | None:
    """The person of a session (Flask-Login's user loader): "id:nonce", the nonce changing
    whenever every session of the person must end."""
    user_id, _sep, nonce = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.scalar(
        select(User).where(User.id == int(user_id), User.session_nonce == nonce)
    )
    # A session opened before the school was suspended ends at its next request (SPEC §10).
    active = user and user.state == AccountState.ACTIVE and not user.school_suspended
    return user if active else None


# --- activation, login, passwords -------------------------------------------------------------

#: The accounts a code may be issued to and used for: never activated, or active (a new password).
CODE_STATES = (AccountState.INACTIVE, AccountState.ACTIVE)


def issue_activation_code(user: User) -> str:
    """A new one-time code: it activates an account that was never activated, or lets the holder
    of an active account choose a new password (the school's answer to a forgotten password when
    no e-mail can reach the person). Earlier codes stop working. The code is returned once, to be
    printed or sent; only its digest is kept. ValidationError for a blocked or deleted account."""
    if user.state not in CODE_STATES:
        raise ValidationError("user", _("A blocked or deleted account can't be given a code."))
    now = clock.now()
    db.session.execute(
        update(ActivationCode)
        .where(ActivationCode.user_id == user.id, ActivationCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = security.new_code()
    days = current_app.config["ACTIVATION_CODE_DAYS"]
    db.session.add(
        ActivationCode(
            user_id=user.id,
            code_digest=security.digest(code),
            expires_at=now + dt.timedelta(days=days),
        )
    )
    db.session.flush()
    return code


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < PASSWORD_MIN:
        raise ValidationError(field, _("At least %(n)d characters.", n=PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        raise ValidationError(field, _("At most %(n)d characters.", n=PASSWORD_MAX))


def find_activation(code: str) -> ActivationCode:
    """The unused, unexpired code; ValidationError on 'code' otherwise (one message for all)."""
    digest = security.digest(security.normalise_code(code or ""))
    found = db.session.scalar(select(ActivationCode).where(ActivationCode.code_digest == digest))
    if (
        found is None
        or found.used_at is not None
        or found.expires_at <= clock.now()
        or found.user.state not in CODE_STATES
    ):
        raise ValidationError(
            "code",
            _("This activation code is not valid. Check it, or ask the school for a new one."),
        )
    return found


def activate(code: str, password: str) -> User:
    """The code's account, active with ``password``; for an account already active, its new
    password, every other session ended."""
    activation = find_activation(code)
    if activation.user.school_suspended:
        raise ValidationError("code", SUSPENDED)
    check_password_rules(password)
    user = activation.user
    activation.used_at = clock.now()
    user.activated_at = user.activated_at or activation.used_at
    user.state = AccountState.ACTIVE
    _set_password(user, password)
    db.session.flush()
    return user


def _set_password(user: User, password: str) -> None:
    user.password_hash = security.hash_password(password)
    user.session_nonce = security.new_code(16).replace("-", "")  # every other session ends


#: What the people of a suspended school are told when they log in or activate (SPEC §10).
SUSPENDED = _l(
    "Your school's access to Carnet is suspended for now. Nothing is lost: you can log in "
    "again as soon as it is resumed."
)


class LoginRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def authenticate(login: str, password: str) -> User:
    """The active account with this login and password. Unknown login and wrong password get
    the same answer, in the same time; only the holder of the right password of a blocked account
    learns that it is blocked."""
    user = db.session.scalar(select(User).where(User.login == (login or "").strip().lower()))
    if not security.verify_password(user.password_hash if user else None, password or ""):
        raise LoginRefused(_("Login or password incorrect."))
    if user.state == AccountState.BLOCKED:
        raise LoginRefused(_("This account is blocked. Contact your school."))
    if user.school_suspended:
        raise LoginRefused(SUSPENDED)
    user.last_login_at = clock.now()
    db.session.flush()
    return user


def _reset_fingerprint(user: User) -> str:
    # The token dies with the password it was issued for: a used link can't be used again.
    return security.digest(user.session_nonce)[:16]


def request_password_reset(login: str) -> None:
    """E-mail a reset link if the login is an active account with an address that accepts e-mail.
    Says nothing either way: the page shows the same answer."""
    user = db.session.scalar(select(User).where(User.login == (login or "").strip().lower()))
    if user is None or user.state != AccountState.ACTIVE or not user.email or user.refuses_email:
        return
    if user.school_suspended:
        return
    token = security.sign("reset", [user.id, _reset_fingerprint(user)])
    link = current_app.config["PUBLIC_URL"].rstrip("/") + url_for(
        "accounts.reset_password", token=token
    )
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    with force_locale(user.language or (user.school.default_language if user.school else "fr")):
        subject = _("Carnet: choose a new password")
        context = {"user": user, "link": link, "minutes": minutes}
        context["unsubscribe_url"] = unsubscribe_url(user)
        text = render_template("accounts/mail/reset.txt", **context)
        html = render_template("accounts/mail/reset.html", **context)
    mail.queue_mail(user.email, subject, text, html, unsubscribe_url=unsubscribe_url(user))


def read_reset_token(token: str) -> tuple[int, str]:
    """The user id and password fingerprint a reset link carries; ValidationError on 'token'
    when it was tampered with or is too old."""
    return _read_link(
        "reset",
        token,
        current_app.config["PASSWORD_RESET_MAX_AGE"],
        expired=_("This link has expired. Ask for a new one."),
        invalid=_("This link is not valid. Ask for a new one."),
    )


def _read_link(purpose: str, token: str, max_age: int, *, expired: str, invalid: str):
    """What a signed link carries; ValidationError on 'token', saying why, when it can't be read."""
    try:
        return security.unsign(purpose, token, max_age)
    except security.TokenError as exc:
        raise ValidationError("token", expired if exc.expired else invalid) from exc


def reset_password(token: str, password: str) -> User:
    user_id, fingerprint = read_reset_token(token)
    user = db.session.get(User, user_id)
    if user is None or user.state != AccountState.ACTIVE or _reset_fingerprint(user) != fingerprint:
        raise ValidationError("token", _("This link has already been used. Ask for a new one."))
    check_password_rules(password)
    _set_password(user, password)
    db.session.flush()
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not security.verify_password(user.password_hash, current):
        raise ValidationError("current_password", _("This is not your current password."))
    check_password_rules(new, "new_password")
    _set_password(user, new)
    db.session.flush()


def set_language(user: User, language: str) -> None:
    if language not in LANGUAGES:
        raise ValidationError("language", _("Choose French or English."))
    user.language = language
    db.session.flush()


# --- contact details ------------------------------------------------------------------------


def normalise_email(address: str) -> str:
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError("email", _("This e-mail address is not valid.")) from exc


def normalise_mobile(number: str, home: str | None = None) -> str:
    """E.164 form of a mobile number of France or any French territory, however it is written
    (portal.core.phones); ``home`` is the school's territory. ValidationError on 'mobile' saying
    why the number was refused."""
    try:
        return phones.e164(number, home=home)
    except phones.PhoneRefused as refused:
        not_valid = _("This mobile number is not valid.")
        why = phones.refusal_text(refused.number, refused.reason)
        raise ValidationError("mobile", f"{not_valid} {why}") from refused


def school_territory(school: School | None) -> str | None:
    """The French territory of the school's time zone: its short numbers are read first."""
    return phones.home_territory(school.timezone) if school is not None else None


def user_may_change_email(user: User) -> bool:
    """Seed 001: a person may always enter an address when none is set and change one they
    entered; one entered by an admin or an import only if the school gives the user priority."""
    if user.email is None or user.email_source == EmailSource.USER:
        return True
    return user.school is not None and user.school.email_priority == EmailPriority.USER


def import_may_replace_email(
    current: str | None, source: EmailSource | None, priority: EmailPriority
) -> bool:
    """Whether an imported file may replace the address a person has (SPEC §4): not one the
    person entered themselves when the school gives the user priority."""
    return not (
        current is not None and source == EmailSource.USER and priority == EmailPriority.USER
    )


def set_email(user: User, address: str | None, source: EmailSource) -> bool:
    """Change a person's e-mail address as ``source`` (the user, an admin, an import).

    An admin may always change it. An import never overwrites an address the user entered when
    the school gives the user priority (returns False, nothing changes). Two people may share
    one address. Raises ValidationError when the user may not change it or it is not valid."""
    new = normalise_email(address) if address and address.strip() else None
    if new == user.email:
        return False
    if source == EmailSource.USER and not user_may_change_email(user):
        raise ValidationError(
            "email", _("Your school manages this address: ask the school to change it.")
        )
    if source == EmailSource.IMPORT and not import_may_replace_email(
        user.email, user.email_source, user.school.email_priority
    ):
        return False
    user.email = new
    user.email_source = source if new else None
    db.session.flush()
    return True


def set_mobile(user: User, number: str | None) -> None:
    if number and number.strip():
        user.mobile = normalise_mobile(number, school_territory(user.school))
    else:
        user.mobile = None
    db.session.flush()


def set_contact(user: User, email: str | None, mobile: str | None, source: EmailSource) -> None:
    """Both contact details at once, as the person or an admin typed them: either both are
    saved or, on a ValidationError, the caller rolls back and neither is."""
    set_email(user, email, source)
    set_mobile(user, mobile)


def set_email_priority(school: School, priority: EmailPriority) -> None:
    school.email_priority = EmailPriority(priority)
    db.session.flush()


def set_families_see_file(actor: User, school: School, allowed: bool) -> None:
    """Whether guardians and pupils read the pupil's file (SPEC §7); audited when it changes."""
    if school.families_see_file != allowed:
        school.families_see_file = allowed
        db.session.flush()
        audit.record(actor, AuditTag.SCHOOL_SETTINGS_CHANGED, school.id, families_see_file=allowed)


# --- refusing all e-mail --------------------------------------------------------------------


def may_refuse_email(user: User) -> bool:
    """Administrators (and the webmaster) must stay reachable: they can't refuse e-mail."""
    return user.profile not in (Profile.ADMIN, Profile.WEBMASTER)


def set_refuses_email(user: User, refuses: bool) -> None:
    """Refusing covers every e-mail, notifications and password recovery alike (seed 001)."""
    if refuses and not may_refuse_email(user):
        raise ValidationError(
            "refuses_email", _("Administrators can't refuse e-mail from the platform.")
        )
    user.refuses_email = refuses
    db.session.flush()


def unsubscribe_url(user: User) -> str | None:
    """The footer link that refuses all e-mail without logging in (a signed token naming the
    person); None for those who can't refuse."""
    if not may_refuse_email(user):
        return None
    token = security.sign("unsubscribe", user.id)
    return current_app.config["PUBLIC_URL"].rstrip("/") + f"/unsubscribe/{token}"


def read_unsubscribe_token(token: str) -> User:
    """The person a footer link was made for; ValidationError on 'token' when the link was
    tampered with, is too old or names nobody."""
    user_id = _read_link(
        "unsubscribe",
        token,
        current_app.config["UNSUBSCRIBE_MAX_AGE"],
        expired=_("This link has expired. You can refuse e-mail from your account page."),
        invalid=_("This link is not valid. You can refuse e-mail from your account page."),
    )
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        raise ValidationError(
            "token", _("This link is not valid. You can refuse e-mail from your account page.")
        )
    return user


# --- account states -------------------------------------------------------------------------


def block(user: User) -> None:
    """A blocked person can't log in, vanishes from directories and receives nothing new."""
    user.state = AccountState.BLOCKED
    user.session_nonce = security.new_code(16).replace("-", "")
    db.session.flush()


def unblock(user: User) -> None:
    user.state = AccountState.ACTIVE if user.activated_at else AccountState.INACTIVE
    db.session.flush()


def erase_account(user: User) -> None:
    """The person becomes a 'former user' (SPEC §1, §10). The row stays, so that what they wrote
    stays readable to the others and nothing of theirs cascades away; their personal details,
    guardianships and pending activation codes go, and every session ends. Their groups are
    portal.groups.people.delete_account's part. Who may do it is the caller's check."""
    db.session.execute(
        delete(Guardianship).where(
            or_(Guardianship.parent_id == user.id, Guardianship.pupil_id == user.id)
        )
    )
    now = clock.now()
    db.session.execute(
        update(ActivationCode)
        .where(ActivationCode.user_id == user.id, ActivationCode.used_at.is_(None))
        .values(used_at=now)
    )
    user.first_name = user.last_name = ""
    user.login = _placeholder_login(user)
    user.email = user.email_source = user.mobile = None
    user.password_hash = user.national_id = user.register_number = user.birth_date = None
    user.session_nonce = security.new_code(16).replace("-", "")
    user.state, user.deleted_at = AccountState.DELETED, now
    db.session.flush()


def _placeholder_login(user: User) -> str:
    """'deleted-<id>': what a former user's login becomes, unique and meaning nothing."""
    login, n = f"deleted-{user.id}", 1
    while db.session.scalar(select(User.id).where(User.login == login, User.id != user.id)):
        n += 1
        login = f"deleted-{user.id}-{n}"
    return login


def may_email(user: User) -> bool:
    """The person has an address and has not refused every e-mail from the platform."""
    return bool(user.email) and not user.refuses_email


def pending_activation(user: User) -> ActivationCode | None:
    """The code that would activate the account now (unused, unexpired), if there is one."""
    return db.session.scalar(
        select(ActivationCode)
        .where(
            ActivationCode.user_id == user.id,
            ActivationCode.used_at.is_(None),
            ActivationCode.expires_at > clock.now(),
        )
        .order_by(ActivationCode.created_at.desc(), ActivationCode.id.desc())
        .limit(1)
    )


def activation_link(code: str) -> str:
    """The activation page with the code filled in."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for("accounts.activate", code=code)


def send_activation_code(user: User, code: str) -> None:
    """E-mail a code just issued, with the link that fills it in, in the person's language
    (the school's until they choose one). Activation e-mail leaves even when the webmaster
    turned notification e-mail off; the caller checks may_email() first."""
    activation = pending_activation(user)
    with force_locale(user.language or (user.school.default_language if user.school else "fr")):
        subject = _("Carnet: your activation code")
        context = {
            "user": user,
            "code": code,
            "link": activation_link(code),
            "page": current_app.config["PUBLIC_URL"].rstrip("/") + url_for("accounts.activate"),
            "valid_until": activation.expires_at if activation else None,
            "unsubscribe_url": unsubscribe_url(user),
        }
        text = render_template("accounts/mail/activation.txt", **context)
        html = render_template("accounts/mail/activation.html", **context)
    mail.queue_mail(user.email, subject, text, html, unsubscribe_url=unsubscribe_url(user))


# --- guardianship ----------------------------------------------------------------------------


def add_guardian(
    parent: User,
    pupil: User,
    rank: int,
    *,
    financial: bool = False,
    contact: bool = True,
    accepts_sms: bool = False,
) -> Guardianship:
    """Make ``parent`` guardian ``rank`` (1 or 2) of ``pupil``. A parent may have children in
    several classes and schools. portal.groups.people.link_guardian also brings the parents'
    groups of the pupil's classes in step."""
    if parent.profile != Profile.PARENT:
        raise ValidationError("parent", _("Only a parent account can be a guardian."))
    if pupil.profile != Profile.PUPIL:
        raise ValidationError("pupil", _("A guardian is linked to a pupil."))
    if rank not in (1, 2):
        raise ValidationError("rank", _("The rank is 1 or 2."))
    existing = db.session.scalars(
        select(Guardianship).where(Guardianship.pupil_id == pupil.id)
    ).all()
    if any(g.parent_id == parent.id for g in existing):
        raise ValidationError("parent", _("This parent is already a guardian of this pupil."))
    if any(g.rank == rank for g in existing):
        raise ValidationError("rank", _("This pupil already has a guardian of this rank."))
    link = Guardianship(
        parent_id=parent.id,
        pupil_id=pupil.id,
        rank=rank,
        financial=financial,
        contact=contact,
        accepts_sms=accepts_sms,
    )
    db.session.add(link)
    db.session.flush()
    return link


def remove_guardian(link: Guardianship) -> None:
    db.session.delete(link)
    db.session.flush()


def children_of(parent: User) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Guardianship, Guardianship.pupil_id == User.id)
            .where(Guardianship.parent_id == parent.id)
            .order_by(User.first_name)
        )
    )


def guardianships_of(pupil: User) -> list[Guardianship]:
    return list(
        db.session.scalars(
            select(Guardianship)
            .where(Guardianship.pupil_id == pupil.id)
            .order_by(Guardianship.rank)
        )
    )


def count_users(school: School, **filters) -> int:
    query = select(func.count(User.id)).where(User.school_id == school.id)
    for column, value in filters.items():
        query = query.where(getattr(User, column) == value)
    return db.session.scalar(query)
