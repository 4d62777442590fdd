"""The visitor's address, as far as the configured reverse proxies can be trusted."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """RATELIMIT_IP_META_KEY: REMOTE_ADDR, or the address the outermost trusted proxy saw.

    Each proxy appends the address it received the request from to X-Forwarded-For, so with N
    trusted proxies the N-th entry from the right is the client; anything further left was
    written by the client itself and proves nothing.
    """
    trusted = settings.TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "")
    if trusted <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    # Fewer entries than proxies: the request did not come through all of them, so nothing in
    # the header can be trusted.
    if len(forwarded) < trusted:
        return remote
    candidate = forwarded[-trusted]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
