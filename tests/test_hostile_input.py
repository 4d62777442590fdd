"""Hostile input: random and malicious values sent to every form and URL parameter.

Whatever arrives (overlong strings, NUL and control characters, right-to-left overrides, emoji,
markup, SQL, bytes that are not UTF-8, the wrong content type), the site answers without a
server error, in the visitor's language, stores nothing it should not, and never sends markup
back unescaped. A request that declares another character set than UTF-8 is refused before
Django reads it (manifesto.charsets, last section), so the requests that reach Django here
speak UTF-8, or bytes that only claim to.
"""

from __future__ import annotations

import base64
import json
import re
from io import BytesIO
from urllib.parse import quote, unquote, urlencode, urlsplit

import hypothesis
import pytest
from allauth.mfa.models import Authenticator
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.exceptions import BadRequest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIRequest
from django.test import Client
from django_countries import countries
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st

from manifesto.asgi import application as asgi_application
from manifesto.charsets import utf8_only
from manifesto.wsgi import application as wsgi_application
from petition.advocacy.models import ChosenCirconscription, Target
from petition.forms import SignatureForm
from petition.models import Signature, Suppression
from petition.tokens import (
    make_confirmation_token,
    make_sharing_token,
    make_unsubscribe_token,
    make_withdrawal_token,
)
from tests.conftest import signing_form, totp_secret

LANGUAGES = ["fr", "en"]
WEBHOOK = "/anymail/brevo/tracking/"
WEBHOOK_SECRET = "provider:s3cret-webhook-password"
URLENCODED = "application/x-www-form-urlencoded"

# A bounded number of examples per property keeps the file well under a minute. The examples
# of one test share its fixtures (database transaction, client): each starts from what it reads.
hostile = hypothesis.settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# ---------------------------------------------------------------------------------------------
# What arrives.

# Markup that must never come back as it was sent: each would run or inject if it did.
MARKUP = [
    '<script>alert("cameleon")</script>',
    '"><img src=x onerror=alert("cameleon")>',
    "'><svg onload=alert('cameleon')>",
    "</textarea><script>alert('cameleon')</script>",
    '<a href="javascript:alert(1)">cameleon</a>',
]
PAYLOADS = [
    *MARKUP,
    "' OR '1'='1",
    "'; DROP TABLE petition_signature; --",
    '" OR ""="',
    "1; SELECT pg_sleep(10)--",
    "{{ 7*7 }}",
    "{% debug %}",
    "%(first_name)s %s %n",
    "${7*7}",
    "../../etc/passwd",
    "%00%FF%2e%2e%2f",
    "\u202egnp.exe",
    "\u2066isolated\u2069",
    "Camille\u202eDurand",
    "שלום",
    "مرحبا",
    "🙂👩‍👩‍👧‍👦🇫🇷",
    "\uff23\uff41\uff4d\uff49\uff4c\uff4c\uff45",  # Camille in full-width letters
    "Came\u0301lia",
    "\ufeffCamille",
    "Ca\u200bmille",
    "Camille\u2028Durand",
    "\x00",
    "Camille\x00Durand",
    "\r\nBcc: victim@example.org",
    "\x1b[31mred",
    "\x7f\x85\x9b",
]
# Byte sequences that are not UTF-8: stray continuation, overlong, surrogate, beyond U+10FFFF,
# truncated.
NOT_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xa0\xa1", b"\xc0\xaf", b"\xed\xa0\x80"]
NOT_UTF8 += [b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xe2\x82"]

any_text = st.text(st.characters(codec="utf-8"), max_size=40)
# Characters that show nothing, or change how what surrounds them shows.
invisible_characters = st.characters(
    codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Zs", "Co", "Mn"]
)
overlong_text = st.builds(
    lambda unit, times: unit * times,
    st.sampled_from(["A", "é", "🙂", "<", "\x00"]),
    st.integers(min_value=101, max_value=3000),
)
hostile_text = st.one_of(
    st.sampled_from(PAYLOADS),
    any_text,
    st.text(invisible_characters, max_size=8),
    st.tuples(any_text, st.sampled_from(PAYLOADS), any_text).map("".join),
    overlong_text,
)
not_utf8 = st.tuples(st.binary(max_size=8), st.sampled_from(NOT_UTF8), st.binary(max_size=8)).map(
    b"".join
)
hostile_bytes = st.one_of(
    st.binary(max_size=200), not_utf8, hostile_text.map(lambda text: text.encode())
)

# What a citizen plausibly types, so that some hostile forms are accepted and stored.
plausible = {
    "first_name": st.sampled_from(["Camille", "Zoë", "Jean-Éric", "  Ana  ", "李", "Nguyễn"]),
    "last_name": st.sampled_from(["Durand", "O'Brien", "Ben Saïd", "D'Artagnan", "محمد"]),
    "email": st.sampled_from(["camille@example.org", "Camille.Durand@Example.ORG", "a@café.fr"]),
    "country": st.sampled_from(["FR", "BE", "DE", "JP", "fr", "France", "ZZ", ""]),
    "postal_code": st.sampled_from(["75011", " 75 011 ", "1000", "sw1a 1aa", "10115", ""]),
    "wants_news": st.sampled_from(["on", "", "false", "0", "1"]),
    "ref": st.sampled_from(["", "A" * 16, "abc_DEF-123_4567", "A" * 17]),
    "consent": st.sampled_from(["on", "", "off", "1"]),
    # The honeypot and the form's signed time: a bot's values set the signature aside, never
    # refuse it.
    "website": st.sampled_from(["", "http://spam.example", "0"]),
    "started": st.sampled_from(["", "1700000000.0", "1700000000.0:forged"]),
}
FORM_FIELDS = list(plausible)
unknown_field = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20).filter(
    lambda name: name not in FORM_FIELDS
)


