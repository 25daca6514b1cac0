"""SMS segment counting (SPEC §8): a corpus whose values come from sms-segments-calculator or,
where an entry's note says so, by hand; then the boundaries one by one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.sms.segments import Segments, count

CORPUS = json.loads((Path(__file__).parent / "segment_corpus.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "entry",
    CORPUS,
    ids=[f"{index:03d}-{entry['encoding']}-{entry['units']}" for index, entry in enumerate(CORPUS)],
)
def test_corpus(entry):
    found = count(entry["text"])
    assert (found.encoding, found.units, found.parts) == (
        entry["encoding"],
        entry["units"],
        entry["parts"],
    )


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 220


def test_an_empty_text_takes_no_part():
    assert count("") == Segments("GSM-7", 0, 0, 160, 160)


def test_160_septets_fit_one_part_161_need_two():
    assert count("a" * 160) == Segments("GSM-7", 160, 1, 160, 0)
    assert count("a" * 161) == Segments("GSM-7", 161, 2, 153, 145)
    assert count("a" * 200) == Segments("GSM-7", 200, 2, 153, 106)


def test_a_character_of_the_extension_table_takes_two_septets():
    assert count("€") == Segments("GSM-7", 2, 1, 160, 158)
    assert count("[]{}~^|\\").units == 16
    assert count("a" * 158 + "€").parts == 1
    assert count("a" * 159 + "€") == Segments("GSM-7", 161, 2, 153, 145)


def test_an_escape_pair_is_not_split_across_parts():
    # 152 septets, then the pair does not fit in the one left: it opens the second part.
    assert count("a" * 152 + "€" + "a" * 152) == Segments("GSM-7", 306, 3, 153, 152)
    assert count("a" * 151 + "€" + "a" * 153) == Segments("GSM-7", 306, 2, 153, 0)


def test_ucs2_holds_70_units_in_one_part_67_in_each_of_more():
    assert count("ê" * 70) == Segments("UCS-2", 70, 1, 70, 0)
    assert count("ê" * 71) == Segments("UCS-2", 71, 2, 67, 63)
    assert count("ê" * 134).parts == 2
    assert count("ê" * 135).parts == 3


def test_a_surrogate_pair_is_not_split_across_parts():
    assert count("😀") == Segments("UCS-2", 2, 1, 70, 68)
    assert count("ê" * 66 + "😀" + "ê" * 66) == Segments("UCS-2", 134, 3, 67, 66)
    assert count("ê" * 65 + "😀" + "ê" * 67) == Segments("UCS-2", 134, 2, 67, 0)


def test_one_character_outside_gsm7_turns_the_whole_text_to_ucs2():
    assert count("a" * 100 + "ê") == Segments("UCS-2", 101, 2, 67, 33)
    # In UCS-2 the euro is one code unit like any other character of the BMP.
    assert count("€ê").units == 2


def test_capital_c_cedilla_is_gsm7_the_small_one_is_not():
    assert count("Ç").encoding == "GSM-7"
    assert count("ç").encoding == "UCS-2"


def test_line_breaks_count_and_stay_gsm7():
    assert count("a\r\nb\n") == Segments("GSM-7", 5, 1, 160, 155)


def test_a_lone_escape_is_no_gsm7_character():
    assert count("a\x1bb").encoding == "UCS-2"
