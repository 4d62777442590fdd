"""Faults, against the real services: the broker down while people sign, a worker killed while
it sends an e-mail, a mail provider that keeps failing, and PostgreSQL cut under load. Nothing
signed is lost, no e-mail leaves twice, and every page answers, quickly and in its language.

The services that fail here are the tests' own: a redis-server on a port of its own, a
RabbitMQ virtual host of its own, an SMTP server in this process, and a TCP proxy in front of
PostgreSQL. The machine's servers are never stopped.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import redis
from aiosmtpd.smtp import SMTP, Envelope, Session
from amqp.exceptions import AMQPError
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kombu import Connection

from manifesto.celery import app as celery_app
from petition.models import Petition, Signature, SigningRequest
from tests.conftest import (
    MANIFESTO_SLUG,
    parse_html,
    require_service,
    signing_form,
    translated_in,
    url_in,
)

from .conftest import (
    MAIL_MAX_RETRIES,
    MAIL_RETRY_BACKOFF,
    PROJECT_DIR,
    WORKER_READY_TIMEOUT,
    CeleryProcess,
    Mailbox,
    RedisServer,
    SmtpServer,
    beat_process,
    free_port,
    missing,
    publishing_to,
    running,
    worker_database_url,
    worker_env,
    worker_process,
)
from .waiting import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# A virtual host of the tests' own, so that no other consumer of this RabbitMQ sees their tasks
# (created by .ci/run; TEST_AMQP_URL picks another one, for two test runs side by side).
AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/petition-test")
# The sweep's settings for the workers here: every second, for e-mails 2 s overdue.
SWEEP_AFTER_SECONDS = 2


def sign(client: Client, language: str, email: str) -> int:
    """A visitor signs through the site; the status of the answer."""
    return client.post(url_in(language, "petition", MANIFESTO_SLUG), signer(email)).status_code


def signer(email: str) -> dict[str, str]:
    return signing_form(email=email)


def all_answered(mailbox: Mailbox, addresses: list[str]) -> bool:
    """Every address has received its e-mail, and no signing is left to answer."""
    unanswered = SigningRequest.objects.filter(email__in=addresses).exists()
    return not unanswered and all(mailbox.to(address) for address in addresses)


# The broker down while people sign.


@pytest.fixture
def sweeping_worker(
    redis_broker: RedisServer, smtp_server: SmtpServer, tmp_path: Path
) -> Iterator[CeleryProcess]:
    """A worker and beat on the test's own Redis, sweeping every second for the e-mails that
    have not left 2 s after signing (production: every minute, after 2 minutes)."""
    env = worker_env(
        broker_url=redis_broker.url,
        smtp=smtp_server,
        site_url="http://testserver",
        CONFIRMATION_SWEEP_AFTER_SECONDS=str(SWEEP_AFTER_SECONDS),
        CONFIRMATION_SWEEP_EVERY_SECONDS="1",
    )
    worker = worker_process(env, tmp_path, "sweeping")
    with running(worker, beat_process(env, tmp_path)):
        yield worker


# How long one signing may take with the broker gone: a refused connection costs nothing; a
# broker that answers nothing costs its timeouts (CELERY_BROKER_TRANSPORT_OPTIONS) once, after
# which the site stops trying for a while (petition.queueing.BROKER_PAUSE_SECONDS).
NORMAL_SECONDS = 0.5
FIRST_WHEN_FROZEN_SECONDS = 5


@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_signing_with_the_broker_down_is_fast_and_the_mail_follows_once_it_is_back(
    client: Client,
    petition: Petition,
    mailbox: Mailbox,
    redis_broker: RedisServer,
    sweeping_worker: CeleryProcess,
    outage: str,
) -> None:
    # New signers, and signers who sign again: one whose signature waits for confirmation,
    # one whose signature is confirmed. Each asks for one e-mail while the broker is down.
    pending, confirmed = f"{outage}.pending@example.org", f"{outage}.confirmed@example.org"
    for address, confirmed_at in [(pending, None), (confirmed, timezone.now())]:
        Signature.objects.create(
            petition=petition,
            first_name="Sam",
            last_name="Roux",
            email=address,
            language="fr",
            confirmed_at=confirmed_at,
            created_at=timezone.now() - timedelta(days=1),
        )
    addresses = [f"{outage}.{n}@example.org" for n in range(4)] + [pending, confirmed]
    with publishing_to(redis_broker.url):
        assert sign(client, "fr", "before@example.org") == 302
        mailbox.wait_for("before@example.org")

        if outage == "stopped":
            redis_broker.stop()
        else:
            redis_broker.freeze()
        took = []
        for n, address in enumerate(addresses):
            started = time.monotonic()
            assert sign(client, ["fr", "en"][n % 2], address) == 302
            took.append(time.monotonic() - started)
        assert SigningRequest.objects.filter(email__in=addresses).count() == len(addresses)
        if outage == "stopped":
            redis_broker.start()
        else:
            redis_broker.thaw()

        first_limit = NORMAL_SECONDS if outage == "stopped" else FIRST_WHEN_FROZEN_SECONDS
        assert took[0] < first_limit, f"signings took {took} s"
        assert max(took[1:]) < NORMAL_SECONDS, f"signings took {took} s"
        # The worker reconnects, and the sweep queues the signings that were never answered. (A
        # frozen Redis takes the message under way when it wakes up, and the site has gathered
        # the others meanwhile: they may need no sweep; a signing queued twice is answered once.)
        wait_until(lambda: all_answered(mailbox, addresses), timeout=30, what="the e-mails")
        if outage == "stopped":
            sweeping_worker.wait_for_log(r"Queued again \d+ signings")
    assert {address: len(mailbox.to(address)) for address in addresses} == dict.fromkeys(
        addresses, 1
    )
    # Each got the e-mail it asked for, in its own language.
    [note] = mailbox.to(confirmed)
    assert note["Subject"] == "Vous avez déjà signé le manifeste de CAMELEON"
    [link] = mailbox.to(pending)
    assert link["Subject"] == "Confirmez votre signature du manifeste de CAMELEON"
    assert Signature.objects.filter(email__in=addresses).count() == len(addresses)


# Signings gathered into one message.


def queued_messages(broker_url: str, queue: str = "celery") -> list[dict]:
    """The messages waiting on a Redis broker's queue: task name and arguments."""
    with redis.Redis.from_url(broker_url) as client:
        raw = client.lrange(queue, 0, -1)
    messages = []
    for item in raw:
        envelope = json.loads(item)
        args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        messages.append({"task": envelope["headers"]["task"], "args": args})
    return messages


