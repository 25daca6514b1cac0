"""Log in and out, activation, password reset, language, My account."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user

from portal.accounts import credentials, identities, second_factor, services, session_store, sso
from portal.accounts.forms import (
    ActivationForm,
    ChangePasswordForm,
    CodeForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    ResetPasswordForm,
    TurnOffForm,
)
from portal.accounts.models import User
from portal.core import clock, security, sessions, vault
from portal.core.errors import ValidationError
from portal.core.navigation import back, home_url, safe_next
from portal.extensions import db, limiter

bp = Blueprint("accounts", __name__)

#: The school whose identity providers the login page offers, once chosen.
LOGIN_SCHOOL = "login_school"


def sso_choices() -> dict:
    """The login page's identity providers: the platform's, and the school's once chosen from
    the list (``?school=<code>``, remembered in the session) or given in the address."""
    code = request.args.get("school")
    if code is not None:
        session[LOGIN_SCHOOL] = code
    school = identities.school_by_code(session.get(LOGIN_SCHOOL, ""))
    return {
        "providers": sso.offered(school),
        "login_school": school,
        "sso_schools": identities.schools_offering(),
    }


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _address_limit() -> str:
    return current_app.config["LOGIN_ADDRESS_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _login_name() -> str:
    return (request.form.get("login") or "").strip().lower()


def _login_key() -> str:
    """One login tried from one address: someone guessing a password is stopped there, while
    its owner, elsewhere, still logs in (no lock-out of the owner by a stranger)."""
    return f"login:{_login_name()}:{get_remote_address()}"


def _account_key() -> str:
    """One login tried from anywhere: at most 100 refused attempts an hour (OWASP ASVS 2.2.1),
    however many addresses the attempts come from."""
    return f"account:{_login_name()}"


def _failed(response) -> bool:
    """Only refused attempts count: a computer room of pupils shares one address."""
    return response.status_code >= 400


#: Set in a session whose identity provider asked for a second factor, where the school trusts
#: it: Carnet asks for no code of its own, nor to set one up.
PROVIDER_MFA = "provider_mfa"


def _start_session(user, remember: bool = False, provider_mfa: bool = False) -> None:
    """A fresh session on every login: nothing from before it is carried over but the language."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    session_store.open_for(user, remember)
    login_user(user, remember=remember)
    sessions.start(remember)
    if provider_mfa:
        session[PROVIDER_MFA] = True


def log_in(user, remember: bool, target: str, provider_mfa: bool = False):
    """The account is proven (password, or an identity provider): the session starts, or the
    second step is asked first. A provider's second factor stands for Carnet's where the school
    trusts it."""
    skip = provider_mfa and user.school is not None and user.school.trust_provider_mfa
    if (
        not skip
        and second_factor.of(user) is not None
        and not second_factor.trusted(user, request.cookies.get(second_factor.DEVICE_COOKIE))
    ):
        _await_second_step(user, remember, target)
        return redirect(url_for("accounts.second_step"))
    _start_session(user, remember=remember, provider_mfa=skip)
    return redirect(target)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, key_func=_login_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    form.remember.description = ngettext(
        "Not on a computer others use: without it, you are logged out after %(num)d minute "
        "without activity.",
        "Not on a computer others use: without it, you are logged out after %(num)d minutes "
        "without activity.",
        current_app.config["SESSION_IDLE_SECONDS"] // 60,
    )
    if form.validate_on_submit():
        try:
            user = credentials.authenticate(form.login.data, form.password.data)
        except credentials.LoginRefused as refused:
            form.form_errors.append(refused.message)
        else:
            return log_in(user, form.remember.data, safe_next(home_url(user)))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("accounts/login.html", form=form, **sso_choices()), status


#: The login waiting for its second step: who, and for how long.
AWAITING = "awaiting_second_step"
SECOND_STEP_SECONDS = 300


