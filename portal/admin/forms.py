from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from portal.accounts.forms import PROFILE_CHOICES
from portal.accounts.models import EmailPriority, ProviderKind
from portal.core.forms import MultiCheckboxField


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField(_l("Name or login"), render_kw={"maxlength": 100})
    profile = SelectField(
        _l("Profile"),
        choices=PROFILE_CHOICES,
        validate_choice=True,
        default="",
    )
    #: Deleted people ('former users') are listed only when asked for.
    state = SelectField(
        _l("Account"),
        choices=[
            SelectChoice("", _l("Current accounts")),
            SelectChoice("inactive", _l("Not activated")),
            SelectChoice("active", _l("Active")),
            SelectChoice("blocked", _l("Blocked")),
            SelectChoice("deleted", _l("Former users")),
        ],
        validate_choice=True,
        default="",
    )


class SchoolSettingsForm(FlaskForm):
    email_priority = RadioField(
        _l("When an import brings another e-mail address than the one a person entered"),
        choices=[
            SelectChoice(EmailPriority.USER.value, _l("keep the address the person entered")),
            SelectChoice(
                EmailPriority.ADMIN.value,
                _l("use the imported address; people can't change addresses set by the school"),
            ),
        ],
    )
    families_see_file = BooleanField(
        _l("Guardians and pupils may read the pupil's file and its events")
    )
    staff_manage_groups = BooleanField(_l("Staff may make and fill manual and teaching groups"))
    second_factor_required = BooleanField(
        _l("The direction and the staff confirm each login with a code from their phone"),
        description=_l("Each of them sets up an authenticator app at their next login."),
    )
    trust_provider_mfa = BooleanField(
        _l("No Carnet code after an identity provider that asked for a second factor"),
        description=_l(
            "When the provider says so (OpenID Connect “amr”, CAS “authnContextClass”), the "
            "direction and staff are not asked for their Carnet code as well."
        ),
    )
    liaison_both_guardians = BooleanField(
        _l("A liaison note is done for a pupil once both guardians have replied"),
        description=_l("Otherwise one guardian’s confirmation or answer is enough."),
    )
    # Checked by attendance.opening.set_opens_minutes(), next to the field.
    register_opens_minutes = IntegerField(
        _l("Registers open this many minutes before their session"),
        validators=[Optional()],
        description=_l(
            "From 0 to 240. Teachers take the register from then on; the staff record an "
            "absence announced in advance at any time, and families hear of it when the session "
            "starts."
        ),
        render_kw={"min": 0, "max": 240, "inputmode": "numeric"},
    )


class TutorForm(FlaskForm):
    # Checked by attendance.services.add_tutor(), both fields at once.
    name = StringField(_l("Tutor's name"), render_kw={"maxlength": 200, "autocomplete": "off"})
    email = StringField(
        _l("Tutor's e-mail address"),
        description=_l("Told by the alerts that e-mail the pupil's guardians."),
        render_kw={"type": "email", "maxlength": 254, "autocomplete": "off"},
    )


def _values_field(label):
    return StringField(
        label,
        validators=[Length(max=300)],
        description=_l("Separated by commas."),
        render_kw={"autocomplete": "off"},
    )


class ProviderForm(FlaskForm):
    # Checked by accounts.identities.save_provider(), next to each field.
    kind = RadioField(
        _l("Protocol"),
        choices=[
            SelectChoice(ProviderKind.OIDC.value, _l("OpenID Connect (ÉduConnect, an academy)")),
            SelectChoice(ProviderKind.CAS.value, _l("CAS (a regional ENT)")),
            SelectChoice(ProviderKind.SAML.value, _l("SAML 2.0 (an academy, a federation)")),
        ],
        default=ProviderKind.OIDC.value,
    )
    name = StringField(
        _l("Name on the login page"),
        validators=[Length(max=80)],
        description=_l("For example “ENT Mon collège” or “ÉduConnect”."),
        render_kw={"autocomplete": "off"},
    )
    url = StringField(
        _l("Address of the provider"),
        validators=[Length(max=300)],
        description=_l(
            "OpenID Connect: the issuer (its discovery document is read from it). CAS: the "
            "server’s address, the one before /login. SAML: the address of its metadata, or "
            "paste them below."
        ),
        render_kw={"type": "url", "autocomplete": "off"},
    )
    client_id = StringField(
        _l("Client identifier (OpenID Connect)"),
        validators=[Length(max=200)],
        render_kw={"autocomplete": "off"},
    )
    secret = PasswordField(
        _l("Client secret (OpenID Connect)"),
        validators=[Length(max=300)],
        render_kw={"autocomplete": "new-password"},
    )
    metadata_xml = TextAreaField(
        _l("Metadata of the provider (SAML)"),
        validators=[Length(max=2_000_000)],
        description=_l(
            "The XML document the provider publishes; read again from its address "
            "each time the provider is saved, when it is empty here."
        ),
        render_kw={"rows": 4, "spellcheck": "false"},
    )
    identifier_attribute = StringField(
        _l("Attribute that names the person"),
        validators=[Length(max=80)],
        description=_l(
            "Empty: the protocol’s own identifier (CAS user, OpenID Connect “sub”, SAML "
            "NameID). Otherwise an attribute such as the ENT login."
        ),
        render_kw={"autocomplete": "off"},
    )
    profile_attribute = StringField(
        _l("Attribute that says the profile"),
        validators=[Length(max=80)],
        description=_l(
            "Optional. When given, a login whose value does not match the linked account’s "
            "profile is refused and logged."
        ),
        render_kw={"autocomplete": "off"},
    )
    values_parent = _values_field(_l("Values meaning a parent"))
    values_pupil = _values_field(_l("Values meaning a pupil"))
    values_teacher = _values_field(_l("Values meaning a teacher"))
    values_staff = _values_field(_l("Values meaning staff"))
    values_admin = _values_field(_l("Values meaning the direction"))
    enabled = BooleanField(_l("Offered on the login page"), default=True)

    PROFILES = ("parent", "pupil", "teacher", "staff", "admin")


class PasswordOffForm(FlaskForm):
    # Checked by accounts.identities.set_password_off(), next to the field.
    password_off = MultiCheckboxField(
        _l("Log in only through an identity provider, without a Carnet password"),
        choices=[
            SelectChoice("teacher", _l("Teachers")),
            SelectChoice("staff", _l("Staff")),
            SelectChoice("parent", _l("Parents")),
            SelectChoice("pupil", _l("Pupils")),
        ],
        validate_choice=True,
        description=_l(
            "Possible once someone of the profile has logged in through a provider. The "
            "direction always keeps its password, so that the school is never locked out."
        ),
    )


class LinkForm(FlaskForm):
    # Checked by accounts.identities.link(), next to each field.
    provider = SelectField(_l("Identity provider"), coerce=int, validate_choice=True)
    subject = StringField(
        _l("Identifier at this provider"),
        validators=[Length(max=255)],
        description=_l("The ENT login, or the identifier the provider gives."),
        render_kw={"autocomplete": "off"},
    )
