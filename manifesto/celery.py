"""The Celery application: `celery -A manifesto worker` and `celery -A manifesto beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manifesto.settings")

app = Celery("manifesto")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "reconcile-signature-counts": {
        "task": "petition.tasks.refresh_all_signature_counts",
        "schedule": 60.0,
    },
}
