"""The rate limits ask Redis the same thing for an address typed for the first time in the
hour and for one typed before: their timing tells nothing (manifesto.caches.RateLimitCache)."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from django.test import Client

from tests.conftest import require_service, signing_form, url_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_commands(monkeypatch):
    """The commands this process sends to Redis, in order, by name."""
    if settings.RATELIMIT_USE_CACHE != "ratelimit":
        require_service("Redis", "127.0.0.1", 6379)
        pytest.skip("the rate limits count in Redis only with CACHE_URL")
    sent: list[str] = []
    send = redis.Redis.execute_command

    def recorded(client, *args, **options):
        sent.append(str(args[0]).upper())
        return send(client, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", recorded)
    return sent


def test_a_first_and_a_repeated_address_cost_the_same_commands(petition, redis_commands):
    path = url_in("fr", "petition", petition.slug)
    Client().post(path, signing_form(email="warm@example.org"))

    redis_commands.clear()
    Client().post(path, signing_form(email="first.time@example.org"))
    first = list(redis_commands)
    redis_commands.clear()
    Client().post(path, signing_form(email="first.time@example.org"))
    repeated = list(redis_commands)

    assert first == repeated
    assert first.count("INCRBY") + first.count("INCR") >= 2  # the address's and the IP's


def test_counters_still_count_and_expire(settings):
    cache = caches["ratelimit"] if "ratelimit" in settings.CACHES else None
    if cache is None:
        pytest.skip("the rate limits count in Redis only with CACHE_URL")

    assert cache.add("attempts", 1, 60) is False
    assert [cache.incr("attempts") for _ in range(3)] == [1, 2, 3]
    assert cache.add("attempts", 1, 60) is False
    assert cache.incr("attempts") == 4

    cache.add("window", 1, 1)
    assert cache.incr("window") == 1
    time.sleep(1.2)
    cache.add("window", 1, 1)
    assert cache.incr("window") == 1, "a counter lasts its window, no more"