def tainted(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A plausible value with one invisible character slipped in somewhere."""
    return st.builds(
        lambda value, char, at: (
            value[: at % (len(value) + 1)] + char + value[at % (len(value) + 1) :]
        ),
        values,
        invisible_characters,
        st.integers(min_value=0),
    )


SIGNER = signing_form()


@st.composite
def signing_forms(draw) -> dict[str, str]:
    """The signing form as a visitor, a bot or an attacker fills it in: a plausible signer,
    some fields replaced or tainted, some left out, and fields nobody asked for."""
    data = dict(SIGNER)
    for field in draw(st.lists(st.sampled_from(FORM_FIELDS), unique=True, max_size=3)):
        values = plausible[field]
        data[field] = draw(st.one_of(values, tainted(values), hostile_text))
    for field in draw(st.lists(st.sampled_from(list(data)), unique=True, max_size=1)):
        del data[field]
    data.update(draw(st.dictionaries(unknown_field, hostile_text, max_size=2)))
    return data


def raw_query_string(pairs: list[tuple[bytes, bytes]]) -> str:
    """A query string as the WSGI server hands it over, its bytes read as Latin-1."""
    return "&".join(f"{quote(key, safe='')}={value.decode('latin-1')}" for key, value in pairs)


query_strings = st.lists(
    st.tuples(
        st.one_of(st.sampled_from([b"ref", b"next", b"lang", b"page", b"q"]), hostile_bytes),
        st.one_of(
            hostile_bytes.map(lambda value: quote(value, safe="").encode()),
            hostile_bytes.map(lambda value: value.replace(b"&", b"").replace(b"#", b"")),
        ),
    ),
    max_size=4,
).map(raw_query_string)

# A path segment as a link could carry it: percent-encoded text or bytes, or raw text.
path_segments = st.one_of(
    hostile_text.map(lambda text: quote(text, safe="")),
    hostile_bytes.map(lambda value: quote(value, safe="")),
    st.text(st.characters(codec="utf-8", exclude_characters="/?#%"), min_size=1, max_size=30),
).filter(lambda segment: segment not in {"", ".", ".."})

# Header values as the WSGI server hands them over: any bytes but line breaks, read as Latin-1.
header_values = st.one_of(st.just(b""), hostile_bytes).map(
    lambda value: value.replace(b"\r", b"").replace(b"\n", b"").decode("latin-1")
)

slugs = st.one_of(
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_"), min_size=1, max_size=300),
    path_segments,
)

# ---------------------------------------------------------------------------------------------
# What every answer must be.

# What no stored name or address may hold: controls (C0, DEL, C1), line and paragraph
# separators, and the bidirectional embeddings, overrides and isolates.
FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def no_server_error(response) -> None:
    assert response.status_code < 500, response.content[:2000]


def page_language(response) -> str | None:
    found = re.search(rb'<html lang="([^"]*)"', response.content)
    return found[1].decode() if found else None


def assert_speaks(response, lang: str, html, translated, *messages: str) -> None:
    """The page is in the visitor's language and says one of the messages in it."""
    assert page_language(response) == lang
    text = html(response).text
    assert any(translated(lang, message) in text for message in messages), text[:2000]


def assert_not_reflected(response, *values: str) -> None:
    """No markup sent comes back as markup: at most escaped."""
    content = response.content.decode(errors="replace")
    for markup in MARKUP:
        if any(markup in value for value in values):
            assert markup not in content


def read_query(query: str) -> str:
    """What Django reads from a query string as the WSGI server hands it over."""
    return unquote(query.encode("latin-1").decode(errors="replace"))


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    # The properties are about the views: a 429 after a few examples would hide them.
    settings.RATELIMIT_ENABLE = False
    settings.ACCOUNT_RATE_LIMITS = False


@pytest.fixture
def webhook_secret(settings):
    # As production has it (check --deploy): without one, anymail's webhook answers anyone.
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}


@pytest.fixture
def visitor() -> Client:
    """A browser that gets a server error as the 500 page, as production would give it."""
    return Client(raise_request_exception=False)


