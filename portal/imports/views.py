"""The direction's imports: upload a register's export, see what each column is taken as (and
map the ones Carnet ignores), read the preview line by line, apply it or discard it, follow a
long one's progress."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import sso
from portal.accounts.models import Profile
from portal.core import spreadsheet
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.permissions import get_or_404
from portal.core.sessions import passive
from portal.core.web import form_page, is_htmx, keep_refused
from portal.extensions import db
from portal.imports import mappings, services
from portal.imports.forms import UploadForm
from portal.imports.models import ImportMapping, ImportRun, RowStatus, RunState
from portal.imports.shapes import SHAPES

bp = profile_blueprint("imports", __name__, "/admin/imports", Profile.ADMIN)

WORKING = (RunState.PREVIEWING, RunState.APPLYING)


@bp.route("/", methods=["GET", "POST"])
def index():
    form = UploadForm()
    form.provider.choices = [("", _("None"))] + [
        (provider.id, provider.name) for provider in sso.offered(current_user.school)
    ]
    error = incomplete = None
    if form.validate_on_submit():
        upload = form.file.data
        with upload.stream:  # a large upload is a temporary file: closed as soon as it is read
            content = upload.read()
        try:
            run = services.upload(
                current_user,
                form.kind.data,
                form.register.data,
                upload.filename,
                content,
                form.provider.data,
            )
        except services.ColumnsMissing as refused:
            keep_refused()  # nothing of the school changes; the file waits to be mapped
            error, incomplete = refused, refused.run
        except ValidationError as refused:
            error = refused
        else:
            return redirect(url_for("imports.run", run_id=run.id))
    return form_page(
        "imports/index.html",
        form,
        error,
        incomplete=incomplete,
        runs=services.runs_of(current_user.school_id),
        shapes=SHAPES.values(),
        mappings=mappings.of_school(current_user.school_id),
    )


@bp.get("/<int:run_id>")
def run(run_id: int):
    found = get_or_404(ImportRun, run_id)
    status = request.args.get("status", "")
    if status and status not in {s.value for s in RowStatus} | {"warnings"}:
        abort(404)
    page = max(request.args.get("page", 1, type=int), 1)
    rows, has_next = services.rows_of(found, status, page)
    return render_template(
        "imports/run.html",
        run=found,
        rows=rows,
        status=status,
        page=page,
        has_next=has_next,
        progress=services.progress_of(found) if found.state in WORKING else None,
    )


@bp.get("/<int:run_id>/progress")
@passive
def progress(run_id: int):
    """The progress bar, redrawn every second through HTMX until the worker is done; then the
    whole page is loaded again with the preview or the result."""
    found = get_or_404(ImportRun, run_id)
    if found.state not in WORKING:
        if is_htmx():
            return "", 200, {"HX-Redirect": url_for("imports.run", run_id=found.id)}
        return redirect(url_for("imports.run", run_id=found.id))
    return render_template(
        "imports/_progress.html", run=found, progress=services.progress_of(found)
    )


def _act(run_id: int, action, done: str):
    found = get_or_404(ImportRun, run_id)
    try:
        action(found)
    except services.Stale:
        db.session.rollback()
        found = db.session.get(ImportRun, run_id)
        services.preview_again(found)
        flash(
            _(
                "The school's data changed since the preview: here is the new preview. Check "
                "it before applying."
            ),
            "error",
        )
    except ValidationError as refused:
        db.session.rollback()
        flash(next(iter(refused.errors.values())), "error")
    else:
        if done:
            flash(done, "success")
    return redirect(url_for("imports.run", run_id=run_id))


@bp.post("/<int:run_id>/apply")
def apply(run_id: int):
    return _act(run_id, lambda run: services.start_apply(current_user, run), "")


@bp.post("/<int:run_id>/again")
def again(run_id: int):
    return _act(run_id, services.preview_again, "")


@bp.post("/<int:run_id>/discard")
def discard(run_id: int):
    return _act(run_id, services.discard, _("The import is discarded: nothing was changed."))


def _choices() -> dict[int, str]:
    """The field chosen for each column of the preview's table ('column-3': 'guardian1.mobile')."""
    return {
        int(name.removeprefix("column-")): value
        for name, value in request.form.items()
        if name.startswith("column-") and name.removeprefix("column-").isdigit()
    }


@bp.post("/<int:run_id>/columns")
def map_columns(run_id: int):
    return _act(run_id, lambda run: services.map_columns(current_user, run, _choices()), "")


@bp.post("/<int:run_id>/columns/<int:position>/undo")
def unmap_column(run_id: int, position: int):
    return _act(run_id, lambda run: services.unmap_column(current_user, run, position), "")


@bp.post("/mappings/<int:mapping_id>/undo")
def undo_mapping(mapping_id: int):
    mapping = get_or_404(ImportMapping, mapping_id)
    services.undo_mapping(current_user, mapping)
    flash(_("The column is ignored again in the next files."), "success")
    return redirect(url_for("imports.index"))


@bp.get("/models/<key>.csv")
def model_file(key: str):
    """An empty file with the headings a register's export has: what the school can fill in
    by hand, or compare with its own export."""
    shape = SHAPES.get(key)
    if shape is None:
        abort(404)
    return Response(
        "".join(spreadsheet.lines([[column.headings[0] for column in shape.columns]])),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="carnet-{key}.csv"'},
    )
