"""Fixtures for the tests that run against real services.

A real Celery worker (a subprocess, on a dedicated Redis database) sends the site's e-mails over
SMTP to an aiosmtpd server running in this process; pytest-django's live server answers HTTP,
so the worker's links can be followed by a browser. Nothing of the site itself is replaced.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import DatabaseError, connection
from kombu import pools
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    sync_playwright,
)
from pytest_django.live_server_helper import LiveServer

from manifesto.celery import app as celery_app
from petition.forms import SignatureForm
from petition.queueing import send_gathered
from tests.conftest import IN_CI, MANIFESTO_SLUG, require_service, service_reachable

from .waiting import wait_until

PROJECT_DIR = Path(__file__).resolve().parents[2]
# A Redis database of its own, flushed before use: nothing else on this Redis is touched.
# TEST_BROKER_URL picks another one, for two test runs side by side.
BROKER_URL = os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
WORKER_READY_TIMEOUT = 30.0
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def missing(what: str) -> None:
    """Skip when a service is missing on this machine; in CI, fail instead."""
    if IN_CI:
        pytest.fail(f"{what}; CI must provide it", pytrace=False)
    pytest.skip(what)


# E-mail received over SMTP.


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the SMTP server received it, parsed by the standard library; raw: its
    bytes, sender: the envelope's (MAIL FROM), where bounces go."""

    recipients: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    sender: str

    def __getitem__(self, header: str) -> str | None:
        """The header's value, unfolded; long ones start on a continuation line."""
        value = self.message[header]
        return None if value is None else str(value).strip()

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()

    def link(self, prefix: str) -> str:
        """The one address in the text part that starts with prefix."""
        links = set(re.findall(re.escape(prefix) + r"\S+", self.text))
        assert len(links) == 1, f"expected one link starting with {prefix}, found {links}"
        return links.pop()


class Mailbox:
    """An aiosmtpd handler keeping every accepted message; tests wait on it.

    defer(n) answers the next n deliveries with a temporary failure (451), as a provider does
    when it is overloaded or greylisting.
    """

    def __init__(self) -> None:
        self._received: list[ReceivedMail] = []
        self._condition = threading.Condition()
        self._deferrals_left = 0
        self.deferred = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._condition:
            if self._deferrals_left:
                self._deferrals_left -= 1
                self.deferred += 1
                return "451 4.3.0 Temporary failure, please try again later"
            raw = envelope.original_content
            message = email.message_from_bytes(raw, policy=email.policy.default)
            self._received.append(
                ReceivedMail(tuple(envelope.rcpt_tos), message, raw, envelope.mail_from)
            )
            self._condition.notify_all()
        return "250 Message accepted for delivery"

    def defer(self, count: int) -> None:
        with self._condition:
            self._deferrals_left = count

    def clear(self) -> None:
        with self._condition:
            self._received.clear()
            self._deferrals_left = 0
            self.deferred = 0

    def to(self, address: str) -> list[ReceivedMail]:
        with self._condition:
            return [mail for mail in self._received if address in mail.recipients]

    def wait_for(self, address: str, timeout: float = 15.0) -> ReceivedMail:
        """The first message to address, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for mail in self._received:
                    if address in mail.recipients:
                        return mail
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"no e-mail to {address} within {timeout:g} s", pytrace=False)
                self._condition.wait(remaining)


class SmtpServer:
    """An aiosmtpd server on a fixed local port, which can be stopped and started again."""

    def __init__(self, mailbox: Mailbox, port: int) -> None:
        self.mailbox = mailbox
        self.host = "127.0.0.1"
        self.port = port
        self._controller: Controller | None = None

    def start(self) -> None:
        assert self._controller is None
        self._controller = Controller(self.mailbox, hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @contextmanager
    def down(self) -> Iterator[None]:
        """Refuse connections on the port inside the block, as a mail server that is down."""
        self.stop()
        try:
            yield
        finally:
            self.start()


@pytest.fixture(scope="package")
def smtp_server() -> Iterator[SmtpServer]:
    # aiosmtpd logs every SMTP command at INFO: only its warnings are worth reading here.
    smtp_log = logging.getLogger("mail.log")
    level = smtp_log.level
    smtp_log.setLevel(logging.WARNING)
    server = SmtpServer(Mailbox(), free_port())
    server.start()
    yield server
    server.stop()
    smtp_log.setLevel(level)


@pytest.fixture
def mailbox(smtp_server: SmtpServer) -> Mailbox:
    """The SMTP server's messages, emptied for this test."""
    smtp_server.mailbox.clear()
    return smtp_server.mailbox


