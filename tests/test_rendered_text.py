"""No template text ever reaches a reader.

Every public page, every staff page and every e-mail the site sends is rendered here, in French
and in English and in each state that changes what it shows, and read as a person reads it: its
text, its title, alternative texts, labels, placeholders, buttons and link previews; not its
markup, scripts or comments. None of it may show template syntax, a stand-in that the page cache
or a mailing fills in for each reader, or a sentence of the catalogue in the other language.

Template syntax shows when a Django {# #} comment is written over two lines: such a comment is
one line long, so Django prints the two lines as text. The home page once showed one above its
title while the HTML validator, axe-core and every other test passed: it is valid, accessible
text. Each test also checks that it met every page address and template it is meant to, so a page
added later is read too, or the test says which one it missed.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import suppress
from datetime import timedelta
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator
from babel.messages.pofile import read_po
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMessage
from django.db import connection
from django.http import HttpResponse
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.signals import template_rendered
from django.urls import Resolver404, URLResolver, get_resolver, resolve, translate_url
from django.utils import timezone, translation

from petition import abuse, figures, mailings, tasks
from petition.advocacy.deputies import SNAPSHOT as DEPUTIES_SNAPSHOT
from petition.models import (
    ChosenCirconscription,
    ConsentWording,
    DossierRun,
    ExportRecord,
    PaperImport,
    Signature,
    StaffEvent,
    Suppression,
    Switches,
    Target,
    TargetResponse,
    Update,
    UpdateDelivery,
)
from petition.tokens import make_sharing_token, make_unsubscribe_token, make_withdrawal_token
from petition.views import CSRF_SLOT, REFERRAL_SLOT
from tests import passkeys
from tests.conftest import (
    Element,
    parse_html,
    receipt_in,
    signing_form,
    totp_codes,
    translated_in,
    write_update,
)
from tests.passkeys import SoftPasskey, page_data

LANGUAGES = ["fr", "en"]
TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
LOCALE_DIR = Path(settings.BASE_DIR) / "locale"

# ---------------------------------------------------------------------------------------------
# What no reader may meet.

# A tag, variable or comment whole where it stands on one line, else its opening or closing.
TEMPLATE_SYNTAX = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{[{%#]|[}%#]\}")
MARK_OPENING, MARK_CLOSING = mailings.MARK.split("{}")
# Stand-ins the site renders once for many readers, then replaces for each one. They are looked
# for in the whole source: one left in a link or a form field is as wrong as one in the text.
STAND_INS = {
    CSRF_SLOT: "the page cache's stand-in for the CSRF token",
    REFERRAL_SLOT: "the page cache's stand-in for a personal link's code",
    MARK_OPENING: "a mailing's stand-in for a signer's detail",
    MARK_CLOSING: "a mailing's stand-in for a signer's detail",
}
# A plain-text part or subject is not HTML: an escape in it shows as it is ("D&#x27;Arcy").
HTML_ESCAPE = re.compile(r"&(?:[a-z]+|#[0-9]+|#x[0-9a-f]+);", re.IGNORECASE)

# A catalogue's sentence shorter than this may well be the same in both languages or occur in
# other words; one this long, found verbatim, was left untranslated.
MIN_WORDS = 3
# What a message holds that a page never shows as it is: placeholders, markup, URL converters.
NOT_VERBATIM = re.compile(r"%\(\w+\)[sd]|%%|\{\w*\}|<[^>]*>")
WHITESPACE = re.compile(r"\s+")

# ---------------------------------------------------------------------------------------------
# Reading a document as a person does.

# Never shown: the browser runs or applies them, or keeps them for scripts. What is only hidden
# for now (hidden, aria-hidden, <noscript>, a closed <details>) is read: a script or a click
# shows it, or the eye sees what aria-hidden keeps from the ear.
UNSEEN = frozenset({"script", "style", "template"})
# Elements within a line of text: the words on either side of them read as one sentence.
INLINE = frozenset(
    {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "kbd", "label"}
    | {"mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var"}
)
# Attributes a person sees (alternative texts, tooltips, placeholders) or hears (labels).
SEEN_ATTRIBUTES = ("alt", "aria-label", "placeholder", "title")
BUTTON_INPUTS = frozenset({"submit", "button", "reset"})
# What link previews (search engines, social networks, messaging apps) show of a page.
PREVIEW_METAS = frozenset({"description", "og:title", "og:description", "og:image:alt"})


def _shown_attributes(node: Element) -> Iterator[str]:
    for name in SEEN_ATTRIBUTES:
        if node.attrs.get(name):
            yield node.attrs[name]
    if node.tag == "input" and node.attrs.get("type") in BUTTON_INPUTS:
        yield node.attrs.get("value", "")
    if (
        node.tag == "meta"
        and (node.attrs.get("name") or node.attrs.get("property")) in PREVIEW_METAS
    ):
        yield node.attrs.get("content", "")


def reading(root: Element, language: str) -> dict[str, str]:
    """What a person sees or hears of a document, by the language its lang attributes declare
    (language where none does): one line per block, white space collapsed."""
    parts: dict[str, list[str]] = {}

    def read(node: Element, language: str) -> None:
        language = (node.attrs.get("lang") or language).split("-")[0].lower()
        said = parts.setdefault(language, [])
        said.extend(f"\n{value}\n" for value in _shown_attributes(node))
        for child in node.children:
            if isinstance(child, str):
                said.append(WHITESPACE.sub(" ", child))
            elif child.tag not in UNSEEN:
                read(child, language)
                if child.tag not in INLINE:
                    said.append("\n")

    read(root, language)
    return {code: _lines("".join(said)) for code, said in parts.items()}


def _lines(text: str) -> str:
    """Text with its white space collapsed, line by line, and without empty lines."""
    lines = (WHITESPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _excerpt(text: str, start: int, end: int) -> str:
    before = text[max(0, start - 50) : start].rpartition("\n")[2]
    after = text[end : end + 50].partition("\n")[0]
    return repr(f"…{before}{text[start:end]}{after}…")


def _phrases(message: str) -> list[str]:
    """The runs of a message that a page shows verbatim, long enough to be unambiguous."""
    runs = (WHITESPACE.sub(" ", run).strip() for run in NOT_VERBATIM.split(message))
    return [run for run in runs if sum(any(map(str.isalnum, w)) for w in run.split()) >= MIN_WORDS]


@cache
def foreign_phrases() -> dict[str, tuple[str, ...]]:
    """{language: the catalogue's phrases in the other language, which it must never show},
    longest first. A phrase that the other language's messages hold too (a name, a hashtag, a
    quoted title) belongs to both, and is left out."""
    with (LOCALE_DIR / "fr" / "LC_MESSAGES" / "django.po").open("rb") as po:
        catalogue = read_po(po, locale="fr")
    english: set[str] = set()
    french: set[str] = set()
    english_messages, french_messages = [], []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        english_messages.extend(WHITESPACE.sub(" ", text) for text in ids)
        french_messages.extend(WHITESPACE.sub(" ", text) for text in strings)
        for source, target in zip(ids, strings, strict=False):
            if WHITESPACE.sub(" ", source) != WHITESPACE.sub(" ", target):
                english.update(_phrases(source))
                french.update(_phrases(target))
    in_french, in_english = "\n".join(french_messages), "\n".join(english_messages)
    return {
        "fr": tuple(sorted((p for p in english if p not in in_french), key=len, reverse=True)),
        "en": tuple(sorted((p for p in french if p not in in_english), key=len, reverse=True)),
    }


def _occurrence(text: str, phrase: str) -> int:
    """Where phrase first stands in text as whole words, or -1."""
    start = text.find(phrase)
    while start != -1:
        end = start + len(phrase)
        if not (start and text[start - 1].isalnum()) and not (
            end < len(text) and text[end].isalnum()
        ):
            return start
        start = text.find(phrase, start + 1)
    return -1


def misreadings(text: str, language: str) -> Iterator[str]:
    """What a reader of text, in language, should never meet."""
    for syntax in TEMPLATE_SYNTAX.finditer(text):
        yield f"template syntax in {_excerpt(text, syntax.start(), syntax.end())}"
    found: list[tuple[int, int]] = []
    other = "English" if language == "fr" else "French"
    for phrase in foreign_phrases().get(language, ()):
        start = _occurrence(text, phrase)
        end = start + len(phrase)
        # A shorter phrase inside one already found tells nothing more.
        if start == -1 or any(a <= start and end <= b for a, b in found):
            continue
        found.append((start, end))
        yield f"{other} text of the catalogue in {_excerpt(text, start, end)}"


def stand_ins(source: str) -> Iterator[str]:
    """The stand-ins left in a document, wherever they are."""
    for stand_in, what in STAND_INS.items():
        start = source.find(stand_in)
        if start != -1:
            yield f"{what} left in {_excerpt(source, start, start + len(stand_in))}"


def proofread_html(source: str, language: str) -> list[str]:
    """What is wrong in an HTML document meant for a reader of language."""
    texts = reading(parse_html(source), language)
    return [
        *stand_ins(source),
        *(
            f"[{code}] {problem}"
            for code, text in texts.items()
            for problem in misreadings(text, code)
        ),
    ]


def proofread_plain(text: str, language: str) -> list[str]:
    """What is wrong in a plain text (an e-mail's text part or subject) in language."""
    escape = HTML_ESCAPE.search(text)
    return [
        *stand_ins(text),
        *misreadings(_lines(text), language),
        *([f"an HTML escape in {_excerpt(text, escape.start(), escape.end())}"] if escape else []),
    ]


# ---------------------------------------------------------------------------------------------
# Reading everything a test renders.


class Proofreader:
    """Reads the pages and e-mails of one language as their readers would, and keeps what they
    should never have met, and the names of the addresses it went through."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.problems: list[str] = []
        self.url_names: set[str] = set()

    def get(self, name: str, client: Client, path: str, **expected: object) -> HttpResponse:
        return self._visit(name, client, "get", path, None, **expected)

    def post(
        self, name: str, client: Client, path: str, data: object = None, **expected: object
    ) -> HttpResponse:
        return self._visit(name, client, "post", path, data, **expected)

    def _visit(
        self,
        name: str,
        client: Client,
        method: str,
        path: str,
        data: object,
        *,
        status: int | set[int] = 200,
        shows: str = "",
        language: str = "",
    ) -> HttpResponse:
        send = getattr(client, method)
        # Redirects are followed to the page a person lands on, with its message if any.
        response = send(path, data, follow=True) if data is not None else send(path, follow=True)
        for address in [path, *(address for address, _status in response.redirect_chain)]:
            self._note_address(address)
        self.page(name, response, status=status, shows=shows, language=language)
        return response

    def _note_address(self, address: str) -> None:
        path = urlsplit(address).path
        # Addresses are translated: each resolves in its own language only.
        # (The page of an address that is none has no name.)
        with (
            translation.override(translation.get_language_from_path(path)),
            suppress(Resolver404),
        ):
            self.url_names.add(resolve(path).view_name)

    def page(
        self,
        name: str,
        response: HttpResponse,
        *,
        status: int | set[int] = 200,
        shows: str = "",
        language: str = "",
    ) -> None:
        """Read a page; its `status`, its `language` (the proofreader's, unless it is another
        on purpose) and the message it `shows` make sure it is the page and state meant."""
        where = f"{self.language} {name}"
        language = language or self.language
        allowed = status if isinstance(status, set) else {status}
        assert response.status_code in allowed, f"{where}: answered {response.status_code}"
        assert response["Content-Type"].startswith("text/html"), where
        source = response.content.decode()
        root = parse_html(source)
        declared = root.find("html").attrs.get("lang", "").split("-")[0]
        assert declared == language, f"{where} is in {declared!r}"
        if shows:
            text = reading(root, language)[language].replace("\n", " ")
            expected = WHITESPACE.sub(" ", translated_in(language, shows))
            assert expected in text, f"{where} does not show {expected!r}"
        self.problems.extend(f"{where}: {p}" for p in proofread_html(source, language))

    def email(self, name: str, message: EmailMessage) -> str:
        """Read an e-mail's subject, text and HTML; returns the language its HTML declares."""
        [(html, _kind)] = message.alternatives
        language = parse_html(html).find("html").attrs.get("lang", "")
        where = f"{self.language} {name} ({language} e-mail)"
        for part, problems in [
            ("subject", proofread_plain(message.subject, language)),
            ("text", proofread_plain(message.body, language)),
            ("HTML", proofread_html(html, language)),
        ]:
            self.problems.extend(f"{where}, {part}: {p}" for p in problems)
        return language

    def assert_nothing_amiss(self) -> None:
        assert self.problems == [], "\n".join(["What readers would meet:", *self.problems])


@pytest.fixture
def rendered_templates() -> Iterator[set[str]]:
    """The names of the templates rendered during the test."""
    names: set[str] = set()

    def record(sender: object, template: Template, **kwargs: object) -> None:
        names.add(template.name)

    template_rendered.connect(record)
    yield names
    template_rendered.disconnect(record)


def site_templates(*prefixes: str) -> set[str]:
    return {
        path.relative_to(TEMPLATES_DIR).as_posix()
        for path in TEMPLATES_DIR.rglob("*")
        if path.is_file() and path.relative_to(TEMPLATES_DIR).as_posix().startswith(prefixes)
    }


def url_names(patterns: list | None = None, namespace: str = "") -> set[str]:
    """Every named address the site serves, with its namespace ("admin:index")."""
    names = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= url_names(pattern.url_patterns, inner)
        elif pattern.name:
            names.add(namespace + pattern.name)
    return names


# Addresses that serve no page for a person to read.
NOT_PAGES = {
    "petition_list_api",  # the counter API: JSON
    "petition_api",
    "log_head_api",  # the public log's API: JSON
    "log_heads_api",
    "log_inclusion_api",
    "log_consistency_api",
    "log_leaves_api",
    "set_language",  # redirects to the same page in the language chosen
    "admin:jsi18n",  # a script: the admin's translations
    "admin:autocomplete",  # JSON
    "admin:view_on_site",  # redirects to the object's public page
    "admin:login",  # account_login (the staff's login) answers at its address
    "mfa_download_recovery_codes",  # a text file
    "admin:petition_target_dossier_download",  # a ZIP of PDFs (tests/test_dossier.py)
}


def is_staff_outside_admin(name: str) -> bool:
    """The staff's pages that are not Django's admin: sign-in, second factors, sessions."""
    return name.startswith(("account_", "mfa_")) or name == "staff_sessions"


def page_names(*, staff: bool) -> set[str]:
    """The names of the addresses that serve public pages, or staff pages."""
    names = {
        name
        for name in url_names() - NOT_PAGES
        # The mail provider's webhook, which only the provider calls.
        if not name.startswith("anymail:")
    }
    staff_names = {n for n in names if n.startswith("admin:") or is_staff_outside_admin(n)}
    return staff_names if staff else names - staff_names


# ---------------------------------------------------------------------------------------------
# The reading itself: it sees what a person sees, and no more.


def test_a_comment_written_over_two_lines_is_printed_and_caught():
    page = Template(
        "<!doctype html><html lang='en'><title>Manifesto</title><main>"
        "{# The texts change only when staff edit them,\n   the figures every few minutes. #}"
        "<h1>Stop</h1></main></html>"
    ).render(Context())

    [problem] = proofread_html(page, "en")

    assert problem.startswith("[en] template syntax in ")
    assert "{# The texts change only when staff edit them, the figures every few minutes. #}" in (
        problem
    )


@pytest.mark.parametrize(
    "shown",
    [
        "<title>{{ petition.title }}</title>",
        "<p>{% translate 'Sign' %}</p>",
        "<img src='/s.png' alt='{{ alt }}'>",
        "<button aria-label='{% translate \"Close\" %}'>X</button>",
        "<input type='email' placeholder='{{ example }}'>",
        "<input type='submit' value='{% translate \"Sign\" %}'>",
        "<abbr title='{{ meaning }}'>CAMELEON</abbr>",
        "<meta property='og:description' content='{{ description }}'>",
        "<noscript>{{ hint }}</noscript>",
        "<textarea>{% trans 'text' %}</textarea>",
        "<p hidden>{{ shown_by_a_script_later }}</p>",
    ],
)
def test_template_syntax_a_person_would_meet_is_caught(shown):
    problems = proofread_html(f"<!doctype html><html lang='en'>{shown}</html>", "en")

    assert len(problems) == 1
    assert "template syntax" in problems[0]


@pytest.mark.parametrize(
    "unseen",
    [
        "<script>const page = {{}};</script>",
        "<style>a{{color:red}}</style>",
        "<template><p>{{ name }}</p></template>",
        "<!-- {% url 'home' %} -->",
        "<a href='/{{ path }}' data-x='{% x %}'>link</a>",
        "<input type='hidden' name='note' value='{{ x }}'>",
    ],
)
def test_what_no_person_meets_is_not_read(unseen):
    assert proofread_html(f"<!doctype html><html lang='en'>{unseen}</html>", "en") == []


def test_the_page_caches_stand_ins_are_caught_even_where_nobody_reads():
    page = f"<html lang='fr'><form><input type='hidden' name='ref' value='{REFERRAL_SLOT}'></form>"

    [problem] = proofread_html(page, "fr")

    assert "personal link's code" in problem
    assert REFERRAL_SLOT in problem


def test_a_sentence_left_in_the_other_language_is_caught_unless_marked_as_such():
    english = "Your signature was already confirmed"
    french = translated_in("fr", english)
    assert french != english

    assert proofread_html(f"<html lang='fr'><h1>{english}</h1></html>", "fr") != []
    assert proofread_html(f"<html lang='en'><h1>{french}</h1></html>", "en") != []
    assert proofread_html(f"<html lang='fr'><h1 lang='en'>{english}</h1></html>", "fr") == []
    assert proofread_html(f"<html lang='fr'><h1>{french}</h1></html>", "fr") == []
    assert proofread_plain(f"Bonjour,\n\n{english}.", "fr") != []


def test_an_escape_in_a_plain_text_email_is_caught():
    assert proofread_plain("Hello D&#x27;Arcy,", "en") != []
    assert proofread_plain("Hello D'Arcy & co,", "en") == []


# ---------------------------------------------------------------------------------------------
# Every public page.


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_public_page_shows_template_text(
    lang,
    client,
    petition,
    settings,
    url,
    add_signatures,
    sign,
    press_button,
    email_links,
    mailoutbox,
    django_capture_on_commit_callbacks,
    rendered_templates,
):
    proof = Proofreader(lang)
    home, petition_page = url(lang, "home"), url(lang, "petition", petition.slug)

    # The counter with no signature and with one (then more, on the thank-you pages): its
    # sentence has a singular and a plural, which French and English use for different counts.
    proof.get("embed, no signature yet", client, url(lang, "embed", petition.slug))
    add_signatures(confirmed=1)
    proof.get("embed, one signature", client, url(lang, "embed", petition.slug))
    # The figures show once places pass a minimum; the page keeps its text for a minute.
    settings.FIGURES_MIN_BUCKET = 1
    figures.compute(petition)
    proof.get("home", client, home, shows="The manifesto in figures")
    proof.get("petition page", client, petition_page)
    referrer = Signature.objects.confirmed().first()
    proof.get(
        "home, through a personal link", client, f"{home}?ref={referrer.ensure_referral_code()}"
    )

    # The form's errors: each message it can give, in one answer or another.
    for state, data, message in [
        ("empty", {}, "Please correct the errors below."),
        (
            "wrong values",
            signing_form(first_name="Cam\x01ille", email="c@mailinator.com", postal_code="7501"),
            "A French postal code has five digits, such as 75011.",
        ),
        (
            "wrong values abroad",
            signing_form(email="camille@", country="BE", postal_code="!!"),
            "Please enter a valid postal code.",
        ),
        (
            "missing values",
            signing_form(postal_code="", consent=""),
            "Please tick this box to sign.",
        ),
    ]:
        proof.post(f"form, {state}", client, petition_page, data, status=400, shows=message)

    # Signing, asking for the e-mail again, confirming, and confirming again.
    email = f"camille.{lang}@example.org"
    with django_capture_on_commit_callbacks(execute=True):
        proof.post("check your inbox", client, petition_page, signing_form(email=email))
        proof.post(
            "check your inbox, e-mail sent again",
            client,
            url(lang, "resend", petition.slug),
            {},
            shows="If a signature is waiting for confirmation from this browser, we have sent "
            "its e-mail again.",
        )
    link = email_links(mailoutbox[-1])["confirm"]
    proof.get("confirm", client, link)
    thanks = press_button(link)
    proof.page("thank you", thanks, shows="Your receipt")
    proof.page("thank you again", press_button(link), shows="Your signature was already confirmed")
    signer = Signature.objects.get(email=email)
    receipt = receipt_in(thanks)

    # The public log (its first head signed as the page is opened: no beat here), with a
    # receipt checked, a receipt it does not hold, and one that is not a receipt.
    log_page = url(lang, "log", petition.slug)
    proof.get("public log", client, log_page, shows="What the log proves")
    proof.get("public log, receipt counted", client, f"{log_page}?receipt={receipt}")
    proof.get("public log, receipt unknown", client, f"{log_page}?receipt={'A' * 22}")
    proof.get("public log, not a receipt", client, f"{log_page}?receipt=x", status=400)
    proof.get(
        "sharing page with the receipt",
        client,
        url(lang, "sharing", make_sharing_token(signer, receipt)),
        shows="This receipt proves that your signature is counted, without saying who you are. "
        "Keep it: we keep only a fingerprint of it, and cannot give it to you again.",
    )

    # The signer's own page, before and after people sign through their link.
    sharing = url(lang, "sharing", make_sharing_token(signer))
    proof.get("sharing page, nobody through the link yet", client, sharing)
    for count in (1, 2):
        Signature.objects.create(
            petition=petition,
            first_name="Dominique",
            last_name=f"Petit {count}",
            email=f"dominique.petit.{count}@example.net",
            postal_code="13001",
            language=lang,
            referred_by=signer,
            created_at=signer.created_at,
            confirmed_at=signer.created_at,
        )
        proof.get(f"sharing page, {count} through the link", client, sharing)

    # Writing to one's député (the signer is in Paris, 75011): the circonscription chosen, or
    # refused, the message; and the signers whom the site cannot give a député.
    token = make_sharing_token(signer)
    choose = url(lang, "choose_circonscription", token)
    write = url(lang, "write_to_target", token)
    proof.post(
        "circonscription refused",
        client,
        choose,
        {"circonscription": "99"},
        status=400,
        shows="Please choose one of the circonscriptions listed.",
    )
    proof.post("circonscription chosen", client, choose, {"circonscription": "11"})
    deputy = Target.objects.get(departement="75", circonscription=11)
    proof.post(
        "message to a député",
        client,
        write,
        {"target": deputy.pk},
        shows="Open the message in my mail program",
    )
    proof.post(
        "message refused",
        client,
        write,
        {"target": "0"},
        status=400,
        shows="You cannot write to this decision-maker from here.",
    )
    woman = (
        Target.objects.filter(role="deputy", civility="Mme", departement__regex=r"^[0-9]{2}$")
        .exclude(departement__in=["23", "48"])
        .first()
    )
    minister = Target.objects.create(
        petition=petition, role="minister", civility="Mme", name="Anne Ministre",
        organisation="Ministère du Numérique", email="ministre@numerique.gouv.fr",
    )  # fmt: skip
    for place, fields in [
        ("abroad", {"country": "BE", "postal_code": "1000"}),
        ("in Monaco", {"postal_code": "98000"}),
        ("in no known place", {"postal_code": "00000"}),
        ("in a one-député département", {"postal_code": "23000"}),
        ("with a woman député", {"postal_code": f"{woman.departement}000"}),
    ]:
        elsewhere = Signature.objects.create(
            petition=petition, first_name="Alex", last_name=place, language=lang,
            email=f"alex.{len(place)}@example.org", created_at=signer.created_at,
            confirmed_at=signer.created_at, **fields,
        )  # fmt: skip
        proof.get(
            f"sharing page, signer {place}",
            client,
            url(lang, "sharing", make_sharing_token(elsewhere)),
        )
    ChosenCirconscription.objects.create(
        signature=elsewhere, departement=woman.departement, number=woman.circonscription
    )
    proof.get(
        "sharing page, a woman député", client, url(lang, "sharing", make_sharing_token(elsewhere))
    )

    # Who was asked and who answered; the campaign's news and milestones.
    targets = url(lang, "targets", petition.slug)
    news = url(lang, "news", petition.slug)
    proof.get(
        "decision-makers, no answer yet",
        client,
        targets,
        shows="No decision-maker has answered yet.",
    )
    proof.get("news, none yet", client, news, shows="No news yet: the campaign is just beginning.")
    now = timezone.now()
    left = Target.objects.get(departement="69", circonscription=7)
    Target.objects.filter(pk=left.pk).update(retired_at=now)
    Target.objects.filter(departement="69", circonscription=8).update(asked_on=now.date())
    for target, position in [(left, "opposes"), (deputy, "supports"), (minister, "undecided")]:
        TargetResponse.objects.create(
            target=target, position=position, text="Nous étudierons ces propositions.",
            url="https://example.org/reponse", published_at=now,
        )  # fmt: skip
    figures.compute(petition)
    proof.get("decision-makers with answers", client, targets, shows="Their answers")
    Update.objects.create(
        petition=petition, subject_fr="Remise au ministère", subject_en="Delivered",
        body_fr="Les signatures sont remises.", body_en="The signatures are delivered.",
        published_at=now,
    )  # fmt: skip
    petition.goal = 1
    petition.delivered_on = now.date()
    petition.delivered_to_fr = "la ministre du Numérique"
    petition.delivered_to_en = "the Minister for Digital Affairs"
    petition.outcome = "victory"
    petition.outcome_on = now.date()
    petition.outcome_text_fr = "La loi est votée."
    petition.outcome_text_en = "The law is passed."
    petition.save()
    figures.compute(petition)
    proof.get("news with milestones", client, news, shows="Victory!")
    petition.outcome = "other"
    petition.save()
    proof.get("news, another outcome", client, news, shows="What came of the campaign")

    unsubscribe = url(lang, "unsubscribe", make_unsubscribe_token(signer))
    proof.get("unsubscribe", client, unsubscribe)
    proof.post("unsubscribed", client, unsubscribe, {}, shows="You are unsubscribed")
    proof.get(
        "unsubscribe, already done",
        client,
        unsubscribe,
        shows="You are already unsubscribed: you will receive no more news of the campaign.",
    )
    withdraw = url(lang, "withdraw", make_withdrawal_token(signer))
    proof.get("withdraw", client, withdraw)
    proof.post("withdrawn", client, withdraw, {}, shows="Your signature is withdrawn")
    proof.get("invalid link", client, url(lang, "confirm", "altered"), status=400)

    proof.get("privacy notice", client, url(lang, "privacy"))
    proof.get("legal notice", client, url(lang, "legal"))
    settings.LEGAL_HOSTING_PROVIDER = "OVH SAS, 2 rue Kellermann, 59100 Roubaix, France"
    proof.get("legal notice with its hosting provider", client, url(lang, "legal"))

    # Error pages, each reached the way a visitor reaches it.
    proof.get("page not found", client, f"{home}no-such-page/", status=404)
    proof.get("petition not found", client, url(lang, "petition", "no-such-petition"), status=404)
    body = {"path": petition_page, "data": b"--", "content_type": "multipart/form-data"}
    proof.page("bad request", client.generic("POST", **body), status=400, shows="Bad request")
    proof.post(
        "form expired", Client(enforce_csrf_checks=True), petition_page, signing_form(), status=403
    )
    settings.SIGN_RATE_PER_IP = "0/h"
    proof.post("too many attempts", client, petition_page, signing_form(), status=429)
    settings.SIGN_RATE_PER_IP = "60/h"
    # No address of the site answers a server error: the page is drawn as Django draws it.
    request = RequestFactory().get(home)
    with translation.override(lang):
        server_error = get_resolver().resolve_error_handler(500)(request)
    proof.page("server error", server_error, status=500, shows="Something went wrong")

    pause = (
        "Signing is paused for a few moments. Your signature matters: please come back a "
        "little later."
    )
    Switches(signing_paused=True).save()
    proof.get("home, signing paused", client, home, shows=pause)
    proof.post(
        "form sent while signing is paused",
        client,
        petition_page,
        signing_form(),
        status=503,
        shows=pause,
    )
    Switches(signing_paused=False).save()

    petition.is_open = False
    petition.save()
    closed = "This petition is closed: it no longer takes signatures."
    proof.get("home, petition closed", client, home, shows=closed)
    proof.get("embed, petition closed", client, url(lang, "embed", petition.slug))
    proof.post(
        "form sent to a closed petition",
        client,
        petition_page,
        signing_form(),
        status=403,
        shows=closed,
    )

    proof.assert_nothing_amiss()
    assert page_names(staff=False) - proof.url_names == set(), "public pages not read"
    # 403.html: only the admin refuses a page (test below); 503.html: the database outage test.
    unread = site_templates("") - site_templates(
        "admin/", "account/", "mfa/", "petition/email/", "403.html", "503.html"
    )
    assert unread - rendered_templates == set(), "templates not rendered"


@pytest.mark.django_db(transaction=True)
def test_the_database_outage_page_shows_no_template_text(requires_postgresql, client, url):
    """The database really out of reach, as tests/test_pages.py cuts it."""
    database = connection.settings_dict
    port = database["PORT"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = probe.getsockname()[1]
    problems = []
    for lang in LANGUAGES:
        proof = Proofreader(lang)
        connection.close()
        database["PORT"] = nobody
        try:
            response = client.get(url(lang, "home"))
        finally:
            connection.close()
            database["PORT"] = port
        proof.page("database out of reach", response, status=503, shows="Temporarily unavailable")
        problems += proof.problems
    assert problems == [], "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# Every staff page.


# allauth reports a second factor added once its transaction has committed, within the request:
# this test commits for real, as production does.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_staff_page_shows_template_text(
    lang,
    client,
    url,
    admin_user,
    admin_paths,
    petition,
    settings,
    sign,
    django_user_model,
    rendered_templates,
    django_capture_on_commit_callbacks,
    tmp_path,
):
    proof = Proofreader(lang)
    settings.DOSSIER_ROOT = str(tmp_path)

    def admin_url(name: str, *args: object) -> str:
        return url(lang, f"admin:{name}", *args)

    # The login page, as anyone meets it.
    visitor = Client()
    login = url(lang, "account_login")
    proof.get("login", visitor, login)
    proof.post(
        "login refused",
        visitor,
        login,
        {"login": "admin", "password": "wrong"},
        shows="The username or the password is not right.",
    )

    # What the fixture's pages do not show yet: an abuse report, the words of consent, a
    # signer whose address bounced and complained, signers who asked for news, a group.
    settings.ABUSE_REPORT_MIN_SIGNATURES = 1
    sign(lang=lang, email="camille.durand@example.org", wants_news="on")
    report = abuse.report()
    empty_report = abuse.report(end=timezone.now() - timedelta(days=400))
    bounced = Signature.objects.create(
        petition=petition,
        first_name="Sam",
        last_name="Lee",
        email="gone@example.org",
        postal_code="69001",
        language=lang,
    )
    Suppression.objects.filter(email="gone@example.org").update(complained_at=timezone.now())
    for code in LANGUAGES:
        Signature.objects.create(
            petition=petition,
            first_name="Alex",
            last_name=f"News {code}",
            email=f"alex.{code}@example.org",
            postal_code="75011",
            language=code,
            wants_news=True,
            created_at=bounced.created_at,
            confirmed_at=bounced.created_at,
        )
    group = Group.objects.create(name="Campaign staff")
    draft = Update.objects.filter(queued_at__isnull=True).get()

    # The fixture's pages, and every page Django's admin gives each model; what staff may not
    # do there (add an abuse report, delete a sent update) answers 403.
    plain = {}
    for name, page in admin_paths.items():
        # A path resolves in its own language only.
        with translation.override(translation.get_language_from_path(page)):
            plain[translate_url(page, lang)] = name
    objects = {
        "petition_petition": petition,
        "petition_signature": bounced,
        "petition_exportrecord": ExportRecord.objects.first(),
        "petition_suppression": Suppression.objects.first(),
        "petition_update": draft,
        "petition_consentwording": ConsentWording.objects.first(),
        "petition_abusereport": report,
        "petition_switches": Switches.current(),
        "auth_user": admin_user,
        "auth_group": group,
        "petition_staffevent": StaffEvent.objects.first(),
        "petition_target": Target.objects.get(departement="69", circonscription=7),
        "petition_targetresponse": TargetResponse.objects.create(
            target=Target.objects.get(departement="69", circonscription=7),
            position="supports",
            text="Je soutiens.",
        ),
    }
    for model, instance in objects.items():
        for view in ("changelist", "add"):
            plain.setdefault(admin_url(f"{model}_{view}"), f"{model} {view}")
        for view in ("change", "history", "delete"):
            plain.setdefault(admin_url(f"{model}_{view}", instance.pk), f"{model} {view}")
    plain[admin_url("petition_abusereport_change", empty_report.pk)] = "empty abuse report"
    plain[admin_url("auth_user_password_change", admin_user.pk)] = "a user's password"
    plain[admin_url("auth_user_reset_factors", admin_user.pk)] = "a user's second factors"
    plain[admin_url("app_list", "auth")] = "auth app"
    client.force_login(admin_user)
    for page, name in plain.items():
        proof.get(name, client, page, status={200, 403})

    # Decision-makers: the import of the députés, refused and done; an update about an answer.
    imports = admin_url("petition_target_import")
    proof.get("import of the députés", client, imports)
    for state, content, message in [
        ("refused", b"nom,email\r\n", "Nothing was imported."),
        ("done", DEPUTIES_SNAPSHOT.read_bytes(), ""),
    ]:
        upload = SimpleUploadedFile("deputes.csv", content, "text/csv")
        proof.post(
            f"import of the députés, {state}",
            client,
            imports,
            {"petition": petition.pk, "file": upload},
            shows=message,
        )
    # Paper signatures: a sheet refused and imported, a sheet counted, an import undone.
    paper = admin_url("petition_paperimport_import")
    proof.get("import of paper signatures", client, paper)
    sheet = "name;postal_code;country;email;event;date\r\nMarie Dupont;23000;FR;;Expo;{}\r\n"
    for state, content, message in [
        ("refused", "name;email\r\n", "Nothing was imported."),
        ("done", sheet.format(timezone.localdate().isoformat()), ""),
    ]:
        upload = SimpleUploadedFile("feuille.csv", content.encode(), "text/csv")
        with django_capture_on_commit_callbacks(execute=True):
            proof.post(
                f"paper sheet, {state}",
                client,
                paper,
                {"kind": "file", "file-petition": petition.pk, "file-file": upload},
                shows=message,
            )
    counted = {
        "kind": "count",
        "count-petition": petition.pk,
        "count-event": "Expo",
        "count-collected_on": timezone.localdate().isoformat(),
    }
    proof.post("paper count, refused", client, paper, {**counted, "count-count": "0"})
    with django_capture_on_commit_callbacks(execute=True):
        proof.post("paper count, done", client, paper, {**counted, "count-count": "12"})
    typed_in = PaperImport.objects.filter(rows_created=1).get()
    for view in ("changelist", "change", "history"):
        args = () if view == "changelist" else (typed_in.pk,)
        proof.get(f"paper import {view}", client, admin_url(f"petition_paperimport_{view}", *args))
    # Imports are made and undone on their own pages, never through the model's forms.
    proof.get("paper import add", client, admin_url("petition_paperimport_add"), status={403})
    proof.get(
        "paper import delete",
        client,
        admin_url("petition_paperimport_delete", typed_in.pk),
        status={403},
    )
    undo = admin_url("petition_paperimport_undo", typed_in.pk)
    proof.get("paper import, undo asked", client, undo)
    with django_capture_on_commit_callbacks(execute=True):
        proof.post("paper import, undone", client, undo, {})
    proof.get("paper import, undone", client, admin_url("petition_paperimport_change", typed_in.pk))
    proof.get("public log with paper sheets", client, url(lang, "log", petition.slug))

    responses = admin_url("petition_targetresponse_changelist")
    response_pk = TargetResponse.objects.first().pk
    second = TargetResponse.objects.create(
        target=Target.objects.get(departement="69", circonscription=8),
        position="opposes",
        text="Non.",
    )
    for action in ("publish", "unpublish", "publish_with_update"):
        proof.post(
            f"response, {action}",
            client,
            responses,
            {ACTION_CHECKBOX_NAME: [response_pk], "action": action, "index": "0"},
        )
    proof.post(
        "response, two for one update",
        client,
        responses,
        {ACTION_CHECKBOX_NAME: [response_pk, second.pk], "action": "publish_with_update"},
        shows="Choose one response to write an update about.",
    )
    dossiers = admin_url("petition_target_dossiers")
    proof.get("dossiers", client, dossiers)
    proof.post(
        "dossiers, no choice",
        client,
        dossiers,
        {"petition": petition.pk},
        shows="Choose one député, one département, or every député.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        proof.post(
            "dossiers of a département",
            client,
            dossiers,
            {"petition": petition.pk, "departement": "23"},
            shows="The dossiers are being made. Their progress shows on this page.",
        )
    DossierRun.objects.create(petition=petition, total=577, done=12)
    proof.get("dossiers being made", client, dossiers)
    updates = admin_url("petition_update_changelist")
    for action in ("publish", "unpublish"):
        proof.post(
            f"update, {action}",
            client,
            updates,
            {ACTION_CHECKBOX_NAME: [draft.pk], "action": action, "index": "0"},
        )

    # Signatures: a search, exports and decisions on what a filter holds, actions.
    signatures = admin_url("petition_signature_changelist")
    of_the_petition = f"petition__id__exact={petition.pk}"
    proof.get("signatures searched", client, f"{signatures}?q=gone")
    export = admin_url("petition_signature_export")
    proof.get("export, filtered", client, f"{export}?{of_the_petition}")
    proof.get(
        "export, filter that cannot be exported",
        client,
        f"{export}?confirmed_at__gte=never",
        shows="This filter cannot be exported.",
    )
    ticked = {ACTION_CHECKBOX_NAME: [bounced.pk], "index": "0"}
    for action in ("invalidate", "restore"):
        proof.post(
            f"{action}, asked",
            client,
            signatures,
            {**ticked, "action": action},
            shows="Nothing is deleted: the signatures stay, and can be restored or invalidated "
            "again. The public counts follow within seconds.",
        )
        proof.post(
            f"{action}, done", client, signatures, {**ticked, "action": action, "confirmed": "yes"}
        )
    proof.post(
        "invalidate what a filter holds, asked",
        client,
        f"{signatures}?{of_the_petition}",
        {**ticked, "action": "invalidate", "select_across": "1"},
    )
    for action in ("stop_emails", "send_confirmation_again"):
        proof.post(action, client, signatures, {**ticked, "action": action})

    # The dashboard's trend needs confirmations in the week before this one.
    dashboard = admin_url("petition_petition_dashboard", petition.pk)
    proof.get(
        "dashboard, nothing the week before", client, dashboard, shows="nothing the 7 days before"
    )
    ten_days_ago = timezone.now() - timedelta(days=10)
    Signature.objects.filter(pk=bounced.pk).update(
        created_at=ten_days_ago, confirmed_at=ten_days_ago
    )
    proof.get("dashboard with a trend", client, dashboard)

    # Updates: a test, its e-mails alone, sending them, and sendings under way.
    test = admin_url("petition_update_test", draft.pk)
    proof.post("test sent", client, test, {})
    admin_user.email = ""
    admin_user.save()
    proof.post(
        "test refused", client, test, {}, shows="Your account has no e-mail address to send a test."
    )
    for code in LANGUAGES:
        proof.get(
            f"e-mail preview in {code}",
            client,
            admin_url("petition_update_preview_email", draft.pk, code),
            language=code,
        )
    listing = write_update(petition, admin_user, subject_fr="Nouvelles 3", subject_en="News 3")
    listing.mark_queued(admin_user)
    proof.get(
        "update whose recipients are being listed",
        client,
        admin_url("petition_update_change", listing.pk),
        shows="Listing the recipients…",
    )
    sending = write_update(petition, admin_user, subject_fr="Nouvelles 4", subject_en="News 4")
    sending.mark_queued(admin_user)
    mailings.prepare(update_id=sending.pk)
    uncertain, skipped = sending.deliveries.order_by("pk")[:2]
    now = timezone.now()
    UpdateDelivery.objects.filter(pk=uncertain.pk).update(
        attempted_at=now, skipped_at=now, skip_reason=UpdateDelivery.SkipReason.UNCERTAIN
    )
    UpdateDelivery.objects.filter(pk=skipped.pk).update(
        skipped_at=now, skip_reason=UpdateDelivery.SkipReason.UNSUBSCRIBED
    )
    proof.get(
        "update being sent, one copy uncertain",
        client,
        admin_url("petition_update_change", sending.pk),
        shows="Sending… Reload this page to follow it.",
    )
    proof.post(
        "uncertain copy sent again",
        client,
        admin_url("petition_update_resend_uncertain", sending.pk),
        {},
    )
    send = admin_url("petition_update_send", draft.pk)
    proof.post(
        "update sent",
        client,
        send,
        {},
        shows="Sending has started. Its progress shows on this page.",
    )
    proof.get("update already sent", client, send, shows="This update has already been sent.")

    # Staff without the export permission, and the end of a session.
    clerk = django_user_model.objects.create_user("clerk", "clerk@example.org", "pw", is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(codename="view_signature"))
    clerk_client = Client()
    clerk_client.force_login(clerk)
    proof.get("export refused", clerk_client, export, status=403, shows="Access denied")
    proof.get("password changed", client, admin_url("password_change_done"))
    read_staff_account_pages(proof, lang, url, django_user_model, rendered_templates)
    proof.post("logged out", client, admin_url("logout"), {})

    proof.assert_nothing_amiss()
    assert page_names(staff=True) - proof.url_names == set(), "staff pages not read"
    assert site_templates("admin/", "account/", "mfa/", "403.html") - rendered_templates == set()


def read_staff_account_pages(proof, lang, url, django_user_model, rendered_templates) -> None:
    """The staff's sign-in and their own pages: the login's second step, enrolling a first
    factor, passkeys, authenticator app, recovery codes, confirming it is them, sessions."""
    login = url(lang, "account_login")
    halfway = Client()
    halfway.post(login, {"login": "admin", "password": "password"})
    step = url(lang, "mfa_authenticate")
    proof.get("second step", halfway, step)
    proof.post(
        "second step, wrong code",
        halfway,
        step,
        {"code": "000000"},
        shows="This code is not right, or was used already.",
    )

    django_user_model.objects.create_user(
        "newcomer", "newcomer@example.org", "pw-newcomer", is_staff=True
    )
    member = Client(HTTP_HOST=passkeys.HOST)
    proof.post(
        "signed in without a factor yet",
        member,
        login,
        {"login": "newcomer", "password": "pw-newcomer"},
        shows="Enrol a second factor to reach the staff pages",
    )
    proof.get("password asked again", member, url(lang, "account_reauthenticate"))
    proof.post(
        "password asked again, wrong",
        member,
        url(lang, "account_reauthenticate"),
        {"password": "wrong"},
    )
    activate = url(lang, "mfa_activate_totp")
    page = proof.get("authenticator app", member, activate)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.content.decode())[1]
    proof.post(
        "authenticator app, wrong code",
        member,
        activate,
        {"code": "000000"},
        shows="This code is not right, or was used already.",
    )
    proof.post(
        "recovery codes shown once",
        member,
        activate,
        {"code": totp_codes(secret)[0]},
        shows="Your authenticator app is set up.",
    )
    proof.get("recovery codes, seen already", member, url(lang, "mfa_view_recovery_codes"))
    generate = url(lang, "mfa_generate_recovery_codes")
    proof.get("make new recovery codes", member, generate)
    # New codes, downloaded before they are shown: they can be had once.
    assert member.post(generate, {}).status_code == 302
    download = member.get(url(lang, "mfa_download_recovery_codes"))
    assert download.status_code == 200
    assert len(download.content.decode().split()) == 10
    proof.get(
        "new recovery codes",
        member,
        url(lang, "mfa_view_recovery_codes"),
        shows="Your recovery codes are made: keep them now, they are shown only once.",
    )

    # Passkeys, answered by a passkey in software.
    passkey = SoftPasskey()
    add = url(lang, "mfa_add_webauthn")
    proof.post("add a passkey, refused", member, add, {"name": "phone", "credential": "{}"})
    page = proof.get("add a passkey", member, add)
    credential = passkey.create(page_data(page.content)["creation_options"])
    proof.post(
        "passkey added",
        member,
        add,
        {"name": "laptop", "credential": credential},
        shows="Your passkey is added.",
    )
    proof.get("second factors", member, url(lang, "mfa_index"))
    proof.get("passkeys", member, url(lang, "mfa_list_webauthn"))
    key = Authenticator.objects.get(user__username="newcomer", type=Authenticator.Type.WEBAUTHN)
    edit = url(lang, "mfa_edit_webauthn", key.pk)
    proof.get("rename a passkey", member, edit)
    proof.post("passkey renamed", member, edit, {"name": "office laptop"})

    # Confirming it is them, a while after their last second factor.
    session = member.session
    for record in session["account_authentication_methods"]:
        record["at"] -= 3600
    session.save()
    member.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    proof.get(
        "confirm with a passkey",
        member,
        url(lang, "mfa_remove_webauthn", key.pk),
        shows="Confirm it is you",
    )
    proof.get("confirm with a code", member, url(lang, "mfa_reauthenticate"))
    proof.post(
        "confirm with a code, wrong",
        member,
        url(lang, "mfa_reauthenticate"),
        {"code": "000000"},
        shows="This code is not right, or was used already.",
    )
    page = member.get(url(lang, "mfa_reauthenticate_webauthn"))
    proof.post(
        "confirmed with a passkey",
        member,
        url(lang, "mfa_reauthenticate_webauthn"),
        {"credential": passkey.get(page_data(page.content)["request_options"])},
    )
    remove = url(lang, "mfa_remove_webauthn", key.pk)
    proof.get("remove a passkey", member, remove)
    proof.post("passkey removed", member, remove, {}, shows="Your passkey is removed.")
    proof.get("no passkey", member, url(lang, "mfa_list_webauthn"))

    sessions = url(lang, "staff_sessions")
    proof.get("sessions", member, sessions)
    proof.post("other sessions ended", member, sessions, {})
    deactivate = url(lang, "mfa_deactivate_totp")
    proof.get("remove the authenticator app", member, deactivate)
    proof.post(
        "authenticator app removed",
        member,
        deactivate,
        {},
        shows="Your authenticator app is removed.",
    )
    logout = url(lang, "account_logout")
    proof.get("sign out", member, logout)
    proof.post("signed out", member, logout, {}, shows="You are signed out.")