def _await_second_step(user, remember: bool, target: str) -> None:
    """The password was right; nobody is logged in until the code is."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    session[AWAITING] = {
        "user": user.id,
        "nonce": user.session_nonce,
        "remember": bool(remember),
        "next": target,
        "until": int(clock.now().timestamp()) + SECOND_STEP_SECONDS,
    }


def _awaiting():
    """The person whose password was just right, or None (none, expired, or changed since)."""
    waiting = session.get(AWAITING)
    if not waiting or waiting["until"] < clock.now().timestamp():
        return None
    user = db.session.get(User, waiting["user"])
    if user is None or user.session_nonce != waiting["nonce"] or not user.is_active:
        return None
    return user


def _second_step_key() -> str:
    waiting = session.get(AWAITING) or {}
    return f"second-step:{waiting.get('user')}"


def _second_step_limit() -> str:
    return current_app.config["SECOND_FACTOR_RATE_LIMIT"]


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_second_step_limit, key_func=_second_step_key, methods=["POST"], deduct_when=_failed)
def second_step():
    """The code after the password; a trusted browser is not asked for some days."""
    user = _awaiting()
    if user is None:
        session.pop(AWAITING, None)
        flash(_("Log in again: the time to type the code is over."), "info")
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    form.trust.label.text = ngettext(
        "Don't ask again on this device for %(num)d day",
        "Don't ask again on this device for %(num)d days",
        current_app.config["SECOND_FACTOR_TRUST_DAYS"],
    )
    if form.validate_on_submit():
        try:
            second_factor.check(user, form.code.data)
        except ValidationError as error:
            error.apply_to(form)
        else:
            waiting = session[AWAITING]
            _start_session(user, remember=waiting["remember"])
            response = redirect(waiting["next"])
            if form.trust.data:
                _trust_this_browser(response, second_factor.trust(user))
            return response
    status = 400 if form.errors else 200
    return render_template("accounts/second_step.html", form=form), status


def _trust_this_browser(response, token: str) -> None:
    config = current_app.config
    response.set_cookie(
        second_factor.DEVICE_COOKIE,
        token,
        max_age=config["SECOND_FACTOR_TRUST_DAYS"] * 86400,
        httponly=True,
        secure=config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )


@bp.post("/logout")
def logout():
    sessions.end()
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/activate", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed)
def activate():
    form = ActivationForm(code=request.args.get("code", ""))
    if form.validate_on_submit():
        try:
            user = credentials.activate(form.code.data, form.password.data)
        except ValidationError as error:
            error.apply_to(form)
        else:
            _start_session(user)
            flash(
                _("Welcome to Carnet, %(name)s. Your account is active.", name=user.first_name),
                "success",
            )
            return redirect(home_url(user))
    status = 400 if form.errors else 200
    return render_template("accounts/activate.html", form=form), status


#: What to do when no e-mail can come: said to everyone alike, so that nobody learns from it
#: whether a login refused e-mail or has no address (SPEC §4).
NO_EMAIL_HELP = _l(
    "No e-mail comes to an account without an address, nor to a person who chose to receive no "
    "e-mail from Carnet: ask your school for a code to choose a new password."
)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        credentials.request_password_reset(form.login.data)
        on_its_way = _(
            "If this login belongs to an active account with an e-mail address, a link to "
            "choose a new password is on its way. It works for one hour."
        )
        flash(f"{on_its_way} {NO_EMAIL_HELP}", "info")
        return redirect(url_for("accounts.login"))
    status = 400 if form.errors else 200
    return render_template("accounts/forgot.html", form=form, no_email_help=NO_EMAIL_HELP), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed)
def reset_password(token: str):
    form = ResetPasswordForm()
    token_error = None
    try:
        credentials.read_reset_token(token)
    except ValidationError as error:
        token_error = error.errors["token"]
    if token_error is None and form.validate_on_submit():
        try:
            credentials.reset_password(token, form.password.data)
        except ValidationError as error:
            token_error = error.errors.get("token")
            error.apply_to(form)
        else:
            flash(_("Your password is changed. Log in with it."), "success")
            return redirect(url_for("accounts.login"))
    status = 400 if token_error or form.errors else 200
    return render_template("accounts/reset.html", form=form, token_error=token_error), status


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if not form.validate():
        return redirect(back(url_for("accounts.login")))
    session["language"] = form.language.data
    if current_user.is_authenticated:
        services.set_language(current_user, form.language.data)
    return redirect(back(url_for("accounts.login")))


# --- My account -------------------------------------------------------------------------------


def _account_page(status: int = 200, **forms):
    user = current_user
    forms.setdefault("password_form", ChangePasswordForm())
    forms.setdefault("language_form", LanguageForm(language=user.language or "fr"))
    return render_template(
        "accounts/account.html",
        open_sessions=session_store.open_sessions(user),
        this_session=getattr(user, "login_session", None),
        device=session_store.device,
        has_second_factor=second_factor.of(user) is not None,
        **forms,
    ), status


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    """Log out one of the person's sessions (another device, or this one)."""
    if not session_store.close_one(current_user, session_id):
        abort(404)
    if session_id == current_user.login_session.id:
        sessions.end()
        flash(_("You are logged out."), "info")
        return redirect(url_for("accounts.login"))
    flash(_("That session is logged out."), "success")
    return redirect(url_for("accounts.account") + "#sessions")


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    ended = session_store.close_every(current_user, but=current_user.login_session)
    flash(
        ngettext(
            "%(num)d other session is logged out.", "%(num)d other sessions are logged out.", ended
        ),
        "success",
    )
    return redirect(url_for("accounts.account") + "#sessions")


