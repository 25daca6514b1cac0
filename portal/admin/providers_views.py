"""Identity providers: the direction keeps its school's, the webmaster the platform's; the
direction also chooses which profiles log in only through them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import identities, saml
from portal.accounts.models import IdentityProvider, Profile
from portal.admin.forms import PasswordOffForm, ProviderForm
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.extensions import db

bp = profile_blueprint("providers", __name__, "/providers", Profile.ADMIN, Profile.WEBMASTER)


def _owner() -> int | None:
    """The direction's school, or None: the webmaster's providers serve every school."""
    return current_user.school_id


def _provider(provider_id: int) -> IdentityProvider:
    provider = db.session.get(IdentityProvider, provider_id)
    if provider is None or provider.school_id != _owner():
        abort(404)
    return provider


def _page(form=None, status: int = 200):
    school = current_user.school
    if form is None and school is not None:
        form = PasswordOffForm(password_off=sorted(school.password_off_profiles))
    return render_template(
        "admin/providers.html",
        providers=identities.providers_of(_owner()),
        form=form,
        return_url=identities.callback_url(),
        saml_metadata_url=saml.entity_id(),
    ), status


@bp.get("/", endpoint="index")
def providers_index():
    return _page()


@bp.post("/passwords")
def password_off():
    school = current_user.school
    if school is None:
        abort(404)
    form = PasswordOffForm()
    if form.validate_on_submit():
        try:
            identities.set_password_off(current_user, school, form.password_off.data)
        except ValidationError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            flash(_("Settings saved."), "success")
            return redirect(url_for("providers.index"))
    return _page(form, 400)


def _fields(form: ProviderForm) -> identities.ProviderFields:
    return identities.ProviderFields(
        kind=form.kind.data or "",
        name=form.name.data or "",
        url=form.url.data or "",
        client_id=form.client_id.data or "",
        secret=form.secret.data or "",
        identifier_attribute=form.identifier_attribute.data or "",
        profile_attribute=form.profile_attribute.data or "",
        profile_values={
            profile: form[f"values_{profile}"].data or "" for profile in ProviderForm.PROFILES
        },
        enabled=form.enabled.data,
        metadata=form.metadata_xml.data or "",
    )


def _edit(provider: IdentityProvider | None):
    if provider is None:
        form = ProviderForm()
    else:
        values = {
            f"values_{profile}": ", ".join(found)
            for profile, found in (provider.profile_values or {}).items()
        }
        form = ProviderForm(obj=provider, **values)
        form.secret.description = (
            _(
                "Kept sealed. Leave empty to keep the current one (ending in “%(hint)s”).",
                hint=provider.secret_hint,
            )
            if provider.secret_hint
            else None
        )
    if form.validate_on_submit():
        try:
            saved = identities.save_provider(current_user, _owner(), _fields(form), provider)
        except ValidationError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            flash(_("“%(name)s” is saved.", name=saved.name), "success")
            return redirect(url_for("providers.index"))
    status = 400 if form.errors else 200
    return render_template(
        "admin/provider_form.html",
        form=form,
        provider=provider,
        return_url=identities.callback_url(),
        saml_metadata_url=saml.entity_id(),
    ), status


@bp.route("/new", methods=["GET", "POST"])
def new():
    return _edit(None)


@bp.route("/<int:provider_id>", methods=["GET", "POST"])
def edit(provider_id: int):
    return _edit(_provider(provider_id))


@bp.post("/<int:provider_id>/delete")
def delete(provider_id: int):
    provider = _provider(provider_id)
    name = provider.name
    identities.delete_provider(current_user, provider)
    flash(_("“%(name)s” is deleted; its links with it.", name=name), "success")
    return redirect(url_for("providers.index"))
