"""Attendance pages: the day's sessions, the register (a row saved through HTMX at each tap),
the timetable, the staff's reasons, teachers' absences, and each family's attendance."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from portal.accounts import guardianship
from portal.accounts.models import SCHOOL_PROFILES, UNREACHABLE, Profile, User
from portal.attendance import opening, reasons, services
from portal.attendance.forms import ExplainForm, ReasonForm, SessionForm, TeacherAbsenceForm
from portal.attendance.models import AbsenceReason, AttendanceMark, ClassSession, MarkKind
from portal.attendance.permissions import (
    can_explain_mark,
    can_manage_attendance,
    can_manage_reasons,
    can_record_marks,
    can_take_register,
    can_view_attendance_of,
)
from portal.core import clock
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.forms import asked_day, local_to_utc
from portal.core.permissions import get_or_404, require, visible_or_404
from portal.core.web import form_page, is_htmx
from portal.extensions import db
from portal.groups.audience import groups_for_author
from portal.groups.models import Group
from portal.sms import inbound
from portal.sms.permissions import can_send_sms

bp = profile_blueprint("attendance", __name__, "/attendance", *SCHOOL_PROFILES)

#: What a register row may say, in the order of its buttons.
STATES = {"present": None, "absent": MarkKind.ABSENT, "late": MarkKind.LATE}
STATES["left_early"] = MarkKind.LEFT_EARLY


def _day() -> dt.date:
    return asked_day("day") or clock.today(current_user.school.timezone)


@bp.get("/")
def index():
    """Families see their attendance; teachers their sessions of the day; the direction and
    staff every session of the day."""
    if current_user.profile in (Profile.PARENT, Profile.PUPIL):
        people = (
            guardianship.children_of(current_user)
            if current_user.profile == Profile.PARENT
            else [current_user]
        )
        shown = [(person, *services.marks_of_person(person, current_user)) for person in people]
        return render_template("attendance/family.html", shown=shown, page=1)
    day = _day()
    teacher = current_user if current_user.profile == Profile.TEACHER else None
    return render_template(
        "attendance/day.html",
        day=day,
        sessions=services.sessions_of_day(current_user.school, day, teacher=teacher),
        timedelta=dt.timedelta,
    )


@bp.get("/people/<int:person_id>")
def person_marks(person_id: int):
    """Every mark of one person, a page at a time (a guardian may live in another school)."""
    person = db.session.get(User, person_id)
    if person is None or not can_view_attendance_of(current_user, person):
        abort(404)
    page = request.args.get("page", 1, type=int)
    marks, more = services.marks_of_person(person, current_user, page)
    # Replies to absence SMS land on the pupil's record, for the staff (SPEC §12).
    replies = inbound.replies_for_pupil(person.id) if can_send_sms(current_user) else []
    return render_template(
        "attendance/family.html", shown=[(person, marks, more)], page=page, replies=replies
    )


# --- the register -----------------------------------------------------------------------------


def _session(session_id: int) -> ClassSession:
    """The session whose register the user may see; marking it needs it open to them too
    (a teacher waits for the register's opening: a POST before it is refused)."""
    session = get_or_404(ClassSession, session_id)
    require(can_take_register(current_user, session))
    if request.method == "POST":
        require(can_record_marks(current_user, session))
    return session


def _register_page(session, error: ValidationError | None = None, status: int = 200):
    return render_template(
        "attendance/register.html",
        session=session,
        pupils=services.pupils_of(session),
        marks=services.marks_of(session),
        errors=error.errors if error else {},
        states=STATES,
        told_from=opening.told_from(session),
    ), status


def _asked_state(pupil_id: int) -> tuple[MarkKind | None, int | None]:
    state = request.form.get(f"state-{pupil_id}", "present")
    if state not in STATES:
        abort(400)
    minutes = request.form.get(f"minutes-{pupil_id}", "").strip()
    if minutes and not (minutes.isdigit() and len(minutes) < 5):
        return STATES[state], -1  # refused by the service, next to the field
    return STATES[state], int(minutes) if minutes else None


@bp.route("/sessions/<int:session_id>/register", methods=["GET", "POST"])
def register(session_id: int):
    session = _session(session_id)
    if request.method == "GET":
        return _register_page(session)
    states = {pupil.id: _asked_state(pupil.id) for pupil in services.pupils_of(session)}
    try:
        services.take_register(current_user, session, states)
    except ValidationError as error:
        db.session.rollback()
        return _register_page(session, error, 400)
    flash(_("The register is saved."), "success")
    day = clock.local_day(session.starts_at, current_user.school.timezone)
    return redirect(url_for("attendance.index", day=day.isoformat()))


@bp.post("/sessions/<int:session_id>/pupils/<int:pupil_id>")
def mark(session_id: int, pupil_id: int):
    """One pupil's row, saved at each tap (HTMX); answers the row as it now is."""
    session = _session(session_id)
    pupil = db.session.get(User, pupil_id)
    if pupil is None or pupil.id not in {p.id for p in services.pupils_of(session)}:
        abort(404)
    kind, minutes = _asked_state(pupil.id)
    error, waiting = None, kind in (MarkKind.LATE, MarkKind.LEFT_EARLY) and minutes is None
    if not waiting:  # late or left early: saved once the minutes are given
        try:
            services.record(current_user, session, pupil, kind, minutes)
        except ValidationError as refused:
            db.session.rollback()
            error = refused.errors.get("minutes")
    if not is_htmx():
        return redirect(url_for("attendance.register", session_id=session.id))
    return render_template(
        "attendance/_register_row.html",
        session=session,
        pupil=pupil,
        mark_row=services.marks_of(session).get(pupil.id),
        asked=(kind, minutes),
        error=error,
        waiting=waiting,
        saved=error is None and not waiting,
        states=STATES,
    ), (422 if error else 200)


# --- the timetable, reasons and teachers' absences (direction and staff) ---------------------


def _teachers() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.school_id == current_user.school_id,
                User.profile == Profile.TEACHER,
                User.state.not_in(UNREACHABLE),
            )
            .order_by(User.last_name, User.first_name)
        )
    )


