"""The public pages: the manifesto in both languages, the notices, language choice, errors."""

from __future__ import annotations

import socket

import pytest
from django.db import connection

from petition.models import Signature
from petition.templatetags.typography import hyphenate, typeset
from petition.tokens import (
    make_confirmation_token,
    make_unsubscribe_token,
    make_withdrawal_token,
)

LANGUAGES = ["fr", "en"]


def other_language(lang: str) -> str:
    return "en" if lang == "fr" else "fr"


@pytest.fixture
def page_args(petition, signature):
    """The arguments each public page's URL takes."""
    return {
        "home": (),
        "petition": (petition.slug,),
        "check_inbox": (petition.slug,),
        "privacy": (),
        "legal": (),
        "confirm": (make_confirmation_token(signature),),
        "unsubscribe": (make_unsubscribe_token(signature),),
    }


PAGES = ["home", "petition", "check_inbox", "privacy", "legal", "confirm", "unsubscribe"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_page_shows_the_manifesto_in_the_visitors_language(
    collapsed, client, petition, lang, url, html
):
    response = client.get(url(lang, "home"))

    assert response.status_code == 200
    page = html(response)
    main = page.find("main")
    # Staff texts are shown typeset for the page's language (French no-break spaces), and the
    # title's long words may break at line ends (soft hyphens).
    title = hyphenate(typeset(getattr(petition, f"title_{lang}"), lang), lang)
    assert main.find("h1").text == collapsed(title)
    for field in ("introduction", "conclusion", "notes", "about"):
        assert collapsed(typeset(getattr(petition, f"{field}_{lang}"), lang)) in main.text
    other = other_language(lang)
    assert collapsed(getattr(petition, f"introduction_{other}"))[:80] not in main.text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_page_lists_the_four_proposals_in_order(collapsed, client, petition, lang, url, html):
    page = html(client.get(url(lang, "home")))

    items = page.find("ol").find_all("li")
    expected = [
        collapsed(typeset(getattr(p, f"text_{lang}"), lang)) for p in petition.proposals.all()
    ]
    assert len(items) == 4
    assert [item.text for item in items] == expected


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_page_counts_only_confirmed_signatures(
    client, petition, lang, url, html, add_signatures
):
    add_signatures(confirmed=3, pending=2)

    counter = html(client.get(url(lang, "home"))).find(class_="counter")

    assert petition.signature_count == 3
    assert counter.find("strong").text == "3"
    assert counter.find("progress").attrs["value"] == "3"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_page_offers_the_signing_form(client, petition, lang, url, html):
    form = html(client.get(url(lang, "home"))).find("form", class_="sign-form")

    assert form.attrs["method"] == "post"
    assert form.attrs["action"].startswith(url(lang, "petition", petition.slug))
    fields = form.form_data()
    assert {"first_name", "last_name", "email", "country", "postal_code"} <= set(fields)
    assert fields["csrfmiddlewaretoken"]
    assert fields["country"] == "FR"
    assert form.find("button", type="submit")


@pytest.mark.parametrize(
    ("accept_language", "lang"),
    [("en-GB,en;q=0.9", "en"), ("en", "en"), ("fr-FR,fr;q=0.9,en;q=0.5", "fr"), ("fr", "fr")],
)
def test_root_redirects_to_the_language_the_browser_asks_for(
    client, petition, accept_language, lang, url
):
    response = client.get("/", headers={"accept-language": accept_language})

    assert response.status_code == 302
    assert response["Location"] == url(lang, "home")


def test_root_redirects_to_french_for_other_languages(client, petition, url):
    response = client.get("/", headers={"accept-language": "de-DE,de;q=0.9"})

    assert response["Location"] == url("fr", "home")


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_declares_its_language_and_its_translations(
    client, lang, name, url, html, page_args
):
    path = url(lang, name, *page_args[name])

    response = client.get(path)

    assert response.status_code == 200
    page = html(response)
    assert page.find("html").attrs["lang"] == lang
    alternates = {
        link.attrs["hreflang"]: link.attrs["href"]
        for link in page.find_all("link", rel="alternate")
    }
    assert alternates == {
        code: f"http://testserver{url(code, name, *page_args[name])}" for code in LANGUAGES
    }


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_links_to_the_privacy_and_legal_notices(
    client, lang, name, url, html, page_args, translated
):
    footer = html(client.get(url(lang, name, *page_args[name]))).find("footer")

    privacy = footer.find("a", href=url(lang, "privacy"))
    legal = footer.find("a", href=url(lang, "legal"))
    assert privacy.text == translated(lang, "Privacy notice")
    assert legal.text == translated(lang, "Legal notice")


@pytest.mark.parametrize(
    ("name", "heading"), [("privacy", "Privacy notice"), ("legal", "Legal notice")]
)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_notices_are_served_in_both_languages(client, lang, name, heading, url, html, translated):
    response = client.get(url(lang, name))

    assert response.status_code == 200
    page = html(response)
    assert page.find("html").attrs["lang"] == lang
    assert page.find("h1").text == translated(lang, heading)


@pytest.mark.parametrize("name", ["home", "privacy", "legal", "check_inbox", "confirm"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_language_switcher_opens_the_same_page_in_the_other_language(
    csrf_client, lang, name, url, html, page_args
):
    other = other_language(lang)
    page = html(csrf_client.get(url(lang, name, *page_args[name])))
    switcher = page.find("form", class_="language-switcher")
    button = switcher.find("button", value=other)

    assert switcher.attrs["method"] == "post"
    assert switcher.attrs["action"] == url(lang, "set_language")
    response = csrf_client.post(
        switcher.attrs["action"], {**switcher.form_data(), button.attrs["name"]: other}
    )

    assert response.status_code == 302
    assert response["Location"] == url(other, name, *page_args[name])
    landed = html(csrf_client.get(response["Location"]))
    assert landed.find("html").attrs["lang"] == other


@pytest.mark.parametrize("lang", LANGUAGES)
def test_language_switcher_shows_the_current_language_without_a_button(
    client, petition, lang, url, html
):
    switcher = html(client.get(url(lang, "home"))).find("form", class_="language-switcher")

    assert [button.attrs["value"] for button in switcher.find_all("button")] == [
        other_language(lang)
    ]
    assert switcher.find(aria_current="true").attrs["lang"] == lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_unknown_page_answers_a_translated_404(client, petition, lang, url, html, translated):
    response = client.get(f"{url(lang, 'home')}no-such-page/")

    assert response.status_code == 404
    page = html(response)
    assert page.find("html").attrs["lang"] == lang
    assert page.find("h1").text == translated(lang, "Page not found")
    assert page.find("main").find("a", href=url(lang, "home"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_unknown_petition_answers_a_translated_404(client, petition, lang, url, html, translated):
    response = client.get(url(lang, "petition", "no-such-petition"))

    assert response.status_code == 404
    page = html(response)
    assert page.find("html").attrs["lang"] == lang
    assert page.find("h1").text == translated(lang, "Page not found")


def nothing_listens() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_database_out_of_reach_answers_a_translated_503(
    requires_postgresql, client, lang, url, html, translated
):
    """A connection really refused: the page, through every middleware, and none of it needs
    the database. (tests/integration/test_faults.py cuts the database under load.)"""
    database = connection.settings_dict
    port = database["PORT"]
    connection.close()
    database["PORT"] = nothing_listens()
    try:
        response = client.get(url(lang, "home"))
    finally:
        connection.close()
        database["PORT"] = port

    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    page = html(response)
    assert page.find("html").attrs["lang"] == lang
    assert page.find("h1").text == translated(lang, "Temporarily unavailable")
    assert page.find("main").find("a", href=url(lang, "home"))


def test_404_page_differs_between_french_and_english(client, petition, url, html):
    french = html(client.get(f"{url('fr', 'home')}no-such-page/")).find("h1").text
    english = html(client.get(f"{url('en', 'home')}no-such-page/")).find("h1").text

    assert french != english


@pytest.mark.parametrize(
    ("view", "make_token"),
    [("confirm", make_confirmation_token), ("withdraw", make_withdrawal_token)],
)
def test_pages_that_quote_the_title_typeset_it_in_french(
    client, petition, signature, url, html, view, make_token
):
    page = html(client.get(url("fr", view, make_token(signature))))

    # "cyberpédocriminalité !" with a plain space could leave the mark alone on a line.
    assert typeset(petition.title_fr, "fr") in page.find("main").text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_closed_petition_shows_no_form(collapsed, client, petition, lang, url, html):
    petition.is_open = False
    petition.save()

    page = html(client.get(url(lang, "home")))

    assert not page.find_all("form", class_="sign-form")
    title = hyphenate(typeset(getattr(petition, f"title_{lang}"), lang), lang)
    assert page.find("h1").text == collapsed(title)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_expired_form_answers_a_translated_page_with_the_site_layout(
    csrf_client, petition, signer_data, lang, url, html, translated
):
    response = csrf_client.post(url(lang, "petition", petition.slug), signer_data)

    assert response.status_code == 403
    page = html(response)
    assert page.find("html").attrs["lang"] == lang
    assert page.find("h1").text == translated(lang, "Your form has expired")
    assert page.find("link", rel="alternate", hreflang="fr")
    assert not Signature.objects.exists()
