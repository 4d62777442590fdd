"""The signing form on its own: what it accepts, how it tidies it, what it refuses."""

from __future__ import annotations

import pytest
from django.utils import translation

from petition.forms import SignatureForm
from petition.services import SignatureDetails

LANGUAGES = ["fr", "en"]


def form_for(signer_data: dict[str, str], **changes: str) -> SignatureForm:
    return SignatureForm({**signer_data, **changes})


def test_form_accepts_a_french_signer_and_hands_over_their_details(signer_data):
    form = form_for(signer_data, wants_news="on")

    assert form.is_valid(), form.errors
    assert form.details() == SignatureDetails(
        first_name=signer_data["first_name"],
        last_name=signer_data["last_name"],
        email=signer_data["email"],
        country="FR",
        postal_code=signer_data["postal_code"],
        wants_news=True,
        consent_text=translation.gettext(
            "I sign this manifesto. CAMELEON records my name, e-mail address, country and "
            "postal code to confirm and count my signature, as the privacy notice explains."
        ),
        news_consent_text=translation.gettext(
            "I would like to receive news of the campaign from CAMELEON."
        ),
    )


def test_form_trims_what_was_typed_around_the_values(signer_data):
    form = form_for(
        signer_data,
        first_name="  Camille ",
        email=f"  {signer_data['email']}  ",
        postal_code=" 75011 ",
    )

    assert form.is_valid(), form.errors
    details = form.details()
    assert details.first_name == "Camille"
    assert details.email == signer_data["email"]
    assert details.postal_code == "75011"


def test_news_are_not_wanted_unless_asked_for(signer_data):
    form = form_for(signer_data)

    assert form.is_valid(), form.errors
    assert form.details().wants_news is False


@pytest.mark.parametrize("field", ["first_name", "last_name", "email"])
def test_each_identity_field_is_required(signer_data, field):
    form = form_for(signer_data, **{field: ""})

    assert not form.is_valid()
    assert list(form.errors) == [field]


@pytest.mark.parametrize(
    "postal_code",
    [
        "",
        "7501",
        "750011",
        "7501A",
        "75-011",
        "\uff17\uff15\uff10\uff11\uff11",
        "\u0667\u0665\u0660\u0661\u0661",
    ],
)
def test_french_postal_code_must_be_five_digits(signer_data, postal_code):
    form = form_for(signer_data, country="FR", postal_code=postal_code)

    assert not form.is_valid()
    assert list(form.errors) == ["postal_code"]


@pytest.mark.parametrize(
    ("country", "postal_code", "stored"),
    [
        ("BE", "", ""),
        ("BE", "1000", "1000"),
        ("GB", "sw1a  1aa", "SW1A 1AA"),
        ("CA", "h2x 1y4", "H2X 1Y4"),
        ("US", "10001-1234", "10001-1234"),
    ],
)
def test_postal_code_is_optional_and_tidied_outside_france(
    signer_data, country, postal_code, stored
):
    form = form_for(signer_data, country=country, postal_code=postal_code)

    assert form.is_valid(), form.errors
    assert form.details().postal_code == stored


@pytest.mark.parametrize("postal_code", ["<b>", "12;34", "-1000", "1", "12345678901234"])
def test_postal_code_abroad_must_look_like_one(signer_data, postal_code):
    form = form_for(signer_data, country="BE", postal_code=postal_code)

    assert not form.is_valid()
    assert list(form.errors) == ["postal_code"]


@pytest.mark.parametrize("value", ["Cam\x00ille", "Cam\nille", "Cam\x7fille", "Cam\tille"])
def test_names_with_control_characters_are_refused(signer_data, value):
    form = form_for(signer_data, first_name=value)

    assert not form.is_valid()
    assert list(form.errors) == ["first_name"]


def test_names_in_any_script_are_accepted(signer_data):
    form = form_for(signer_data, first_name="Zoë-Åsa", last_name="N\u2019Diaye \u738b")

    assert form.is_valid(), form.errors


def test_unknown_country_is_refused(signer_data):
    form = form_for(signer_data, country="ZZ")

    assert not form.is_valid()
    assert "country" in form.errors


def test_the_form_proposes_france_first(signer_data):
    form = SignatureForm()

    assert form["country"].initial == "FR"
    assert next(iter(form.fields["country"].choices))[0] == "FR"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_form_errors_follow_the_active_language(signer_data, lang, translated):
    with translation.override(lang):
        errors = [
            str(error) for error in form_for(signer_data, postal_code="").errors["postal_code"]
        ]

    assert errors == [translated(lang, "Please enter your postal code.")]


def test_form_errors_differ_between_french_and_english(signer_data):
    with translation.override("fr"):
        french = str(form_for(signer_data, postal_code="123").errors["postal_code"][0])
    with translation.override("en"):
        english = str(form_for(signer_data, postal_code="123").errors["postal_code"][0])

    assert french != english
