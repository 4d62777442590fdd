"""The counter API's answers kept at the WSGI door (manifesto.answers): the same bytes and
headers as Django's, for a second, then fresh; nothing private or missing is kept."""

from __future__ import annotations

import io
import sys
import time

import pytest
from django.core.wsgi import get_wsgi_application

from manifesto.answers import SharedAnswers
from petition.models import Petition

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("petition")]

API = "/api/petitions/stop-cyberpedocriminalite/"


class Door:
    """The site's WSGI application behind SharedAnswers, called as a server would."""

    def __init__(self, seconds: float) -> None:
        self.app = SharedAnswers(get_wsgi_application(), prefix="/api/petitions/", seconds=seconds)

    def call(self, path: str, method: str = "GET", **headers: str) -> tuple[str, dict, bytes]:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": headers.pop("query", ""),
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "HTTP_HOST": "testserver",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
        }
        seen = {}

        def start_response(status, response_headers, exc_info=None):
            seen.update(status=status, headers=dict(response_headers))

        body = b"".join(self.app(environ, start_response))
        return seen["status"], seen["headers"], body


def set_count(count: int) -> None:
    Petition.objects.filter(slug="stop-cyberpedocriminalite").update(signature_count=count)


def test_an_answer_is_given_again_for_its_second_with_the_same_headers():
    door = Door(seconds=60)
    set_count(41)
    first = door.call(API)
    set_count(42)  # as a fold would, within the second

    again = door.call(API, query="_=cache-buster")

    assert first[0] == again[0] == "200 OK"
    assert b'"signature_count": 41' in first[2]
    assert again == first
    assert {"Content-Security-Policy", "ETag", "Cache-Control", "Access-Control-Allow-Origin"} <= (
        first[1].keys()
    )


def test_after_its_second_the_answer_is_fresh(monkeypatch):
    door = Door(seconds=60)
    set_count(7)
    door.call(API)
    set_count(8)
    later = time.monotonic() + 61
    monkeypatch.setattr("manifesto.answers.time.monotonic", lambda: later)

    assert b'"signature_count": 8' in door.call(API)[2]


def test_a_poller_with_the_etag_gets_304_without_a_body():
    door = Door(seconds=60)
    _, headers, _ = door.call(API)

    status, again, body = door.call(API, if_none_match=headers["ETag"])

    assert (status, body) == ("304 Not Modified", b"")
    assert again["ETag"] == headers["ETag"]
    assert "Content-Length" not in again


def test_missing_petitions_and_other_pages_are_never_kept():
    door = Door(seconds=60)

    assert door.call("/api/petitions/no-such-petition/")[0].startswith("404")
    door.call("/fr/")
    assert door.call(API, method="POST")[0][:3] in {"403", "405"}

    assert list(door.app.answers) == []


def test_without_a_cache_time_every_request_reaches_django():
    door = Door(seconds=0)
    set_count(1)
    door.call(API)
    set_count(2)

    assert b'"signature_count": 2' in door.call(API)[2]
    assert door.app.answers == {}
