"""What a load balancer or an orchestrator asks of each web process, answered before Django:
`GET /healthz` (the process answers: nothing else is touched) and `GET /readyz` (the database
and the cache answer within READY_SECONDS, else 503).

Before Django, because a probe is not a visitor: it speaks plain HTTP to the process's own
address, which the HTTPS redirect and the allowed hosts would refuse; it must never wait behind a
rate limit; and a node that is not ready is not an error of the site's (Django would log each
503 as one).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections

READY_SECONDS = 1.0
METHODS = {"GET", "HEAD"}
HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
]
STATUS_LINES = {200: "200 OK", 405: "405 Method Not Allowed", 503: "503 Service Unavailable"}

# Checks run here, so that one that hangs (a server that takes the connection and never
# answers) is given up on after READY_SECONDS; while it hangs, the next probes wait behind it
# and are answered 503, which is the truth.
_checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz")


def database_answers() -> None:
    """A connection of its own, made and closed: whether one can be made now is the question."""
    wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        wrapper.close()


def cache_answers() -> None:
    caches["default"].get("readyz")


def readiness() -> tuple[int, dict[str, str]]:
    checks = {"database": _checks.submit(database_answers), "cache": _checks.submit(cache_answers)}
    wait(checks.values(), timeout=READY_SECONDS)
    found = {}
    for name, check in checks.items():
        if not check.done():
            found[name] = "no answer"
        elif check.exception() is not None:
            found[name] = "unreachable"
        else:
            found[name] = "ok"
    ready = all(state == "ok" for state in found.values())
    return (200 if ready else 503), {"status": "ready" if ready else "unavailable", **found}


def probe(method: str, path: str) -> tuple[int, dict[str, str]] | None:
    """The answer to a probe, or None for any other request."""
    if path not in {"/healthz", "/readyz"}:
        return None
    if method not in METHODS:
        return 405, {"status": "GET or HEAD only"}
    if path == "/healthz":
        return 200, {"status": "alive"}
    return readiness()


def _response(method: str, status: int, content: dict[str, str]) -> tuple[list, bytes]:
    body = json.dumps(content).encode()
    headers = [*HEADERS, ("Content-Length", str(len(body)))]
    if status == 405:
        headers.append(("Allow", "GET, HEAD"))
    return headers, (b"" if method == "HEAD" else body)


def health_probes(application: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """WSGI middleware: answer /healthz and /readyz; pass everything else on."""

    def answer(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        answered = probe(method, environ.get("PATH_INFO", ""))
        if answered is None:
            return application(environ, start_response)
        status, content = answered
        headers, body = _response(method, status, content)
        start_response(STATUS_LINES[status], headers)
        return [body]

    return answer


def health_probes_asgi(
    application: Callable[..., Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    """ASGI middleware: answer /healthz and /readyz; pass everything else on."""
    from asgiref.sync import sync_to_async

    async def answer(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope.get("path") not in {"/healthz", "/readyz"}:
            await application(scope, receive, send)
            return
        method = scope.get("method", "GET")
        status, content = await sync_to_async(probe, thread_sensitive=False)(method, scope["path"])
        headers, body = _response(method, status, content)
        encoded = [(name.lower().encode(), value.encode()) for name, value in headers]
        await send({"type": "http.response.start", "status": status, "headers": encoded})
        await send({"type": "http.response.body", "body": body})

    return answer
