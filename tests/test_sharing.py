"""Sharing the manifesto: share links to each network, link previews (Open Graph) in each
language, and nothing on any public page that comes from another site."""

from __future__ import annotations

import struct
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils import translation

from petition.models import Petition, Signature
from petition.sharing import petition_url, share_links, share_text
from petition.templatetags.typography import typeset
from petition.tokens import make_confirmation_token, make_sharing_token, make_unsubscribe_token

LANGUAGES = ["fr", "en"]
NETWORK_HOSTS = {
    "x": "x.com",
    "facebook": "www.facebook.com",
    "whatsapp": "wa.me",
    "linkedin": "www.linkedin.com",
    "telegram": "t.me",
    "bluesky": "bsky.app",
}


@pytest.fixture
def public_paths(petition, signature, url):
    """Every public page that answers a GET, in one language."""
    confirmed = Signature.objects.create(
        petition=petition,
        first_name="Sam",
        last_name="Lee",
        email="sam.lee@example.org",
        postal_code="69001",
        language="fr",
    )
    confirmed.mark_confirmed()

    def paths(lang: str) -> list[str]:
        return [
            url(lang, "home"),
            url(lang, "petition", petition.slug),
            url(lang, "check_inbox", petition.slug),
            url(lang, "confirm", make_confirmation_token(signature)),
            url(lang, "unsubscribe", make_unsubscribe_token(signature)),
            url(lang, "sharing", make_sharing_token(confirmed)),
            url(lang, "privacy"),
            url(lang, "legal"),
            url(lang, "embed", petition.slug),
            f"{url(lang, 'home')}no-such-page/",
        ]

    return paths


