"""Reading an uploaded export: its encoding, its separator, its headings and its lines."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from flask_babel import gettext as _

from portal.core.errors import ValidationError

#: What the registers export: UTF-8 with or without a byte order mark, or Windows' Latin-1.
ENCODINGS = ("utf-8", "cp1252", "latin-1")
SEPARATORS = ";,\t"


@dataclass
class Table:
    encoding: str
    headings: list[str]
    #: (line number in the file, values) for every line after the headings that is not empty.
    lines: list[tuple[int, list[str]]]


def decode(content: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with. Raises ValidationError on 'file' when a file
    that says it is UTF-8 (its byte order mark) is not."""
    if content.startswith(codecs.BOM_UTF8):
        try:
            return content[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise ValidationError(
                "file",
                _("The file says it is in UTF-8 but is not: save it again as UTF-8 or Latin-1."),
            ) from exc
    for encoding in ENCODINGS:
        try:
            return content.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any byte")  # pragma: no cover


def read(content: bytes) -> Table:
    """Raises ValidationError on 'file' for an empty file, a file that is not a table, or one
    whose quotes are broken (with the line)."""
    text, encoding = decode(content)
    if not text.strip():
        raise ValidationError("file", _("The file is empty."))
    stripped = text.lstrip("\r\n")  # blank lines before the headings
    skipped, text = text[: len(text) - len(stripped)].count("\n"), stripped
    first_line = text.split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(first_line, delimiters=SEPARATORS)
        separator = dialect.delimiter
    except csv.Error:
        separator = ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"')
    lines = []
    try:
        headings = next(reader)
        start = skipped + reader.line_num + 1
        for values in reader:
            # A record may span lines (a quoted value with a line break): its first line is told.
            if any(value.strip() for value in values):
                lines.append((start, [value.strip() for value in values]))
            start = skipped + reader.line_num + 1
    except csv.Error as exc:
        raise ValidationError(
            "file",
            _("Line %(line)d can't be read: %(error)s", line=skipped + reader.line_num, error=exc),
        ) from exc
    headings = [heading.strip() for heading in headings]
    if len(headings) < 2:
        raise ValidationError(
            "file", _("The first line should hold the column headings, separated by ';'.")
        )
    return Table(encoding=encoding, headings=headings, lines=lines)
