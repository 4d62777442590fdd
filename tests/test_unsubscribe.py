"""Stopping the campaign's e-mails: from the page's button, or in one click from a mail client."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core import signing

from petition.models import Signature
from petition.tasks import refresh_signature_count
from petition.tokens import UNSUBSCRIBE_SALT, make_confirmation_token

LANGUAGES = ["fr", "en"]
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


@pytest.fixture
def unsubscribe_link(sign, mailoutbox):
    """unsubscribe_link(lang=...): sign, and return the List-Unsubscribe address's path."""

    def unsubscribe_link(*, lang: str = "fr") -> str:
        sign(lang=lang)
        header = mailoutbox[-1].extra_headers["List-Unsubscribe"]
        return urlsplit(header.strip("<>")).path

    return unsubscribe_link


def one_click(client_factory, link: str):
    """What a mail provider sends (RFC 8058): a POST with no cookie and no CSRF token."""
    return client_factory(enforce_csrf_checks=True).post(
        link, ONE_CLICK_BODY, content_type="application/x-www-form-urlencoded"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_opening_the_link_asks_for_confirmation_and_changes_nothing(
    csrf_client, unsubscribe_link, lang, html, translated
):
    link = unsubscribe_link(lang=lang)

    response = csrf_client.get(link)

    assert response.status_code == 200
    page = html(response)
    assert page.find("html").attrs["lang"] == lang
    assert page.find("h1").text == translated(lang, "Stop e-mails from the campaign")
    [form] = page.find("main").find_all("form")
    assert form.attrs["method"] == "post"
    assert form.find("button", type="submit").text == translated(lang, "Unsubscribe")
    assert Signature.objects.get().unsubscribed_at is None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pressing_the_button_unsubscribes(csrf_client, unsubscribe_link, lang, html, translated):
    link = unsubscribe_link(lang=lang)
    form = html(csrf_client.get(link)).find("main").find("form")

    response = csrf_client.post(form.attrs.get("action") or link, form.form_data())

    assert response.status_code == 200
    page = html(response)
    assert page.find("html").attrs["lang"] == lang
    assert page.find("h1").text == translated(lang, "You are unsubscribed")
    assert Signature.objects.get().unsubscribed_at is not None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_one_click_unsubscribe_from_a_mail_client_works_without_cookie_or_token(
    settings, client_factory, unsubscribe_link, lang
):
    settings.SITE_URL = "https://manifeste.example.org"
    link = unsubscribe_link(lang=lang)

    response = one_click(client_factory, link)

    assert response.status_code == 200
    assert Signature.objects.get().unsubscribed_at is not None


def test_unsubscribing_twice_changes_nothing_more(
    client_factory, client, unsubscribe_link, html, translated
):
    link = unsubscribe_link()
    one_click(client_factory, link)
    unsubscribed_at = Signature.objects.get().unsubscribed_at

    again = one_click(client_factory, link)
    page = html(client.get(link))

    assert again.status_code == 200
    assert Signature.objects.get().unsubscribed_at == unsubscribed_at
    assert page.find("main").find_all("form") == []
    assert translated(
        "fr", "You are already unsubscribed: you will receive no more news of the campaign."
    ) in (page.find("main").text)


def test_an_unsubscribed_signature_still_counts(
    client_factory, petition, unsubscribe_link, mailoutbox, email_links, press_button, url
):
    link = unsubscribe_link()
    press_button(email_links(mailoutbox[0])["confirm"])

    one_click(client_factory, link)
    refresh_signature_count(petition.pk)

    signature = Signature.objects.get()
    assert signature.unsubscribed_at is not None
    assert signature.confirmed_at is not None
    api = client_factory().get(url("fr", "petition_api", petition.slug)).json()
    assert api["signature_count"] == 1


def test_unsubscribing_a_pending_signature_does_not_confirm_it(client_factory, unsubscribe_link):
    one_click(client_factory, unsubscribe_link())

    signature = Signature.objects.get()
    assert signature.unsubscribed_at is not None
    assert signature.confirmed_at is None


def test_an_old_unsubscribe_link_still_works(
    settings, client_factory, unsubscribe_link, aged_token, url
):
    token = unsubscribe_link().rstrip("/").rsplit("/", 1)[1]
    old = aged_token(token, salt=UNSUBSCRIBE_SALT, seconds=3 * settings.CONFIRMATION_MAX_AGE)

    response = one_click(client_factory, url("fr", "unsubscribe", old))

    assert response.status_code == 200
    assert Signature.objects.get().unsubscribed_at is not None


@pytest.mark.parametrize(
    "spoil",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: signing.dumps(
            signing.loads(token, salt=UNSUBSCRIBE_SALT), salt=UNSUBSCRIBE_SALT, key="guessed"
        ),
        lambda token: "garbage",
    ],
    ids=["tampered", "forged", "garbage"],
)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_spoilt_unsubscribe_link_gets_a_clear_page_and_changes_nothing(
    client_factory, unsubscribe_link, spoil, lang, url, html, translated
):
    token = unsubscribe_link(lang=lang).rstrip("/").rsplit("/", 1)[1]
    spoilt = url(lang, "unsubscribe", spoil(token))

    opened = client_factory().get(spoilt)
    pressed = one_click(client_factory, spoilt)

    for response in (opened, pressed):
        assert response.status_code == 400
        page = html(response)
        assert page.find("html").attrs["lang"] == lang
        assert page.find("h1").text == translated(lang, "This link does not work")
    assert Signature.objects.get().unsubscribed_at is None


def test_a_confirmation_link_cannot_unsubscribe(client_factory, sign, url):
    sign()
    token = make_confirmation_token(Signature.objects.get())

    response = one_click(client_factory, url("fr", "unsubscribe", token))

    assert response.status_code == 400
    assert Signature.objects.get().unsubscribed_at is None
