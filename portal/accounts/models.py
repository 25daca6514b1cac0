"""Schools, users and the guardianship that links a parent to a pupil (SPEC §1)."""

from __future__ import annotations

import datetime as dt
import secrets
from enum import StrEnum

from flask_babel import gettext
from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.core import clock
from portal.core.db import CreatedAtMixin
from portal.core.text import fold
from portal.extensions import db


class Profile(StrEnum):
    ADMIN = "admin"
    TEACHER = "teacher"
    STAFF = "staff"
    PARENT = "parent"
    PUPIL = "pupil"
    WEBMASTER = "webmaster"


#: The profiles of a school's people (the webmaster belongs to no school).
SCHOOL_PROFILES = (Profile.ADMIN, Profile.TEACHER, Profile.STAFF, Profile.PARENT, Profile.PUPIL)


class AccountState(StrEnum):
    INACTIVE = "inactive"  # created or imported, never activated: receives, cannot log in
    ACTIVE = "active"
    BLOCKED = "blocked"  # cannot log in, invisible, receives nothing new
    #: Deleted by the school: named 'former user', nothing personal kept; the row stays so that
    #: what they wrote stays readable to the others.
    DELETED = "deleted"


#: States in which a person is in no directory, can't be written to and receives nothing new.
UNREACHABLE = (AccountState.BLOCKED, AccountState.DELETED)


class EmailSource(StrEnum):
    USER = "user"
    ADMIN = "admin"
    IMPORT = "import"


class EmailPriority(StrEnum):
    """Which source wins when an import brings another address (seed 001)."""

    USER = "user"
    ADMIN = "admin"


class School(CreatedAtMixin, db.Model):
    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The national identifier (UAI / RNE), unique on the platform.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    #: IANA time zone in which every time is shown to the school's people.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    #: Language for people who have not chosen one and whose browser says nothing useful.
    default_language: Mapped[str] = mapped_column(String(5), default="fr")
    email_priority: Mapped[EmailPriority] = mapped_column(String(10), default=EmailPriority.USER)
    #: Guardians and pupils may read the pupil's file and its events (SPEC §7); off by default.
    families_see_file: Mapped[bool] = mapped_column(default=False)
    #: Suspended by the webmaster: nobody of the school can log in; nothing is deleted.
    suspended_at: Mapped[dt.datetime | None]
    #: How long before its session a register opens; nothing it records leaves before the start.
    register_opens_minutes: Mapped[int] = mapped_column(default=10, server_default="10")
    #: Staff may make and fill manual and teaching groups, as the direction does.
    staff_manage_groups: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: A liaison note counts as confirmed or answered for a pupil once both guardians have
    #: replied, not one.
    liaison_both_guardians: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The direction and the staff confirm each login with a code from their phone (TOTP).
    second_factor_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The profiles that log in only through an identity provider, separated by commas
    #: (teacher, staff, parent, pupil: the direction always keeps its password).
    password_off: Mapped[str] = mapped_column(String(60), default="", server_default="")
    #: A provider's word that it asked for a second factor (OIDC ``amr``, CAS
    #: ``authnContextClass``) spares the direction and the staff Carnet's own code.
    trust_provider_mfa: Mapped[bool] = mapped_column(default=False, server_default=false())

    @property
    def password_off_profiles(self) -> frozenset[str]:
        return frozenset(filter(None, self.password_off.split(",")))


class User(UserMixin, CreatedAtMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None only for webmasters, who operate the whole platform.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    profile: Mapped[Profile] = mapped_column(String(10))
    state: Mapped[AccountState] = mapped_column(String(10), default=AccountState.INACTIVE)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    #: 'last first', folded (no case, no accents): what name searches match against.
    search_key: Mapped[str] = mapped_column(String(210), default="", index=True)
    #: What the person types to log in; unique on the platform (e-mails may be shared).
    login: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    #: Changes with the password: every session and reset link issued before is void.
    session_nonce: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    #: Who entered the e-mail address: decides who may change it (SPEC §4).
    email_source: Mapped[EmailSource | None] = mapped_column(String(10))
    #: Mobile number in E.164 (+33612345678).
    mobile: Mapped[str | None] = mapped_column(String(20))
    #: 'fr' or 'en'; None follows the browser.
    language: Mapped[str | None] = mapped_column(String(5))
    #: The person refused every e-mail from the platform (never set for admins).
    refuses_email: Mapped[bool] = mapped_column(default=False)
    activated_at: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    deleted_at: Mapped[dt.datetime | None]
    #: The national register's identifier (INE for a pupil, the register's id for others):
    #: how an import finds the person again. Unique in a school.
    national_id: Mapped[str | None] = mapped_column(String(40))
    #: The school register's own number for a pupil (SIECLE's 'N° Interne'): how a file of
    #: guardians finds the pupil when it carries no INE. Unique in a school.
    register_number: Mapped[str | None] = mapped_column(String(20))
    birth_date: Mapped[dt.date | None]

    school: Mapped[School | None] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint(
            "(profile = 'webmaster') = (school_id IS NULL)", name="webmaster_has_no_school"
        ),
        UniqueConstraint("school_id", "national_id"),
        UniqueConstraint("school_id", "register_number"),
    )

    @validates("first_name", "last_name")
    def _keep_search_key(self, key: str, value: str) -> str:
        names = {"first_name": self.first_name or "", "last_name": self.last_name or "", key: value}
        self.search_key = fold(f"{names['last_name']} {names['first_name']}")
        return value

    #: The token of the session this object was loaded for (portal.accounts.sessions); not a
    #: column: one person may have several sessions.
    session_token = None

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember cookie: the person, the
        nonce that ends every session at once, and this session's token, which logging out ends
        on the server (a copy of the cookie is refused afterwards)."""
        return f"{self.id}:{self.session_nonce}:{self.session_token or ''}"

    @property
    def is_active(self) -> bool:  # Flask-Login: only active accounts keep a session
        return self.state == AccountState.ACTIVE

    @property
    def school_suspended(self) -> bool:
        """The webmaster suspended the person's school: no login, no e-mail leaves for them."""
        return self.school is not None and self.school.suspended_at is not None

    @property
    def display_name(self) -> str:
        if self.state == AccountState.DELETED:
            return gettext("Former user")
        return f"{self.first_name} {self.last_name}"

    @property
    def sort_name(self) -> str:
        if self.state == AccountState.DELETED:
            return gettext("Former user")
        return f"{self.last_name} {self.first_name}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.login} {self.profile}>"


