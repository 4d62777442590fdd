"""The campaign's news is public: the updates staff mark public, newest first, with the
milestones (goal reached, delivered to whom and when, the outcome), in French and English,
linked from the petition's page at no cost to it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from petition.advocacy.news import goal_reached_on
from petition.models import PetitionFigures, Update
from tests.conftest import write_update

pytestmark = pytest.mark.django_db

LANGUAGES = ["fr", "en"]


def public_update(petition, author, days_ago: int, **subjects) -> Update:
    update = write_update(petition, author, **subjects)
    Update.objects.filter(pk=update.pk).update(
        published_at=timezone.now() - timedelta(days=days_ago)
    )
    return update


def news_titles(page) -> list[str]:
    return [entry.find("h2").text for entry in page.find_all("li", class_="news__entry")]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_public_updates_show_newest_first_and_drafts_do_not(
    client, petition, admin_user, url, html, lang
):
    public_update(petition, admin_user, 10, subject_fr="Première", subject_en="First")
    public_update(petition, admin_user, 2, subject_fr="Seconde", subject_en="Second")
    write_update(petition, admin_user, subject_fr="Brouillon", subject_en="Draft")

    page = html(client.get(url(lang, "news", petition.slug)))

    expected = {"fr": ["Seconde", "Première"], "en": ["Second", "First"]}[lang]
    assert news_titles(page) == expected
    assert page.find("html").attrs["lang"] == lang


def test_the_milestones_take_their_place_among_the_news(client, petition, admin_user, html, url):
    petition.goal = 30
    petition.delivered_on = date(2026, 3, 10)
    petition.delivered_to_fr = "la ministre du Numérique"
    petition.delivered_to_en = "the Minister for Digital Affairs"
    petition.outcome = "victory"
    petition.outcome_on = date(2026, 4, 1)
    petition.outcome_text_en = "The law was passed."
    petition.is_open = False
    petition.save()
    PetitionFigures.objects.create(
        petition=petition, per_day=[["2026-02-01", 20], ["2026-02-02", 15], ["2026-02-03", 5]]
    )
    update = public_update(petition, admin_user, 0, subject_en="Later news")
    Update.objects.filter(pk=update.pk).update(published_at=datetime(2026, 3, 5, 12, tzinfo=UTC))

    page = html(client.get(url("en", "news", petition.slug)))

    assert news_titles(page) == [
        "Victory!",
        "The signatures were delivered to the Minister for Digital Affairs",
        "Later news",
        "The goal of 30 signatures is reached",
    ]
    status = page.find("div", class_="news__status").text
    assert "The campaign won on April 1, 2026." in status
    assert (
        "The signatures were delivered to the Minister for Digital Affairs on March 10, 2026."
        in status
    )
    assert "This petition is closed" in status
    assert "The law was passed." in page.find("li", class_="news__entry--victory").text


def test_the_goal_is_reached_the_day_the_count_passes_it(petition):
    petition.goal = 30
    per_day = [["2026-02-01", 20], ["2026-02-02", 10], ["2026-02-03", 5]]

    assert goal_reached_on(petition, per_day) == date(2026, 2, 2)
    assert goal_reached_on(petition, per_day[:1]) is None


def test_no_news_yet_is_said_so(client, petition, url, html):
    page = html(client.get(url("fr", "news", petition.slug)))

    assert "Pas encore de nouvelles" in page.find("main").text


@pytest.fixture
def campaigner(client, admin_user):
    client.force_login(admin_user)
    return admin_user


def test_staff_mark_an_update_public_and_take_it_back(client, campaigner, petition, url):
    update = write_update(petition, campaigner, subject_fr="À la une", subject_en="Headline")
    changelist = reverse("admin:petition_update_changelist")

    client.post(changelist, {"action": "publish", ACTION_CHECKBOX_NAME: [update.pk]})
    assert "À la une" in client.get(url("fr", "news", petition.slug)).content.decode()

    client.post(changelist, {"action": "unpublish", ACTION_CHECKBOX_NAME: [update.pk]})
    assert "À la une" not in client.get(url("fr", "news", petition.slug)).content.decode()


def test_staff_mark_a_petition_delivered_and_closed_and_are_told_what_is_missing(
    client, campaigner, petition, url, html
):
    change = reverse("admin:petition_petition_change", args=[petition.pk])
    form = html(client.get(change)).find("form", id="petition_form")
    data = {**form.form_data(), "is_open": "", "delivered_on": "2026-03-10"}
    data.pop("_addanother", None)

    refused = client.post(change, data)

    assert refused.status_code == 200
    assert "Dites à qui les signatures ont été remises." in html(refused).text
    data["delivered_to_fr"] = "la ministre du Numérique"
    data["delivered_to_en"] = "the Minister for Digital Affairs"
    assert client.post(change, data).status_code == 302
    petition.refresh_from_db()
    assert not petition.is_open
    assert petition.delivered_on == date(2026, 3, 10)
    caches["local"].clear()
    page = html(client.get(url("fr", "home")))
    assert "Les signatures ont été remises à la ministre du Numérique le 10 mars 2026." in page.text
    assert "Cette pétition est close" in page.text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_petition_page_links_to_the_news_and_the_answers_at_no_cost(
    client, petition, admin_user, url, html, lang
):
    def cold_page_queries() -> tuple[int, object]:
        for alias in ("default", "local"):
            caches[alias].clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(lang, "home"))
        return len(queries), html(response)

    before, page = cold_page_queries()
    links = {a.attrs["href"] for a in page.find("ul", class_="petition-links").find_all("a")}
    assert links == {url(lang, "news", petition.slug), url(lang, "targets", petition.slug)}
    for days in range(5):
        public_update(petition, admin_user, days)

    after, _page = cold_page_queries()

    assert after == before
