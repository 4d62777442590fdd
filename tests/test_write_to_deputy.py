"""A signer writes to their own député: the postal code gives the département (Corsica and
overseas included, Monaco and foreign codes politely refused), the signer picks their
circonscription, and opens a message in French in their own mail program. The site counts, per
député, how many signers opened one, and keeps nothing else. Signers abroad are offered the
ministers and platforms instead."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from petition import figures
from petition.advocacy import letters
from petition.advocacy.models import ChosenCirconscription, Target
from petition.advocacy.places import AREAS, area_of_postal_code, is_monaco
from petition.models import Signature
from petition.tokens import make_sharing_token
from tests.conftest import collapse_whitespace

pytestmark = pytest.mark.django_db

LANGUAGES = ["fr", "en"]
LYON_7E = "abdelkader.lahmar@assemblee-nationale.fr"


# Postal code → département → députés.


def a_postal_code_of(area: str) -> str:
    """A real postal code of each area: the prefecture's, or the area's first."""
    special = {
        "2A": "20000",  # Ajaccio
        "2B": "20200",  # Bastia
        "975": "97500",
        "977": "97133",  # Saint-Barthélemy
        "986": "98600",
        "987": "98714",  # Papeete
        "988": "98800",
    }
    if area in special:
        return special[area]
    return f"{area}000" if len(area) == 2 else f"{area}00"


@pytest.mark.parametrize("area", sorted(set(AREAS) - {"99"}))
def test_every_departement_is_found_from_its_postal_codes(area):
    assert area_of_postal_code(a_postal_code_of(area)) == area


@pytest.mark.parametrize(
    ("postal_code", "area"),
    [
        ("20000", "2A"),
        ("20090", "2A"),
        ("20167", "2A"),
        ("20200", "2B"),
        ("20600", "2B"),
        ("20290", "2B"),
        ("97100", "971"),
        ("97133", "977"),  # Saint-Barthélemy, inside Guadeloupe's range
        ("97150", "977"),  # Saint-Martin
        ("97190", "971"),
        ("97200", "972"),
        ("97300", "973"),
        ("97400", "974"),
        ("97500", "975"),
        ("97600", "976"),
        ("98600", "986"),
        ("98700", "987"),
        ("98800", "988"),
        ("69007", "69"),
        ("01000", "01"),
        ("95000", "95"),
    ],
)
def test_the_special_cases_of_postal_codes(postal_code, area):
    assert area_of_postal_code(postal_code) == area


@pytest.mark.parametrize(
    "postal_code", ["98000", "98490", "00000", "96000", "99000", "97700", "9800", "SW1A 1AA", ""]
)
def test_codes_that_elect_no_depute_are_placed_nowhere(postal_code):
    assert area_of_postal_code(postal_code) is None


def test_monaco_is_told_apart():
    assert is_monaco("98000")
    assert not is_monaco("98600")
    assert not is_monaco("SW1A")


def test_every_depute_of_the_snapshot_is_reached_from_a_postal_code(petition):
    reached = {
        area: Target.objects.active().filter(petition=petition).of_area(area).count()
        for area in AREAS
        if area != "99" and area_of_postal_code(a_postal_code_of(area)) == area
    }
    assert sum(reached.values()) == 577 - 11  # all but the French abroad's
    assert all(reached.values())


# The signer's pages.


def confirmed_signer(petition, **fields) -> Signature:
    values = {
        "first_name": "Camille",
        "last_name": "Durand",
        "email": "camille.durand@example.org",
        "postal_code": "69007",
        "language": "fr",
        **fields,
    }
    signature = Signature.objects.create(petition=petition, **values)
    signature.mark_confirmed()
    return signature


def write_section(page):
    return page.find("section", id="write")


def test_a_signer_in_lyon_signs_confirms_chooses_their_circonscription_and_writes(
    sign, mailoutbox, email_links, press_button, csrf_client, html, petition
):
    sign(email="camille.lyon@example.org", postal_code="69007")
    thanks = press_button(email_links(mailoutbox[-1])["confirm"])

    section = write_section(html(thanks))
    assert "Rhône" in section.text
    radios = section.find_all("input", type="radio")
    assert len(radios) == 14
    form = section.find("form", method="post")
    labels = [label.text for label in form.find_all("label")]
    assert (
        "7e circonscription\u00a0: M. Abdelkader Lahmar (La France insoumise - Nouveau Front "
        "Populaire)"
    ) in labels

    data = {**form.form_data(), "circonscription": "7"}
    chosen = csrf_client.post(form.attrs["action"], data)

    assert chosen.status_code == 302
    signature = Signature.objects.get(email="camille.lyon@example.org")
    choice = signature.chosen_circonscription
    assert (choice.departement, choice.number) == ("69", 7)
    page = html(csrf_client.get(chosen["Location"]))
    section = write_section(page)
    assert "Rhône, 7e circonscription\u00a0: votre député est M. Abdelkader Lahmar" in section.text
    write = section.find("form", class_="write__form")
    opened = csrf_client.post(write.attrs["action"], write.form_data())

    assert opened.status_code == 200
    letter = html(opened)
    mailto = letter.find("a", class_="button").attrs["href"]
    parts = urlsplit(mailto)
    assert parts.scheme == "mailto"
    assert parts.path == LYON_7E
    query = parse_qs(parts.query)
    body = query["body"][0]
    assert body.startswith(
        "Monsieur le Député,\r\n\r\nJ\u2019habite votre circonscription (Rhône, 7e circonscription)"
    )
    assert body.rstrip().endswith("Camille Durand\r\n69007")
    assert "http://testserver/fr/" in body
    assert (
        query["subject"][0]
        == "Manifeste CAMELEON «\u00a0STOP à la cyberpédocriminalité\u202f!\u00a0»"
    )
    # The same text, to copy, in French whatever the page's language.
    textarea = letter.find("textarea")
    assert textarea.attrs["lang"] == "fr"
    assert textarea.text == collapse_whitespace(body)
    assert Target.objects.get(email=LYON_7E).messages_opened == 1


def test_a_message_opened_again_from_the_same_browser_counts_once(petition, csrf_client, html):
    signature = confirmed_signer(petition, postal_code="23000")  # Creuse: one député
    token = make_sharing_token(signature)
    deputy = Target.objects.get(departement="23")
    page = html(csrf_client.get(f"/fr/partage/{token}/"))
    form = write_section(page).find("form", class_="write__form")

    for _ in range(3):
        assert csrf_client.post(form.attrs["action"], form.form_data()).status_code == 200
    other_browser = Client()
    other_browser.post(form.attrs["action"], {"target": deputy.pk})

    deputy.refresh_from_db()
    assert deputy.messages_opened == 2
    # Nothing about who wrote is kept: the signature row is as it was, and no choice stored.
    assert not ChosenCirconscription.objects.exists()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_departement_with_one_depute_needs_no_choice(petition, client, html, url, lang):
    signature = confirmed_signer(petition, postal_code="48000")  # Lozère

    page = html(client.get(url(lang, "sharing", make_sharing_token(signature))))

    section = write_section(page)
    assert section.find_all("input", type="radio") == []
    assert Target.objects.get(departement="48").name in section.text


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"country": "BE", "postal_code": "1000"}, "You signed from outside France"),
        ({"postal_code": "98000"}, "Monaco elects no member of the French National Assembly"),
        ({"postal_code": "00000"}, "We could not find the député of the postal code 00000"),
    ],
)
def test_signers_without_a_depute_are_offered_the_ministers_and_platforms(
    petition, client, html, fields, expected
):
    minister = Target.objects.create(
        petition=petition,
        role="minister",
        civility="Mme",
        name="Anne Ministre",
        organisation="Ministère du Numérique",
        email="ministre@numerique.gouv.fr",
    )
    Target.objects.create(
        petition=petition, role="platform", name="Réseau Social", email="policy@social.example"
    )
    signature = confirmed_signer(petition, **fields)
    token = make_sharing_token(signature)

    section = write_section(html(client.get(f"/en/share/{token}/")))

    assert expected in section.text
    assert "Anne Ministre" in section.text
    assert "Réseau Social" in section.text
    forms = section.find_all("form")
    assert len(forms) == 2
    letter = html(client.post(forms[0].attrs["action"], forms[0].form_data()))
    body = parse_qs(urlsplit(letter.find("a", class_="button").attrs["href"]).query)["body"][0]
    assert body.startswith("Madame la Ministre,\r\n\r\nJ\u2019ai signé le manifeste")
    minister.refresh_from_db()
    assert minister.messages_opened == 1


def test_a_signer_who_cannot_be_placed_signs_all_the_same(sign, mailoutbox, petition):
    response = sign(postal_code="00000")

    assert response.status_code == 302
    assert Signature.objects.filter(postal_code="00000").exists()


# What the POSTs refuse, and what a GET never does.


def test_a_circonscription_of_another_departement_is_refused_with_a_message(petition, client, html):
    signature = confirmed_signer(petition)
    token = make_sharing_token(signature)

    response = client.post(f"/fr/partage/{token}/circonscription/", {"circonscription": "15"})

    assert response.status_code == 400
    section = write_section(html(response))
    assert "Veuillez choisir l\u2019une des circonscriptions proposées." in section.text
    assert not ChosenCirconscription.objects.exists()


def test_writing_to_someone_the_signer_may_not_write_to_is_refused(petition, client, html):
    signature = confirmed_signer(petition)
    token = make_sharing_token(signature)
    elsewhere = Target.objects.get(departement="75", circonscription=1)

    response = client.post(f"/en/share/{token}/write/", {"target": elsewhere.pk})

    assert response.status_code == 400
    assert "You cannot write to this decision-maker from here." in html(response).text
    elsewhere.refresh_from_db()
    assert elsewhere.messages_opened == 0


@pytest.mark.parametrize("action", ["circonscription", "write"])
def test_a_get_changes_nothing(petition, client, action):
    signature = confirmed_signer(petition, postal_code="23000")
    token = make_sharing_token(signature)
    deputy = Target.objects.get(departement="23")

    response = client.get(
        f"/en/share/{token}/{action}/", {"target": deputy.pk, "circonscription": 1}
    )

    assert response.status_code == 405
    deputy.refresh_from_db()
    assert deputy.messages_opened == 0
    assert not ChosenCirconscription.objects.exists()


def test_the_posts_need_their_csrf_token(petition, csrf_client):
    signature = confirmed_signer(petition, postal_code="23000")
    token = make_sharing_token(signature)
    deputy = Target.objects.get(departement="23")

    response = csrf_client.post(f"/en/share/{token}/write/", {"target": deputy.pk})

    assert response.status_code == 403
    deputy.refresh_from_db()
    assert deputy.messages_opened == 0


@pytest.mark.parametrize("action", ["circonscription", "write"])
def test_a_forged_or_unconfirmed_token_changes_nothing(petition, client, html, action):
    deputy = Target.objects.get(departement="23")
    pending = Signature.objects.create(
        petition=petition, first_name="A", last_name="B", email="a@example.org",
        postal_code="23000", language="fr",
    )  # fmt: skip

    for token in ("forged", make_sharing_token(pending)):
        response = client.post(
            f"/en/share/{token}/{action}/", {"target": deputy.pk, "circonscription": 1}
        )
        assert response.status_code == 400
        assert "This link does not work" in html(response).text
    deputy.refresh_from_db()
    assert deputy.messages_opened == 0


def test_the_thank_you_page_and_the_message_are_in_english_for_an_english_signer(
    sign, mailoutbox, email_links, press_button, csrf_client, html, petition
):
    sign(lang="en", email="sam@example.org", postal_code="23000")
    thanks = html(press_button(email_links(mailoutbox[-1])["confirm"]))

    section = write_section(thanks)
    assert "Write to your député" in section.text
    form = section.find("form", class_="write__form")
    letter = html(csrf_client.post(form.attrs["action"], form.form_data()))
    assert letter.find("h1").text.startswith("Your message to")
    assert letter.find("textarea").text.startswith("Monsieur le Député")


# The count per circonscription, kept with the figures.


def test_the_count_per_circonscription_is_what_signers_chose_or_a_single_seat(petition, settings):
    settings.FIGURES_MIN_BUCKET = 2
    for n in range(3):
        signature = confirmed_signer(petition, email=f"lyon{n}@example.org")
        ChosenCirconscription.objects.create(signature=signature, departement="69", number=7)
    # Lyon without a choice: unknown, never guessed.
    for n in range(5):
        confirmed_signer(petition, email=f"unknown{n}@example.org")
    # Creuse and Saint-Barthélemy elect one député each: known from the postal code.
    for n in range(2):
        confirmed_signer(petition, email=f"creuse{n}@example.org", postal_code="23000")
        confirmed_signer(petition, email=f"stbarth{n}@example.org", postal_code="97133")
    # One signer in Paris 1re: under the minimum, not shown.
    lone = confirmed_signer(petition, email="paris@example.org", postal_code="75001")
    ChosenCirconscription.objects.create(signature=lone, departement="75", number=1)
    # A suspect signature does not count.
    suspect = confirmed_signer(petition, email="bot@example.org", suspect_reason="honeypot")
    ChosenCirconscription.objects.create(signature=suspect, departement="69", number=7)

    computed = figures.compute(petition)

    assert sorted(map(tuple, computed.by_circonscription)) == [
        ("23", 1, 2),
        ("69", 7, 3),
        ("977", 1, 2),
    ]


def test_recipients_never_guess_a_circonscription(petition):
    signature = confirmed_signer(petition)

    found = letters.recipients(signature)

    assert found.situation == "deputies"
    assert found.deputy is None
    assert len(found.deputies) == 14