# ---------------------------------------------------------------------------------------------
# The signing form.


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(data=signing_forms(), urlencoded=st.booleans())
# Found before: a C1 control and a right-to-left override stored in names, and addresses that
# mail reaches elsewhere (an invisible character dropped) or not at all.
@example(data={**SIGNER, "first_name": "Cam\x9bille"}, urlencoded=False)
@example(data={**SIGNER, "last_name": "Durand\u202e"}, urlencoded=True)
@example(data={**SIGNER, "email": "camille@exa\u200bmple.org"}, urlencoded=False)
@example(data={**SIGNER, "email": "camille@\u202eexample.org"}, urlencoded=False)
def test_the_signing_form_refuses_in_the_visitors_language_or_stores_the_cleaned_values(
    visitor,
    petition,
    url,
    html,
    translated,
    django_capture_on_commit_callbacks,
    lang,
    data,
    urlencoded,
):
    Signature.objects.all().delete()
    mail.outbox.clear()
    path = url(lang, "petition", petition.slug)

    with django_capture_on_commit_callbacks(execute=True):
        if urlencoded:
            response = visitor.post(path, urlencode(data), content_type=URLENCODED)
        else:
            response = visitor.post(path, data)

    no_server_error(response)
    assert_not_reflected(response, *data.values())
    form = SignatureForm(data)
    if response.status_code != 302:
        assert response.status_code == 400
        assert not form.is_valid()
        assert not Signature.objects.exists()
        assert_speaks(response, lang, html, translated, "Please correct the errors below.")
        return
    assert form.is_valid(), form.errors
    details = form.details()
    signature = Signature.objects.get()
    names = (signature.first_name, signature.last_name)
    assert names == (details.first_name, details.last_name)
    assert signature.email == details.email
    assert (signature.country, signature.postal_code) == (details.country, details.postal_code)
    assert signature.wants_news is details.wants_news
    assert signature.language == lang
    for value in (*names, signature.email, signature.postal_code):
        assert not FORBIDDEN.search(value), ascii(value)
        assert value == value.strip()
    assert signature.country in dict(countries)
    assert re.fullmatch(r"[A-Z0-9 -]*", signature.postal_code)
    # The confirmation goes to the very domain stored, not to one that only looks like it.
    [message] = mail.outbox
    sent_to = message.message()["To"].rpartition("@")[2].encode("ascii").decode("idna")
    assert sent_to.lower() == signature.email.rpartition("@")[2].lower()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_markup_in_a_refused_form_comes_back_escaped(visitor, petition, url, lang):
    markup = MARKUP[1]

    response = visitor.post(
        url(lang, "petition", petition.slug),
        {"first_name": markup, "last_name": markup, "email": markup, "country": "FR"},
    )

    assert response.status_code == 400
    content = response.content.decode()
    assert markup not in content
    assert "&quot;&gt;&lt;img src=x onerror=alert(&quot;cameleon&quot;)&gt;" in content


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(
    body=hostile_bytes,
    content_type=st.sampled_from(
        [
            "application/json",
            "text/plain",
            URLENCODED,
            "multipart/form-data",
            "multipart/form-data; boundary=cameleon",
            "application/xml",
            "",
        ]
    ),
)
def test_a_body_of_any_kind_signs_no_one(
    visitor, petition, url, html, translated, lang, body, content_type
):
    before = Signature.objects.count()

    response = visitor.generic(
        "POST", url(lang, "petition", petition.slug), body, content_type=content_type
    )

    assert response.status_code == 400
    assert Signature.objects.count() == before
    assert_speaks(
        response, lang, html, translated, "Please correct the errors below.", "Bad request"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(field=st.sampled_from(FORM_FIELDS), raw=not_utf8)
def test_bytes_that_are_not_utf8_in_a_field_are_read_as_replacement_characters(
    visitor,
    petition,
    url,
    html,
    translated,
    signer_data,
    django_capture_on_commit_callbacks,
    lang,
    field,
    raw,
):
    Signature.objects.all().delete()
    fields = {name: quote(value, safe="").encode() for name, value in signer_data.items()}
    fields[field] = quote(raw, safe="").encode()
    body = b"&".join(name.encode() + b"=" + value for name, value in fields.items())

    path = url(lang, "petition", petition.slug)
    with django_capture_on_commit_callbacks(execute=True):
        response = visitor.generic("POST", path, body, URLENCODED)

    if response.status_code == 400:
        assert not Signature.objects.exists()
        assert_speaks(response, lang, html, translated, "Please correct the errors below.")
        return
    assert response.status_code == 302
    signature = Signature.objects.get()
    stored = [signature.first_name, signature.last_name, signature.email, signature.postal_code]
    assert not any(FORBIDDEN.search(value) for value in stored)


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(data=signing_forms())
def test_a_hostile_post_without_its_csrf_token_is_refused_in_the_visitors_language(
    csrf_client, petition, url, html, translated, lang, data
):
    before = Signature.objects.count()

    response = csrf_client.post(url(lang, "petition", petition.slug), data)

    assert response.status_code == 403
    assert Signature.objects.count() == before
    assert_speaks(response, lang, html, translated, "Your form has expired")
    assert_not_reflected(response, *data.values())


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(fields=st.dictionaries(st.one_of(st.sampled_from(FORM_FIELDS), unknown_field), hostile_text))
def test_asking_for_the_email_again_with_hostile_fields_sends_nothing(
    visitor, petition, url, html, translated, lang, fields
):
    mail.outbox.clear()

    response = visitor.post(url(lang, "resend", petition.slug), fields)

    assert response.status_code == 200
    assert mail.outbox == []
    assert_speaks(response, lang, html, translated, "Check your inbox")
    assert_not_reflected(response, *fields.values())


# ---------------------------------------------------------------------------------------------
# Pages read with hostile query strings, headers and addresses.


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(
    page=st.sampled_from(
        ["home", "petition", "check_inbox", "privacy", "legal", "embed", "targets", "news"]
    ),
    query=query_strings,
)
def test_pages_read_any_query_string_in_the_visitors_language(
    visitor, petition, url, lang, page, query
):
    args = [] if page in {"home", "privacy", "legal"} else [petition.slug]

    response = visitor.get(url(lang, page, *args), QUERY_STRING=query)

    assert response.status_code == 200
    assert page_language(response) == lang
    assert_not_reflected(response, read_query(query))
    # The personal link's code is carried into the form only when it is one.
    for code in re.findall(rb'name="ref" value="([^"]*)"', response.content):
        assert re.fullmatch(rb"(?:[A-Za-z0-9_-]{16})?", code)


@hostile
@given(
    accept_language=header_values,
    cookie=header_values,
    referer=header_values,
    user_agent=header_values,
    forwarded_for=header_values,
    host=st.one_of(st.just("testserver"), header_values),
    proxies=st.integers(min_value=0, max_value=2),
)
# Found before: the 400 page answering a bad Host header failed on that header itself.
@example(
    accept_language="", cookie="", referer="", user_agent="", forwarded_for="", host="", proxies=0
)
def test_hostile_headers_are_no_server_error(
    visitor,
    petition,
    settings,
    accept_language,
    cookie,
    referer,
    user_agent,
    forwarded_for,
    host,
    proxies,
):
    # Rate limits on here: they read the client's address from X-Forwarded-For.
    settings.RATELIMIT_ENABLE = True
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {
        "HTTP_ACCEPT_LANGUAGE": accept_language,
        "HTTP_COOKIE": cookie,
        "HTTP_REFERER": referer,
        "HTTP_USER_AGENT": user_agent,
        "HTTP_X_FORWARDED_FOR": forwarded_for,
        "HTTP_HOST": host,
    }

    for response in (
        visitor.get("/", **headers),
        visitor.get("/fr/", **headers),
        visitor.post(f"/en/petitions/{petition.slug}/", {"email": "x"}, **headers),
        visitor.get(f"/fr/embed/{petition.slug}/", **headers),
        visitor.get("/nowhere/", **headers),
    ):
        no_server_error(response)


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(segment=path_segments)
def test_an_unknown_address_is_a_404_in_the_visitors_language(
    visitor, petition, html, translated, lang, segment
):
    response = visitor.get(f"/{lang}/{segment}/nowhere/")

    assert response.status_code == 404
    assert_speaks(response, lang, html, translated, "Page not found")
    assert_not_reflected(response, unquote(segment))


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(slug=slugs)
@example(slug="a" * 300)  # Found before: too long a cache key.
def test_an_unknown_petition_or_counter_is_a_404_in_the_visitors_language(
    visitor, petition, html, translated, url, lang, slug
):
    hypothesis.assume(slug != petition.slug)

    for path in (
        f"/{lang}/embed/{slug}/",
        f"/{lang}/petitions/{slug}/",
        url(lang, "targets", "SLUG").replace("SLUG", slug),
        url(lang, "news", "SLUG").replace("SLUG", slug),
    ):
        response = visitor.get(path)

        assert response.status_code == 404
        assert_speaks(response, lang, html, translated, "Page not found")


@hostile
@given(
    path=st.sampled_from(
        [
            "/",
            "/fr/",
            "/en/petitions/stop-cyberpedocriminalite/",
            "/fr/petitions/stop-cyberpedocriminalite/verifiez-votre-boite/",
            "/en/petitions/stop-cyberpedocriminalite/resend/",
            "/fr/confirmer/x/",
            "/en/unsubscribe/x/",
            "/en/share/x/",
            "/fr/embed/stop-cyberpedocriminalite/",
            "/fr/petitions/stop-cyberpedocriminalite/decideurs/",
            "/en/petitions/stop-cyberpedocriminalite/news/",
            "/en/share/x/write/",
            "/fr/partage/x/circonscription/",
            "/api/petitions/",
            "/api/petitions/stop-cyberpedocriminalite/",
            "/i18n/setlang/",
            "/fr/admin/login/",
            "/en/admin/account/2fa/",
            "/fr/admin/account/2fa/authenticate/",
            "/fr/admin/account/2fa/reauthenticate/",
            "/en/admin/account/2fa/webauthn/add/",
            "/fr/admin/account/sessions/",
            WEBHOOK,
        ]
    ),
    method=st.one_of(
        st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]),
        st.text(st.characters(min_codepoint=ord("A"), max_codepoint=ord("Z")), min_size=1),
    ),
)
def test_any_method_on_any_page_is_no_server_error(visitor, petition, webhook_secret, path, method):
    no_server_error(visitor.generic(method, path))


