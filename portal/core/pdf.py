"""PDF documents (a certificate of attendance, a sheet of activation codes), written with fpdf2
in DejaVu, a font with the letters of every family's name (installed at set-up with the
front-end packages, portal/bootstrap.py)."""

from __future__ import annotations

from fpdf import FPDF

from portal.config import ROOT

FONTS = ROOT / "static" / "vendor"
#: The text font and the one codes are written in (a monospaced font: 0 and O differ).
TEXT, CODE = "DejaVu", "DejaVuMono"


def document(title: str) -> FPDF:
    """An A4 document with its title, the fonts added and the text font chosen."""
    pdf = FPDF(format="A4")
    pdf.add_font(TEXT, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(TEXT, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.add_font(TEXT, "I", FONTS / "DejaVuSans-Oblique.ttf")
    pdf.add_font(CODE, "B", FONTS / "DejaVuSansMono-Bold.ttf")
    pdf.set_title(title)
    pdf.set_creator("Carnet")
    pdf.set_font(TEXT, "", 11)
    return pdf
