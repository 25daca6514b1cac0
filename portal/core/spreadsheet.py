"""CSV files as a French spreadsheet opens them without asking: UTF-8 with a byte order mark,
';' between values, CRLF; a cell a spreadsheet would take for a formula is written as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell: str) -> str:
    """'=HYPERLINK(…)' -> "'=HYPERLINK(…)": shown as written, never run."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """The file a line at a time (to stream a long one), the mark before the first line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    first = True
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([as_text(str(cell)) for cell in row])
        yield ("\ufeff" if first else "") + buffer.getvalue()
        first = False
