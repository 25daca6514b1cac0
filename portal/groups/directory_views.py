"""The directory (annuaire): exactly the people and groups the user may write to."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.accounts.models import Profile, User
from portal.core.blueprints import profile_blueprint
from portal.core.forms import valid_value
from portal.core.web import error_page, is_htmx
from portal.extensions import db
from portal.groups import reachability, services
from portal.groups.forms import DirectorySearchForm
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
    return render_template("groups/_picker.html", result=page, text=text)
