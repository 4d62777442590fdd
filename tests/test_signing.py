"""Signing the manifesto: the form, the e-mail it triggers, and signing again."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django import forms
from django.core.validators import EmailValidator
from django.utils import translation

from petition.models import Signature, SigningRequest
from petition.views import ASKED_AT_SESSION_KEY

LANGUAGES = ["fr", "en"]
CONFIRM_SUBJECT = "Confirm your signature of the CAMELEON manifesto"
ALREADY_SIGNED_SUBJECT = "You have already signed the CAMELEON manifesto"


def html_part(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


@pytest.mark.parametrize("lang", LANGUAGES)
def test_signing_leads_to_the_check_your_inbox_page(
    client, petition, sign, lang, url, html, translated
):
    response = sign(lang=lang)

    assert response.status_code == 302
    assert response["Location"] == url(lang, "check_inbox", petition.slug)
    page = html(client.get(response["Location"]))
    assert page.find("html").attrs["lang"] == lang
    assert page.find("h1").text == translated(lang, "Check your inbox")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_signing_records_what_the_signer_typed_and_their_language(
    petition, sign, signer_data, lang
):
    sign(lang=lang, wants_news="on")

    signature = Signature.objects.get()
    assert signature.petition == petition
    assert signature.first_name == signer_data["first_name"]
    assert signature.last_name == signer_data["last_name"]
    assert signature.email == signer_data["email"]
    assert signature.country == signer_data["country"]
    assert signature.postal_code == signer_data["postal_code"]
    assert signature.wants_news is True
    assert signature.language == lang
    assert signature.confirmed_at is None


def test_signing_does_not_count_before_confirmation(client, petition, sign, url, html):
    sign()

    counter = html(client.get(url("fr", "home"))).find(class_="counter")
    assert counter.find("progress").attrs["value"] == "0"


def test_confirmation_email_leaves_only_after_the_signature_is_committed(
    client, petition, signer_data, url, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("fr", "petition", petition.slug), signer_data)
        assert response.status_code == 302
        assert SigningRequest.objects.filter(email=signer_data["email"]).exists()
        assert mailoutbox == []

    assert Signature.objects.filter(email=signer_data["email"]).exists()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [signer_data["email"]]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_confirmation_email_speaks_the_signers_language(
    petition, sign, lang, mailoutbox, email_links, translated
):
    sign(lang=lang)

    [message] = mailoutbox
    title = getattr(petition, f"title_{lang}")
    assert message.subject == translated(lang, CONFIRM_SUBJECT)
    assert title in message.body
    assert translated(lang, "The CAMELEON team") in message.body
    assert f'<html lang="{lang}">' in html_part(message)
    links = email_links(message)
    assert links["confirm"].startswith(f"/{lang}/")
    assert links["unsubscribe"].startswith(f"/{lang}/")


def test_confirmation_emails_differ_between_french_and_english(sign, mailoutbox):
    sign(lang="fr", email="camille@example.org")
    sign(lang="en", email="sam@example.org")

    french, english = mailoutbox
    assert french.subject != english.subject
    assert french.body.split("\n")[0] != english.body.split("\n")[0]
    assert html_part(french) != html_part(english)


def test_confirmation_email_has_a_text_and_an_html_part_with_the_same_links(sign, mailoutbox, html):
    sign()

    [message] = mailoutbox
    mime = message.message()
    assert mime.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mime.get_payload()] == ["text/plain", "text/html"]
    text_links = set(re.findall(r"https?://\S+", message.body))
    html_links = {link.attrs["href"] for link in html(html_part(message)).find_all("a")}
    assert len(text_links) == 2
    assert text_links <= html_links


def test_confirmation_email_carries_one_click_unsubscribe_headers(
    settings, sign, mailoutbox, email_links
):
    settings.SITE_URL = "https://manifeste.example.org"

    sign()

    [message] = mailoutbox
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<")
    assert header.endswith(">")
    address = urlsplit(header[1:-1])
    assert address.scheme == "https"
    assert address.netloc == "manifeste.example.org"
    assert address.path == email_links(message)["unsubscribe"]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert header[1:-1] in message.body
    assert header[1:-1] in html_part(message)
    mime = message.message()
    assert mime["List-Unsubscribe"] == header
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_confirmation_link_opens_the_confirmation_page(client, sign, mailoutbox, email_links):
    sign()

    response = client.get(email_links(mailoutbox[0])["confirm"])

    assert response.status_code == 200


def test_names_with_markup_reach_the_html_email_escaped(sign, mailoutbox):
    sign(first_name="<b>Camille</b>")

    [message] = mailoutbox
    assert "<b>Camille</b>" not in html_part(message)
    assert "&lt;b&gt;Camille&lt;/b&gt;" in html_part(message)
    assert "<b>Camille</b>" in message.body


# Errors on the form.


def form_field(page, name: str):
    return page.find("select" if name == "country" else "input", name=name)


def field_errors(page, name: str) -> list[str]:
    """The errors shown in the block that holds a field and its label."""
    group = form_field(page, name).closest("div", class_="field")
    return [
        item.text
        for errors in group.find_all("ul", class_="errorlist")
        for item in errors.find_all("li")
    ]


def assert_field_flagged(page, name: str) -> None:
    field = form_field(page, name)
    assert field.attrs["aria-invalid"] == "true"
    error_list = page.find("ul", id=f"{field.attrs['id']}_error")
    assert error_list.attrs["id"] in field.attrs["aria-describedby"].split()
    assert field.closest("div", class_="field") is error_list.closest("div", class_="field")


def in_language(lang: str, message) -> str:
    """One of Django's own lazy messages, as Django's catalogues render it in lang."""
    with translation.override(lang):
        return str(message)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_missing_fields_are_flagged_each_next_to_its_field(
    petition, sign, lang, html, mailoutbox, translated
):
    response = sign(lang=lang, first_name="", last_name="  ", email="")

    assert response.status_code == 400
    page = html(response)
    assert page.find("html").attrs["lang"] == lang
    required = in_language(lang, forms.Field.default_error_messages["required"])
    for name in ("first_name", "last_name", "email"):
        assert_field_flagged(page, name)
        assert field_errors(page, name) == [required]
    assert page.find(role="alert").find("p").text == translated(
        lang, "Please correct the errors below."
    )
    assert not Signature.objects.exists()
    assert mailoutbox == []


def test_field_errors_are_translated(sign, html):
    french = field_errors(html(sign(lang="fr", first_name="")), "first_name")
    english = field_errors(html(sign(lang="en", first_name="")), "first_name")
    french_postal = field_errors(html(sign(lang="fr", postal_code="")), "postal_code")
    english_postal = field_errors(html(sign(lang="en", postal_code="")), "postal_code")

    assert french != english
    assert french_postal != english_postal


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("email", ["camille", "camille@", "@example.org", "camille@@example.org"])
def test_malformed_email_is_refused_on_its_field(
    petition, sign, lang, email, html, mailoutbox, translated
):
    response = sign(lang=lang, email=email)

    assert response.status_code == 400
    page = html(response)
    assert_field_flagged(page, "email")
    assert field_errors(page, "email") == [in_language(lang, EmailValidator.message)]
    assert not Signature.objects.exists()
    assert mailoutbox == []


NON_ASCII_MAILBOX = (
    "Our e-mails cannot reach an address with accents or other special letters before the @: "
    "please use another address."
)


@pytest.mark.parametrize("lang", LANGUAGES)
# EmailValidator lets through the letters that IGNORECASE folds to ASCII (İ, the Kelvin sign).
@pytest.mark.parametrize(
    "email",
    ["élodie@example.org", "İlkay@example.org", "\u212aarl@example.org", "пётр@example.org"],
)
def test_an_address_our_mail_cannot_reach_is_refused_with_a_reason(
    petition, sign, lang, email, html, mailoutbox, translated
):
    response = sign(lang=lang, email=email)

    assert response.status_code == 400
    page = html(response)
    assert_field_flagged(page, "email")
    assert field_errors(page, "email") == [translated(lang, NON_ASCII_MAILBOX)]
    assert (translated(lang, NON_ASCII_MAILBOX) != NON_ASCII_MAILBOX) == (lang == "fr")
    assert not Signature.objects.exists()
    assert mailoutbox == []


def test_an_accented_domain_is_still_accepted_and_mailed_in_its_ascii_form(sign, mailoutbox):
    response = sign(email="camille@exemple-été.fr")

    assert response.status_code == 302
    [message] = mailoutbox
    assert message.message()["To"] == "camille@xn--exemple-t-i4ab.fr"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(
    ("postal_code", "message"),
    [
        ("", "Please enter your postal code."),
        ("7501", "A French postal code has five digits, such as 75011."),
        ("750111", "A French postal code has five digits, such as 75011."),
        ("75O11", "A French postal code has five digits, such as 75011."),
        ("75 011", "A French postal code has five digits, such as 75011."),
    ],
)
def test_french_signers_must_give_a_five_digit_postal_code(
    petition, sign, lang, postal_code, message, html, translated
):
    response = sign(lang=lang, country="FR", postal_code=postal_code)

    assert response.status_code == 400
    page = html(response)
    assert_field_flagged(page, "postal_code")
    assert field_errors(page, "postal_code") == [translated(lang, message)]
    assert not Signature.objects.exists()


@pytest.mark.parametrize(("country", "postal_code"), [("BE", ""), ("CA", "H2X 1Y4"), ("CH", "")])
def test_postal_code_is_optional_outside_france(
    petition, sign, country, postal_code, url, mailoutbox
):
    response = sign(country=country, postal_code=postal_code)

    assert response.status_code == 302
    assert response["Location"] == url("fr", "check_inbox", petition.slug)
    signature = Signature.objects.get()
    assert (signature.country, signature.postal_code) == (country, postal_code)
    assert len(mailoutbox) == 1


@pytest.mark.parametrize("lang", LANGUAGES)
def test_typed_values_stay_in_the_form_after_an_error(petition, sign, lang, html):
    response = sign(
        lang=lang,
        first_name="Camille",
        last_name="Durand",
        email="camille.durand@",
        country="BE",
        postal_code="1000",
        wants_news="on",
    )

    assert response.status_code == 400
    form = html(response).find("form", class_="sign-form")
    assert form.form_data() | {"csrfmiddlewaretoken": "", "started": ""} == {
        "csrfmiddlewaretoken": "",
        "started": "",
        "website": "",
        "consent": "on",
        "first_name": "Camille",
        "last_name": "Durand",
        "email": "camille.durand@",
        "country": "BE",
        "postal_code": "1000",
        "wants_news": "on",
    }


def test_unknown_country_is_refused(petition, sign, html):
    response = sign(country="XX")

    assert response.status_code == 400
    assert_field_flagged(html(response), "country")
    assert not Signature.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"first_name": "Cam\x00ille"},
        {"last_name": "Dur\x1band"},
        {"first_name": "C" * 101},
        {"email": f"{'c' * 250}@example.org"},
        {"postal_code": "1" * 13, "country": "BE"},
        {"postal_code": "<script>", "country": "BE"},
    ],
)
def test_hostile_input_gets_a_form_error_not_a_server_error(petition, sign, changes, mailoutbox):
    response = sign(**changes)

    assert response.status_code == 400
    assert not Signature.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_closed_petition_refuses_signatures(petition, sign, lang, html, translated, mailoutbox):
    petition.is_open = False
    petition.save()

    response = sign(lang=lang)

    assert response.status_code == 403
    assert (
        translated(
            lang,
            "This petition is closed: it no longer takes signatures. "
            "Thank you to everyone who signed.",
        )
        in html(response).find("main").text
    )
    assert not Signature.objects.exists()
    assert mailoutbox == []


# Signing again with the same address.


def test_signing_again_in_another_letter_case_keeps_one_signature(sign, signer_data):
    sign()
    sign(email=signer_data["email"].upper(), first_name="Someone", last_name="Else")

    signature = Signature.objects.get()
    assert signature.email == signer_data["email"]
    assert signature.first_name == signer_data["first_name"]


@pytest.mark.parametrize("confirmed", [False, True], ids=["pending", "confirmed"])
def test_signing_again_answers_exactly_like_a_first_signature(
    client, petition, sign, signer_data, confirmed, url
):
    first = sign(email="first.time@example.org")
    sign(client=client, email=signer_data["email"])
    if confirmed:
        Signature.objects.get(email=signer_data["email"]).mark_confirmed()

    again = sign(email=signer_data["email"].swapcase())

    assert (again.status_code, again["Location"]) == (first.status_code, first["Location"])
    assert again.content == first.content


def test_signing_again_leaves_the_browser_nothing_that_tells_the_address_had_signed(
    petition, sign, signer_data, client_factory
):
    sign(client=client_factory(), email=signer_data["email"])
    visitor_who_finds_a_signature = client_factory()
    sign(client=visitor_who_finds_a_signature, email=signer_data["email"].upper())
    Signature.objects.all().delete()
    visitor_who_signs_first = client_factory()
    sign(client=visitor_who_signs_first, email=signer_data["email"].upper())

    # The same keys and address; only the time each browser asked differs.
    found, first = (
        dict(visitor_who_finds_a_signature.session),
        dict(visitor_who_signs_first.session),
    )
    assert found.keys() == first.keys()
    assert {**found, ASKED_AT_SESSION_KEY: 0} == {**first, ASKED_AT_SESSION_KEY: 0}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_signing_again_while_pending_resends_the_confirmation_link(
    client, sign, signer_data, lang, mailoutbox, email_links, translated
):
    sign(lang=lang)
    sign(lang=lang, email=signer_data["email"].upper())

    _, second = mailoutbox
    assert second.to == [signer_data["email"]]
    assert second.subject == translated(lang, CONFIRM_SUBJECT)
    response = client.get(email_links(second)["confirm"])
    assert response.status_code == 200


@pytest.mark.parametrize("lang", LANGUAGES)
def test_signing_again_once_confirmed_sends_an_already_signed_email(
    sign, signer_data, lang, mailoutbox, email_links, translated
):
    sign(lang=lang)
    Signature.objects.get().mark_confirmed()

    sign(lang=lang, email=signer_data["email"].title())

    second = mailoutbox[-1]
    assert len(mailoutbox) == 2
    assert second.to == [signer_data["email"]]
    assert second.subject == translated(lang, ALREADY_SIGNED_SUBJECT)
    links = email_links(second)
    assert "confirm" not in links
    assert "unsubscribe" in links
    assert second.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize(
    ("stored", "typed"),
    [("abi@example.org", "ab\u0130@example.org"), ("kim@example.org", "\u212aim@example.org")],
    ids=["dotted-capital-i", "kelvin-sign"],
)
def test_signing_again_with_an_unusual_case_variant_is_refused_with_a_reason(
    petition, sign, stored, typed, html, translated, mailoutbox
):
    sign(email=stored)

    response = sign(email=typed)

    # These letters fold to ASCII, but no mail would reach them as typed: the signer is told.
    assert response.status_code == 400
    assert field_errors(html(response), "email") == [translated("fr", NON_ASCII_MAILBOX)]
    assert list(Signature.objects.values_list("email", flat=True)) == [stored]
    assert len(mailoutbox) == 1


def test_addresses_that_differ_only_by_look_alike_letters_never_break_signing(petition, sign, url):
    sign(email="abs@example.org")
    sign(email="ab\u017f@example.org")

    response = sign(email="ABS@example.org")

    assert response.status_code == 302
    assert response["Location"] == url("fr", "check_inbox", petition.slug)


# Asking for the e-mail again from the check-your-inbox page.


@pytest.mark.parametrize("lang", LANGUAGES)
def test_check_inbox_page_sends_the_email_again(
    csrf_client,
    petition,
    sign,
    signer_data,
    lang,
    url,
    html,
    mailoutbox,
    translated,
    email_links,
    django_capture_on_commit_callbacks,
):
    signing_form = html(csrf_client.get(url(lang, "home"))).find("form", class_="sign-form")
    with django_capture_on_commit_callbacks(execute=True):
        response = csrf_client.post(
            signing_form.attrs["action"], {**signing_form.form_data(), **signer_data}
        )
    page = html(csrf_client.get(response["Location"]))
    resend_form = page.find("form", action=url(lang, "resend", petition.slug))

    with django_capture_on_commit_callbacks(execute=True):
        response = csrf_client.post(resend_form.attrs["action"], resend_form.form_data())

    assert response.status_code == 200
    assert html(response).find(role="status").text == translated(
        lang,
        "If a signature is waiting for confirmation from this browser, "
        "we have sent its e-mail again.",
    )
    first, second = mailoutbox
    assert second.to == first.to == [signer_data["email"]]
    assert second.subject == first.subject
    assert "confirm" in email_links(second)


def test_resend_from_a_browser_that_did_not_sign_sends_nothing_but_says_the_same(
    client,
    client_factory,
    petition,
    sign,
    url,
    html,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    sign()
    mailoutbox.clear()
    resend = url("fr", "resend", petition.slug)

    with django_capture_on_commit_callbacks(execute=True):
        signer_page = client.post(resend)
        stranger_page = client_factory().post(resend)

    assert (signer_page.status_code, stranger_page.status_code) == (200, 200)
    assert html(stranger_page).find("main").text == html(signer_page).find("main").text
    assert len(mailoutbox) == 1