def test_signings_taken_in_together_leave_as_one_message_and_each_is_answered_alone(
    client: Client,
    petition: Petition,
    mailbox: Mailbox,
    redis_broker: RedisServer,
    smtp_server: SmtpServer,
    tmp_path: Path,
    settings,
) -> None:
    settings.TASK_GATHER_SECONDS = 1.5
    addresses = [f"together.{n}@example.org" for n in range(6)]
    with publishing_to(redis_broker.url):
        for n, address in enumerate(addresses):
            assert sign(client, ["fr", "en"][n % 2], address) == 302
        wait_until(lambda: queued_messages(redis_broker.url), timeout=10, what="the message")
        [message] = queued_messages(redis_broker.url)
        assert message["task"] == "petition.tasks.answer_signings"
        requests = SigningRequest.objects.filter(email__in=addresses)
        assert sorted(message["args"][0]) == sorted(requests.values_list("pk", flat=True))

        env = worker_env(
            broker_url=redis_broker.url, smtp=smtp_server, site_url="http://testserver"
        )
        worker = worker_process(env, tmp_path, "gathered")
        with running(worker):
            wait_until(lambda: all_answered(mailbox, addresses), timeout=30, what="the e-mails")
            # One task a signing: each is sent, and would be retried, on its own.
            worker.wait_for_log(r"answer_signings\[[^\]]+\] succeeded in [\d.]+s: 6")
            assert len(re.findall(r"answer_signing\[[^\]]+\] succeeded", worker.log())) == 6
    assert {address: len(mailbox.to(address)) for address in addresses} == dict.fromkeys(
        addresses, 1
    )