# --- the second factor -----------------------------------------------------------------------

#: The session's key for the secret of an app being set up, until its first code is right:
#: sealed (portal.core.vault), since Flask's session cookie is signed, not encrypted.
ENROLLING = "enrolling"


def _enrolling_secret(create: bool = False) -> str | None:
    sealed = session.get(ENROLLING)
    if sealed is not None:
        try:
            return vault.unseal(sealed)
        except ValueError:  # sealed under another key: start again
            pass
    if not create:
        return None
    secret = second_factor.new_secret()
    session[ENROLLING] = vault.seal(secret)
    return secret


def _second_factor_page(status: int = 200, **context):
    user = current_user._get_current_object()
    found = second_factor.of(user)
    if found is None:
        secret = _enrolling_secret(create=True)
        context |= {
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "picture": second_factor.enrolment_picture(user, secret),
        }
    else:
        context["codes_left"] = second_factor.recovery_codes_left(user)
    form = context.setdefault("form", CodeForm(formdata=None))
    form.code.description = _("The 6 digits your app shows now.")
    context.setdefault("off_form", TurnOffForm(formdata=None))
    return render_template(
        "accounts/second_factor.html",
        found=found,
        required=second_factor.required(user),
        **context,
    ), status


@bp.route("/account/second-factor", methods=["GET", "POST"])
@login_required
def second_factor_setup():
    """Set up an authenticator app (a QR code, then its first code), or see the one set up."""
    if request.method == "GET":
        return _second_factor_page()
    form = CodeForm()
    secret = _enrolling_secret()
    if secret is None or second_factor.of(current_user) is not None:
        return redirect(url_for("accounts.second_factor_setup"))
    if form.validate_on_submit():
        try:
            codes = second_factor.enrol(current_user, secret, form.code.data)
        except ValidationError as error:
            error.apply_to(form)
        else:
            session.pop(ENROLLING, None)
            return render_template("accounts/recovery_codes.html", codes=codes, new=True)
    return _second_factor_page(400, form=form)


@bp.post("/account/second-factor/recovery-codes")
@login_required
def new_recovery_codes():
    if second_factor.of(current_user) is None:  # nothing to renew: the set-up page
        return redirect(url_for("accounts.second_factor_setup"))
    codes = second_factor.new_recovery_codes(current_user)
    return render_template("accounts/recovery_codes.html", codes=codes, new=False)


@bp.post("/account/second-factor/off")
@login_required
def second_factor_off():
    """Turned off by its owner, with their password; not when the school requires it."""
    user = current_user._get_current_object()
    if second_factor.of(user) is None:  # off already
        return redirect(url_for("accounts.account"))
    if second_factor.required(user):
        abort(403)
    form = TurnOffForm()
    if form.validate_on_submit():
        if security.verify_password(user.password_hash, form.password.data):
            second_factor.remove(user, user)
            flash(_("The second factor is off."), "success")
            return redirect(url_for("accounts.account"))
        form.password.errors = [_("This is not your current password.")]
    return _second_factor_page(400, off_form=form)


@bp.post("/account/password")
@login_required
def account_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            credentials.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except ValidationError as error:
            error.apply_to(form)
        else:
            _start_session(current_user._get_current_object())
            flash(_("Your password is changed. Your other sessions are closed."), "success")
            return redirect(url_for("accounts.account"))
    return _account_page(400, password_form=form)
