"""The visitor's address behind reverse proxies, as the rate limits see it."""

from __future__ import annotations

import pytest

from manifesto.proxies import client_ip

PROXY = "10.0.0.2"
OUTER_PROXY = "10.0.0.1"
VISITOR = "203.0.113.7"
SPOOFED = "198.51.100.66"


def request_with(rf, forwarded_for: str | None, remote_addr: str = PROXY):
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    return rf.get("/", headers=headers, REMOTE_ADDR=remote_addr)


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "remote_addr", "expected"),
    [
        # No proxy trusted: only the connection's own address counts.
        (0, None, VISITOR, VISITOR),
        (0, SPOOFED, VISITOR, VISITOR),
        # One proxy: it appended the address it saw, the rightmost one.
        (1, VISITOR, PROXY, VISITOR),
        (1, f"{SPOOFED}, {VISITOR}", PROXY, VISITOR),
        (1, f"{SPOOFED},{SPOOFED}, {VISITOR}", PROXY, VISITOR),
        (1, None, PROXY, PROXY),
        (1, "", PROXY, PROXY),
        # Two proxies: the outer one appended the visitor, the inner one the outer proxy.
        (2, f"{VISITOR}, {OUTER_PROXY}", PROXY, VISITOR),
        (2, f"{SPOOFED}, {VISITOR}, {OUTER_PROXY}", PROXY, VISITOR),
        (2, f" {SPOOFED} ,  {VISITOR} , {OUTER_PROXY} ", PROXY, VISITOR),
        # Fewer entries than proxies: the request went round them; the header proves nothing.
        (2, SPOOFED, PROXY, PROXY),
        # Not an address at all: the connection's own address, never the garbage.
        (1, "<script>", PROXY, PROXY),
        (1, f"{VISITOR}, not-an-ip", PROXY, PROXY),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(
    settings, rf, trusted, forwarded_for, remote_addr, expected
):
    settings.TRUSTED_PROXY_COUNT = trusted

    assert client_ip(request_with(rf, forwarded_for, remote_addr)) == expected


def test_client_ip_with_ipv6_visitors(settings, rf):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(request_with(rf, f"{SPOOFED}, 2001:db8::7")) == "2001:db8::7"


@pytest.fixture
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATELIMIT_ENABLE = True
    settings.SIGN_RATE_PER_IP = "2/d"
    settings.SIGN_RATE_PER_EMAIL = "100/d"
    return settings


def sign_through_proxy(client_factory, path, data, forwarded_for):
    return client_factory().post(
        path, data, REMOTE_ADDR=PROXY, headers={"X-Forwarded-For": forwarded_for}
    )


def test_visitors_behind_the_same_proxy_are_limited_separately(
    behind_one_proxy, client_factory, petition, signer_data, url
):
    path = url("fr", "petition", petition.slug)
    for n in range(3):
        sign_through_proxy(
            client_factory, path, {**signer_data, "email": f"a{n}@example.org"}, VISITOR
        )

    other = sign_through_proxy(client_factory, path, signer_data, "203.0.113.8")

    assert other.status_code == 302


def test_a_visitor_cannot_dodge_the_limit_by_writing_x_forwarded_for(
    behind_one_proxy, client_factory, petition, signer_data, url
):
    path = url("fr", "petition", petition.slug)

    statuses = [
        sign_through_proxy(
            client_factory,
            path,
            {**signer_data, "email": f"s{n}@example.org"},
            f"198.51.100.{n}, {VISITOR}",
        ).status_code
        for n in range(3)
    ]

    assert statuses == [302, 302, 429]


def test_without_trusted_proxies_x_forwarded_for_is_ignored(
    behind_one_proxy, client_factory, petition, signer_data, url
):
    behind_one_proxy.TRUSTED_PROXY_COUNT = 0
    path = url("fr", "petition", petition.slug)

    statuses = [
        sign_through_proxy(
            client_factory, path, {**signer_data, "email": f"p{n}@example.org"}, f"198.51.100.{n}"
        ).status_code
        for n in range(3)
    ]

    assert statuses == [302, 302, 429]
