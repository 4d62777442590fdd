"""The "local" cache: what each process keeps for a second or a minute, read on every request.

Django's LocMemCache pickles each value it stores and unpickles it on every read, so that a
caller may change what it got; and it checks every key for memcached's limits. Here the values
are never changed in place (pages and answers as text or bytes, tuples, the switches as read
from the database) and the keys are the site's own, so this backend keeps each value as it is:
reading the cached home page costs a dictionary look-up instead of a copy of 30 KB.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache


class ProcessMemoryCache(BaseCache):
    """A cache in this process's memory that hands out the very objects it was given."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self._entries: dict[str, tuple[float | None, Any]] = {}
        self._lock = threading.Lock()

    def validate_key(self, key: str) -> None:
        """Keys are made by the site itself: no memcached checks on every read."""

    def _expiry(self, timeout: float | None) -> float | None:
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        return None if timeout is None else time.monotonic() + timeout

    def _live(self, key: str) -> tuple[float | None, Any] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, _value = entry
        if expires is not None and expires <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        entry = self._live(self.make_and_validate_key(key, version=version))
        return default if entry is None else entry[1]

    def set(
        self,
        key: str,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> None:
        key = self.make_and_validate_key(key, version=version)
        expires = self._expiry(timeout)
        with self._lock:
            if expires is not None and expires <= time.monotonic():
                self._entries.pop(key, None)
                return
            if len(self._entries) >= self._max_entries and key not in self._entries:
                self._cull()
            self._entries[key] = (expires, value)

    def add(
        self,
        key: str,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> bool:
        with self._lock:
            if self._live(self.make_and_validate_key(key, version=version)) is not None:
                return False
        self.set(key, value, timeout, version)
        return True

    def touch(
        self, key: str, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                return False
            self._entries[key] = (self._expiry(timeout), entry[1])
            return True

    def delete(self, key: str, version: int | None = None) -> bool:
        with self._lock:
            return (
                self._entries.pop(self.make_and_validate_key(key, version=version), None)
                is not None
            )

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self._live(self.make_and_validate_key(key, version=version)) is not None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _cull(self) -> None:
        now = time.monotonic()
        live = {k: e for k, e in self._entries.items() if e[0] is None or e[0] > now}
        if len(live) >= self._max_entries:
            # Still full: drop the entries that expire first, a cull_frequency-th of them.
            keep = sorted(live.items(), key=lambda item: item[1][0] or float("inf"))
            live = dict(keep[len(keep) // self._cull_frequency :])
        self._entries = live


class RateLimitCache(RedisCache):
    """The rate limits' counters, in the shared Redis, each attempt costing two round trips.

    django-ratelimit adds a counter for the first attempt in a window (one round trip), and for
    the next ones fails to add it, then increments it (three, with Django's check that the key
    exists): the time a signing took would tell whether its address had been typed into the
    form in the last hour. Here add() makes a missing counter at zero and answers that it was
    there, so that every attempt then increments it: the same commands, whatever the address.
    """

    def add(
        self,
        key: str,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> bool:
        key = self.make_and_validate_key(key, version=version)
        client = self._cache.get_client(key, write=True)
        client.set(key, 0, ex=self.get_backend_timeout(timeout), nx=True)
        return False

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        return self._cache.get_client(key, write=True).incr(key, delta)
