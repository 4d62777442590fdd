"""French typography for the texts staff write in the admin (the manifesto, its proposals).

The site's own sentences are typeset in the French catalogue; texts from the database are not,
so `typeset` sets them as French readers expect: a no-break space before : and inside « », a
narrow no-break space before ; ! ?, so that no line starts with a lone mark; and straight or
English quotes turned into « » where the pairs are unambiguous. Web and e-mail addresses,
times and HTML are left exactly as they are. In any other language the text is unchanged.

Use it first, on the raw text, then let escaping filters do their work:
`{{ petition.introduction|typeset|urlize|linebreaks }}`. Given HTML already marked safe, it
typesets the text between the tags and keeps the result safe.

`hyphenate` puts soft hyphens into the long words of a heading, for every language: see there.
"""

from __future__ import annotations

import html
import re
from functools import cache

import pyphen
from django import template
from django.utils.html import escape
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import get_language

register = template.Library()

NBSP = "\u00a0"
NARROW_NBSP = "\u202f"
SOFT_HYPHEN = "\u00ad"
SPACES = f"[ \\t{NBSP}{NARROW_NBSP}]"

# Stretches that must come out as they went in. Each is set aside behind one private-use
# character while the rules run, so that the rules see "something" there but never its inside.
PROTECTED = re.compile(
    r"""
      [a-z][a-z0-9+.-]*://\S+                         # https://…, ftp://…
    | (?:www\.|mailto:)\S+
    | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                    # e-mail addresses
    | (?<![\w:])[0-9]{1,2}(?::[0-9]{2}){1,2}(?![\w:]) # times: 9:30, 18:45:00
    | <[^<>]*>                                        # tags, should the text contain any
    | &(?:\#[0-9]+|\#x[0-9a-f]+|[a-z][a-z0-9]*);      # character references
    """,
    re.IGNORECASE | re.VERBOSE,
)
PLACEHOLDER_BASE = 0xF0000  # Supplementary Private Use Area-A: never in a real text.
PLACEHOLDERS = re.compile("[\U000f0000-\U000ffffd]")

# Pairs of quotes whose inside starts and ends with a letter, not a space: "…", “…”.
STRAIGHT_QUOTES = re.compile(r'(?<![\w"])"(?=[^\s"])([^"\n]*?[^\s"])"(?![\w"])')
CURLY_QUOTES = re.compile(r"“(?=[^\s“”])([^“”\n]*?[^\s“”])”")
AFTER_OPENING_GUILLEMET = re.compile(f"«{SPACES}*")
BEFORE_CLOSING_GUILLEMET = re.compile(f"{SPACES}*»")
# A space someone typed before the mark: made no-break, of the right width.
SPACE_BEFORE_COLON = re.compile(f"(?<=\\S){SPACES}+(?=:)")
SPACE_BEFORE_HIGH_MARK = re.compile(f"(?<=\\S){SPACES}+(?=[;!?])")
# No space at all before a mark that ends a word ("mot!", "concrètes:"), which rules out
# "a:b", "?id=3" and the like: the mark must be followed by a space, the end, or a closing sign.
MISSING_SPACE = re.compile(r"(?<=[^\s«(\[{;:!?])([;:!?]+)(?=\s|$|[)\]}»”\u2019\"])")

HTML_TAG = re.compile(r"(<[^<>]*>)")


def _protect(text: str) -> tuple[str, list[str]]:
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group())
        return chr(PLACEHOLDER_BASE + len(kept) - 1)

    return PROTECTED.sub(keep, text), kept


def _restore(text: str, kept: list[str]) -> str:
    return PLACEHOLDERS.sub(lambda m: kept[ord(m.group()) - PLACEHOLDER_BASE], text)


def _guillemets(text: str) -> str:
    """Turn unambiguous pairs of quotes into « », line by line; a line whose straight quotes
    do not all pair up is left as it was."""
    lines = []
    for line in text.split("\n"):
        line = CURLY_QUOTES.sub(r"«\1»", line)
        if '"' in line:
            converted = STRAIGHT_QUOTES.sub(r"«\1»", line)
            if '"' not in converted:
                line = converted
        lines.append(line)
    return "\n".join(lines)