# Celery: a worker and beat, as in production.


class CeleryProcess:
    """`celery -A manifesto <command>` in a subprocess, logging to a file."""

    def __init__(self, *args: str, env: dict[str, str], log_path: Path, ready: str) -> None:
        self.argv = [sys.executable, "-m", "celery", "-A", "manifesto", *args, "--loglevel=INFO"]
        self.name = args[0]
        self.env = env
        self.log_path = log_path
        self.ready_marker = ready
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            # The child has its own copy of the file descriptor. A session of its own, so that
            # kill() reaches a prefork worker's pool processes too.
            self._process = subprocess.Popen(
                self.argv,
                cwd=PROJECT_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def is_ready(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            pytest.fail(f"celery {self.name} exited early:\n{self.log()}", pytrace=False)
        return self.ready_marker in self.log()

    def wait_for_log(self, pattern: str, *, after: int = 0, timeout: float = 15.0) -> re.Match[str]:
        """The first match of pattern in the log past offset after (a len(log()))."""
        compiled = re.compile(pattern)
        return wait_until(
            lambda: compiled.search(self.log(), after),
            timeout=timeout,
            what=f"{pattern!r} in the log of celery {self.name}",
        )

    def kill(self) -> None:
        """SIGKILL, to the pool processes as well: no warm shutdown, no acknowledgement,
        nothing recorded."""
        assert self._process is not None
        os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        self._process = None

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL if it does not stop in time."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None


def flush_broker() -> None:
    with redis.Redis.from_url(BROKER_URL) as client:
        client.flushdb()


def worker_database_url(*, host: str = "", port: int | None = None) -> str:
    """The URL of the test database pytest-django created, for the worker to use; through
    another host and port if given (a proxy)."""
    db = connection.settings_dict
    credentials = quote(db["USER"], safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = quote(host or db["HOST"] or "localhost", safe="")  # may be a socket directory
    port = port or db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


# Short retries for the package's worker, so that a lasting mail failure is recorded within
# seconds (production: 12 retries, from 5 s up to 30 min apart).
MAIL_MAX_RETRIES = 3
MAIL_RETRY_BACKOFF = 1


def worker_env(*, broker_url: str, smtp: SmtpServer, site_url: str, **extra: str) -> dict[str, str]:
    """The environment of a worker or beat on broker_url, writing to the test database and
    sending through smtp; extra: more settings, as environment variables."""
    if connection.vendor != "postgresql":
        missing("the Celery worker needs the test database on PostgreSQL")
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_DIR),
        "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp.host,
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_TIMEOUT": "5",
        "SITE_URL": site_url,
        # The worker applies the fraud rules: forms here are filled at machine speed (see
        # forms_filled_at_machine_speed).
        "SIGN_MIN_SECONDS": "0",
        **extra,
    }
    # Only this process needs it, and only while a browser is open (see the browser fixture).
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def worker_process(
    env: dict[str, str], run_dir: Path, name: str, pool: str = "solo"
) -> CeleryProcess:
    return CeleryProcess(
        "worker",
        f"--pool={pool}",
        "--concurrency=1",
        f"--hostname={name}@%h",
        # One worker alone: no need to wait for, or chat with, others.
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
        env=env,
        log_path=run_dir / f"{name}.log",
        ready=" ready.",
    )


def beat_process(env: dict[str, str], run_dir: Path) -> CeleryProcess:
    return CeleryProcess(
        "beat",
        f"--schedule={run_dir / 'beat-schedule'}",
        env=env,
        log_path=run_dir / "beat.log",
        ready="beat: Starting...",
    )


@contextmanager
def running(*processes: CeleryProcess) -> Iterator[None]:
    """Start the processes, wait until they are ready, and stop them after the block."""
    try:
        for process in processes:
            process.start()
        wait_until(
            lambda: all(process.is_ready() for process in processes),
            timeout=WORKER_READY_TIMEOUT,
            what="celery " + " and ".join(process.name for process in processes),
        )
        yield
    finally:
        for process in reversed(processes):
            process.stop()


@pytest.fixture(scope="package")
def celery_worker(
    django_db_setup: None,
    live_server: LiveServer,
    smtp_server: SmtpServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CeleryProcess]:
    """A worker consuming from Redis, writing to the test database, sending through SMTP,
    and beat, which has it fold the running counts every second."""
    broker = urlsplit(BROKER_URL)
    require_service("Redis", broker.hostname or "localhost", broker.port or 6379)
    env = worker_env(
        broker_url=BROKER_URL,
        smtp=smtp_server,
        site_url=live_server.url,
        MAIL_MAX_RETRIES=str(MAIL_MAX_RETRIES),
        MAIL_RETRY_BACKOFF=str(MAIL_RETRY_BACKOFF),
    )
    flush_broker()
    run_dir = tmp_path_factory.mktemp("celery")
    worker = worker_process(env, run_dir, "integration")
    try:
        with running(worker, beat_process(env, run_dir)):
            yield worker
    finally:
        flush_broker()


def reset_broker_connections() -> None:
    """Close the broker connections this process holds, so none outlives its configuration."""
    pools.reset()
    # The app caches its pools; Celery clears the same two attributes after a fork.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def publishing_to(broker_url: str) -> Iterator[None]:
    """This process queues tasks on broker_url inside the block, instead of running them.

    The suite runs tasks eagerly (tests/settings.py); the Celery app gets that configuration
    back afterwards.
    """
    saved = {key: celery_app.conf[key] for key in ("task_always_eager", "broker_url")}
    reset_broker_connections()
    celery_app.conf.update(task_always_eager=False, broker_url=broker_url)
    try:
        yield
    finally:
        # What the block's signings gathered goes to the block's broker.
        send_gathered()
        reset_broker_connections()
        celery_app.conf.update(saved)


@pytest.fixture
def worker(celery_worker: CeleryProcess, mailbox: Mailbox) -> Iterator[CeleryProcess]:
    """The real worker, with this process queueing tasks on its broker (Redis) for one test."""
    with publishing_to(BROKER_URL):
        yield celery_worker


# A broker of a test's own.


class RedisServer:
    """A redis-server of the test's own, on a free port, that can be stopped or frozen (SIGSTOP:
    it accepts connections and answers nothing, as a broker whose host hangs) and brought
    back. It keeps nothing on disk: started again, it is empty, as after a crash."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            missing("redis-server is not installed")
        argv = [executable, "--port", str(self.port), "--bind", "127.0.0.1"]
        self._process = subprocess.Popen(
            [*argv, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
        )
        wait_until(
            lambda: service_reachable("127.0.0.1", self.port, timeout=0.2),
            timeout=10,
            what="redis-server to listen",
        )

    def stop(self) -> None:
        """SIGKILL, which also ends a frozen one."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def freeze(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_broker() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


# The site over HTTP.


class CounterApi:
    """The public counter API of the live server, read over HTTP."""

    def __init__(self, base_url: str, slug: str) -> None:
        self.url = f"{base_url}/api/petitions/{slug}/"

    def read(self) -> dict[str, Any]:
        # Our own live server, over plain HTTP.
        with urllib.request.urlopen(self.url, timeout=5) as response:  # noqa: S310
            return json.load(response)

    def wait_for_count(self, count: int, timeout: float = 5.0) -> dict[str, Any]:
        return wait_until(
            lambda: (data := self.read())["signature_count"] == count and data,
            timeout=timeout,
            what=f"the API to count {count} signature(s)",
        )


@pytest.fixture
def counter_api(live_server: LiveServer) -> CounterApi:
    return CounterApi(live_server.url, MANIFESTO_SLUG)


# The browser.


def chromium_executable() -> str:
    return os.environ.get("CHROMIUM_EXECUTABLE") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, driven by Playwright's sync API."""
    executable = chromium_executable()
    if not os.access(executable, os.X_OK):
        missing(f"Chromium is not installed at {executable}")
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API runs its asyncio loop in a greenlet of this thread, so the loop
        # counts as running here between browser calls, and Django refuses the ORM calls that
        # fixtures and tests make meanwhile (SynchronousOnlyOperation). Nothing else runs on
        # that loop, so Django's guard is lifted for as long as the browser is open.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh browser tab on the live server; any console error fails the test."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error at {message.location}: {message.text}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: problems.append(f"uncaught exception: {error}"))
    yield tab
    context.close()
    if problems:
        pytest.fail("the browser reported errors:\n" + "\n".join(problems), pytrace=False)


# Tabs that watch everything a page does: the sharing, accessibility and speed tests.


class Tabs:
    """Opens browser tabs on the live server, each in a context of its own (a visitor of its
    own), and keeps watch over them: a console error, an uncaught exception, or a request to
    any other host than the live server's fails the test. Requests elsewhere are refused, so
    the suite never reaches outside the machine.
    """

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.host = urlsplit(base_url).netloc
        self.problems: list[str] = []
        self.elsewhere: list[str] = []
        self._contexts: list[BrowserContext] = []

    def open(
        self,
        *,
        javascript: bool = True,
        width: int = 1280,
        height: int = 900,
        error_statuses: tuple[int, ...] = (),
        erring_fetches: tuple[str, ...] = (),
    ) -> Page:
        """A new visitor's tab. error_statuses: statuses the test expects a page to answer
        with (a form with errors: 400), or a script's request to a path starting with one of
        erring_fetches; Chromium reports those as console errors."""
        context = self.browser.new_context(
            base_url=self.base_url,
            java_script_enabled=javascript,
            viewport={"width": width, "height": height},
        )
        context.set_default_timeout(10_000)
        context.route("**/*", self._only_here)
        tab = context.new_page()
        tab.on(
            "console",
            lambda message: self._on_console(tab, message, error_statuses, erring_fetches),
        )
        tab.on("pageerror", lambda error: self.problems.append(f"uncaught exception: {error}"))
        self._contexts.append(context)
        return tab

    def _only_here(self, route: Route) -> None:
        address = urlsplit(route.request.url)
        if address.scheme in {"http", "https", "ws", "wss"} and address.netloc != self.host:
            self.elsewhere.append(route.request.url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def _on_console(
        self,
        tab: Page,
        message: ConsoleMessage,
        expected: tuple[int, ...],
        fetches: tuple[str, ...],
    ) -> None:
        if message.type != "error":
            return
        document = tab.url.split("#")[0]
        status = re.match(
            r"Failed to load resource: the server responded with a status of (\d+)", message.text
        )
        source = message.location.get("url", "")
        if (
            status
            and int(status[1]) in expected
            and (source == document or urlsplit(source).path.startswith(fetches or ("\0",)))
        ):
            return
        self.problems.append(f"console error at {message.location}: {message.text}")

    def close(self) -> None:
        for context in self._contexts:
            context.close()
        self._contexts.clear()


@pytest.fixture
def tabs(browser: Browser, live_server: LiveServer) -> Iterator[Tabs]:
    """tabs.open(...): browser tabs on the live server, watched (see Tabs)."""
    watcher = Tabs(browser, live_server.url)
    yield watcher
    watcher.close()
    if watcher.elsewhere:
        pytest.fail(
            "pages asked for addresses elsewhere:\n" + "\n".join(watcher.elsewhere), pytrace=False
        )
    if watcher.problems:
        pytest.fail("the browser reported errors:\n" + "\n".join(watcher.problems), pytrace=False)


@pytest.fixture
def site_url_is_live_server(settings, live_server: LiveServer) -> str:
    """Absolute links (personal links, e-mails) point at the live server, so a tab can follow
    them."""
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture(autouse=True)
def forms_filled_at_machine_speed(settings) -> None:
    """Tests fill the signing form in milliseconds, which the fraud rules rightly find
    suspect (tests/test_abuse.py): here, every signature should count, in this process and in
    the workers (worker_env)."""
    settings.SIGN_MIN_SECONDS = 0


def consent_label() -> str:
    """The consent-to-sign box's label, in the active language."""
    return str(SignatureForm.base_fields["consent"].label)


@pytest.fixture(autouse=True)
def live_server_settles_before_the_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test with the live server ends with its tables emptied (TRUNCATE). A request the
    browser sent last may still be running in one of the server's threads, its transaction
    holding locks the TRUNCATE waits for while it waits for the TRUNCATE's: PostgreSQL calls it
    a deadlock and the next test starts on a full database. Once the test and its browser are
    done (their teardowns run first), wait until no other session on the test database is
    working."""
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("live_server")
    yield
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        # The package's Celery worker folds the counts every second and may start a query just
        # after the quiet moment found below. Should it then deadlock with the TRUNCATE,
        # PostgreSQL aborts the session that noticed first: let that be the other one (the
        # next second's fold counts instead), by this session noticing last. Only a superuser
        # may set it; otherwise as before.
        with contextlib.suppress(DatabaseError):
            cursor.execute("SET deadlock_timeout = '10s'")
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)