# A worker killed while it sends an e-mail.


class StallingMailbox(Mailbox):
    """An SMTP server that holds its first delivery at RCPT, before it has the message, until
    released: the sender is stuck in the middle of sending."""

    def __init__(self) -> None:
        super().__init__()
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not self.stalled.is_set():
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def stalling_smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(StallingMailbox(), free_port())
    server.start()
    yield server
    server.mailbox.release.set()
    server.stop()


@pytest.fixture
def amqp_broker() -> Iterator[str]:
    """The tests' RabbitMQ virtual host, with this process queueing tasks on it, emptied."""
    broker = urlsplit(AMQP_URL)
    require_service("RabbitMQ", broker.hostname or "localhost", broker.port or 5672)
    try:
        with Connection(AMQP_URL, connect_timeout=2) as probe:
            probe.ensure_connection(max_retries=1)
    except (AMQPError, OSError) as error:
        vhost = broker.path.lstrip("/")
        missing(
            f"RabbitMQ refuses the virtual host {vhost!r} ({error}): rabbitmqctl add_vhost "
            f"{vhost} && rabbitmqctl set_permissions -p {vhost} guest '.*' '.*' '.*'"
        )
    with publishing_to(AMQP_URL):
        celery_app.control.purge()
        yield AMQP_URL
        celery_app.control.purge()


