"""Shared answers kept at the WSGI door: the counter API, served before Django runs.

A count is a few bytes that every poller asks for, that are the same for all of them, and that
may be a second old (COUNTER_CACHE_SECONDS). The first request in that second goes through
the whole site, its middleware included; its answer (status, headers, body) is kept in this
process's memory and given as it is to the next requests, or 304 Not Modified to those that
send its ETag. Only answers Django marked as public and that set no cookie are kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

WSGIApplication = Callable[[dict[str, Any], Callable], Iterable[bytes]]

# Past this many, answers are no longer kept until the oldest expire: slugs that do not exist
# are never kept (404), so only real petitions fill it.
MAX_ANSWERS = 1000


@dataclass(frozen=True)
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str | None
    expires: float


def is_shareable(status: str, headers: list[tuple[str, str]]) -> bool:
    names = {name.lower(): value for name, value in headers}
    return (
        status.startswith("200 ")
        and "set-cookie" not in names
        and "public" in names.get("cache-control", "")
    )


class SharedAnswers:
    """WSGI middleware keeping, for `seconds`, the public GET answers under `prefix`.

    Query strings are ignored: the counter API takes none, and a cache buster must not make
    every poll reach the database. So only the answers one level below `prefix` are kept
    (/api/petitions/<slug>/): deeper ones (a petition's log) depend on their query.
    """

    def __init__(self, application: WSGIApplication, *, prefix: str, seconds: float) -> None:
        self.application = application
        self.prefix = prefix
        self.seconds = seconds
        self.answers: dict[str, Answer] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO", "")
        if (
            self.seconds <= 0
            or method not in ("GET", "HEAD")
            or not path.startswith(self.prefix)
            or path.count("/", len(self.prefix)) > 1
        ):
            return self.application(environ, start_response)
        answer = self.answers.get(path)
        if answer is not None and answer.expires > time.monotonic():
            return self._give(answer, environ, start_response)
        if environ.get("HTTP_IF_NONE_MATCH") or method == "HEAD":
            # Django answers these itself (304, no body); nothing to keep from them.
            return self.application(environ, start_response)
        return self._keep(path, environ, start_response)

    def _give(
        self, answer: Answer, environ: dict[str, Any], start_response: Callable
    ) -> Iterable[bytes]:
        if answer.etag is not None and answer.etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            headers = [(n, v) for n, v in answer.headers if n.lower() != "content-length"]
            start_response("304 Not Modified", headers)
            return []
        start_response(answer.status, answer.headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [answer.body]

    def _keep(
        self, path: str, environ: dict[str, Any], start_response: Callable
    ) -> Iterable[bytes]:
        seen: dict[str, Any] = {}

        def remember(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        chunks = self.application(environ, remember)
        if not is_shareable(seen.get("status", ""), seen.get("headers", [])):
            return chunks
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        etag = next((v for n, v in seen["headers"] if n.lower() == "etag"), None)
        answer = Answer(
            seen["status"], list(seen["headers"]), body, etag, time.monotonic() + self.seconds
        )
        with self._lock:
            if len(self.answers) >= MAX_ANSWERS:
                now = time.monotonic()
                self.answers = {k: a for k, a in self.answers.items() if a.expires > now}
            if len(self.answers) < MAX_ANSWERS:
                self.answers[path] = answer
        return [body]