# ---------------------------------------------------------------------------------------------
# Links from e-mails, with tokens that are not theirs.

TOKEN_PAGES = [
    ("confirm", "GET"),
    ("confirm", "POST"),
    ("unsubscribe", "GET"),
    ("unsubscribe", "POST"),
    ("sharing", "GET"),
    ("withdraw", "GET"),
    ("withdraw", "POST"),
]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(("page", "method"), TOKEN_PAGES)
@hostile
@given(data=st.data())
def test_a_link_with_a_token_that_is_not_its_own_changes_nothing(
    visitor, signature, url, html, translated, lang, page, method, data
):
    real = {
        "confirm": make_confirmation_token(signature),
        "unsubscribe": make_unsubscribe_token(signature),
        "sharing": make_sharing_token(signature),
        "withdraw": make_withdrawal_token(signature),
    }
    mine = real[page]
    spoilt = [token for name, token in real.items() if name != page]
    spoilt += [mine[:-1], mine + "x", mine.swapcase(), mine[::-1], quote(mine + "\x00")]
    token = data.draw(st.one_of(st.sampled_from(spoilt), path_segments), label="token")

    response = visitor.generic(method, url(lang, page, "TOKEN").replace("TOKEN", token))

    assert response.status_code in {400, 404}
    signature.refresh_from_db()
    assert (signature.confirmed_at, signature.unsubscribed_at) == (None, None)
    assert Signature.objects.filter(pk=signature.pk).exists(), "nothing withdrawn"
    if response.status_code == 400:
        assert_speaks(response, lang, html, translated, "This link does not work")
    assert_not_reflected(response, unquote(token))


# ---------------------------------------------------------------------------------------------
# Switching language.

