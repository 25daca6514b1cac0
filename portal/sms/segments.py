"""How long an SMS is (SPEC §8): its encoding, its size and the number of parts it is sent in.

GSM-7 when every character is in the GSM 03.38 default alphabet or its extension table, UCS-2
otherwise. A part carries 140 octets: 160 septets or 70 UTF-16 code units. A longer message
gives 6 octets of each part to the concatenation header, leaving 153 septets or 67 code units.
A character of the extension table is an escape and a code, two septets that never go to two
parts; the two halves of a surrogate pair (an emoji outside the BMP) stay together likewise.
"""

from __future__ import annotations

from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM_7 = "GSM-7"
UCS_2 = "UCS-2"
#: Units in a message of a single part, and in each part of a longer one.
LIMITS = {GSM_7: (160, 153), UCS_2: (70, 67)}
#: The codec maps a lone ESC to itself; it only ever announces a character of the extension
#: table, so a text that holds one cannot be sent as GSM-7.
ESCAPE = "\x1b"


@dataclass(frozen=True)
class Segments:
    """What count() finds: the encoding, the size and how it splits into parts."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int  # 0 for an empty text
    per_part: int  # the limit in force: 160 or 153 (GSM-7), 70 or 67 (UCS-2)
    remaining: int  # units still free in the last part


def _septets(text: str) -> list[int] | None:
    """The septets each character takes in GSM-7 (2 for the extension table), or None when
    one of them is in neither table."""
    if ESCAPE in text:
        return None
    try:
        return [len(char.encode("gsm03.38", "strict")) for char in text]
    except UnicodeEncodeError:
        return None


def _code_units(text: str) -> list[int]:
    """The UTF-16 code units each character takes: 2 for a surrogate pair."""
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _fill(sizes: list[int], per_part: int) -> tuple[int, int]:
    """Parts used and units left in the last one, characters laid in order, none split."""
    parts, free = 1, per_part
    for size in sizes:
        if size > free:
            parts, free = parts + 1, per_part
        free -= size
    return parts, free


def count(text: str) -> Segments:
    """The encoding, size and parts of `text` as an operator counts them."""
    sizes = _septets(text)
    encoding = GSM_7 if sizes is not None else UCS_2
    if sizes is None:
        sizes = _code_units(text)
    single, multiple = LIMITS[encoding]
    units = sum(sizes)
    if units <= single:
        return Segments(encoding, units, 1 if units else 0, single, single - units)
    parts, free = _fill(sizes, multiple)
    return Segments(encoding, units, parts, multiple, free)
