"""What the site answers when one of its services fails."""

import logging
import re
from collections.abc import Callable
from urllib.parse import urlencode

from allauth.core.exceptions import ReauthenticationRequired
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext

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


# Staff pages a signed-in member without a second factor may open: those that enrol one.
ENROLMENT_VIEWS = frozenset(
    {
        "mfa_index",
        "mfa_activate_totp",
        "mfa_add_webauthn",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_download_recovery_codes",
        "account_reauthenticate",
        "account_logout",
        "admin:logout",
        "admin:jsi18n",
    }
)
# Open to anyone: the login and its second step.
OPEN_VIEWS = frozenset({"account_login", "mfa_authenticate", "admin:login"})


class StaffAccessMiddleware:
    """Staff pages (everything under ADMIN_PATH) for sessions that passed a second factor, and
    whose StaffSession row still stands (petition.staff). A member without a factor yet is sent
    to enrol one; a session that never passed the member's factor, or that ended (expired,
    ended from another browser, by a password change or a factor removed), signs in again.

    Only staff pages are looked at: public pages keep their signed-cookie sessions untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        languages = "|".join(re.escape(code) for code, _name in settings.LANGUAGES)
        self.staff_path = re.compile(rf"^/(?:{languages})/{re.escape(settings.ADMIN_PATH)}")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        from petition import staff

        staff.remember_browser(request, response)
        return response

    def process_view(
        self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict
    ) -> HttpResponse | None:
        if not self.staff_path.match(request.path_info):
            return None
        match = request.resolver_match
        name = match.view_name if match is not None else ""
        if name in OPEN_VIEWS or not request.user.is_authenticated:
            return None
        from petition import staff

        state = staff.access(request)
        if state is staff.Access.ALLOWED:
            return None
        if state is staff.Access.ENROL:
            if name in ENROLMENT_VIEWS:
                return None
            return redirect("mfa_index")
        # Ended, or never passed the second factor: sign in again, then back here.
        logout(request)
        messages.info(
            request,
            gettext("Your session has ended. Please sign in again.")
            if state is staff.Access.ENDED
            else gettext("Please sign in again, with your second factor."),
        )
        query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
        return redirect(f"{reverse('account_login')}?{query}")

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A staff page that needs the second factor again (petition.staff): to the page that
        asks for it, then back. allauth would keep a form that was sent, to send it again
        afterwards, in the session; sessions here are a signed cookie, which the request's
        headers (the cookie itself among them) would swell past what browsers keep. The
        member sends the form again instead."""
        if not isinstance(exception, ReauthenticationRequired):
            return None
        from allauth.account.adapter import get_adapter

        methods = get_adapter(request).get_reauthentication_methods(request.user)
        url = methods[0]["url"] if methods else reverse("account_login")
        if request.method == "POST":
            messages.info(request, gettext("Once it is done, send the form again."))
        query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
        return redirect(f"{url}?{query}")