redirect_targets = st.one_of(
    hostile_text,
    st.sampled_from(
        [
            "/en/",
            "/fr/petitions/stop-cyberpedocriminalite/",
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "\t//evil.example",
            "/%0d%0aSet-Cookie:x=1",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "http://testserver@evil.example/",
        ]
    ),
)


@hostile
@given(
    language=st.one_of(st.sampled_from(["fr", "en", "de", "EN", "en-gb"]), hostile_text),
    next_page=st.one_of(st.none(), redirect_targets),
    referer=st.one_of(st.none(), header_values, redirect_targets.map(quote)),
)
def test_switching_language_stays_on_the_site_and_in_its_languages(
    visitor, petition, language, next_page, referer
):
    data = {"language": language}
    if next_page is not None:
        data["next"] = next_page
    headers = {} if referer is None else {"HTTP_REFERER": referer}

    response = visitor.post("/i18n/setlang/", data, **headers)

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.scheme in {"", "http"}
    assert location.netloc in {"", "testserver"}
    assert not location.path.startswith(("//", "/\\"))
    # Django keeps any language it has a catalogue for in the cookie; the site speaks its own.
    assert visitor.get("/")["Location"] in {"/fr/", "/en/"}


# ---------------------------------------------------------------------------------------------
# The counter API.


@hostile
@given(
    slug=st.one_of(st.just("stop-cyberpedocriminalite"), slugs),
    if_none_match=header_values,
    if_modified_since=header_values,
    query=query_strings,
)
@example(slug="a" * 300, if_none_match="", if_modified_since="", query="")
def test_the_counter_api_answers_json_or_not_found(
    visitor, petition, slug, if_none_match, if_modified_since, query
):
    headers = {"HTTP_IF_NONE_MATCH": if_none_match, "HTTP_IF_MODIFIED_SINCE": if_modified_since}

    for path in (f"/api/petitions/{slug}/", "/api/petitions/"):
        response = visitor.get(path, QUERY_STRING=query, **headers)

        assert response.status_code in {200, 304, 404}
        if response.status_code == 200:
            assert response["Content-Type"] == "application/json"
            json.loads(response.content)


# ---------------------------------------------------------------------------------------------
# The staff's login form.

INVALID_LOGIN = "The username or the password is not right."


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(username=hostile_text, password=hostile_text, next_page=redirect_targets)
def test_the_admin_login_form_refuses_hostile_credentials_in_the_visitors_language(
    visitor, db, html, translated, lang, username, password, next_page
):
    response = visitor.post(
        f"/{lang}/admin/login/?{urlencode({'next': next_page})}",
        {"login": username, "password": password, "next": next_page},
    )

    assert response.status_code == 200
    assert page_language(response) == lang
    assert "_auth_user_id" not in visitor.session
    assert_not_reflected(response, username, password, next_page)
    if response.context["form"].non_field_errors():
        assert translated(lang, INVALID_LOGIN) in html(response).text


# The second factor's forms: the login's second step, and a signed-in member's own pages.

CREDENTIALS = st.one_of(
    hostile_text,
    st.sampled_from(
        [
            "{}",
            "[]",
            "null",
            '{"id": "x", "type": "public-key", "response": {}}',
            '{"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": '
            '{"clientDataJSON": "e30", "attestationObject": "oA", "authenticatorData": "AA", '
            '"signature": "AA"}, "clientExtensionResults": {}}',
            '{"id": "AAAA", "rawId": 5, "type": "public-key", "response": '
            '{"clientDataJSON": "e30", "attestationObject": "oA"}}',
            '{"id": "AAAA", "rawId": "AAAA", "type": "x", "response": {"clientDataJSON": "!!", '
            '"attestationObject": "!!", "authenticatorData": "!!", "signature": "!!"}}',
        ]
    ),
)


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(code=hostile_text, credential=CREDENTIALS)
def test_the_logins_second_step_refuses_hostile_codes_and_credentials(
    visitor, admin_user, lang, code, credential
):
    totp_secret(admin_user)
    visitor.post(f"/{lang}/admin/login/", {"login": "admin", "password": "password"})
    step = f"/{lang}/admin/account/2fa/authenticate/"

    for data in ({"code": code}, {"credential": credential}):
        response = visitor.post(step, data)
        no_server_error(response)
        assert response.status_code in {200, 302}
        if response.status_code == 200:
            assert page_language(response) == lang
        assert_not_reflected(response, code, credential)
        assert "_auth_user_id" not in visitor.session


@pytest.fixture
def signed_in(visitor, admin_user) -> Client:
    visitor.force_login(admin_user)
    return visitor


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(code=hostile_text, name=hostile_text, credential=CREDENTIALS)
def test_a_members_own_pages_refuse_hostile_codes_names_and_credentials(
    signed_in, admin_user, lang, code, name, credential
):
    visitor = signed_in
    posts = [
        ("account/2fa/reauthenticate/", {"code": code}),
        ("account/2fa/webauthn/reauthenticate/", {"credential": credential}),
        ("account/2fa/webauthn/add/", {"name": name, "credential": credential}),
        ("account/2fa/totp/activate/", {"code": code}),
        ("account/2fa/recovery-codes/generate/", {"code": code}),
        ("account/reauthenticate/", {"password": code}),
        ("account/sessions/", {"end": name}),
    ]
    for path, data in posts:
        response = visitor.post(f"/{lang}/admin/{path}", data)
        no_server_error(response)
        assert response.status_code in {200, 302, 403, 404}, path
        if response.status_code == 200:
            assert page_language(response) == lang, path
        assert_not_reflected(response, code, name, credential)
    assert Authenticator.objects.filter(user=admin_user, type="webauthn").count() == 0


