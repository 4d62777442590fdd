"""The public counter API that partner sites and journalists poll."""

from __future__ import annotations

from datetime import datetime

import pytest

LANGUAGES = ["fr", "en"]


@pytest.fixture
def api_path(petition, url):
    return url("fr", "petition_api", petition.slug)


def test_counter_api_describes_the_petition(client, petition, api_path, add_signatures):
    petition.goal = 250
    petition.save()
    add_signatures(confirmed=2, pending=3)

    response = client.get(api_path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert data["slug"] == petition.slug
    assert data["signature_count"] == 2
    assert data["goal"] == 250
    updated_at = datetime.fromisoformat(data["updated_at"])
    assert updated_at.tzinfo is not None


def test_counter_api_agrees_with_the_page(client, petition, api_path, add_signatures, url, html):
    add_signatures(confirmed=4)

    data = client.get(api_path).json()
    counter = html(client.get(url("fr", "home"))).find(class_="counter")

    assert counter.find("progress").attrs["value"] == str(data["signature_count"])
    assert counter.find("progress").attrs["max"] == str(data["goal"])


def test_counter_api_follows_confirmations(client, petition, api_path, confirm_link, press_button):
    before = client.get(api_path).json()
    link = confirm_link()
    assert client.get(api_path).json()["signature_count"] == before["signature_count"]

    press_button(link)

    after = client.get(api_path).json()
    assert after["signature_count"] == before["signature_count"] + 1
    assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(
        before["updated_at"]
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_counter_api_says_the_same_in_every_language(
    client, petition, api_path, add_signatures, lang
):
    add_signatures(confirmed=1)

    response = client.get(api_path, headers={"accept-language": lang})

    assert response.status_code == 200
    assert response.json()["signature_count"] == 1


def test_counter_api_answers_404_for_an_unknown_petition(client, petition, url):
    response = client.get(url("fr", "petition_api", "no-such-petition"))

    assert response.status_code == 404


def test_counter_api_refuses_writes(client, petition, api_path):
    response = client.post(api_path, {"signature_count": 1_000_000})

    assert response.status_code == 405
    assert client.get(api_path).json()["signature_count"] == 0