@bp.route("/sessions/new", methods=["GET", "POST"])
def new_session():
    require(can_manage_attendance(current_user))
    form = SessionForm()
    groups = groups_for_author(current_user)
    form.group.choices = [(g.id, g.name) for g in groups]
    form.teacher.choices = [(0, "—")] + [(t.id, t.sort_name) for t in _teachers()]
    if form.validate_on_submit():
        try:
            sessions = services.schedule(
                current_user,
                db.session.get(Group, form.group.data),
                db.session.get(User, form.teacher.data) if form.teacher.data else None,
                form.day.data,
                form.start.data,
                form.end.data,
                form.repeat_until.data,
            )
        except ValidationError as error:
            return form_page("attendance/session_form.html", form, error)
        else:
            flash(
                ngettext("%(num)d session added.", "%(num)d sessions added.", len(sessions)),
                "success",
            )
            return redirect(url_for("attendance.index", day=form.day.data.isoformat()))
    return form_page("attendance/session_form.html", form)


@bp.post("/sessions/<int:session_id>/cancel")
def cancel_session(session_id: int):
    session = get_or_404(ClassSession, session_id)
    require(can_manage_attendance(current_user))
    day = clock.local_day(session.starts_at, current_user.school.timezone)
    try:
        services.cancel(session)
    except ValidationError as error:
        db.session.rollback()
        flash(error.errors["session"], "error")
    else:
        flash(_("The session is removed from the timetable."), "success")
    return redirect(url_for("attendance.index", day=day.isoformat()))


