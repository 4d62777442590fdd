"""An update to signers through a real Celery worker, over SMTP, with the worker killed
(SIGKILL) midway and started again: it resumes, nobody gets two copies, nobody is skipped
except, knowingly, the one message that was in the SMTP server's hands at the instant of the
kill (see petition.mailings for that policy)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from manifesto.celery import app as celery_app
from petition import mailings
from petition.models import Petition, Signature, Suppression, Update, UpdateDelivery
from tests.conftest import require_service

from .conftest import (
    BROKER_URL,
    PROJECT_DIR,
    WORKER_READY_TIMEOUT,
    CeleryProcess,
    Mailbox,
    SmtpServer,
    free_port,
    missing,
    reset_broker_connections,
    worker_database_url,
)
from .waiting import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _next_database(url: str) -> str:
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(database + 1) % 16}"))


# A Redis database of its own (the next one after TEST_BROKER_URL's), so that the package's
# long-lived worker, on TEST_BROKER_URL, never takes these tasks.
RESUME_BROKER_URL = os.environ.get("TEST_RESUME_BROKER_URL", _next_database(BROKER_URL))
SIGNERS = 24
BATCH_SIZE = 4
HOLD_AT = 10  # the 10th message: the second of the third batch
TIME_LIMIT = 2  # seconds a batch may run: the lease of a claim is twice that


class HoldingMailbox(Mailbox):
    """An SMTP server that stops answering at the nth message, until told to go on.

    stored=True: it has taken the message and not yet said so (250), which is where a sender
    that dies cannot know the message left. stored=False: it has not taken it yet.
    """

    def __init__(self, hold_at: int, *, stored: bool) -> None:
        super().__init__()
        self.hold_at = hold_at
        self.stored = stored
        self.seen = 0
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.seen += 1
        if self.seen != self.hold_at:
            return await super().handle_DATA(server, session, envelope)
        answer = await super().handle_DATA(server, session, envelope) if self.stored else None
        self.holding.set()
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        return answer or "451 4.3.0 Try again later"


class Worker(CeleryProcess):
    def wait_ready(self, *, after: int) -> None:
        self.wait_for_log(r" ready\.", after=after, timeout=WORKER_READY_TIMEOUT)


def flush(url: str) -> None:
    with redis.Redis.from_url(url) as client:
        client.flushdb()


@pytest.fixture
def publish_to_resume_broker() -> Iterator[None]:
    """This process queues tasks on the resume broker instead of running them eagerly."""
    broker = urlsplit(RESUME_BROKER_URL)
    require_service("Redis", broker.hostname or "localhost", broker.port or 6379)
    flush(RESUME_BROKER_URL)
    saved = {key: celery_app.conf[key] for key in ("task_always_eager", "broker_url")}
    reset_broker_connections()
    celery_app.conf.update(task_always_eager=False, broker_url=RESUME_BROKER_URL)
    try:
        yield
    finally:
        reset_broker_connections()
        celery_app.conf.update(saved)
        flush(RESUME_BROKER_URL)


def start_worker(tmp_path: Path, smtp: SmtpServer) -> Worker:
    from django.db import connection

    if connection.vendor != "postgresql":
        missing("the Celery worker needs the test database on PostgreSQL")
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_DIR),
        "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": RESUME_BROKER_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp.host,
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_TIMEOUT": "5",
        "SITE_URL": "http://testserver",
        "UPDATE_SEND_RATE": "0",
        "UPDATE_BATCH_SIZE": str(BATCH_SIZE),
        "UPDATE_BATCH_TIME_LIMIT": str(TIME_LIMIT),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    worker = Worker(
        "worker",
        "--pool=solo",
        "--hostname=resume@%h",
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
        env=env,
        log_path=tmp_path / "worker.log",
        ready=" ready.",
    )
    worker.start()
    worker.wait_ready(after=0)
    return worker


def make_signers(petition: Petition) -> tuple[list[Signature], list[Signature]]:
    signed_at = timezone.now() - timedelta(days=2)

    def make(n: int, **fields: object) -> Signature:
        values = {
            "first_name": f"Prénom{n}",
            "last_name": "Durand",
            "email": f"signer.{n}@example.org",
            "language": "fr" if n % 3 else "en",
            "wants_news": True,
            "created_at": signed_at,
            "confirmed_at": signed_at,
            **fields,
        }
        return Signature.objects.create(petition=petition, **values)

    receivers = [make(n) for n in range(SIGNERS)]
    others = [
        make(100, confirmed_at=None),
        make(101, unsubscribed_at=timezone.now()),
        make(102),
    ]
    Suppression.objects.create(email=others[-1].email, bounced_at=timezone.now())
    return receivers, others


@pytest.fixture
def holding_smtp(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    # aiosmtpd logs every SMTP command at INFO: only its warnings are worth reading here.
    smtp_log = logging.getLogger("mail.log")
    level = smtp_log.level
    smtp_log.setLevel(logging.WARNING)
    server = SmtpServer(HoldingMailbox(HOLD_AT, stored=request.param), free_port())
    server.start()
    yield server
    server.mailbox.release.set()
    server.stop()
    smtp_log.setLevel(level)


@pytest.mark.parametrize(
    ("holding_smtp", "arrived"),
    [(True, True), (False, False)],
    indirect=["holding_smtp"],
    ids=["killed-after-the-server-took-the-message", "killed-before-it-did"],
)
def test_a_worker_killed_midway_resumes_and_sends_nobody_two_copies(
    petition: Petition,
    holding_smtp: SmtpServer,
    publish_to_resume_broker: None,
    tmp_path: Path,
    arrived: bool,
) -> None:
    mailbox: HoldingMailbox = holding_smtp.mailbox
    receivers, others = make_signers(petition)
    staff = get_user_model().objects.create_user("claire", "claire@example.org", is_staff=True)
    update = Update.objects.create(
        petition=petition,
        subject_fr="Nouvelles",
        subject_en="News",
        body_fr="Le manifeste avance.",
        body_en="The manifesto moves on.",
    )
    worker = start_worker(tmp_path, holding_smtp)
    try:
        assert mailings.start_sending(update=update, user=staff)

        # The worker is handing over the 10th message when it dies.
        assert mailbox.holding.wait(timeout=30), worker.log()
        worker.kill()
        mailbox.release.set()
        in_flight = UpdateDelivery.objects.filter(update=update).in_flight()
        assert in_flight.filter(attempted_at__isnull=False).count() == 1
        assert in_flight.filter(attempted_at__isnull=True).exists()  # claimed, not yet handed

        # Started again once the dead batch's lease is over, it takes the batch back.
        time.sleep(2 * TIME_LIMIT + 0.5)
        worker.start()  # a new log
        worker.wait_ready(after=0)
        wait_until(
            lambda: Update.objects.filter(pk=update.pk, finished_at__isnull=False).exists(),
            timeout=60,
            what="the update to be sent",
        )
    finally:
        worker.stop()

    copies = {signature.email: len(mailbox.to(signature.email)) for signature in receivers}
    assert max(copies.values()) == 1, "someone received two copies"
    doubtful = UpdateDelivery.objects.get(update=update, skip_reason="uncertain")
    missing_copies = sorted(email for email, n in copies.items() if n == 0)
    assert missing_copies == ([] if arrived else [doubtful.signature.email])
    assert copies[doubtful.signature.email] == (1 if arrived else 0)
    assert all(not mailbox.to(signature.email) for signature in others)
    progress = mailings.progress(update)
    assert (progress.total, progress.sent, progress.uncertain) == (SIGNERS, SIGNERS - 1, 1)
    assert (progress.pending, progress.in_flight) == (0, 0)
    received = mailbox.to(receivers[1].email)[0]
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["List-Unsubscribe"].startswith("<http://testserver/fr/")
