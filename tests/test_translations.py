"""Every string a visitor can meet exists in French and English."""

import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.translation.template import templatize

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# Where makemessages finds the site's messages, and the functions it reads them from.
SOURCES = ["manifesto", "petition", "templates"]
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext_lazy": ((1, "c"), 2, 3),
}


def catalogue(language: str) -> Catalog:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "django.po").open("rb") as po:
        return read_po(po, locale=language)


def as_tuple(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_catalogue_has_no_untranslated_or_fuzzy_entry(language):
    messages = [message for message in catalogue(language) if message.id]
    assert len(messages) > 100
    assert [m.id for m in messages if not all(as_tuple(m.string))] == []
    assert [m.id for m in messages if m.fuzzy] == []


def test_french_and_english_catalogues_hold_the_same_messages():
    assert {m.id for m in catalogue("fr") if m.id} == {m.id for m in catalogue("en") if m.id}


def test_french_translations_keep_their_placeholders():
    for message in catalogue("fr"):
        if not message.id:
            continue
        expected = set().union(*(PLACEHOLDER.findall(i) for i in as_tuple(message.id)))
        for string in as_tuple(message.string):
            found = set(PLACEHOLDER.findall(string))
            # A French singular may leave out the count ("Notre proposition").
            assert found <= expected, message.id
            if not isinstance(message.id, tuple):
                assert found == expected, message.id


def messages_of_the_sources() -> set[tuple[str | None, str | tuple[str, ...]]]:
    """(context, msgid) of every message the code and templates translate, read as makemessages
    reads them: templates through Django's templatize, then as Python."""
    found = set()
    for directory in SOURCES:
        for path in sorted((Path(settings.BASE_DIR) / directory).rglob("*")):
            if path.suffix == ".py":
                code = path.read_text()
            elif path.suffix in {".html", ".txt"}:
                code = templatize(path.read_text(), origin=str(path))
            else:
                continue
            for _line, message, _comments, context in extract(
                "python", io.BytesIO(code.encode()), keywords=KEYWORDS
            ):
                found.add((context, message))
    return found


def test_the_catalogues_hold_every_message_the_site_translates():
    """A sentence changed in a template, without `make translations`, has no entry: French
    pages would show it in English, and no check of the catalogue alone would notice."""
    sources = messages_of_the_sources()
    assert len(sources) > 100
    for language in ("fr", "en"):
        entries = {(m.context, m.id) for m in catalogue(language) if m.id}
        assert sorted(map(str, sources - entries)) == [], language
