"""The probes of a load balancer or an orchestrator (manifesto.health): /healthz answers with
the process alone, /readyz tells whether the database and the cache answer within a second."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application
from django.db import connections
from django.test import override_settings

from manifesto.health import READY_SECONDS, health_probes, health_probes_asgi

pytestmark = pytest.mark.django_db(transaction=True)


def call(path: str, method: str = "GET", **environ: str) -> tuple[str, dict, bytes]:
    """The site's WSGI application behind the probes, called as a server would, over plain
    HTTP and with whatever Host the probe sends."""
    app = health_probes(get_wsgi_application())
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen.update(status=status, headers=dict(headers))

    body = b"".join(
        app(
            {
                "REQUEST_METHOD": method,
                "PATH_INFO": path,
                "QUERY_STRING": "",
                "SERVER_NAME": "10.0.0.7",
                "SERVER_PORT": "8000",
                "HTTP_HOST": "10.0.0.7:8000",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REMOTE_ADDR": "10.0.0.1",
                "wsgi.input": io.BytesIO(b""),
                "wsgi.url_scheme": "http",
                "wsgi.errors": sys.stderr,
                **environ,
            },
            start_response,
        )
    )
    return seen["status"], seen["headers"], body


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that takes connections and never answers: a server whose host hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    taken = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                taken.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in taken:
        connection.close()
    listener.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_cache_at(port: int) -> override_settings:
    location = f"redis://127.0.0.1:{port}/0"
    backend = "django.core.cache.backends.redis.RedisCache"
    return override_settings(CACHES={"default": {"BACKEND": backend, "LOCATION": location}})


def test_healthz_answers_from_the_process_alone(django_assert_num_queries):
    # Whatever the database and cache do: nothing of them is touched.
    with redis_cache_at(closed_port()), django_assert_num_queries(0):
        status, headers, body = call("/healthz")
    assert status == "200 OK"
    assert json.loads(body) == {"status": "alive"}
    assert headers["Cache-Control"] == "no-store"


def test_readyz_answers_200_when_the_database_and_the_cache_answer(requires_postgresql):
    status, headers, body = call("/readyz")
    assert status == "200 OK"
    assert json.loads(body) == {"status": "ready", "database": "ok", "cache": "ok"}
    assert headers["Content-Type"] == "application/json"


def test_readyz_answers_503_at_once_when_the_database_refuses(requires_postgresql, monkeypatch):
    monkeypatch.setitem(connections.settings["default"], "PORT", str(closed_port()))
    status, _headers, body = call("/readyz")
    assert status == "503 Service Unavailable"
    assert json.loads(body) == {"status": "unavailable", "database": "unreachable", "cache": "ok"}


def test_readyz_gives_up_on_a_cache_that_hangs_after_a_second(silent_server):
    started = time.monotonic()
    with redis_cache_at(silent_server):
        status, _headers, body = call("/readyz")
    took = time.monotonic() - started
    assert status == "503 Service Unavailable"
    assert json.loads(body)["cache"] == "no answer"
    assert READY_SECONDS <= took < READY_SECONDS + 1


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_take_get_and_head_only(path):
    status, headers, body = call(path, method="POST")
    assert status == "405 Method Not Allowed"
    assert headers["Allow"] == "GET, HEAD"
    status, _headers, body = call("/healthz", method="HEAD")
    assert status == "200 OK"
    assert body == b""


def test_other_paths_go_to_the_site(petition):
    status, _headers, _body = call("/healthz/extra")
    # Plain HTTP on a host the site does not serve: Django's own answer, not a probe's.
    assert status.startswith("400")


def test_the_asgi_application_answers_the_probes_too():
    app = health_probes_asgi(get_asgi_application())
    sent = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/healthz", "headers": []}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"]) == {"status": "alive"}
