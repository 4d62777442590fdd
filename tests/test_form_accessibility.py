"""The signing form as assistive technologies read it: every field labelled, with the
autocomplete token of what it asks for; the consent box in a fieldset with a legend; errors
summed up at the top, each linking to its field, and tied to the field itself."""

from __future__ import annotations

import pytest

LANGUAGES = ["fr", "en"]
# WCAG 1.3.5: the purpose of each field that asks about the signer, as HTML names it.
AUTOCOMPLETE = {
    "first_name": "given-name",
    "last_name": "family-name",
    "email": "email",
    "country": "country",
    "postal_code": "postal-code",
}


def signing_form(page):
    return page.find("form", class_="sign-form")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_field_has_a_label_and_an_autocomplete_token(client, petition, lang, url, html):
    form = signing_form(html(client.get(url(lang, "home"))))

    fields = [
        field
        for field in form.find_all()
        if field.tag in {"input", "select", "textarea"}
        and field.attrs.get("type") not in {"hidden", "submit"}
    ]
    # With the two consent boxes, and the honeypot, which only programs ever see.
    assert {field.attrs["name"] for field in fields} == {
        *AUTOCOMPLETE,
        "consent",
        "wants_news",
        "website",
    }
    for field in fields:
        label = form.find("label", for_=field.attrs["id"])
        assert label.text, field
        if field.attrs["name"] in AUTOCOMPLETE:
            assert field.attrs["autocomplete"] == AUTOCOMPLETE[field.attrs["name"]]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_news_box_sits_in_a_fieldset_with_a_legend(client, petition, lang, url, html):
    form = signing_form(html(client.get(url(lang, "home"))))

    checkbox = form.find("input", type="checkbox", name="wants_news")
    fieldset = checkbox.closest("fieldset")
    assert fieldset.find("legend").text
    assert "checked" not in checkbox.attrs, "consent is never ticked in advance"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_consent_to_sign_is_its_own_box_never_ticked_in_advance(client, petition, lang, url, html):
    form = signing_form(html(client.get(url(lang, "home"))))

    checkbox = form.find("input", type="checkbox", name="consent")
    assert "checked" not in checkbox.attrs
    assert "required" in checkbox.attrs
    news = form.find("input", type="checkbox", name="wants_news").closest("fieldset")
    assert not news.find_all("input", name="consent"), "not grouped with the optional news box"
    assert form.find("label", for_=checkbox.attrs["id"]).text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_errors_are_summed_up_focused_and_tied_to_their_fields(
    sign, lang, html, translated, collapsed
):
    response = sign(lang=lang, first_name="", email="camille@", postal_code="")

    assert response.status_code == 400
    form = signing_form(html(response))
    summary = form.find(id="form-errors")
    assert summary.attrs["role"] == "alert"
    assert "autofocus" in summary.attrs
    assert summary.attrs["tabindex"] == "-1"
    links = {a.attrs["href"]: a.text for a in summary.find_all("a")}
    assert set(links) == {"#id_first_name", "#id_email", "#id_postal_code"}
    assert links["#id_email"].startswith(translated(lang, "E-mail address"))
    for href in links:
        field = form.find(id=href.removeprefix("#"))
        assert field.attrs["aria-invalid"] == "true"
        descriptions = [
            form.find(id=ident).text for ident in field.attrs["aria-describedby"].split()
        ]
        # The field's own message is read with it, and is the one the summary quotes.
        assert any(text and text in collapsed(links[href]) for text in descriptions), href


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_summary_quotes_the_consent_box_by_its_message_alone(sign, lang, html, translated):
    # The box's label is a whole paragraph: "<label>: <message>" would drown the message.
    response = sign(lang=lang, consent="")

    summary = signing_form(html(response)).find(id="form-errors")
    links = {a.attrs["href"]: a.text for a in summary.find_all("a")}
    assert links == {"#id_consent": translated(lang, "Please tick this box to sign.")}


def test_the_form_posts_to_its_page_without_a_fragment(client, petition, url, html):
    # A #fragment would keep the browser from focusing the error summary.
    form = signing_form(html(client.get(url("fr", "home"))))

    assert form.attrs["action"] == url("fr", "petition", petition.slug)
