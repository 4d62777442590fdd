"""The security headers Django 5.2 does not set: Content-Security-Policy and Permissions-Policy.

Django 6.0 has a Content-Security-Policy of its own, but needs Python 3.12 (see the README).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse

Directives = dict[str, list[str]]


def csp_header(policy: Directives) -> str:
    """{"img-src": ["'self'", "data:"], "sandbox": []} → "img-src 'self' data:; sandbox"."""
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


def permissions_policy_header(policy: Directives) -> str:
    """{"camera": [], "fullscreen": ["self"]} → "camera=(), fullscreen=(self)"."""
    return ", ".join(f"{feature}=({' '.join(allowed)})" for feature, allowed in policy.items())


def csp_replace(directives: Directives) -> Callable:
    """View decorator: these directives replace the site's in the view's Content-Security-Policy,
    the others stay as CONTENT_SECURITY_POLICY sets them."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        # *args: it decorates admin views (methods) as well as functions.
        @wraps(view)
        def wrapper(*args: object, **kwargs: object) -> HttpResponse:
            response = view(*args, **kwargs)
            response.csp_replace = directives
            return response

        return wrapper

    return decorator


class SecurityHeadersMiddleware:
    """Adds CONTENT_SECURITY_POLICY (with a view's csp_replace) and PERMISSIONS_POLICY to every
    response that does not set them itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = {**settings.CONTENT_SECURITY_POLICY, **getattr(response, "csp_replace", {})}
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = csp_header(policy)
        if settings.PERMISSIONS_POLICY and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = permissions_policy_header(settings.PERMISSIONS_POLICY)
        return response
