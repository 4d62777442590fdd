"""Static files as production serves them: collected under hashed names, compressed, cached by
browsers for a year at least, and light enough that the home page stays under its budget."""

from __future__ import annotations

import gzip
import re

import pytest
from django.core.management import call_command
from django.test import Client

HOME_PAGE_BUDGET = 150_000  # bytes, everything the first visit to the home page transfers
ONE_YEAR = 365 * 24 * 3600
HASHED = re.compile(r"\.[0-9a-f]{12}\.(?:css|js|svg|png)$")


@pytest.fixture
def production_static(settings, tmp_path):
    """collectstatic with the production storage, and WhiteNoise serving what it wrote."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    call_command("collectstatic", interactive=False, verbosity=0)
    return tmp_path


def fetch(client: Client, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    response = client.get(path, headers=headers)
    try:
        body = b"".join(response.streaming_content) if response.streaming else response.content
    finally:
        response.close()
    return response.status_code, dict(response.headers), body


def static_addresses(content: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', content)


def test_pages_use_hashed_compressed_files_cached_for_a_year(production_static, petition):
    # A fresh client, so that WhiteNoise starts with the collected files.
    client = Client()
    status, _headers, page = fetch(client, "/fr/")
    assert status == 200
    addresses = static_addresses(page.decode())
    assert {address.rsplit(".", 1)[-1] for address in addresses} >= {"css", "js", "svg", "png"}

    for address in addresses:
        assert HASHED.search(address), address
        status, headers, body = fetch(client, address, accept_encoding="gzip, br")
        assert status == 200, address
        cache_control = headers["Cache-Control"]
        max_age = int(re.search(r"max-age=(\d+)", cache_control)[1])
        assert max_age >= ONE_YEAR, (address, cache_control)
        assert "immutable" in cache_control, (address, cache_control)
        if address.endswith((".css", ".js", ".svg")):
            assert headers.get("Content-Encoding") in {"gzip", "br"}, address
            assert len(body) < (production_static / address.removeprefix("/static/")).stat().st_size


def test_home_page_transfers_under_its_budget(production_static, petition):
    client = Client()
    _status, _headers, page = fetch(client, "/fr/")
    # The HTML as a reverse proxy compressing it would send it, and each file as WhiteNoise does.
    total = len(gzip.compress(page))
    for address in static_addresses(page.decode()):
        if address.endswith("apple-touch-icon.png"):
            continue  # fetched by iPhones when saved to the home screen, not on a visit
        _status, headers, body = fetch(client, address, accept_encoding="gzip")
        total += len(body) + sum(len(name) + len(value) + 4 for name, value in headers.items())

    assert total < HOME_PAGE_BUDGET
    # Uncompressed too, for a proxy that does not compress the HTML.
    assert len(page) < HOME_PAGE_BUDGET / 2