def meta(page, attribute: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for tag in page.find_all("meta"):
        if attribute in tag.attrs:
            found.setdefault(tag.attrs[attribute], []).append(tag.attrs.get("content", ""))
    return found


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_page_shares_itself_through_a_link_to_each_network(client, petition, lang, url, html):
    page = html(client.get(url(lang, "home")))
    with translation.override(lang):
        home_url = f"{settings.SITE_URL}{url(lang, 'home')}"
        text = share_text(typeset(petition.title), signed=False)

    box = page.find("div", data_share=True)
    links = {a.attrs["data-network"]: a.attrs["href"] for a in box.find_all("a")}

    assert set(links) == {*NETWORK_HOSTS, "email"}
    for network, host in NETWORK_HOSTS.items():
        address = urlsplit(links[network])
        assert (address.scheme, address.netloc) == ("https", host)
        shared = [value for values in parse_qs(address.query).values() for value in values]
        assert any(home_url in value for value in shared), network
    assert "#LePartage" in text
    assert parse_qs(urlsplit(links["x"]).query) == {"text": [text], "url": [home_url]}
    assert box.attrs["data-share-url"] == home_url
    assert box.attrs["data-share-text"] == text


def test_share_texts_differ_between_french_and_english_and_carry_the_hashtag(petition):
    texts = {}
    for lang in LANGUAGES:
        with translation.override(lang):
            texts[lang] = (
                share_text(typeset(petition.title), signed=False),
                share_text(typeset(petition.title), signed=True),
            )
    assert texts["fr"] != texts["en"]
    for before, after in texts.values():
        assert before.endswith("#LePartage")
        assert after.endswith("#LePartage")
        assert before != after


def test_share_links_encode_spaces_as_mail_programs_expect():
    [*_, email] = share_links(
        url="https://manifeste.example.org/fr/?ref=abc", title="Titre & co", text="Un texte ?"
    )

    assert email.href == (
        "mailto:?subject=Titre%20%26%20co"
        "&body=Un%20texte%20%3F%0D%0A%0D%0Ahttps%3A%2F%2Fmanifeste.example.org%2Ffr%2F%3Fref%3Dabc"
    )
    assert not email.new_window


def test_another_petition_is_shared_at_its_own_address(petition, settings):
    other = Petition.objects.create(slug="autre", title="Autre", introduction="Texte")

    with translation.override("en"):
        assert petition_url(petition) == f"{settings.SITE_URL}/en/"
        assert petition_url(other) == f"{settings.SITE_URL}/en/petitions/autre/"
        assert petition_url(other, referral_code="A" * 16) == (
            f"{settings.SITE_URL}/en/petitions/autre/?ref={'A' * 16}"
        )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_share_buttons_for_javascript_are_hidden_in_the_page_itself(client, petition, lang, url):
    content = client.get(url(lang, "home")).content.decode()

    assert "data-share-copy hidden" in content
    assert "data-share-native hidden" in content
    assert "data-share-tools hidden" in content


@pytest.mark.parametrize(
    ("lang", "locale", "other"), [("fr", "fr_FR", "en_GB"), ("en", "en_GB", "fr_FR")]
)
def test_link_previews_speak_the_pages_language(client, petition, lang, locale, other, url, html):
    page = html(client.get(url(lang, "home")))
    properties = meta(page, "property")
    names = meta(page, "name")
    home_url = f"{settings.SITE_URL}{url(lang, 'home')}"

    assert properties["og:url"] == [home_url]
    assert properties["og:title"] == [typeset(getattr(petition, f"title_{lang}"), lang)]
    assert properties["og:description"][0]
    assert properties["og:locale"] == [locale]
    assert properties["og:locale:alternate"] == [other]
    assert properties["og:type"] == ["website"]
    [image] = properties["og:image"]
    assert image.startswith(f"{settings.SITE_URL}/static/img/share-{lang}")
    assert properties["og:image:width"] == ["1200"]
    assert properties["og:image:height"] == ["630"]
    assert properties["og:image:alt"][0]
    assert names["twitter:card"] == ["summary_large_image"]
    assert page.find("link", rel="canonical").attrs["href"] == home_url


def test_a_personal_link_is_not_the_address_that_previews_and_search_engines_keep(
    client, petition, url, html
):
    page = html(client.get(url("fr", "home") + "?ref=" + "A" * 16))

    home_url = f"{settings.SITE_URL}{url('fr', 'home')}"
    assert meta(page, "property")["og:url"] == [home_url]
    assert page.find("link", rel="canonical").attrs["href"] == home_url


@pytest.mark.parametrize("lang", LANGUAGES)
def test_share_images_are_small_1200_by_630_pictures(lang):
    path = Path(finders.find(f"img/share-{lang}.png"))

    assert png_size(path) == (1200, 630)
    assert path.stat().st_size < 100_000


def test_the_site_has_an_icon_of_its_own(client, petition, url, html):
    page = html(client.get(url("fr", "home")))

    icon = page.find("link", rel="icon")
    assert icon.attrs["href"] == "/static/img/favicon.svg"
    assert finders.find("img/favicon.svg")
    touch = page.find("link", rel="apple-touch-icon")
    assert png_size(Path(finders.find(touch.attrs["href"].removeprefix("/static/")))) == (180, 180)


def loaded_by(page) -> list[str]:
    """The addresses a browser fetches on its own to show a page (links to click excepted)."""
    fetched = [tag.attrs.get("src", "") for tag in page.find_all("script")]
    for tag in page.find_all("link"):
        if tag.attrs.get("rel") not in {"alternate", "canonical"}:
            fetched.append(tag.attrs.get("href", ""))
    for name in ("img", "iframe", "source", "video", "audio", "embed", "object"):
        fetched.extend(
            tag.attrs.get("src", tag.attrs.get("data", "")) for tag in page.find_all(name)
        )
    return fetched


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_public_page_loads_anything_from_elsewhere(client, lang, public_paths, html):
    for path in public_paths(lang):
        page = html(client.get(path))

        fetched = loaded_by(page)

        assert fetched, path
        assert all(address.startswith("/static/") for address in fetched), (path, fetched)
        # No inline script either: what the pages do is all in the site's own files.
        assert all(tag.attrs.get("src") for tag in page.find_all("script")), path
