"""What the site answers when one of its services fails."""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

# Seconds after which a client may try again: PostgreSQL restarts in about that long.
RETRY_AFTER_SECONDS = 30


class DatabaseUnavailableMiddleware:
    """Answer a translated 503 page, rather than a 500, when the database cannot be reached (it
    is restarting, or the connection dropped). The page needs no database: the session lives in
    a signed cookie. A transaction that was cut is rolled back by PostgreSQL, so nothing is
    half-written; the next request opens a new connection (CONN_HEALTH_CHECKS)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("The database is unavailable: %s", exception)
        response = render(request, "503.html", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