def test_a_worker_killed_while_sending_runs_the_task_again_and_the_mail_arrives_once(
    client: Client,
    petition: Petition,
    amqp_broker: str,
    stalling_smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    mailbox: StallingMailbox = stalling_smtp.mailbox
    address = "alix.moreau@example.org"
    # Any other sending would wait 10 minutes for the dead one's hold to lapse: only the same
    # task, run again, can send the e-mail within this test, by taking its hold back at once.
    env = worker_env(
        broker_url=amqp_broker,
        smtp=stalling_smtp,
        site_url="http://testserver",
        CONFIRMATION_CLAIM_SECONDS="600",
    )
    assert sign(client, "fr", address) == 302
    # The worker takes the task as it starts, and is killed while the SMTP server keeps it
    # waiting, before the message is handed over. A prefork worker, as in production: its pool
    # process would acknowledge the task on taking it, were acknowledgements not late.
    first = worker_process(env, tmp_path, "first", pool="prefork")
    first.start()
    try:
        assert mailbox.stalled.wait(timeout=WORKER_READY_TIMEOUT), first.log()
        task_id = SigningRequest.objects.get(email=address).held_by
        assert task_id, "the e-mail was not held by its task while it left"
        first.kill()
    finally:
        first.stop()
    mailbox.release.set()
    assert not mailbox.to(address)
    assert f"answer_signing[{task_id}] received" in first.log()

    # RabbitMQ gives the unacknowledged task to the next worker as soon as the first one's
    # connection drops (with Redis: after the visibility timeout, or the sweep once the hold
    # has expired).
    second = worker_process(env, tmp_path, "second")
    with running(second):
        second.wait_for_log(rf"answer_signing\[{task_id}\] succeeded in [\d.]+s: 'confirm'")

    assert len(mailbox.to(address)) == 1
    signature = Signature.objects.get(email=address)
    assert signature.confirmation_sent_at is not None
    assert signature.confirmation_failed_at is None
    assert not SigningRequest.objects.exists()
    assert second.log().count("answer_signing[") == 2  # received, succeeded: once


# A mail provider that keeps failing.

RETRY_WAIT = re.compile(r"answer_signing\[[^\]]+\] retry: Retry in (\d+)s")


def test_a_lasting_mail_failure_is_retried_with_back_off_then_recorded_for_staff(
    client: Client,
    admin_user,
    petition: Petition,
    worker: CeleryProcess,
    mailbox: Mailbox,
) -> None:
    address = "lou.fontaine@example.org"
    mailbox.defer(1000)  # every delivery answered "451 try again later"
    log_start = len(worker.log())

    assert sign(client, "fr", address) == 302

    failed = wait_until(
        lambda: Signature.objects.filter(email=address, confirmation_failed_at__isnull=False),
        timeout=30,
        what="the failure to be recorded",
    ).get()
    assert mailbox.deferred == MAIL_MAX_RETRIES + 1
    assert not mailbox.to(address)
    assert "SMTPDataError" in failed.confirmation_error
    assert "Temporary failure" in failed.confirmation_error
    assert failed.confirmation_sent_at is None
    assert not SigningRequest.objects.exists()
    waits = [int(wait) for wait in RETRY_WAIT.findall(worker.log(), log_start)]
    assert len(waits) == MAIL_MAX_RETRIES
    assert all(wait <= MAIL_RETRY_BACKOFF * 2**n for n, wait in enumerate(waits)), waits

    client.force_login(admin_user)
    listing = client.get(
        reverse("admin:petition_signature_changelist") + "?confirmation_failed_at__isnull=False"
    )
    assert [signature.email for signature in listing.context["cl"].result_list] == [address]


# PostgreSQL cut under load.


class TcpProxy:
    """A TCP relay in front of PostgreSQL that fails as a restarting server does: cut() drops
    every connection and refuses new ones, restore() accepts them again. hold() first keeps
    every byte in transit, so that the queries under way are sure to be cut."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._flowing = threading.Event()
        self.holding_a_query = threading.Event()
        self.restore()

    def restore(self) -> None:
        self._flowing.set()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def hold(self) -> None:
        self.holding_a_query.clear()
        self._flowing.clear()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        assert listener is not None
        listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        listener.close()
        with self._lock:
            for sock in self._sockets:
                self._shutdown(sock)
        self._flowing.set()

    def close(self) -> None:
        if self._listener is not None:
            self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self._flowing.is_set():
                    self.holding_a_query.set()
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        self._shutdown(sink)
        with self._lock:
            self._sockets.discard(source)
        source.close()

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):  # closed already
            sock.shutdown(socket.SHUT_RDWR)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str


class Gunicorn:
    """The site under gunicorn, as in production: threads that keep their database
    connections (CONN_MAX_AGE) and check them before use (CONN_HEALTH_CHECKS)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [sys.executable, "-m", "gunicorn", "manifesto.wsgi", "--workers=2", "--threads=4"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*argv, f"--bind=127.0.0.1:{self.port}"],
                cwd=PROJECT_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(
            lambda: self.log().count("Booting worker") == 2 and self.answers("GET", "/fr/"),
            timeout=30,
            what="gunicorn to serve",
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def request(
        self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
    ) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body or None, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read().decode())
        finally:
            connection.close()

    def answers(self, method: str, path: str) -> bool:
        try:
            return self.request(method, path).status == 200
        except OSError:
            return False


@pytest.fixture
def database_proxy() -> Iterator[TcpProxy]:
    database = connection.settings_dict
    if connection.vendor != "postgresql" or (database["HOST"] or "").startswith("/"):
        missing("the proxy needs the test database on PostgreSQL, over TCP")
    proxy = TcpProxy((database["HOST"] or "localhost", int(database["PORT"] or 5432)))
    yield proxy
    proxy.close()


@pytest.fixture
def site_through_proxy(
    petition: Petition, database_proxy: TcpProxy, tmp_path: Path
) -> Iterator[Gunicorn]:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_DIR),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": worker_database_url(host="127.0.0.1", port=database_proxy.port),
        "RATELIMIT_ENABLE": "0",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.pop("CELERY_BROKER_URL", None)  # e-mails leave in-process (into memory)
    site = Gunicorn(env, tmp_path / "gunicorn.log")
    try:
        site.start()
        yield site
    finally:
        site.stop()


def worker_env_through(
    proxy: TcpProxy, *, broker_url: str, smtp: SmtpServer, **extra: str
) -> dict[str, str]:
    """A worker's environment whose database connections go through proxy."""
    database_url = worker_database_url(host="127.0.0.1", port=proxy.port)
    return worker_env(
        broker_url=broker_url,
        smtp=smtp,
        site_url="http://testserver",
        DATABASE_URL=database_url,
        **extra,
    )