def _space_before_marks(match: re.Match[str]) -> str:
    marks = match.group(1)
    return (NBSP if marks.startswith(":") else NARROW_NBSP) + marks


def french(text: str) -> str:
    """Plain text typeset the French way (see the module's docstring)."""
    if PLACEHOLDERS.search(text):
        return text  # Cannot set anything aside safely: leave the text alone.
    text, kept = _protect(text)
    text = _guillemets(text)
    text = AFTER_OPENING_GUILLEMET.sub("«" + NBSP, text)
    text = BEFORE_CLOSING_GUILLEMET.sub(NBSP + "»", text)
    text = SPACE_BEFORE_COLON.sub(NBSP, text)
    text = SPACE_BEFORE_HIGH_MARK.sub(NARROW_NBSP, text)
    text = MISSING_SPACE.sub(_space_before_marks, text)
    return _restore(text, kept)


def _french_html(markup: str) -> str:
    # Only the text between tags, read as text and escaped again: attributes, and character
    # references such as &amp;, never see a no-break space.
    parts = HTML_TAG.split(markup)
    for index in range(0, len(parts), 2):
        parts[index] = escape(french(html.unescape(parts[index])))
    return "".join(parts)


def typeset(value: str, language: str | None = None) -> str:
    """value typeset for language (default: the active one). Only French changes anything.

    Plain text stays plain text, to be escaped as usual; safe HTML stays safe HTML.
    """
    language = language or get_language() or ""
    if not value or not (language == "fr" or language.startswith("fr-")):
        return value
    if isinstance(value, SafeData):
        return mark_safe(_french_html(str(value)))  # noqa: S308 - its text parts are escaped.
    return french(str(value))


# A word this long, in a page's title on a 320 px screen, fills most of a line or more.
LONG_WORD = re.compile(r"[^\W\d_]{13,}")


@cache
def _hyphenation(language: str) -> pyphen.Pyphen | None:
    """The hyphenation dictionary of a language (LibreOffice's, shipped by pyphen), cut no
    closer than two letters from a word's start and three from its end, as French and English
    typesetting both do."""
    found = pyphen.language_fallback(language.replace("-", "_"))
    return pyphen.Pyphen(lang=found, left=2, right=3) if found else None


def hyphenate(value: str, language: str | None = None) -> str:
    """value with soft hyphens at the syllable breaks of its long words, in language (default:
    the active one): a browser breaks such a word there, with a hyphen, when it does not fit on
    the line, rather than anywhere without one. CSS `hyphens: auto` asks the same of the
    browser, but only a browser that has the language's dictionary can do it, and Chromium on
    Linux, among others, often has none.

    Plain text stays plain text, to be escaped as usual; safe HTML stays safe HTML.
    """
    dictionary = _hyphenation(language or get_language() or "")
    if not value or dictionary is None:
        return value

    def text(part: str) -> str:
        return LONG_WORD.sub(lambda word: dictionary.inserted(word.group(), SOFT_HYPHEN), part)

    if isinstance(value, SafeData):
        parts = HTML_TAG.split(str(value))
        for index in range(0, len(parts), 2):
            parts[index] = escape(text(html.unescape(parts[index])))
        return mark_safe("".join(parts))  # noqa: S308 - its text parts are escaped.
    return text(str(value))


@register.filter(name="hyphenate")
def hyphenate_filter(value: object) -> str:
    """{{ title|hyphenate }}: long words may break at line ends, with a hyphen, in the page's
    language. For headings: after typeset, before any escaping filter."""
    if value is None:
        return ""
    return hyphenate(value if isinstance(value, str) else str(value))


@register.filter(name="typeset")
def typeset_filter(value: object) -> str:
    """{{ text|typeset }}: the text set in the typography of the page's language."""
    if value is None:
        return ""
    return typeset(value if isinstance(value, str) else str(value))
