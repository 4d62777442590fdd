"""Rate limits on signing and on asking for the e-mail again."""

from __future__ import annotations

import pytest

from petition.models import Signature, SigningRequest

LANGUAGES = ["fr", "en"]
# A day-long window: a limit in a test never resets while the test runs.
TWO_A_DAY = "2/d"


@pytest.fixture
def small_limits(settings):
    settings.RATELIMIT_ENABLE = True
    settings.SIGN_RATE_PER_IP = TWO_A_DAY
    settings.SIGN_RATE_PER_EMAIL = TWO_A_DAY
    settings.RESEND_RATE_PER_IP = TWO_A_DAY
    settings.RESEND_RATE_PER_EMAIL = TWO_A_DAY
    return settings


def from_address(address: str) -> dict[str, str]:
    return {"REMOTE_ADDR": address}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_too_many_signatures_from_one_address_get_a_translated_429_page(
    small_limits, client, petition, signer_data, lang, url, html, translated, mailoutbox
):
    path = url(lang, "petition", petition.slug)
    for number in range(2):
        response = client.post(path, {**signer_data, "email": f"signer{number}@example.org"})
        assert response.status_code == 302

    response = client.post(path, {**signer_data, "email": "one.too.many@example.org"})

    assert response.status_code == 429
    page = html(response)
    assert page.find("html").attrs["lang"] == lang
    assert page.find("h1").text == translated(lang, "Too many attempts")
    assert not Signature.objects.filter(email="one.too.many@example.org").exists()


def test_the_429_page_differs_between_french_and_english(
    small_limits, client, petition, signer_data, url, html
):
    small_limits.SIGN_RATE_PER_IP = "0/d"
    headings = {}
    for lang in LANGUAGES:
        response = client.post(url(lang, "petition", petition.slug), signer_data)
        assert response.status_code == 429
        headings[lang] = html(response).find("h1").text

    assert headings["fr"] != headings["en"]


def test_one_address_signed_too_often_from_many_places_is_limited(
    small_limits, client_factory, petition, signer_data, url
):
    path = url("fr", "petition", petition.slug)
    variants = [signer_data["email"], signer_data["email"].upper(), signer_data["email"].title()]
    statuses = [
        client_factory()
        .post(path, {**signer_data, "email": email}, **from_address(f"192.0.2.{n}"))
        .status_code
        for n, email in enumerate(variants, start=1)
    ]

    assert statuses == [302, 302, 429]


def test_spellings_of_one_mailbox_share_its_limit(
    small_limits, client_factory, petition, signer_data, url
):
    path = url("fr", "petition", petition.slug)
    variants = [
        "camille.durand@gmail.com",
        "camilledurand+a@gmail.com",
        "c.amille.durand@googlemail.com",
    ]
    statuses = [
        client_factory()
        .post(path, {**signer_data, "email": email}, **from_address(f"192.0.2.{n}"))
        .status_code
        for n, email in enumerate(variants, start=1)
    ]

    assert statuses == [302, 302, 429]


def test_reading_the_page_is_never_limited(small_limits, client, petition, url):
    statuses = {client.get(url("fr", "petition", petition.slug)).status_code for _ in range(5)}

    assert statuses == {200}


def test_other_visitors_can_still_sign_when_one_is_limited(
    small_limits, client_factory, petition, signer_data, url
):
    path = url("fr", "petition", petition.slug)
    busy = client_factory()
    for number in range(3):
        busy.post(
            path, {**signer_data, "email": f"busy{number}@example.org"}, **from_address("192.0.2.1")
        )

    response = client_factory().post(path, signer_data, **from_address("192.0.2.2"))

    assert response.status_code == 302
    assert SigningRequest.objects.filter(email=signer_data["email"]).exists()


def test_asking_for_the_email_again_is_limited(
    small_limits,
    client,
    petition,
    sign,
    url,
    html,
    translated,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    sign()
    resend = url("en", "resend", petition.slug)

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [client.post(resend, **from_address(f"192.0.2.{n}")).status_code for n in (1, 2)]
        limited = client.post(resend, **from_address("192.0.2.3"))

    assert statuses == [200, 200]
    assert limited.status_code == 429
    assert html(limited).find("h1").text == translated("en", "Too many attempts")
    assert len(mailoutbox) == 1 + 2


def test_asking_for_the_email_again_from_one_address_is_limited(
    small_limits, client_factory, petition, url
):
    small_limits.RESEND_RATE_PER_EMAIL = "1000/d"
    resend = url("fr", "resend", petition.slug)

    statuses = [client_factory().post(resend).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_limits_can_be_turned_off_for_load_tests(
    small_limits, client, petition, signer_data, url, mailoutbox
):
    small_limits.RATELIMIT_ENABLE = False
    path = url("fr", "petition", petition.slug)

    statuses = [
        client.post(path, {**signer_data, "email": f"load{n}@example.org"}).status_code
        for n in range(5)
    ]

    assert statuses == [302] * 5
    assert SigningRequest.objects.count() == 5


def test_visitors_who_forget_their_address_all_get_the_form_error(
    small_limits, client_factory, petition, signer_data, url, html
):
    small_limits.SIGN_RATE_PER_IP = "1000/d"
    path = url("fr", "petition", petition.slug)

    statuses = [
        client_factory()
        .post(path, {**signer_data, "email": ""}, **from_address(f"192.0.2.{n}"))
        .status_code
        for n in range(1, 6)
    ]

    assert statuses == [400] * 5


def test_visitors_with_nothing_to_resend_do_not_use_up_each_others_limit(
    small_limits, client_factory, petition, url
):
    small_limits.RESEND_RATE_PER_IP = "1000/d"
    resend = url("fr", "resend", petition.slug)

    statuses = [
        client_factory().post(resend, **from_address(f"192.0.2.{n}")).status_code
        for n in range(1, 6)
    ]

    assert statuses == [200] * 5
