"""The "local" cache keeps values as they are, for as long as asked, and no more."""

from __future__ import annotations

import pytest

from manifesto.caches import ProcessMemoryCache


@pytest.fixture
def cache() -> ProcessMemoryCache:
    return ProcessMemoryCache("test", {"OPTIONS": {"MAX_ENTRIES": 4, "CULL_FREQUENCY": 2}})


def test_a_value_is_handed_back_as_it_was_given(cache):
    page = (b"<html>", "slot", b"</html>")
    cache.set("page", page, 60)

    assert cache.get("page") is page
    assert cache.get("missing", "default") == "default"


def test_a_value_expires(cache, monkeypatch):
    cache.set("count", b"41", 1)
    now = __import__("time").monotonic()
    monkeypatch.setattr("manifesto.caches.time.monotonic", lambda: now + 1.5)

    assert cache.get("count") is None
    assert not cache.has_key("count")


def test_a_zero_timeout_stores_nothing(cache):
    cache.set("count", b"41", 0)

    assert cache.get("count") is None


def test_add_delete_touch_and_clear(cache):
    assert cache.add("key", 1, 60)
    assert not cache.add("key", 2, 60)
    assert cache.get("key") == 1
    assert cache.touch("key", 120)
    assert cache.delete("key")
    assert not cache.delete("key")
    cache.set("other", 3)
    cache.clear()
    assert cache.get("other") is None


def test_a_full_cache_drops_what_expires_first(cache):
    for number in range(4):
        cache.set(f"key{number}", number, 10 + number)

    cache.set("new", "value", 60)

    assert cache.get("new") == "value"
    assert cache.get("key0") is None
    assert cache.get("key3") == 3