@bp.get("/marks")
def marks():
    require(can_manage_attendance(current_user))
    day = _day()
    return render_template(
        "attendance/marks.html",
        day=day,
        marks=services.marks_of_day(current_user.school, day),
        reasons=reasons.reasons_of(current_user.school_id),
        timedelta=dt.timedelta,
    )


@bp.post("/marks/<int:mark_id>")
def explain(mark_id: int):
    mark_row = get_or_404(AttendanceMark, mark_id)
    require(can_explain_mark(current_user, mark_row))
    form = ExplainForm(prefix=f"mark-{mark_row.id}")
    error = None
    try:
        reasons.explain(mark_row, form.reason.data or "", form.justified.data)
    except ValidationError as refused:
        db.session.rollback()
        error = refused.errors["reason"]
    if not is_htmx():
        if error:
            flash(error, "error")
        return redirect(url_for("attendance.marks", day=mark_row.day.isoformat()))
    db.session.refresh(mark_row)
    return render_template(
        "attendance/_mark_row.html", mark_row=mark_row, error=error, saved=error is None
    ), (422 if error else 200)


@bp.route("/teachers/absence", methods=["GET", "POST"])
def teacher_absence():
    require(can_manage_attendance(current_user))
    form = TeacherAbsenceForm()
    form.teacher.choices = [(t.id, t.sort_name) for t in _teachers()]
    if form.validate_on_submit():
        try:
            count = services.record_teacher_absence(
                current_user,
                db.session.get(User, form.teacher.data),
                local_to_utc(form.start.data),
                local_to_utc(form.end.data),
                form.reason.data or "",
            )
        except ValidationError as error:
            return form_page("attendance/teacher_absence.html", form, error)
        else:
            flash(
                ngettext(
                    "The absence is recorded on %(num)d session.",
                    "The absence is recorded on %(num)d sessions.",
                    count,
                ),
                "success",
            )
            return redirect(url_for("attendance.index"))
    return form_page("attendance/teacher_absence.html", form)


# --- the school's reasons (the direction) -----------------------------------------------------


def _reasons_page(form: ReasonForm, error: ValidationError | None = None):
    return form_page(
        "attendance/reasons.html", form, error, reasons=reasons.reasons_of(current_user.school_id)
    )


@bp.route("/reasons", methods=["GET", "POST"])
def reasons_list():
    """The school's reasons: which families choose when they justify online, which the staff
    keep (never shown to families)."""
    require(can_manage_reasons(current_user))
    form = ReasonForm(families_choose=True)
    if not form.validate_on_submit():
        return _reasons_page(form)
    try:
        reasons.add(current_user, form.label.data or "", form.families_choose.data)
    except ValidationError as error:
        return _reasons_page(form, error)
    flash(_("Reason added."), "success")
    return redirect(url_for("attendance.reasons_list"))


def _reason(reason_id: int) -> AbsenceReason:
    require(can_manage_reasons(current_user))
    found = get_or_404(AbsenceReason, reason_id)
    visible_or_404(found.school_id == current_user.school_id)
    return found


@bp.post("/reasons/<int:reason_id>")
def change_reason(reason_id: int):
    found = _reason(reason_id)
    form = ReasonForm(prefix=f"reason-{found.id}")
    try:
        reasons.change(current_user, found, form.label.data or "", form.families_choose.data)
    except ValidationError as error:
        db.session.rollback()
        return render_template(
            "attendance/reasons.html",
            form=ReasonForm(formdata=None, families_choose=True),
            reasons=reasons.reasons_of(current_user.school_id),
            refused={found.id: error},
        ), 400
    flash(_("Reason saved."), "success")
    return redirect(url_for("attendance.reasons_list"))


@bp.post("/reasons/<int:reason_id>/delete")
def delete_reason(reason_id: int):
    reasons.remove(current_user, _reason(reason_id))
    flash(_("Reason deleted. Absences that had it keep its words."), "success")
    return redirect(url_for("attendance.reasons_list"))
