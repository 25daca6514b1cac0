"""French and English catalogs are complete: every message in the code has a French text."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "portal" / "translations"


def _messages_in_code() -> set[str]:
    with open(TRANSLATIONS / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {
        "_": None,
        "gettext": None,
        "_l": None,
        "lazy_gettext": None,
        "deferred": None,
        "ngettext": (1, 2),
    }
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po)


def test_every_message_of_the_code_has_a_french_translation():
    french = _catalog("fr")
    in_code = _messages_in_code()
    assert len(in_code) > 100
    missing = sorted(m for m in in_code if not (french.get(m) and french.get(m).string))
    assert missing == [], f"run pybabel extract/update and translate: {missing[:10]}"
    fuzzy = sorted(m.id for m in french if m.id and m.fuzzy)
    assert fuzzy == []


def test_english_catalog_lists_every_message_of_the_code():
    english = _catalog("en")
    missing = sorted(m for m in _messages_in_code() if english.get(m) is None)
    assert missing == []


def test_placeholders_survive_translation():
    import re

    def placeholders(text: str) -> list[str]:
        return sorted(re.findall(r"%\(\w+\)[sd]", text))

    for message in _catalog("fr"):
        if not (message.id and message.string):
            continue
        if isinstance(message.id, tuple):  # plural forms: each says what the English plural says
            wanted = placeholders(message.id[1])
            assert all(placeholders(form) == wanted for form in message.string), message.id
        else:
            assert placeholders(message.string) == placeholders(message.id), message.id


def test_no_message_hides_from_extraction_inside_an_f_string():
    """pybabel does not read calls inside an f-string: such a message would leave the catalogs
    at the next update and show in English to French readers."""
    import re

    hidden = re.compile(r"""f(["']).*?\{\s*(_|_l|gettext|ngettext|lazy_gettext)\(""")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "portal").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if hidden.search(line)
    ]
    assert found == []
