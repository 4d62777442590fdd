"""Every string a visitor can meet exists in French and English."""

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from django.conf import settings

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


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
