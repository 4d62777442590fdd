"""Queueing Celery tasks once the transaction that calls for them has committed.

A task a request queues every time (answering a signing) is gathered: each process sends one
message for what its requests committed within settings.TASK_GATHER_SECONDS, because handing a
message to the broker costs a web process more CPU than the rest of a signing but its INSERT.

Tasks are named, not imported: the modules that queue them (services, abuse, privacy, mailings)
stay below petition.tasks, which imports them, so that imports run one way.

A broker that is down must not turn what was saved into an error page, nor make every page wait
for its timeouts: what could not be queued is logged, and the periodic tasks catch up (the sweep
of unanswered signings, the resumption of updates, the counts' fold and reconciliation).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

if TYPE_CHECKING:
    from celery import Celery

logger = logging.getLogger(__name__)

# At most how many items one message carries.
GATHER_MOST = 500

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


class GatheredTask(QueuedTask):
    """An item for a task that takes a list: on commit, it joins this process's gathering."""

    def __call__(self) -> None:
        (item,) = self.args
        if runs_in_process():
            QueuedTask(self.name, ([item],))()
        else:
            _gathering(self.name).add(item)


def gather_after_commit(task_name: str, item: object) -> None:
    """Once the current transaction commits, queue task_name([item, ...]) with the other items
    this process commits for it within settings.TASK_GATHER_SECONDS (at once when tasks run
    in-process).

    Between the commit and the message, an item lives only in this process's memory: a process
    killed meanwhile loses the message, never the row it is about. The task's periodic sweep
    must find such rows, as it finds those committed while the broker was down.
    """
    transaction.on_commit(GatheredTask(task_name, (item,)), robust=True)


class Gathering:
    """The items of one task this process has committed and not sent yet, and the thread that
    sends them."""

    def __init__(self, task_name: str) -> None:
        self.task_name = task_name
        self.items: list[object] = []
        self.lock = threading.Lock()
        self.wanted = threading.Event()
        self.thread: threading.Thread | None = None

    def add(self, item: object) -> None:
        with self.lock:
            self.items.append(item)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self.run, name=f"gather {self.task_name}", daemon=True
                )
                self.thread.start()
        self.wanted.set()

    def run(self) -> None:
        while True:
            self.wanted.wait()
            # The first item waits for the others of the next few milliseconds.
            time.sleep(settings.TASK_GATHER_SECONDS)
            self.send()

    def send(self) -> None:
        with self.lock:
            self.wanted.clear()
            items, self.items = self.items, []
        for start in range(0, len(items), GATHER_MOST):
            try:
                QueuedTask(self.task_name, (items[start : start + GATHER_MOST],))()
            except Exception:
                # The thread must outlive any failure: the next items still need sending, and
                # the sweep finds these ones.
                logger.exception("Could not queue %s for %d items.", self.task_name, len(items))


_gatherings: dict[str, Gathering] = {}
_gatherings_lock = threading.Lock()
_gatherings_pid = os.getpid()


def _gathering(task_name: str) -> Gathering:
    global _gatherings_pid
    with _gatherings_lock:
        # A forked process (a server's worker) starts with none: its parent's threads are gone.
        if _gatherings_pid != os.getpid():
            _gatherings.clear()
            _gatherings_pid = os.getpid()
        if task_name not in _gatherings:
            _gatherings[task_name] = Gathering(task_name)
        return _gatherings[task_name]


@atexit.register
def send_gathered() -> None:
    """Send now what this process has gathered: as it stops (a server's worker restarted), or
    before its broker changes."""
    if _gatherings_pid == os.getpid():
        for gathering in list(_gatherings.values()):
            gathering.send()


def runs_in_process() -> bool:
    """Whether tasks run here and now (no broker: the embedded default) rather than on workers."""
    return bool(_app().conf.task_always_eager)


def load_tasks() -> None:
    """Load the Celery app, its tasks and its broker transport now rather than with the first
    task queued (nothing connects to the broker yet)."""
    app = _app()
    app.finalize()
    if not app.conf.task_always_eager:
        app.amqp.producer_pool  # noqa: B018 - built on first use


def _app() -> Celery:
    # Celery, and the tasks with it, load only once something is queued: commands that queue
    # nothing (the export) start without them.
    from manifesto.celery import app

    from . import tasks  # noqa: F401 - registers the tasks with the app

    return app