# ---------------------------------------------------------------------------------------------
# The mail provider's tracking webhook.


def basic_auth(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


@hostile
@given(
    body=hostile_bytes,
    content_type=st.sampled_from(["application/json", "text/plain", "multipart/form-data", ""]),
    authorization=st.one_of(
        st.none(),
        header_values,
        st.binary(max_size=40).map(basic_auth),
        st.just(basic_auth(WEBHOOK_SECRET.upper().encode())),
    ),
)
def test_the_tracking_webhook_refuses_anyone_without_the_secret(
    visitor, db, webhook_secret, body, content_type, authorization
):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}

    response = visitor.generic("POST", WEBHOOK, body, content_type=content_type, **headers)

    assert response.status_code == 400
    assert not Suppression.objects.exists()


# What a provider relays from elsewhere: the bounce's reason is written by the remote mail
# server, and JSON carries NUL and lone surrogates.
relayed_text = st.one_of(
    hostile_text, st.sampled_from(["\ud800", "a\udfffb", "550 5.1.1 \x00unknown"])
)


@hostile
@given(
    event=st.sampled_from(["hard_bounce", "soft_bounce", "spam", "unsubscribed", "blocked"]),
    email=st.one_of(plausible["email"], tainted(plausible["email"]), relayed_text),
    reason=relayed_text,
)
# Found before: a NUL or a lone surrogate, in the reason or the address, was a server error.
@example(event="hard_bounce", email="camille@example.org", reason="550 \x00 unknown")
@example(event="spam", email="camille\ud800@example.org", reason="")
def test_the_tracking_webhook_keeps_only_addresses_the_site_could_have_written_to(
    visitor, db, webhook_secret, event, email, reason
):
    Suppression.objects.all().delete()
    payload = {"event": event, "email": email, "reason": reason, "ts_event": 1772357400}

    response = visitor.post(
        WEBHOOK,
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(WEBHOOK_SECRET.encode()),
    )

    assert response.status_code == 200
    for suppression in Suppression.objects.all():
        assert "email" not in SignatureForm({"email": suppression.email}).errors
        assert "\x00" not in suppression.reason


@pytest.mark.parametrize(
    "path",
    ["/anymail/mailgun/tracking/", "/anymail/postal/tracking/", "/anymail/brevo/inbound/"],
)
def test_webhooks_the_site_does_not_use_are_not_served(visitor, db, webhook_secret, path):
    response = visitor.post(path, b"{}", content_type="application/json")

    assert response.status_code == 404


# ---------------------------------------------------------------------------------------------
# Character sets, refused at the door: manifesto.charsets, around the WSGI and ASGI apps.

charsets = st.one_of(
    st.sampled_from(
        [
            *["rot13", "base64", "hex", "zlib", "unicode_escape", "utf-7", "idna", "punycode"],
            *["utf-16", "latin-1", "cp1252", "shift_jis", "utf-8-sig", "no-such-charset", '"'],
        ]
    ),
    st.text(st.characters(codec="ascii"), max_size=12),
)
UTF8_NAMES = ["utf-8", "UTF-8", "utf8", '"utf-8"', "us-ascii", "ascii"]
# A form field that, read in a charset turning escapes into characters, holds a lone
# surrogate: something no database, redirect or e-mail can carry.
ESCAPED_SURROGATE = (
    b'--x\r\nContent-Disposition: form-data; name="next"\r\n\r\n/fr/\\ud800\r\n--x--\r\n'
)


def wsgi_environ(content_type: str, query: str = "") -> dict[str, object]:
    """A POST as a WSGI server hands it over."""
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/i18n/setlang/",
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(ESCAPED_SURROGATE)),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": BytesIO(ESCAPED_SURROGATE),
    }


def through_the_door(environ: dict[str, object]) -> str | None:
    """The status the door answered with itself, or None if it let the request in."""
    statuses = []
    utf8_only(lambda environ, start_response: [])(
        environ, lambda status, headers: statuses.append(status)
    )
    return statuses[0] if statuses else None


@hostile
@given(
    media_type=st.sampled_from(["multipart/form-data; boundary=x", URLENCODED, "text/plain"]),
    charset=st.one_of(charsets, st.sampled_from(UTF8_NAMES)),
    query=query_strings,
)
@example(media_type="text/plain", charset="rot13", query="next=%41")
@example(media_type="multipart/form-data; boundary=x", charset="unicode_escape", query="")
def test_what_the_door_lets_in_django_reads_as_text_it_can_store(media_type, charset, query):
    environ = wsgi_environ(f"{media_type}; charset={charset}", query)

    refused = through_the_door(environ)

    if charset in UTF8_NAMES:
        assert refused is None
    if refused is not None:
        assert refused == "400 Bad Request"
        return
    request = WSGIRequest(environ)
    try:
        fields = [*request.GET.lists(), *request.POST.lists()]
    except BadRequest:
        return  # Django's own 400: a urlencoded form must say "utf-8" exactly.
    for _name, values in fields:
        for value in values:
            value.encode()


@pytest.mark.parametrize("charset", ["rot13", "unicode_escape", "latin-1"])
def test_the_sites_wsgi_and_asgi_applications_refuse_other_charsets(charset):
    statuses = []
    environ = wsgi_environ(f"multipart/form-data; boundary=x; charset={charset}", "next=%41")

    body = wsgi_application(environ, lambda status, headers: statuses.append(status))

    assert statuses == ["400 Bad Request"]
    assert b"".join(body)

    sent = []

    async def receive():
        return {"type": "http.request", "body": ESCAPED_SURROGATE, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/i18n/setlang/",
        "query_string": b"next=%41",
        "headers": [(b"content-type", f"text/plain; charset={charset}".encode())],
    }
    async_to_sync(asgi_application)(scope, receive, send)
    assert sent[0]["status"] == 400


