"""The public sees who was asked and who answered: the decision-makers with their status, words
and position, per député the confirmed signers of their circonscription when known; staff
record responses in the admin, publish them, and may write an update to signers about one."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from petition import figures
from petition.advocacy.models import ChosenCirconscription, Target, TargetResponse
from petition.models import Signature, Update, UpdateDelivery

pytestmark = pytest.mark.django_db

LANGUAGES = ["fr", "en"]


def lahmar() -> Target:
    return Target.objects.get(departement="69", circonscription=7)


def answer(target: Target, *, published: bool = True, **fields) -> TargetResponse:
    values = {
        "received_on": date(2026, 3, 2),
        "position": "supports",
        "text": "Je soutiens les quatre propositions du manifeste.",
        "url": "https://example.org/communique",
        **fields,
    }
    response = TargetResponse.objects.create(target=target, **values)
    if published:
        TargetResponse.objects.filter(pk=response.pk).update(published_at=response.created_at)
        response.refresh_from_db()
    return response


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_lists_every_depute_by_departement_with_their_status(
    client, petition, url, html, lang
):
    answer(lahmar())

    page = html(client.get(url(lang, "targets", petition.slug)))

    areas = page.find_all("details", class_="targets__area")
    assert len(areas) == 107
    rows = [row for area in areas for row in area.find("tbody").find_all("tr")]
    assert len(rows) == 577
    rhone = page.find("details", id="departement-69")
    [row] = [row for row in rhone.find_all("tr") if "Abdelkader Lahmar" in row.text]
    expected = {"fr": "Soutient", "en": "Supports"}[lang]
    assert expected in row.text
    summary = page.find("p", class_="targets__summary").text
    expected = {"fr": "577 décideurs interpellés", "en": "577 decision-makers asked; answers: 1"}
    assert expected[lang] in summary


def test_an_answer_shows_its_words_date_link_and_position(client, petition, url, html):
    answer(lahmar(), position="opposes", text="Je ne soutiens pas.\n\nVoici pourquoi.")

    page = html(client.get(url("en", "targets", petition.slug)))

    article = page.find("article", class_="answer")
    assert article.find("h3").text == "M. Abdelkader Lahmar"
    assert "Opposes — answered on March 2, 2026" in article.text
    quote = article.find("blockquote")
    assert quote.attrs["lang"] == "fr"
    assert [p.text for p in quote.find_all("p")] == ["Je ne soutiens pas.", "Voici pourquoi."]
    assert article.find("a").attrs["href"] == "https://example.org/communique"


def test_an_answer_not_yet_published_is_not_shown(client, petition, url, html):
    answer(lahmar(), published=False, text="Brouillon confidentiel")

    response = client.get(url("fr", "targets", petition.slug))

    assert "Brouillon confidentiel" not in response.content.decode()
    assert "Aucun décideur n\u2019a encore répondu." in html(response).text


def test_a_depute_who_left_office_keeps_their_answer_and_the_others_leave(
    client, petition, url, html
):
    left = lahmar()
    answer(left)
    Target.objects.filter(pk=left.pk).update(retired_at=left.created_at)
    Target.objects.filter(departement="69", circonscription=9).update(retired_at=left.created_at)

    page = html(client.get(url("en", "targets", petition.slug)))

    text = page.find("details", id="departement-69").text
    assert "Abdelkader Lahmar (has left office)" in text
    assert "Alexandre Portier" not in text


def test_signers_per_circonscription_are_shown_from_the_figures_above_the_minimum(
    client, petition, url, html, settings, django_assert_max_num_queries
):
    settings.FIGURES_MIN_BUCKET = 2
    for n in range(3):
        signature = Signature.objects.create(
            petition=petition, first_name="A", last_name=f"B{n}", email=f"a{n}@example.org",
            postal_code="69007", language="fr",
        )  # fmt: skip
        signature.mark_confirmed()
        ChosenCirconscription.objects.create(signature=signature, departement="69", number=7)
    path = url("en", "targets", petition.slug)

    def signers_of_lyon_7e() -> str:
        rhone = html(client.get(path)).find("details", id="departement-69")
        [row] = [row for row in rhone.find_all("tr") if "Abdelkader Lahmar" in row.text]
        return row.find_all("td")[-1].text

    # Until Celery computes the figures, the page shows nothing: it never counts by itself.
    assert "not shown" in signers_of_lyon_7e()
    figures.compute(petition)
    assert signers_of_lyon_7e() == "3"
    with django_assert_max_num_queries(4):
        client.get(path)


@pytest.fixture
def campaigner(client, django_user_model):
    user = django_user_model.objects.create_user(
        "lea", "lea@example.org", "pw", is_staff=True, is_superuser=True
    )
    client.force_login(user)
    return user


def test_done_a_signer_in_lyon_writes_to_their_depute_whose_answer_staff_publish(
    sign, mailoutbox, email_links, press_button, csrf_client, html, petition, client,
    campaigner, url,
):  # fmt: skip
    # A signer in Lyon 7e signs, confirms, and opens a message to their own député.
    sign(email="camille.lyon@example.org", postal_code="69007")
    thanks = html(press_button(email_links(mailoutbox[-1])["confirm"]))
    choose = thanks.find("section", id="write").find("form", method="post")
    chosen = csrf_client.post(choose.attrs["action"], {**choose.form_data(), "circonscription": 7})
    page = html(csrf_client.get(chosen["Location"]))
    write = page.find("form", class_="write__form")
    letter = html(csrf_client.post(write.attrs["action"], write.form_data()))
    assert (
        "mailto:abdelkader.lahmar@assemblee-nationale.fr?"
        in letter.find("a", class_="button").attrs["href"]
    )

    # Staff record that député's answer in the admin, then publish it.
    added = client.post(
        reverse("admin:petition_targetresponse_add"),
        {
            "target": lahmar().pk,
            "received_on": "2026-03-02",
            "position": "supports",
            "text": "Je soutiens le manifeste de CAMELEON.",
            "language": "fr",
            "url": "",
        },
    )
    assert added.status_code == 302, added.context["adminform"].form.errors
    response = TargetResponse.objects.get()
    assert (
        "Je soutiens le manifeste"
        not in client.get(url("fr", "targets", petition.slug)).content.decode()
    )
    client.post(
        reverse("admin:petition_targetresponse_changelist"),
        {"action": "publish", ACTION_CHECKBOX_NAME: [response.pk]},
    )

    # It shows on the public page.
    public = html(client.get(url("fr", "targets", petition.slug)))
    article = public.find("article", class_="answer")
    assert article.find("h3").text == "M. Abdelkader Lahmar"
    assert "Je soutiens le manifeste de CAMELEON." in article.text
    assert "Soutient" in article.text
    assert Target.objects.get(pk=lahmar().pk).messages_opened == 1


def test_staff_choose_to_write_an_update_to_signers_about_an_answer(
    client, campaigner, petition, mailoutbox
):
    response = answer(lahmar(), published=False)

    result = client.post(
        reverse("admin:petition_targetresponse_changelist"),
        {"action": "publish_with_update", ACTION_CHECKBOX_NAME: [response.pk]},
    )

    update = Update.objects.get()
    assert result.status_code == 302
    assert result["Location"] == reverse("admin:petition_update_change", args=[update.pk])
    response.refresh_from_db()
    assert response.is_published
    assert response.update == update
    assert update.subject_fr == "M. Abdelkader Lahmar a répondu"
    assert update.subject_en == "M. Abdelkader Lahmar has answered"
    assert "Je soutiens les quatre propositions du manifeste." in update.body_fr
    assert "/fr/petitions/stop-cyberpedocriminalite/decideurs/" in update.body_fr
    assert "/en/petitions/stop-cyberpedocriminalite/decision-makers/" in update.body_en
    # A draft: nothing leaves until staff send it with the updates tool.
    assert update.is_draft
    assert not UpdateDelivery.objects.exists()
    assert mailoutbox == []
    # Asked again, the same draft comes back rather than a second one.
    client.post(
        reverse("admin:petition_targetresponse_changelist"),
        {"action": "publish_with_update", ACTION_CHECKBOX_NAME: [response.pk]},
    )
    assert Update.objects.count() == 1


def test_the_targets_page_of_an_unknown_petition_is_a_404(client, petition):
    assert client.get("/en/petitions/no-such-petition/decision-makers/").status_code == 404
