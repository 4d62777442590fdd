"""A production start cannot forget the shared cache that the rate limits count in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from manifesto.checks import holds_outlast_tasks, rate_limits_need_a_shared_cache

PROJECT_DIR = Path(__file__).resolve().parents[1]
LOCAL_MEMORY = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
REDIS = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x:6379/1"}


def production(**env: str) -> dict[str, str]:
    """The environment of a production process on this project, without CACHE_URL."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CACHE_URL", "DATABASE_URL"))
    }
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": "manifesto.settings",
        "DJANGO_SECRET_KEY": "a-long-enough-random-looking-value-for-this-check-only-0123456789",
        "DJANGO_ALLOWED_HOSTS": "petition.example.org",
        **env,
    }


def run(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    "backend", [LOCAL_MEMORY, {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}]
)
def test_a_per_process_cache_is_an_error_in_production(settings, backend):
    settings.DEBUG = False
    settings.RATELIMIT_USE_CACHE = "default"
    settings.CACHES = {**settings.CACHES, "default": backend}

    [error] = rate_limits_need_a_shared_cache()

    assert error.id == "manifesto.E001"
    assert "CACHE_URL" in error.hint


def test_a_shared_cache_or_development_passes(settings):
    settings.DEBUG = False
    settings.RATELIMIT_USE_CACHE = "default"
    settings.CACHES = {**settings.CACHES, "default": REDIS}
    assert rate_limits_need_a_shared_cache() == []

    settings.DEBUG = True
    settings.CACHES = {**settings.CACHES, "default": LOCAL_MEMORY}
    assert rate_limits_need_a_shared_cache() == []


def test_check_deploy_fails_without_cache_url_and_passes_with_it():
    refused = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=production())
    accepted = run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=production(CACHE_URL="redis://127.0.0.1:6379/1"),
    )

    assert refused.returncode != 0
    assert "manifesto.E001" in refused.stderr
    assert "CACHE_URL" in refused.stderr
    assert accepted.returncode == 0, accepted.stderr


@pytest.mark.parametrize("server", ["manifesto.wsgi", "manifesto.asgi"])
def test_the_web_server_does_not_start_without_a_shared_cache(server):
    load = f"import {server}"

    refused = run("-c", load, env=production())
    started = run("-c", load, env=production(CACHE_URL="redis://127.0.0.1:6379/1"))
    development = run("-c", load, env=production(DJANGO_DEBUG="1"))

    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert "CACHE_URL" in refused.stderr
    assert started.returncode == 0, started.stderr
    assert development.returncode == 0, development.stderr


def test_a_hold_shorter_than_a_task_may_run_is_an_error(settings):
    settings.CELERY_TASK_TIME_LIMIT = 120
    settings.CONFIRMATION_CLAIM_SECONDS = 120

    [error] = holds_outlast_tasks()

    assert error.id == "manifesto.E002"
    settings.CONFIRMATION_CLAIM_SECONDS = 121
    assert holds_outlast_tasks() == []


def test_check_refuses_a_hold_the_time_limit_outlasts():
    refused = run(
        "manage.py",
        "check",
        env=production(CONFIRMATION_CLAIM_SECONDS="30", CELERY_TASK_TIME_LIMIT="60"),
    )

    assert refused.returncode != 0
    assert "manifesto.E002" in refused.stderr
