"""The directory (annuaire): exactly the people and groups the user may write to."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.accounts.models import Profile, User
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.forms import valid_value
from portal.core.web import error_page, is_htmx
from portal.extensions import db
from portal.groups import reachability, saved, services
from portal.groups.forms import DirectorySearchForm, SavedListForm
from portal.groups.models import GroupKind

bp = profile_blueprint(
    "directory",
    __name__,
    "/directory",
    Profile.ADMIN,
    Profile.TEACHER,
    Profile.STAFF,
    Profile.PARENT,
    Profile.PUPIL,
)


def _search_form() -> DirectorySearchForm:
    form = DirectorySearchForm(request.args)
    classes = services.school_groups(current_user.school_id, GroupKind.CLASS)
    form.class_id.choices = [SelectChoice("", _("All classes"))] + [
        SelectChoice(str(c.id), c.name) for c in classes
    ]
    return form


@bp.get("/")
def index():
    form = _search_form()
    form.validate()
    class_id = valid_value(form.class_id)
    page = reachability.reachable(
        current_user,
        valid_value(form.q, ""),
        class_id=int(class_id) if class_id else None,
        profile=valid_value(form.profile),
        page=request.args.get("page", 1, type=int),
    )
    template = "groups/_directory_results.html" if is_htmx() else "groups/directory.html"
    return render_template(template, form=form, result=page)


@bp.get("/people/<int:user_id>")
def person(user_id: int):
    """A person's card, only if the user may write to them; anyone else is not found."""
    found = db.session.get(User, user_id)
    if found is None or not reachability.may_write(current_user, found):
        return error_page(
            404,
            _("Not in your directory"),
            _("You can't write to this person: no communication rule of your school allows it."),
        )
    return render_template("groups/person.html", person=found, classes=services.classes_of(found))


@bp.get("/picker")
def picker():
    """Suggestions for a recipient field (HTMX): the same people and groups as the directory."""
    text = (request.args.get("q") or "")[:100]
    page = reachability.reachable(current_user, text, per_page=10)
    mine = saved.mine(current_user, text)[:5] if page.page == 1 else []
    return render_template("groups/_picker.html", result=page, text=text, saved_lists=mine)


def _lists_page(refused: dict[int, str] | None = None, status: int = 200):
    """The user's lists; ``refused`` says, by list, why a new name was not taken."""
    return render_template(
        "groups/saved_lists.html", saved_lists=saved.mine(current_user), refused=refused or {}
    ), status


@bp.get("/lists")
def saved_lists():
    """The user's saved recipient lists (seed 003's 'favoris')."""
    return _lists_page()


@bp.post("/lists")
def save_list():
    """Save the recipients picked in a message being written as a list (HTMX from the compose
    page): the form's To, Cc and Bcc chips, under the name given."""
    form = SavedListForm()
    tokens = [t for f in ("to", "cc", "bcc") for t in request.form.getlist(f)]
    if form.validate_on_submit():
        try:
            found = saved.save(current_user, form.list_name.data, tokens)
        except ValidationError as error:
            db.session.rollback()
            form.list_name.errors = list(error.errors.values())
        else:
            return render_template("groups/_list_saved.html", saved_list=found, form=form)
    return render_template("groups/_list_saved.html", form=form), 422


@bp.post("/lists/<int:list_id>")
def change_list(list_id: int):
    found = saved.owned_or_404(current_user, list_id)
    form = SavedListForm()
    if form.remove.data:
        saved.remove_entry(found, form.remove.data)
        flash(_("Removed from %(name)s.", name=found.name), "success")
        return redirect(url_for("directory.saved_lists"))
    if form.delete.data:
        name = found.name
        saved.delete(found)
        flash(_("%(name)s is deleted.", name=name), "success")
        return redirect(url_for("directory.saved_lists"))
    try:
        saved.rename(current_user, found, form.list_name.data)
    except ValidationError as error:
        db.session.rollback()
        return _lists_page({list_id: next(iter(error.errors.values()))}, 400)
    flash(_("Saved."), "success")
    return redirect(url_for("directory.saved_lists"))
