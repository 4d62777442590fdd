"""The public counter: cheap to read, cacheable, embeddable, and figures kept by Celery."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from petition import figures
from petition.models import Petition, Signature
from petition.tasks import fold_counts, refresh_figures

API = "/api/petitions/stop-cyberpedocriminalite/"


def add(petition: Petition, postal_codes: dict[tuple[str, str], int], *, days_ago: int = 0):
    now = timezone.now() - timedelta(days=days_ago)
    rows, n = [], Signature.objects.count()
    for (country, postal_code), number in postal_codes.items():
        for _ in range(number):
            n += 1
            rows.append(
                Signature(
                    petition=petition,
                    first_name="Sam",
                    last_name=f"Roux {n}",
                    email=f"sam.roux.{n}@example.org",
                    country=country,
                    postal_code=postal_code,
                    language="fr",
                    created_at=now - timedelta(minutes=5),
                    confirmed_at=now,
                )
            )
    Signature.objects.bulk_create(rows)


@pytest.mark.django_db
def test_the_api_reads_no_signature(client, petition):
    add(petition, {("FR", "75011"): 3})
    fold_counts()

    with CaptureQueriesContext(connection) as queries:
        response = client.get(API)

    assert response.json()["signature_count"] == 3
    assert queries, "the petition is read from the database"
    assert not any("petition_signature" in query["sql"] for query in queries)


@pytest.mark.django_db
def test_the_api_may_be_cached_briefly_and_polled_from_anywhere(client, petition):
    response = client.get(API, HTTP_ORIGIN="https://partner.example.net")

    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert "public" in cache_control
    assert any(part.startswith("max-age=") for part in cache_control)
    assert any(part.startswith("stale-while-revalidate=") for part in cache_control)
    assert any(part.startswith("stale-if-error=") for part in cache_control)
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.django_db
def test_an_unchanged_count_answers_304_and_a_new_one_200(client, petition):
    etag = client.get(API)["ETag"]

    assert client.get(API, HTTP_IF_NONE_MATCH=etag).status_code == 304

    add(petition, {("FR", "69001"): 1})
    fold_counts()
    response = client.get(API, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response.json()["signature_count"] == 1


@pytest.mark.django_db
def test_the_list_names_every_petition_with_its_count(client, petition):
    add(petition, {("FR", "33000"): 2})
    fold_counts()

    petitions = client.get("/api/petitions/").json()["petitions"]

    assert [(p["slug"], p["signature_count"]) for p in petitions] == [(petition.slug, 2)]
    assert petitions[0]["title"]["en"] != petitions[0]["title"]["fr"]


@pytest.mark.django_db
def test_an_unknown_petition_is_404_in_the_api(client, petition):
    assert client.get("/api/petitions/no-such-petition/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("goal", "count", "shown"),
    [
        (100_000, 99_999, 100_000),
        (100_000, 100_000, 200_000),
        (100_000, 230_000, 500_000),
        (1_000_000, 230_000, 1_000_000),
    ],
)
def test_a_reached_goal_gives_way_to_the_next_milestone(petition, goal, count, shown):
    petition.goal, petition.signature_count = goal, count
    assert petition.current_goal == shown


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_page_shows_the_count_and_progress_without_javascript(client, petition, lang):
    add(petition, {("FR", "75011"): 1234})
    fold_counts()

    page = client.get(f"/{lang}/").content.decode()

    figure = {"fr": "1\xa0234", "en": "1,234"}[lang]
    assert f"<strong data-counter-count>{figure}</strong>" in page
    assert 'value="1234"' in page
    assert 'role="status"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_embeddable_counter_may_be_framed_and_links_to_the_petition(client, petition, lang):
    response = client.get(f"/{lang}/embed/{petition.slug}/")

    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert f'href="http://testserver/{lang}/petitions/{petition.slug}/#sign"' in (
        response.content.decode()
    )
    assert client.get(f"/{lang}/").get("X-Frame-Options") == "DENY"


@pytest.mark.parametrize(
    ("postal_code", "expected"),
    [
        ("75011", "75"),
        ("01000", "01"),
        ("20000", "2A"),
        ("20200", "2B"),
        ("97400", "974"),
        ("97100", "971"),
        ("99999", None),
        ("7501", None),
        ("ABCDE", None),
    ],
)
def test_postal_codes_give_their_departement(postal_code, expected):
    assert figures.departement(postal_code) == expected


@pytest.mark.django_db
def test_figures_hide_places_with_few_signatures(petition, settings):
    settings.FIGURES_MIN_BUCKET = 10
    add(petition, {("FR", "75011"): 12, ("FR", "13001"): 3, ("BE", "1000"): 10, ("CH", ""): 4})

    refresh_figures()

    stored = Petition.objects.get(pk=petition.pk).figures
    assert stored.by_country == [["FR", 15], ["BE", 10]]
    assert stored.other_countries == 0  # only 4 elsewhere: too few to show even together
    assert stored.by_departement == [["75", 12]]


@pytest.mark.django_db
def test_figures_count_confirmations_per_day(petition):
    add(petition, {("FR", "75011"): 2}, days_ago=2)
    add(petition, {("FR", "75011"): 5}, days_ago=0)

    refresh_figures()

    per_day = dict(Petition.objects.get(pk=petition.pk).figures.per_day)
    assert sorted(per_day.values()) == [2, 5]


def test_the_daily_chart_includes_quiet_days_and_scales_to_a_round_top():
    chart = figures.daily_chart([["2026-11-20", 40], ["2026-11-23", 130]], today=date(2026, 11, 24))

    assert [bar.count for bar in chart.bars] == [40, 0, 0, 130, 0]
    assert chart.top == 200
    tallest = max(chart.bars, key=lambda bar: bar.count)
    assert tallest.height == pytest.approx(chart.height * 130 / 200)
    assert chart.total == 170


@pytest.mark.django_db
def test_the_page_draws_the_chart_from_stored_figures(client, petition):
    add(petition, {("FR", "75011"): 20})
    refresh_figures()

    with CaptureQueriesContext(connection) as queries:
        page = client.get("/en/").content.decode()

    assert "<svg" in page
    assert 'class="chart__bar"' in page
    assert "Paris (75)" in page
    assert not any("GROUP BY" in query["sql"] for query in queries)