def test_a_worker_cut_from_the_database_answers_the_signing_once_it_is_back(
    client: Client,
    petition: Petition,
    mailbox: Mailbox,
    smtp_server: SmtpServer,
    redis_broker: RedisServer,
    database_proxy: TcpProxy,
    tmp_path: Path,
) -> None:
    """As when PostgreSQL fails over to its standby under a worker: the task tries again within
    seconds. No beat runs here, so the sweep cannot be what sends the e-mail."""
    address = "noa.garnier@example.org"
    env = worker_env_through(
        database_proxy,
        broker_url=redis_broker.url,
        smtp=smtp_server,
        MAIL_RETRY_BACKOFF=str(MAIL_RETRY_BACKOFF),
    )
    worker = worker_process(env, tmp_path, "cut-off")
    with running(worker), publishing_to(redis_broker.url):
        database_proxy.cut()
        try:
            assert sign(client, "fr", address) == 302
            worker.wait_for_log(r"answer_signing\[[^\]]+\] retry: Retry in \d+s: OperationalError")
        finally:
            database_proxy.restore()
        mailbox.wait_for(address, timeout=30)

    assert len(mailbox.to(address)) == 1
    assert Signature.objects.get(email=address).confirmation_sent_at is not None
    assert not SigningRequest.objects.exists()


def test_an_e_mail_that_left_as_the_database_failed_over_is_recorded_and_not_sent_again(
    client: Client,
    petition: Petition,
    stalling_smtp: SmtpServer,
    redis_broker: RedisServer,
    database_proxy: TcpProxy,
    tmp_path: Path,
) -> None:
    """The database goes away while the mail server takes the message: the worker records the
    sending once the database is back, and the sweep, running every second, sends nothing more
    once the hold has lapsed."""
    mailbox: StallingMailbox = stalling_smtp.mailbox
    address = "ines.perrin@example.org"
    env = worker_env_through(
        database_proxy,
        broker_url=redis_broker.url,
        smtp=stalling_smtp,
        CONFIRMATION_SWEEP_AFTER_SECONDS=str(SWEEP_AFTER_SECONDS),
        CONFIRMATION_SWEEP_EVERY_SECONDS="1",
        CONFIRMATION_CLAIM_SECONDS="8",
        CELERY_TASK_TIME_LIMIT="6",
        CELERY_TASK_SOFT_TIME_LIMIT="5",
    )
    worker = worker_process(env, tmp_path, "recording")
    with running(worker, beat_process(env, tmp_path)), publishing_to(redis_broker.url):
        assert sign(client, "fr", address) == 302
        assert mailbox.stalled.wait(timeout=WORKER_READY_TIMEOUT), worker.log()
        database_proxy.cut()
        mailbox.release.set()
        worker.wait_for_log("Could not record the e-mail of signing request")
        database_proxy.restore()
        worker.wait_for_log(r"answer_signing\[[^\]]+\] succeeded in [\d.]+s: 'confirm'")
        # Past the hold, with the sweep looking every second.
        time.sleep(8 + SWEEP_AFTER_SECONDS + 2)

    assert len(mailbox.to(address)) == 1
    assert Signature.objects.get(email=address).confirmation_sent_at is not None
    assert not SigningRequest.objects.exists()


@dataclass(frozen=True)
class Answer:
    what: str  # "page" or "sign"
    language: str
    email: str
    started: float
    status: int
    text: str


