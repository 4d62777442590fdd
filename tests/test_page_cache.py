"""The petition's page is rendered once a second per process and filled in per visitor."""

import time

import pytest
from django.core.cache import caches
from django.test import Client

from petition.forms import FORM_TIME_SIGNER
from petition.models import Signature


@pytest.fixture
def page_cache(settings):
    settings.COUNTER_CACHE_SECONDS = 60


def csrf_value(page) -> str:
    return (
        page.find("form", class_="sign-form")
        .find("input", name="csrfmiddlewaretoken")
        .attrs["value"]
    )


def test_each_visitor_of_the_cached_page_gets_a_token_that_signs(
    page_cache, petition, signer_data, url, html, django_capture_on_commit_callbacks
):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_page = html(first.get(url("fr", "home")))
    second_page = html(second.get(url("fr", "home")))

    assert csrf_value(first_page) != csrf_value(second_page)
    for visitor, page, email in [
        (first, first_page, "first@example.org"),
        (second, second_page, "second@example.org"),
    ]:
        form = page.find("form", class_="sign-form")
        with django_capture_on_commit_callbacks(execute=True):
            response = visitor.post(
                form.attrs["action"], {**form.form_data(), **signer_data, "email": email}
            )
        assert response.status_code == 302
    assert Signature.objects.count() == 2


def test_the_cached_page_carries_each_visitors_own_referral_code(page_cache, petition, url, html):
    first = html(Client().get(url("fr", "home"), {"ref": "A" * 16}))
    second = html(Client().get(url("fr", "home")))
    third = html(Client().get(url("fr", "home"), {"ref": "<script>alert(1)</script>"}))

    assert first.find("input", name="ref").attrs["value"] == "A" * 16
    for page in (second, third):
        refs = page.find_all("input", name="ref")
        assert all(ref.attrs["value"] == "" for ref in refs)
    assert (
        "<script>alert" not in Client().get(url("fr", "home"), {"ref": "<script>"}).content.decode()
    )


def test_the_cached_page_keeps_its_language(page_cache, client, petition, url, html):
    french = html(client.get(url("fr", "home")))
    english = html(client.get(url("en", "home")))

    assert french.find("html").attrs["lang"] == "fr"
    assert english.find("html").attrs["lang"] == "en"
    assert english.find("h1").text == petition.title_en
    assert french.find("h1").text != english.find("h1").text


def test_one_visitors_query_string_never_reaches_the_next_visitors_page(page_cache, petition, url):
    Client().get(url("fr", "home"), {"ref": "B" * 16, "utm_source": "someone"})

    page = Client().get(url("fr", "home")).content.decode()

    assert "B" * 16 not in page
    assert "someone" not in page


def test_in_a_surge_signing_reads_the_petition_once_and_still_sees_it_close(
    page_cache, petition, signer_data, url, django_assert_num_queries
):
    path = url("fr", "petition", petition.slug)
    Client().post(path, {**signer_data, "email": "first@example.org"})

    # The petition read by the first signing serves the next: only the request is written.
    with django_assert_num_queries(1):
        assert Client().post(path, {**signer_data, "email": "next@example.org"}).status_code == 302

    petition.is_open = False
    petition.save()
    caches["local"].clear()  # a second later
    closed = Client().post(path, {**signer_data, "email": "late@example.org"})
    assert closed.status_code == 403


def test_the_cached_page_carries_each_visitors_own_form_time(
    page_cache, petition, url, html, monkeypatch
):
    first = html(Client().get(url("fr", "home")))
    shown_later = time.time() + 30
    monkeypatch.setattr("petition.forms.time.time", lambda: shown_later)
    second = html(Client().get(url("fr", "home")))

    def form_time(page) -> float:
        signed = page.find("form", class_="sign-form").find("input", name="started")
        return float(FORM_TIME_SIGNER.unsign(signed.attrs["value"]))

    assert form_time(second) == pytest.approx(shown_later, abs=0.1)
    assert form_time(second) - form_time(first) == pytest.approx(30, abs=1)