# ---------------------------------------------------------------------------------------------
# Writing to one's député: the signer's two forms, and the staff's upload of the list.


@pytest.fixture
def signer_in_lyon(petition) -> Signature:
    signature = Signature.objects.create(
        petition=petition,
        first_name="Camille",
        last_name="Durand",
        email="camille.lyon@example.org",
        postal_code="69007",
        language="fr",
    )
    signature.mark_confirmed()
    return signature


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("action", ["choose_circonscription", "write_to_target"])
@hostile
@given(
    fields=st.dictionaries(
        st.one_of(st.sampled_from(["circonscription", "target"]), unknown_field),
        st.one_of(hostile_text, st.integers(-5, 10**6).map(str)),
        max_size=3,
    )
)
@example(fields={"circonscription": "7", "target": "7"})
@example(fields={"circonscription": "15", "target": "-1"})
@example(fields={"circonscription": "7\x00", "target": "1e3"})
def test_the_signers_forms_refuse_in_the_visitors_language_and_store_only_what_is_offered(
    visitor, signer_in_lyon, url, html, translated, lang, action, fields
):
    lyon = Target.objects.filter(departement="69")
    before = dict(lyon.values_list("pk", "messages_opened"))
    others = Target.objects.exclude(departement="69").filter(messages_opened__gt=0).count()

    response = visitor.post(url(lang, action, make_sharing_token(signer_in_lyon)), fields)

    no_server_error(response)
    assert response.status_code in {200, 302, 400}
    assert_not_reflected(response, *fields.values())
    assert Target.objects.exclude(departement="69").filter(messages_opened__gt=0).count() == others
    chosen = ChosenCirconscription.objects.filter(signature=signer_in_lyon).first()
    if chosen is not None:
        assert chosen.departement == "69"
        assert 1 <= chosen.number <= 14
    after = dict(lyon.values_list("pk", "messages_opened"))
    assert sum(after.values()) - sum(before.values()) in {0, 1}
    if response.status_code == 400:
        assert_speaks(
            response,
            lang,
            html,
            translated,
            "Please choose your circonscription.",
            "Please choose one of the circonscriptions listed.",
            "Please choose whom to write to.",
            "You cannot write to this decision-maker from here.",
        )


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("action", ["sharing", "choose_circonscription", "write_to_target"])
@hostile
@given(token=path_segments)
def test_the_signers_pages_with_a_token_not_their_own_change_nothing(
    visitor, signer_in_lyon, url, html, translated, lang, action, token
):
    method = "GET" if action == "sharing" else "POST"

    response = visitor.generic(method, url(lang, action, "TOKEN").replace("TOKEN", token))

    assert response.status_code in {400, 404}
    if response.status_code == 400:
        assert_speaks(response, lang, html, translated, "This link does not work")
    assert not ChosenCirconscription.objects.exists()
    assert not Target.objects.filter(messages_opened__gt=0).exists()


@pytest.fixture
def importer(visitor, django_user_model):
    user = django_user_model.objects.create_user("lea", "lea@example.org", "pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_target", "add_target", "change_target", "view_petition"]
        )
    )
    # Once for all examples: an authenticator app's code is taken once (a minute has three).
    if visitor.session.get("_auth_user_id") != str(user.pk):
        visitor.force_login(user)
    return visitor


HEADER = b"nom,region,departement,email,groupe,circonscription\r\n"
csv_cells = st.one_of(
    st.sampled_from(["M. X", "Rhône", "Rhône (7ecirconscription)", "x@assemblee-nationale.fr"]),
    hostile_text,
    st.just('"unterminated'),
    st.just('=HYPERLINK("http://evil.example")'),
)
csv_rows = st.lists(st.lists(csv_cells, min_size=0, max_size=8), max_size=5).map(
    lambda rows: "\r\n".join(",".join(row) for row in rows).encode()
)


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(
    content=st.one_of(hostile_bytes, csv_rows, csv_rows.map(lambda body: HEADER + body)),
    oversized=st.booleans(),
    name=st.one_of(st.just("deputes.csv"), hostile_text.filter(bool)),
)
def test_the_deputies_upload_refuses_any_file_that_is_not_the_list(
    importer, petition, html, translated, lang, content, oversized, name
):
    if oversized:
        content += b"\xff" * 1_000_001
    # A path is no file name: the browser sends the last part of it.
    file_name = name.replace("/", "_").replace("\\", "_")[:100].strip(".") or "x"
    before = set(Target.objects.values_list("pk", "name", "email", "retired_at"))

    response = importer.post(
        f"/{lang}/admin/petition/target/import-deputies/",
        {"petition": petition.pk, "file": SimpleUploadedFile(file_name, content)},
    )

    no_server_error(response)
    assert set(Target.objects.values_list("pk", "name", "email", "retired_at")) == before or (
        response.status_code == 302  # A valid list after all, read whole (test_deputies.py).
    )
    if response.status_code == 400:
        # A name that breaks the request's form encoding: Django refuses the whole body.
        assert_speaks(response, lang, html, translated, "Bad request")
        return
    if response.status_code == 302:
        return
    assert response.status_code == 200
    assert page_language(response) == lang
    assert set(Target.objects.values_list("pk", "name", "email", "retired_at")) == before
    assert response.context["form"].errors
    assert_not_reflected(response, content.decode(errors="replace"))


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(
    fields=st.dictionaries(
        st.sampled_from(["petition", "depute", "departement", "everyone"]),
        st.one_of(hostile_text, st.integers(-5, 10**6).map(str), st.sampled_from(["69", "on"])),
        max_size=4,
    )
)
def test_the_dossier_form_refuses_in_the_staffs_language_and_makes_nothing_wrong(
    visitor, petition, django_user_model, settings, tmp_path, lang, fields
):
    settings.DOSSIER_ROOT = str(tmp_path)
    user, _created = django_user_model.objects.get_or_create(username="clerk", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_target", "view_petition", "export_signatures"]
        )
    )
    # Once for all examples: an authenticator app's code is taken once (a minute has three).
    if visitor.session.get("_auth_user_id") != str(user.pk):
        visitor.force_login(user)

    response = visitor.post(f"/{lang}/admin/petition/target/dossiers/", fields)

    no_server_error(response)
    assert response.status_code in {200, 302}
    if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
        assert page_language(response) == lang
        assert_not_reflected(response, *fields.values())