# ---------------------------------------------------------------------------------------------
# Every e-mail.


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_email_shows_template_text(
    lang,
    client,
    petition,
    url,
    admin_user,
    sign,
    press_button,
    email_links,
    mailoutbox,
    django_capture_on_commit_callbacks,
    rendered_templates,
):
    proof = Proofreader(lang)
    # Characters that HTML escapes, in a name and in a subject: plain text shows them as typed.
    email = "darcy@example.org"
    sign(lang=lang, first_name="D'Arcy", email=email, wants_news="on")
    assert proof.email("confirmation", mailoutbox[-1]) == lang
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(lang, "resend", petition.slug))
    assert proof.email("confirmation sent again", mailoutbox[-1]) == lang
    press_button(email_links(mailoutbox[-1])["confirm"])
    sign(lang=lang, first_name="D'Arcy", email=email, wants_news="on")
    assert proof.email("already signed", mailoutbox[-1]) == lang
    assert len(mailoutbox) == 3

    update = write_update(
        petition,
        admin_user,
        subject_fr="L'appel avance : nouvelles & prochaines étapes",
        subject_en="The call moves on: news & next steps",
    )
    with django_capture_on_commit_callbacks(execute=True):
        mailings.send_test(update=update, user=admin_user)
    tests = [proof.email("test update", message) for message in mailoutbox[3:]]
    with django_capture_on_commit_callbacks(execute=True):
        mailings.start_sending(update=update, user=admin_user)
    [copy] = mailoutbox[3 + len(tests) :]
    assert proof.email("update", copy) == lang

    # What staff are told about their accounts, each kind of notice.
    for kind, detail, actor in [
        (StaffEvent.Kind.LOGIN, "first login from this browser", ""),
        (StaffEvent.Kind.FACTOR_ADDED, "passkey office laptop", ""),
        (StaffEvent.Kind.FACTOR_REMOVED, "authenticator app", ""),
        (StaffEvent.Kind.RECOVERY_CODES_GENERATED, "", ""),
        (StaffEvent.Kind.RECOVERY_CODE_USED, "9 left", ""),
        (StaffEvent.Kind.FACTORS_RESET, "3", "D'Arcy"),
    ]:
        event = StaffEvent.objects.create(
            user=admin_user,
            username=admin_user.username,
            kind=kind,
            detail=detail,
            actor=actor,
            language=lang,
            user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
        )
        assert tasks.send_staff_notice(event.pk)
        assert proof.email(f"staff notice: {kind.label}", mailoutbox[-1]) == lang

    proof.assert_nothing_amiss()
    assert sorted(tests) == sorted(LANGUAGES)
    assert site_templates("petition/email/") - rendered_templates == set()
