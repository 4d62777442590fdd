"""Queueing Celery tasks once the transaction that calls for them has committed.

A broker that is down must not turn what was saved into an error page, nor make every page wait
for its timeouts: what could not be queued is logged, and the periodic tasks catch up (the sweep
of unsent confirmation e-mails, the resumption of updates, the counts' fold and reconciliation).
"""

from __future__ import annotations

import logging

from celery import Task
from django.core.cache import caches
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)

# Once the broker has failed to take a task, this process queues none for this long.
BROKER_PAUSE_SECONDS = 10
BROKER_DOWN_KEY = "petition:broker-down"


def after_commit(task: Task, *args: object) -> None:
    """Queue task(*args) once the current transaction commits (at once outside of one)."""

    # A function of its own, not a functools.partial: Django names the callback when it logs a
    # robust one's failure, and a partial has no name (the logging itself would fail, as a 500).
    def queue() -> None:
        _queue(task, *args)

    transaction.on_commit(queue, robust=True)


def _queue(task: Task, *args: object) -> None:
    local = caches["local"]
    if local.get(BROKER_DOWN_KEY):
        logger.warning(
            "The broker was unavailable a moment ago: %s%r is not queued.", task.name, args
        )
        return
    try:
        task.delay(*args)
    except BrokerUnavailable as error:
        local.set(BROKER_DOWN_KEY, True, BROKER_PAUSE_SECONDS)
        logger.warning(
            "The broker is unavailable (%s): %s%r and whatever comes in the next %d s are not "
            "queued; the periodic tasks catch up once it is back.",
            error,
            task.name,
            args,
            BROKER_PAUSE_SECONDS,
        )