@pytest.fixture
def paper_importer(visitor, django_user_model):
    user, _created = django_user_model.objects.get_or_create(username="ines", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["add_paperimport", "view_paperimport", "view_petition"]
        )
    )
    # Once for all examples: an authenticator app's code is taken once (a minute has three).
    if visitor.session.get("_auth_user_id") != str(user.pk):
        visitor.force_login(user)
    return visitor


PAPER_HEADER = b"name;postal_code;country;email;event;date\r\n"
paper_cells = st.one_of(
    st.sampled_from(["Marie Dupont", "23000", "FR", "France", "", "marie@example.org"]),
    st.sampled_from(["Exposition #LePartage", "2026-03-14", "14/03/2026", "31/02/2026"]),
    hostile_text,
    st.just('"unterminated'),
    st.just('=HYPERLINK("http://evil.example")'),
)
paper_rows = st.lists(st.lists(paper_cells, min_size=0, max_size=7), max_size=5).map(
    lambda rows: "\r\n".join(";".join(row) for row in rows).encode()
)


def paper_state() -> set:
    from petition.models import PaperImport

    return {
        *Signature.objects.values_list("pk", "first_name", "last_name", "email"),
        *PaperImport.objects.values_list("pk", "event", "count_alone"),
    }


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(
    content=st.one_of(hostile_bytes, paper_rows, paper_rows.map(lambda body: PAPER_HEADER + body)),
    oversized=st.booleans(),
    name=st.one_of(st.just("feuille.csv"), hostile_text.filter(bool)),
)
def test_the_paper_sheet_upload_refuses_any_file_it_cannot_read_whole(
    paper_importer, petition, html, translated, lang, content, oversized, name
):
    if oversized:
        content += b"\xff" * (2 * 1024 * 1024 + 1)
    file_name = name.replace("/", "_").replace("\\", "_")[:100].strip(".") or "x"
    before = paper_state()

    response = paper_importer.post(
        f"/{lang}/admin/petition/paperimport/import/",
        {
            "kind": "file",
            "file-petition": petition.pk,
            "file-file": SimpleUploadedFile(file_name, content),
        },
    )

    no_server_error(response)
    if response.status_code == 400:
        # A name that breaks the request's form encoding: Django refuses the whole body.
        assert_speaks(response, lang, html, translated, "Bad request")
        assert paper_state() == before
        return
    if response.status_code == 302:
        return  # A readable sheet after all (test_paper.py).
    assert response.status_code == 200
    assert page_language(response) == lang
    assert paper_state() == before
    assert response.context["file_form"].errors
    assert_not_reflected(response, content.decode(errors="replace"))


def test_stored_paper_signatures_hold_no_forbidden_characters(
    paper_importer, petition, django_capture_on_commit_callbacks
):
    content = PAPER_HEADER + "Zoë\u202eDupont;23000;FR;;Expo;2026-03-14\r\n".encode()
    response = paper_importer.post(
        "/fr/admin/petition/paperimport/import/",
        {
            "kind": "file",
            "file-petition": petition.pk,
            "file-file": SimpleUploadedFile("f.csv", content),
        },
    )
    assert response.status_code == 200
    assert not Signature.objects.exists()


@pytest.mark.parametrize("lang", LANGUAGES)
@hostile
@given(
    fields=st.dictionaries(
        st.sampled_from(["petition", "event", "collected_on", "count"]),
        st.one_of(
            hostile_text,
            st.integers(-5, 10**7).map(str),
            st.sampled_from(["2026-03-14", "14/03/2026", "2999-01-01", "1"]),
        ),
        max_size=4,
    )
)
def test_the_paper_count_form_refuses_in_the_staffs_language_and_counts_nothing_wrong(
    paper_importer, petition, lang, fields
):
    from petition.models import PaperImport

    response = paper_importer.post(
        f"/{lang}/admin/petition/paperimport/import/",
        {"kind": "count", **{f"count-{name}": value for name, value in fields.items()}},
    )

    no_server_error(response)
    assert response.status_code in {200, 302}
    if response.status_code == 200:
        assert page_language(response) == lang
        assert response.context["count_form"].errors
        assert_not_reflected(response, *fields.values())
    for event, count in PaperImport.objects.values_list("event", "count_alone"):
        assert not FORBIDDEN.search(event)
        assert 1 <= count <= 100_000
