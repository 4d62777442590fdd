"""Requests that declare a character set other than UTF-8 are refused at the door.

Django reads a request's query string and form fields in the charset its Content-Type names,
and takes any name Python knows. Some are no text encodings at all (rot13, base64, zlib):
reading in them raises LookupError, for a query string even while the request object is built,
before any middleware could answer: a 500. Others turn escapes into characters that neither
PostgreSQL, a redirect nor an e-mail can carry (unicode_escape, utf-7: lone surrogates).

The site's forms post UTF-8, JSON is UTF-8 (RFC 8259), and Django itself refuses a urlencoded
form in any other charset (RFC 1866): a request that says otherwise is answered 400 here, by
the WSGI and ASGI applications (manifesto/wsgi.py, manifesto/asgi.py).
"""

from __future__ import annotations

import codecs
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from django.utils.http import parse_header_parameters

REFUSAL = b"Bad Request: this site reads requests in UTF-8 only.\n"
REFUSAL_HEADERS = [("Content-Type", "text/plain; charset=utf-8")]


def declares_other_charset(content_type: str) -> bool:
    """Whether a Content-Type names a charset other than UTF-8 (or ASCII, a part of it)."""
    charset = parse_header_parameters(content_type)[1].get("charset")
    if charset is None:
        return False
    try:
        return codecs.lookup(charset).name not in {"utf-8", "ascii"}
    except (LookupError, ValueError):
        return True


def utf8_only(application: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """WSGI middleware: answer 400 to a request in another charset than UTF-8."""

    def guarded(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if declares_other_charset(environ.get("CONTENT_TYPE", "")):
            start_response("400 Bad Request", REFUSAL_HEADERS)
            return [REFUSAL]
        return application(environ, start_response)

    return guarded


def utf8_only_asgi(application: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """ASGI middleware: answer 400 to a request in another charset than UTF-8."""

    async def guarded(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        # Several Content-Type headers reach Django joined by commas, as here.
        content_type = b",".join(
            value for name, value in scope.get("headers", []) if name.lower() == b"content-type"
        )
        if scope["type"] == "http" and declares_other_charset(content_type.decode("latin-1")):
            headers = [(name.lower().encode(), value.encode()) for name, value in REFUSAL_HEADERS]
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": REFUSAL})
            return
        await application(scope, receive, send)

    return guarded
