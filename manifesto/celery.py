"""The Celery application: `celery -A manifesto worker` and `celery -A manifesto beat`."""

import os

from celery import Celery
from celery.app.utils import Settings
from celery.schedules import crontab
from celery.signals import celeryd_init, worker_ready
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manifesto.settings")

app = Celery("manifesto")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Counting has its own queue, so that a backlog of e-mails never delays the public count, and
# updates to signers theirs ("bulk"), so that a mass sending never holds up confirmations: its
# batches are short, and production can give "bulk" workers of its own (-Q bulk). A worker
# started without -Q consumes every queue listed here.
app.conf.task_queues = [Queue("celery"), Queue("counts"), Queue("log"), Queue("bulk")]
app.conf.task_default_queue = "celery"
app.conf.task_routes = {
    "petition.tasks.fold_count": {"queue": "counts"},
    "petition.tasks.fold_counts": {"queue": "counts"},
    "petition.tasks.refresh_signature_count": {"queue": "counts"},
    "petition.tasks.reconcile_counts": {"queue": "counts"},
    # Beside the counts, not behind them: a log catching up never holds the counter back.
    "petition.tasks.append_to_logs": {"queue": "log"},
    "petition.tasks.append_to_log": {"queue": "log"},
    "petition.tasks.sign_tree_heads": {"queue": "log"},
    "petition.tasks.reconcile_log": {"queue": "log"},
    "petition.tasks.prepare_update": {"queue": "bulk"},
    "petition.tasks.send_update_batch": {"queue": "bulk"},
    "petition.tasks.resume_updates": {"queue": "bulk"},
}
# From the environment: Django's settings may still be loading when this module is imported.
SWEEP_EVERY_SECONDS = float(os.environ.get("CONFIRMATION_SWEEP_EVERY_SECONDS", "60"))
app.conf.beat_schedule = {
    "fold-signature-counts": {
        "task": "petition.tasks.fold_counts",
        "schedule": 1.0,
        "options": {"expires": 5},
    },
    "reconcile-signature-counts": {
        "task": "petition.tasks.reconcile_counts",
        "schedule": 10 * 60.0,
    },
    "append-to-logs": {
        "task": "petition.tasks.append_to_logs",
        "schedule": 5.0,
        "options": {"expires": 30},
    },
    "sign-tree-heads": {
        "task": "petition.tasks.sign_tree_heads",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "refresh-figures": {
        "task": "petition.tasks.refresh_figures",
        "schedule": 5 * 60.0,
    },
    "answer-unanswered-signings": {
        "task": "petition.tasks.answer_unanswered_signings",
        "schedule": SWEEP_EVERY_SECONDS,
        "options": {"expires": 60},
    },
    "abuse-report": {
        "task": "petition.tasks.write_abuse_report",
        "schedule": crontab(minute=0),
    },
    "retention": {
        "task": "petition.tasks.apply_retention",
        "schedule": crontab(hour=4, minute=15),
    },
    "resume-updates": {
        "task": "petition.tasks.resume_updates",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
}


@worker_ready.connect
def resume_updates(sender: object, **kwargs: object) -> None:
    """A worker that starts carries on the updates to signers that a dead one left midway."""
    app.send_task("petition.tasks.resume_updates")


@celeryd_init.connect
def wait_for_a_stalled_broker(conf: Settings, **kwargs: object) -> None:
    """A worker waits for a broker that stalls, rather than time out as web processes do (a page
    must not hang, settings.CELERY_BROKER_TRANSPORT_OPTIONS): when an acknowledgement times out,
    kombu's Redis transport keeps the message's prefetch slot for ever, and a worker whose slots
    are all lost this way takes no more tasks."""
    options = dict(conf.broker_transport_options)
    options.pop("socket_timeout", None)
    conf.broker_transport_options = options