class Visitors:
    """Threads that read pages and sign, in both languages, until stopped; every answer kept."""

    def __init__(self, site: Gunicorn, count: int) -> None:
        self.site = site
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._visit, args=(n,), daemon=True) for n in range(count)
        ]
        page = site.request("GET", url_in("fr", "home"))
        self.cookie = re.search(r"csrftoken=([^;]+)", page.headers["Set-Cookie"])[1]
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]

    def __enter__(self) -> Visitors:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _visit(self, visitor: int) -> None:
        for n in range(10_000):
            if self._stop.is_set():
                return
            language = ["fr", "en"][(visitor + n) % 2]
            if n % 2:
                self.answers.append(self.sign(language, f"visitor.{visitor}.{n}@example.org"))
            else:
                self.answers.append(self.read(language))

    def read(self, language: str) -> Answer:
        started = time.monotonic()
        response = self.site.request("GET", url_in(language, "home"))
        return Answer("page", language, "", started, response.status, response.text)

    def sign(self, language: str, email: str) -> Answer:
        started = time.monotonic()
        response = self.site.request(
            "POST",
            url_in(language, "petition", MANIFESTO_SLUG),
            urlencode({**signer(email), "csrfmiddlewaretoken": self.token}),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={self.cookie}",
            },
        )
        return Answer("sign", language, email, started, response.status, response.text)


def is_translated_503(answer: Answer) -> bool:
    page = parse_html(answer.text)
    return (
        answer.status == 503
        and page.find("html").attrs["lang"] == answer.language
        and page.find("h1").text == translated_in(answer.language, "Temporarily unavailable")
    )


def test_the_database_cut_under_load_answers_a_translated_503_and_service_resumes_by_itself(
    database_proxy: TcpProxy, site_through_proxy: Gunicorn
) -> None:
    site = site_through_proxy
    in_flight: list[Answer] = []
    with Visitors(site, count=6) as visitors:
        time.sleep(1)
        database_proxy.hold()
        # Pages may come from the cache and need no query, but a signing always writes: one is
        # sent now, and the database goes while its query is held in transit.
        signer = threading.Thread(
            target=lambda: in_flight.append(visitors.sign("fr", "in.flight@example.org"))
        )
        signer.start()
        assert database_proxy.holding_a_query.wait(timeout=30), "no visitor reached the database"
        time.sleep(0.5)
        database_proxy.cut()
        cut_at = time.monotonic()
        signer.join(timeout=30)
        # Meanwhile, a visitor in each language, on each kind of page, is told to come back.
        during = [
            answer
            for language in ["fr", "en"]
            for answer in (visitors.read(language), visitors.sign(language, f"cut@{language}.org"))
        ]
        time.sleep(1)
        database_proxy.restore()
        restored_at = time.monotonic()
        time.sleep(1.5)
    after = [visitors.read("fr"), visitors.sign("en", "after@example.org")]

    answers = visitors.answers + in_flight + during + after
    assert {answer.status for answer in answers} <= {200, 302, 503}, "an answer was no 503"
    assert all(is_translated_503(answer) for answer in during)
    assert all(is_translated_503(answer) for answer in answers if answer.status == 503)
    # The signing under way when the database went was told to come back.
    assert len(in_flight) == 1
    assert in_flight[0].started < cut_at
    assert is_translated_503(in_flight[0])
    # Back by itself: nothing was restarted, and every request since is served.
    assert [answer.status for answer in after] == [200, 302]
    assert all(answer.status != 503 for answer in answers if answer.started > restored_at)
    assert site.log().count("Booting worker") == 2

    signed = {answer.email for answer in answers if answer.what == "sign"}
    redirected = {answer.email for answer in answers if answer.status == 302}
    # A signing is stored once taken in: answered (a signature) or still to be answered (its
    # request, which the sweep answers).
    stored = Signature.objects.filter(petition__slug=MANIFESTO_SLUG)
    waiting = SigningRequest.objects.filter(petition__slug=MANIFESTO_SLUG)
    languages = {
        **dict(stored.values_list("email", "language")),
        **dict(waiting.values_list("email", "language")),
    }
    assert redirected <= languages.keys(), "a signer was thanked, and the signing is not there"
    assert languages.keys() <= signed
    assert all(languages[a.email] == a.language for a in answers if a.status == 302)
    # Each was written whole, or not at all.
    incomplete = stored.exclude(first_name="Camille", last_name="Durand", postal_code="75011")
    assert not incomplete.exists()
    assert not stored.filter(consent__isnull=True).exists()
    for details in waiting.values_list("details", flat=True):
        signer_typed = details["signer"]
        assert (signer_typed["first_name"], signer_typed["postal_code"]) == ("Camille", "75011")
        assert signer_typed["consent_text"]
