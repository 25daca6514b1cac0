"""The printable sheet of activation codes (SPEC §1): one block per person, to cut out and
hand over, in the school's language (portal.core.pdf)."""

from __future__ import annotations

import datetime as dt

from flask import current_app, url_for
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from fpdf import FPDF

from portal.accounts.credentials import PASSWORD_MIN
from portal.accounts.models import School
from portal.admin.activation import Entry
from portal.core import pdf as pdf_fonts
from portal.core.i18n import translate

#: Blocks per A4 page, and the height of each (millimetres).
PER_PAGE, BLOCK_HEIGHT = 3, 89


def sheet_pdf(school: School, codes: list[tuple[Entry, str, dt.datetime]]) -> bytes:
    page_url = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("accounts.activate")
    with force_locale(school.default_language):
        title = _("Activation codes")
        blocks = [
            {
                "name": entry.person.display_name,
                "about": translate(entry.about),
                "login": _("Login: %(login)s", login=entry.person.login),
                "code_label": _("Activation code:"),
                "code": code,
                "until": _("Valid until %(day)s.", day=format_date(valid_until, "long")),
                "steps": [
                    _("1. Open %(url)s", url=page_url),
                    _(
                        "2. Type the activation code and choose a password of at least "
                        "%(n)d characters.",
                        n=PASSWORD_MIN,
                    ),
                    _("3. Then log in with your login and this password."),
                ],
            }
            for entry, code, valid_until in codes
        ]
    pdf = pdf_fonts.document(f"{title} · {school.name}")
    pdf.set_auto_page_break(False)
    for number, block in enumerate(blocks):
        if number % PER_PAGE == 0:
            pdf.add_page()
        top = pdf.t_margin + (number % PER_PAGE) * BLOCK_HEIGHT
        _draw_block(pdf, school, block, top)
    return bytes(pdf.output())


def _draw_block(pdf: FPDF, school: School, block: dict, top: float) -> None:
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_xy(pdf.l_margin, top + 4)
    pdf.set_font(pdf_fonts.TEXT, "", 10)
    pdf.cell(width, 5, school.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf_fonts.TEXT, "B", 14)
    pdf.cell(width, 8, block["name"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf_fonts.TEXT, "", 11)
    pdf.cell(width, 6, block["about"], new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width, 6, block["login"], new_x="LMARGIN", new_y="NEXT")
    pdf.cell(34, 9, block["code_label"])
    pdf.set_font(pdf_fonts.CODE, "B", 16)
    pdf.cell(width - 34, 9, block["code"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf_fonts.TEXT, "", 10)
    pdf.cell(width, 6, block["until"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    for step in block["steps"]:
        pdf.multi_cell(width, 5, step, new_x="LMARGIN", new_y="NEXT")
    # A dashed line to cut along, at the foot of the block.
    pdf.set_dash_pattern(dash=2, gap=2)
    bottom = top + BLOCK_HEIGHT - 2
    pdf.line(pdf.l_margin, bottom, pdf.w - pdf.r_margin, bottom)
    pdf.set_dash_pattern()
