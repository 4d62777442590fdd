"""Bounded waits: poll often, give up at a deadline, never sleep longer than needed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_until(probe: Callable[[], T], *, timeout: float, what: str, interval: float = 0.05) -> T:
    """Call probe until it returns something truthy, and return that; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() >= deadline:
            pytest.fail(f"waited {timeout:g} s for {what}", pytrace=False)
        time.sleep(interval)
