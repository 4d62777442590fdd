"""Queueing Celery tasks once the transaction that calls for them has committed.

Tasks are named, not imported: the modules that queue them (services, abuse, privacy, mailings)
stay below petition.tasks, which imports them, so that imports run one way.

A broker that is down must not turn what was saved into an error page, nor make every page wait
for its timeouts: what could not be queued is logged, and the periodic tasks catch up (the sweep
of unanswered signings, the resumption of updates, the counts' fold and reconciliation).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.core.cache import caches
from django.db import transaction

if TYPE_CHECKING:
    from celery import Celery

logger = logging.getLogger(__name__)

# Once the broker has failed to take a task, this process queues none for this long.
BROKER_PAUSE_SECONDS = 10
BROKER_DOWN_KEY = "petition:broker-down"


class QueuedTask:
    """A task to queue once the transaction commits: transaction.on_commit's callback."""

    def __init__(self, name: str, args: tuple[object, ...]) -> None:
        self.name = name
        self.args = args
        # Django names a robust callback when it logs its failure.
        self.__qualname__ = f"queue {name}"

    def __repr__(self) -> str:
        return f"<QueuedTask {self.name}{self.args!r}>"

    def __call__(self) -> None:
        from kombu.exceptions import OperationalError as BrokerUnavailable

        local = caches["local"]
        if local.get(BROKER_DOWN_KEY):
            logger.warning(
                "The broker was unavailable a moment ago: %s%r is not queued.", self.name, self.args
            )
            return
        try:
            _app().tasks[self.name].delay(*self.args)
        except BrokerUnavailable as error:
            local.set(BROKER_DOWN_KEY, True, BROKER_PAUSE_SECONDS)
            logger.warning(
                "The broker is unavailable (%s): %s%r and whatever comes in the next %d s are "
                "not queued; the periodic tasks catch up once it is back.",
                error,
                self.name,
                self.args,
                BROKER_PAUSE_SECONDS,
            )


def after_commit(task_name: str, *args: object) -> None:
    """Queue the task named task_name with args once the current transaction commits (at once
    outside of one)."""
    transaction.on_commit(QueuedTask(task_name, args), robust=True)


def runs_in_process() -> bool:
    """Whether tasks run here and now (no broker: the embedded default) rather than on workers."""
    return bool(_app().conf.task_always_eager)


def _app() -> Celery:
    # Celery, and the tasks with it, load only once something is queued: commands that queue
    # nothing (the export) start without them.
    from manifesto.celery import app

    from . import tasks  # noqa: F401 - registers the tasks with the app

    return app
