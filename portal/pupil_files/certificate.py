"""The certificate of attendance a positive exit makes available (seed 002), as a PDF written
with fpdf2, in the school's language."""

from __future__ import annotations

from flask_babel import force_locale, format_date, format_decimal, ngettext
from flask_babel import gettext as _

from portal.accounts.models import School, User
from portal.core import clock
from portal.core import pdf as pdf_fonts
from portal.pupil_files.indicators import Indicators


def certificate_pdf(school: School, pupil: User, figures: Indicators, classes: list[str]) -> bytes:
    with force_locale(school.default_language):
        lines = [
            _(
                "The direction of %(school)s certifies that %(pupil)s attended the school "
                "from %(first)s to %(last)s.",
                school=school.name,
                pupil=pupil.display_name,
                first=format_date(figures.entered_on, "long"),
                last=format_date(figures.left_on, "long"),
            ),
            _("Class: %(classes)s", classes=", ".join(classes) or "-"),
            ngettext("Duration: %(num)d day", "Duration: %(num)d days", figures.days or 0),
            _("Hours attended: %(hours)s", hours=format_decimal(figures.hours_attended)),
        ]
        if figures.attendance_rate is not None:
            rate = format_decimal(figures.attendance_rate)
            lines.append(_("Attendance rate: %(rate)s %%", rate=rate))
        title = _("Certificate of attendance")
        issued = _(
            "Issued on %(day)s by %(school)s.",
            day=format_date(clock.today(school.timezone), "long"),
            school=school.name,
        )
    pdf = pdf_fonts.document(title)
    pdf.add_page()
    pdf.set_font(pdf_fonts.TEXT, "B", 18)
    pdf.cell(0, 12, school.name, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(pdf_fonts.TEXT, "B", 16)
    pdf.cell(0, 12, title, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(8)
    pdf.set_font(pdf_fonts.TEXT, "", 12)
    for line in lines:
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.ln(10)
    pdf.set_font(pdf_fonts.TEXT, "I", 11)
    pdf.multi_cell(0, 7, issued, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
