"""Confirming a signature from the link in the e-mail: only the button's POST confirms."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core import signing

from petition.models import Signature
from petition.tokens import CONFIRM_SALT, make_unsubscribe_token

LANGUAGES = ["fr", "en"]
CONFIRMED = "Thank you, your signature is confirmed!"
ALREADY_CONFIRMED = "Your signature was already confirmed"
INVALID_LINK = "This link does not work"


@pytest.fixture
def public_count(client, petition, url, html):
    """public_count(): the count as the public sees it, on the page and through the API."""

    def public_count() -> tuple[str, int]:
        counter = html(client.get(url("fr", "home"))).find(class_="counter")
        api = client.get(url("fr", "petition_api", petition.slug)).json()
        return counter.find("progress").attrs["value"], api["signature_count"]

    return public_count


@pytest.mark.parametrize("lang", LANGUAGES)
def test_opening_the_link_shows_one_button_and_changes_nothing(
    csrf_client, confirm_link, lang, html, translated, public_count
):
    link = confirm_link(lang=lang)

    response = csrf_client.get(link)
    head = csrf_client.head(link)

    assert response.status_code == 200
    assert head.status_code == 200
    page = html(response)
    assert page.find("html").attrs["lang"] == lang
    assert page.find("h1").text == translated(lang, "Confirm your signature")
    [form] = page.find("main").find_all("form")
    assert form.attrs["method"] == "post"
    assert form.find("button", type="submit").text == translated(lang, "Confirm my signature")
    assert Signature.objects.get().confirmed_at is None
    assert public_count() == ("0", 0)


def test_opening_the_link_many_times_changes_nothing(client, confirm_link, public_count):
    link = confirm_link()

    for _ in range(3):
        client.get(link)

    assert not Signature.objects.confirmed().exists()
    assert public_count() == ("0", 0)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pressing_the_button_confirms_and_counts_the_signature(
    confirm_link, press_button, lang, html, translated, public_count
):
    response = press_button(confirm_link(lang=lang))

    assert response.status_code == 200
    page = html(response)
    assert page.find("html").attrs["lang"] == lang
    assert page.find("h1").text == translated(lang, CONFIRMED)
    assert Signature.objects.get().confirmed_at is not None
    assert public_count() == ("1", 1)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_confirming_again_says_so_and_counts_once(
    confirm_link, press_button, lang, html, translated, public_count
):
    link = confirm_link(lang=lang)
    press_button(link)
    confirmed_at = Signature.objects.get().confirmed_at

    response = press_button(link)

    assert response.status_code == 200
    assert html(response).find("h1").text == translated(lang, ALREADY_CONFIRMED)
    assert Signature.objects.get().confirmed_at == confirmed_at
    assert public_count() == ("1", 1)


def test_confirmation_counts_alongside_other_signatures(
    confirm_link, press_button, add_signatures, public_count
):
    add_signatures(confirmed=2, pending=3)

    press_button(confirm_link())

    assert public_count() == ("3", 3)


def test_confirming_without_the_forms_csrf_token_changes_nothing(
    csrf_client, confirm_link, public_count
):
    link = confirm_link()

    response = csrf_client.post(link)

    assert response.status_code == 403
    assert Signature.objects.get().confirmed_at is None
    assert public_count() == ("0", 0)


def tampered(token: str) -> str:
    """The token with one character of its signature changed."""
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


def altered_payload(token: str) -> str:
    """The token with one character of its content changed."""
    first = token[0]
    return ("f" if first != "f" else "e") + token[1:]


def forged(token: str) -> str:
    """A token with the same content, signed with a key the site does not have."""
    payload = signing.loads(token, salt=CONFIRM_SALT)
    return signing.dumps(payload, salt=CONFIRM_SALT, key="a-key-guessed-by-a-forger")


@pytest.mark.parametrize(
    "spoil",
    [
        tampered,
        altered_payload,
        forged,
        lambda token: token[: len(token) // 2],
        lambda token: token.split(":")[0],
        lambda token: "garbage",
        lambda token: "W1siMSJdXQ:1tXyZz:bm90LWEtc2lnbmF0dXJl",
        lambda token: "\x00'\"<script>alert(1)<script>",
    ],
    ids=[
        "tampered",
        "altered",
        "forged",
        "truncated",
        "unsigned",
        "garbage",
        "made-up",
        "hostile",
    ],
)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_spoilt_link_gets_a_clear_page_and_changes_nothing(
    client, confirm_link, spoil, lang, url, html, translated, public_count
):
    link = confirm_link(lang=lang)
    token = link.rstrip("/").rsplit("/", 1)[1]
    spoilt = url(lang, "confirm", "-").removesuffix("-/") + quote(spoil(token), safe="") + "/"

    opened = client.get(spoilt)
    pressed = client.post(spoilt)

    for response in (opened, pressed):
        assert response.status_code == 400
        page = html(response)
        assert page.find("html").attrs["lang"] == lang
        assert page.find("h1").text == translated(lang, INVALID_LINK)
    assert Signature.objects.get().confirmed_at is None
    assert public_count() == ("0", 0)


def test_an_expired_link_gets_a_clear_page_and_changes_nothing(
    settings, client, confirm_link, aged_token, url, html, translated, public_count
):
    token = confirm_link().rstrip("/").rsplit("/", 1)[1]
    expired = aged_token(token, salt=CONFIRM_SALT, seconds=settings.CONFIRMATION_MAX_AGE + 60)

    response = client.post(url("fr", "confirm", expired))

    assert response.status_code == 400
    assert html(response).find("h1").text == translated("fr", INVALID_LINK)
    assert Signature.objects.get().confirmed_at is None
    assert public_count() == ("0", 0)


def test_a_link_still_works_just_before_it_expires(
    settings, confirm_link, aged_token, press_button, url, public_count
):
    token = confirm_link().rstrip("/").rsplit("/", 1)[1]
    old = aged_token(token, salt=CONFIRM_SALT, seconds=settings.CONFIRMATION_MAX_AGE - 60)

    press_button(url("fr", "confirm", old))

    assert public_count() == ("1", 1)


def test_a_shorter_confirmation_max_age_shortens_the_links_life(
    settings, client, confirm_link, aged_token, url
):
    token = confirm_link().rstrip("/").rsplit("/", 1)[1]
    two_hours_old = aged_token(token, salt=CONFIRM_SALT, seconds=2 * 3600)
    assert client.get(url("fr", "confirm", two_hours_old)).status_code == 200

    settings.CONFIRMATION_MAX_AGE = 3600

    assert client.get(url("fr", "confirm", two_hours_old)).status_code == 400


def test_an_unsubscribe_link_cannot_confirm(client, confirm_link, url, html, public_count):
    confirm_link()
    token = make_unsubscribe_token(Signature.objects.get())

    response = client.post(url("fr", "confirm", token))

    assert response.status_code == 400
    assert Signature.objects.get().confirmed_at is None
    assert public_count() == ("0", 0)


def test_a_link_stops_working_once_the_signature_is_withdrawn(client, confirm_link):
    link = confirm_link()
    Signature.objects.all().delete()

    assert client.get(link).status_code == 400
    assert client.post(link).status_code == 400


def test_a_link_stops_working_once_the_address_is_changed(client, confirm_link):
    link = confirm_link()
    Signature.objects.update(email="someone.else@example.org")

    assert client.post(link).status_code == 400
    assert Signature.objects.get().confirmed_at is None


@pytest.mark.django_db(transaction=True)
def test_the_thank_you_page_already_counts_the_new_signature(
    petition, client, signer_data, url, mailoutbox, email_links, html
):
    client.post(url("fr", "petition", petition.slug), signer_data)
    link = email_links(mailoutbox[0])["confirm"]

    response = client.post(link)

    counter = html(response).find(class_="counter")
    assert counter.find("progress").attrs["value"] == "1"
