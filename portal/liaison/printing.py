"""A note's list for the class's folder, as a page to print (portal.core.pdf)."""

from __future__ import annotations

from flask_babel import format_datetime

from portal.core import pdf as pdf_fonts
from portal.liaison.models import LiaisonNote


def list_pdf(note: LiaisonNote, header: list[str], rows: list[list[str]]) -> bytes:
    """The note's title and date, then one line per guardian of each pupil: the table of
    notes.table(), on landscape pages that repeat its header."""
    pdf = pdf_fonts.document(note.title)
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page(orientation="L")
    pdf.set_font(pdf_fonts.TEXT, "B", 14)
    pdf.multi_cell(0, 8, note.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf_fonts.TEXT, "", 10)
    written = format_datetime(note.created_at, "short")
    author = f" · {note.author.display_name}" if note.author else ""
    pdf.cell(0, 6, written + author, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(pdf_fonts.TEXT, "", 9)
    with pdf.table(col_widths=(40, 18, 12, 40, 28, 40, 60), repeat_headings=1) as table:
        for line in [header, *rows]:
            table_row = table.row()
            for cell in line:
                table_row.cell(cell)
    return bytes(pdf.output())
