"""System checks of a production start: what must be shared by every web process, and the
timings that keep every e-mail sent once.

The rate limits and the signing limits count in the default cache: a per-process cache lets
each web process (and each machine) count on its own, so that two gunicorn workers let twice
as many signings or login attempts through, and nothing in the logs says so.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

# Backends whose entries live in one process's memory, or nowhere.
UNSHARED_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "manifesto.caches.ProcessMemoryCache",
}


@register(Tags.security, Tags.caches, deploy=True)
def rate_limits_need_a_shared_cache(
    app_configs: object = None, **kwargs: object
) -> list[CheckMessage]:
    """An error under production settings (DEBUG off) when the limits' cache is not shared."""
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if settings.DEBUG or backend not in UNSHARED_CACHES:
        return []
    return [
        Error(
            f"The rate limits count in the cache {alias!r}, which lives in each process's own "
            f"memory ({backend}): every web process would count on its own.",
            hint="Set CACHE_URL to a Redis shared by every web process, such as "
            "redis://cache-host:6379/1.",
            id="manifesto.E001",
        )
    ]


def refuse_to_serve_without_a_shared_cache() -> None:
    """Called as the WSGI and ASGI applications load: a production web server does not start
    with limits that each of its processes would count on its own."""
    errors = rate_limits_need_a_shared_cache()
    if errors:
        raise ImproperlyConfigured(f"{errors[0].msg} {errors[0].hint}")


@register()
def holds_outlast_tasks(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    """A signing's task holds its e-mail for CONFIRMATION_CLAIM_SECONDS before sending it; once
    the hold lapses, the sweep gives the e-mail to another worker. A hold shorter than the time
    Celery lets a task run would hand the e-mail over while its first sending may still be under
    way. (The limit is the worker's main process's to enforce, late when that process waits on a
    broker gone silent; each step of a sending waits at most EMAIL_TIMEOUT meanwhile.)"""
    if settings.CONFIRMATION_CLAIM_SECONDS > settings.CELERY_TASK_TIME_LIMIT:
        return []
    return [
        Error(
            f"CONFIRMATION_CLAIM_SECONDS ({settings.CONFIRMATION_CLAIM_SECONDS}) must exceed "
            f"CELERY_TASK_TIME_LIMIT ({settings.CELERY_TASK_TIME_LIMIT}): a worker cut off while "
            "sending an e-mail could send it after another worker has.",
            hint="Raise CONFIRMATION_CLAIM_SECONDS or lower CELERY_TASK_TIME_LIMIT.",
            id="manifesto.E002",
        )
    ]