class ActivationCode(db.Model):
    __tablename__ = "activation_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    #: SHA-256 of the code; the code itself is shown once, when it is issued.
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class Guardianship(db.Model):
    """A parent is the legal guardian (responsable légal) of a pupil, with a rank of 1 or 2."""

    __tablename__ = "guardianship"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    pupil_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int]
    #: Responsable financier.
    financial: Mapped[bool] = mapped_column(default=False)
    #: To be contacted about the pupil.
    contact: Mapped[bool] = mapped_column(default=True)
    #: Consent to receive SMS about the pupil (SPEC §8).
    accepts_sms: Mapped[bool] = mapped_column(default=False)

    parent: Mapped[User] = relationship(foreign_keys=[parent_id])
    pupil: Mapped[User] = relationship(foreign_keys=[pupil_id])

    __table_args__ = (
        UniqueConstraint("parent_id", "pupil_id"),
        UniqueConstraint("pupil_id", "rank"),
        CheckConstraint("rank IN (1, 2)", name="rank_is_1_or_2"),
    )


class LoginSession(db.Model):
    """A session kept on the server (OWASP ASVS 3.3.1, 3.3.3): the browser holds its token, the
    database its digest. Logging out ends it; the person sees their sessions and ends any."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    ended_at: Mapped[dt.datetime | None]
    #: "Stay logged in on this device": no idle limit until the remember cookie expires.
    remembered: Mapped[bool] = mapped_column(default=False)
    #: What the browser said it was, and the address it came from (for the person's list).
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(45), default="")


class SecondFactor(db.Model):
    """A person's authenticator app (TOTP, RFC 6238): its secret, sealed (portal.core.vault),
    and the last time step a code was taken for, so that no code serves twice."""

    __tablename__ = "second_factor"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(300))
    enrolled_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    last_step: Mapped[int] = mapped_column(default=0)


class RecoveryCode(db.Model):
    """One of the ten codes that replace the phone once each; only their digest is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    digest: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[dt.datetime | None]


class TrustedDevice(db.Model):
    """A browser where the person confirmed a login with a code and asked not to be asked
    again there for some days; its cookie holds the token, the database its digest."""

    __tablename__ = "trusted_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime]


class ProviderKind(StrEnum):
    OIDC = "oidc"
    CAS = "cas"
    SAML = "saml"


class IdentityProvider(db.Model):
    """An identity provider people log in through (an ENT's CAS, ÉduConnect or an academy's
    OpenID Connect): a school's own, or one the webmaster declares for every school
    (``school_id`` None). It never creates an account: it names a person by an identifier that
    ExternalIdentity links to an account."""

    __tablename__ = "identity_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(
        ForeignKey("school.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ProviderKind] = mapped_column(String(10))
    #: What the login page's button says: "ENT Mon collège", "ÉduConnect".
    name: Mapped[str] = mapped_column(String(80))
    #: OIDC: the issuer (its discovery document is under /.well-known/openid-configuration);
    #: CAS: the server's base address (…/login, …/p3/serviceValidate); SAML: the address of
    #: its metadata, if it publishes them (else pasted).
    url: Mapped[str] = mapped_column(String(300))
    #: SAML: the provider's metadata (its entity ID, single sign-on service and signing keys).
    metadata_xml: Mapped[str] = mapped_column(Text, default="", server_default="")
    client_id: Mapped[str] = mapped_column(String(200), default="")
    #: The OIDC client secret, sealed (portal.core.vault); its last four characters as a hint.
    secret: Mapped[str] = mapped_column(String(500), default="")
    secret_hint: Mapped[str] = mapped_column(String(4), default="")
    #: The attribute or claim that names the person; empty for the protocol's own (CAS user,
    #: OIDC ``sub``, SAML ``NameID``).
    identifier_attribute: Mapped[str] = mapped_column(String(80), default="")
    #: The attribute or claim that says the person's profile, and the values that mean each
    #: Carnet profile ({"parent": ["responsable", "parent"], ...}); empty: not checked.
    profile_attribute: Mapped[str] = mapped_column(String(80), default="")
    profile_values: Mapped[dict] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    school: Mapped[School | None] = relationship()


class LinkedBy(StrEnum):
    IMPORT = "import"
    DIRECTION = "direction"
    SELF = "self"


class ExternalIdentity(db.Model):
    """One person's identifier at one identity provider: how SSO finds their account."""

    __tablename__ = "external_identity"
    __table_args__ = (
        UniqueConstraint("provider_id", "subject"),
        UniqueConstraint("provider_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("identity_provider.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(255))
    linked_by: Mapped[LinkedBy] = mapped_column(String(10))
    linked_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    last_login_at: Mapped[dt.datetime | None]

    provider: Mapped[IdentityProvider] = relationship(lazy="joined")
    user: Mapped[User] = relationship()
