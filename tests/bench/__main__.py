"""The site's benchmark, measured against the targets of the design.

    python -m tests.bench [--signatures 1000000] [--duration 10] [--keep-db]
    python -m tests.bench --signatures 20000 --duration 5      # a quick run while developing
    python -m tests.bench --only soak --signatures 20000 [--soak-duration 60] [--soak-clients 200]
    python -m tests.bench --only timing --signatures 20000 [--timing-requests 400]

In one run, on this machine:

1. a scratch PostgreSQL database is created, migrated, filled with confirmed signatures by
   `fake_signatures`, and the static files are collected;
2. the public log: every signature appended to the log, then inclusion proofs timed at that
   size and what the log takes on disk (later phases run with the log caught up, beat appending
   as in production);
3. servers: the site, and a bare project made by `django-admin startproject` in a temporary
   folder (nothing of ours imported, one short view, no database), each served by gunicorn
   (sync, gthread 2 x 8 and 2 x 2), Granian (WSGI) and uvicorn (ASGI) in turn; each loaded
   with wrk on the bare project, the counter API, the home page and signing;
4. the chosen server (--server, DEFAULT_SERVER) serves the site on production settings
   (tests/bench/settings.py adds one bare view at /bench/bare/, what our middleware costs) and
   the bare project, the yardstick, with a Celery worker consuming the e-mails; wrk loads the
   bare project, the bare view, the counter API and the home page, several rounds interleaved;
5. wrk signs the petition, every request with a new address, and the database must hold exactly
   as many new signing requests as the site answered with a redirect; the worker is frozen
   meanwhile (it runs on other machines in production), then answers the backlog: a signature
   recorded and a confirmation sent for each;
6. 2,000 pending signatures are confirmed by concurrent clients, with Celery beat running, and
   the counter API is polled until it shows the exact total;
7. the soak: 200 clients sign for 60 s, a new address each time, while the worker answers the
   signings; no answer may be a 5xx, and once the worker has drained, every 2xx/3xx answer must
   be a recorded signature, no signing request be left, and the mail log must hold exactly one
   e-mail for each new signature;
8. timing: one request at a time, in a shuffled order, each from a fresh browser, signs with
   400 addresses of each kind (new, pending, confirmed, suspect, unsubscribed, suppressed,
   withdrawn, and a second sample of new ones as a control) and asks 400 times per kind for
   the e-mail again; each kind's POST times, measured by the client, are compared with the new
   addresses' (difference of the medians, Mann-Whitney U test), the worker frozen meanwhile;
9. export_signatures writes every confirmed signature to a file, timed against PostgreSQL's
   COPY of the same columns, and its peak memory is read at 10,000 rows and at all of them;
10. an update goes to 100,000 signers through anymail's test backend in a Celery worker on the
   bulk queue, then again with that worker killed (SIGKILL) midway and started again;
11. dossier: every confirmed signature is given a circonscription, spread over the seats, then
   `dossier --all` writes a ZIP of one PDF per député, timed, its peak memory against one
   département's (Rhône).

--only export,updates (any of log, servers, pages, signing, confirmations, soak, timing, export,
updates, dossier) runs some alone. E-mails go to tests/bench/mail.py, which writes each
recipient to bench-results/logs/.
BENCH_DATABASE and BENCH_REDIS_DBS (cache, broker, updates' broker: 14,13,12) set what a run
drops and flushes, so that two runs on one machine keep apart.

Everything it starts is stopped at the end, and the scratch database dropped (unless --keep-db).
The results are printed as a table and written to bench-results/latest.json.
"""

from __future__ import annotations

import argparse
import base64
import gc
import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psycopg
import redis
from psycopg import sql

PROJECT_DIR = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = PROJECT_DIR / "bench-results"
SLUG = "stop-cyberpedocriminalite"
HOST = "127.0.0.1"
# The server holding the scratch database (no database name: the harness adds its own).
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@localhost:5432")
REDIS_URL = f"redis://{HOST}:6379"
# What a run drops and flushes: two runs at once on one machine need different values.
DATABASE = os.environ.get("BENCH_DATABASE", "petition_bench")
# The Redis databases of the cache, the site's broker, and the updates phase's own broker
# (which the site's worker stays out of).
CACHE_DB, BROKER_DB, UPDATE_BROKER_DB = (
    int(db) for db in os.environ.get("BENCH_REDIS_DBS", "14,13,12").split(",")
)

PAGE_TARGETS = {
    "bare": "/bench/bare/",
    "api": f"/api/petitions/{SLUG}/",
    "home": "/fr/",
}
SIGN_PATH = f"/fr/petitions/{SLUG}/"
# Where signers come from (sign.lua): random addresses of this /16, one proxy in front.
SIGNER_NETWORK = "10.77"
# Seconds between reading the form and the first signing: above the fraud rules' SIGN_MIN_SECONDS.
SIGN_FORM_SECONDS = 3.5

TARGET_API_RATIO = 1.0
TARGET_HOME_RATIO = 0.6
TARGET_SIGNING_RATE = 400.0
TARGET_SIGNING_P99_MS = 200.0
TARGET_COUNT_DELAY_S = 2.0
TARGET_LOG_APPEND_S = 60.0
TARGET_LOG_PROOF_MS = 5.0
TARGET_LOG_BYTES_PER_LEAF = 100.0

# A 1-minute load average above this before the run starts means something else is running.
BUSY_LOAD_AVERAGE = 1.0
# Seconds: how long to wait for processes and queues before calling it a failure.
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
MAIL_DRAIN_TIMEOUT = 300.0
COUNT_PRECONDITION_TIMEOUT = 30.0
COUNT_POLL_INTERVAL = 0.05
# The counter is exact once every read shows the total for this long.
STABILITY_WATCH = 2.0
# After the signing window, each wrk connection finishes its request and goes idle; wrk itself
# stops this much later (it only knows whole seconds).
SIGNING_DRAIN_SECONDS = 5
# Requests slower than this count as wrk timeouts; far above every target, so slow pages are
# measured rather than dropped.
WRK_TIMEOUT_SECONDS = 10
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
# The signed time the page put in its form (petition.abuse reads how long filling it took).
STARTED_INPUT = re.compile(rb'name="started" value="([^"]+)"')
LOGGED_ERROR = re.compile(r"\bERROR\b|\bCRITICAL\b|^Traceback \(most recent call last\)")


# The servers the servers phase compares, each serving the site and a bare project of its own
# on the same 2 cores; --server picks the one the other phases use (DEFAULT_SERVER, chosen by
# those figures: see the README's Speed section).
@dataclass(frozen=True)
class Server:
    """How a server runs an application: its command, given the application and a port."""

    name: str
    kind: str  # gunicorn, granian-wsgi, granian-asgi, uvicorn
    workers: int
    threads: int = 1

    @property
    def asgi(self) -> bool:
        return self.kind in {"granian-asgi", "uvicorn"}

    def describe(self) -> str:
        threads = f" x {self.threads} threads" if self.threads > 1 else ""
        return f"{self.name}: {self.workers} processes{threads}"

    def argv(self, package: str, port: int) -> list[str]:
        """The command serving package.wsgi (or package.asgi) on port, as in production:
        behind the README's nginx (proxy_pass speaks HTTP/1.0 unless told otherwise) every
        request reaches the server on a connection of its own, so here too. Kept alive, wrk's
        connections would also stay with whichever process accepted them first."""
        module = f"{package}.asgi:application" if self.asgi else f"{package}.wsgi:application"
        if self.kind == "gunicorn":
            argv = [
                sys.executable,
                "-m",
                "gunicorn",
                module,
                f"--bind={HOST}:{port}",
                f"--workers={self.workers}",
                "--keep-alive=0",
                "--log-level=warning",
                "--graceful-timeout=5",
            ]
            if self.threads > 1:
                return [*argv, "--worker-class=gthread", f"--threads={self.threads}"]
            return [*argv, "--worker-class=sync"]
        if self.kind.startswith("granian"):
            return [
                sys.executable,
                "-m",
                "granian",
                f"--interface={'asgi' if self.asgi else 'wsgi'}",
                f"--host={HOST}",
                f"--port={port}",
                f"--workers={self.workers}",
                *([f"--blocking-threads={self.threads}"] if not self.asgi else []),
                "--http=1",
                "--no-http1-keep-alive",
                "--no-ws",
                "--log-level=warning",
                module,
            ]
        return [
            sys.executable,
            "-m",
            "uvicorn",
            module,
            f"--host={HOST}",
            f"--port={port}",
            f"--workers={self.workers}",
            "--timeout-keep-alive=1",
            "--no-access-log",
            "--log-level=warning",
        ]


SERVERS = {
    server.name: server
    for server in (
        Server("gunicorn-sync", "gunicorn", workers=5),
        Server("gunicorn-gthread-2x8", "gunicorn", workers=2, threads=8),
        Server("gunicorn-gthread-2x2", "gunicorn", workers=2, threads=2),
        Server("granian-wsgi-2x8", "granian-wsgi", workers=2, threads=8),
        Server("granian-wsgi-2x2", "granian-wsgi", workers=2, threads=2),
        Server("uvicorn-asgi", "uvicorn", workers=2),
    )
}
# Chosen by the servers phase (README, Speed): of all, gunicorn with 2 gthread processes of 2
# threads signed the most and with the lowest p99, served the home page as fast as any, and is
# what operators know; Granian answered the counter API from memory 2.5 times as fast, every
# other load within the noise. With 8 threads, every system call that let go of the GIL made a
# thread wait behind 7 others to take it back.
DEFAULT_SERVER = "gunicorn-gthread-2x2"


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# Options.

# The phases a run may be limited to (--only); by default, all of them.
PHASES = (
    *("log", "servers", "pages", "signing", "confirmations", "soak", "timing", "export"),
    *("updates", "dossier"),
)
# Those that serve the site and run a Celery worker.
SITE_PHASES = {"servers", "pages", "signing", "confirmations", "soak", "timing"}
# Those that use Redis (the site's cache, the workers' brokers): the export alone leaves alone
# the Redis databases of a run from another checkout.
REDIS_PHASES = {*SITE_PHASES, "updates"}
# What the Celery worker does while the timing phase measures: frozen by default, as while
# signing is measured (see measure_timing).
TIMING_WORKER_MODES = ("frozen", "running")


@dataclass(frozen=True)
class Options:
    signatures: int
    duration: int
    rounds: int
    connections: int
    wrk_threads: int
    confirmations: int
    confirm_clients: int
    count_timeout: float
    server: str
    keep_db: bool
    output: Path
    only: tuple[str, ...] = PHASES
    update_signers: int = 100_000
    soak_duration: int = 60
    soak_clients: int = 200
    timing_requests: int = 400
    timing_worker: str = "frozen"

    @property
    def signing_seconds(self) -> int:
        return 2 * self.duration


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Benchmark the site against the targets of the design.",
    )
    parser.add_argument(
        "--signatures",
        type=int,
        default=1_000_000,
        help="confirmed signatures stored before measuring (default: 1,000,000)",
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=10,
        help="seconds of each wrk run on a page; the signing run lasts twice as long (default: 10)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs of each page (default: 3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default: 16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default: 2)")
    parser.add_argument(
        "--confirmations",
        type=int,
        default=2000,
        help="signatures confirmed at once (default: 2000)",
    )
    parser.add_argument(
        "--confirm-clients",
        type=int,
        default=16,
        help="concurrent confirming clients (default: 16)",
    )
    parser.add_argument(
        "--count-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the exact count after the last confirmation (default: 60)",
    )
    parser.add_argument(
        "--server",
        choices=tuple(SERVERS),
        default=DEFAULT_SERVER,
        help=f"the server of every phase but servers (default: {DEFAULT_SERVER})",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_DIR / "latest.json",
        help="where to write the results as JSON (default: bench-results/latest.json)",
    )
    parser.add_argument(
        "--only",
        type=lambda text: tuple(sorted(set(filter(None, text.split(","))))),
        default=PHASES,
        metavar="PHASES",
        help=f"run only these phases, comma-separated, of: {', '.join(PHASES)} (default: all)",
    )
    parser.add_argument(
        "--update-signers",
        type=int,
        default=100_000,
        help="signers an update goes to in the updates phase (default: 100,000)",
    )
    parser.add_argument(
        "--soak-duration",
        type=int,
        default=60,
        help="seconds of signing in the soak phase (default: 60)",
    )
    parser.add_argument(
        "--soak-clients",
        type=int,
        default=200,
        help="concurrent signing clients in the soak phase (default: 200)",
    )
    parser.add_argument(
        "--timing-requests",
        type=int,
        default=400,
        help="timed signings, and as many requests to send the e-mail again, of each kind of "
        "address in the timing phase (default: 400)",
    )
    parser.add_argument(
        "--timing-worker",
        choices=TIMING_WORKER_MODES,
        default="frozen",
        help="the Celery worker answers the timing phase's requests once every one has been "
        "timed (frozen), or as they come, on the same cores (running) (default: frozen)",
    )
    args = parser.parse_args(argv)
    if args.timing_requests < 2:
        parser.error("--timing-requests must be at least 2")
    if not args.only or set(args.only) - set(PHASES):
        parser.error(f"--only takes phases among {', '.join(PHASES)}")
    if args.update_signers < 2:
        parser.error("--update-signers must be at least 2")
    if args.signatures < 1 or args.duration < 1 or args.rounds < 1 or args.confirmations < 1:
        parser.error("--signatures, --duration, --rounds and --confirmations must be positive")
    if args.connections < args.wrk_threads:
        parser.error("--connections must be at least --wrk-threads")
    if args.soak_duration < 1 or args.soak_clients < 1 or args.soak_clients % args.wrk_threads:
        parser.error("--soak-duration must be positive, --soak-clients a multiple of --wrk-threads")
    return Options(**vars(args))


# Processes.


class Processes:
    """The long-running processes of a run, each in its own process group, each logging to a
    file. stop_all() ends them all: SIGTERM to the group, SIGKILL if it lingers."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def pause(self, name: str) -> None:
        """Freeze a process group (SIGSTOP) until resume(): it keeps its connections."""
        os.killpg(self.running[name].pid, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        os.killpg(self.running[name].pid, signal.SIGCONT)

    def log(self, name: str) -> str:
        return self.log_path(name).read_text(errors="replace")

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with self.log_path(name).open("wb") as log:
            process = subprocess.Popen(
                argv,
                cwd=PROJECT_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running[name] = process
        return process

    def check_alive(self, name: str) -> None:
        process = self.running[name]
        if process.poll() is not None:
            tail = "\n".join(self.log(name).splitlines()[-30:])
            raise BenchError(f"{name} exited with status {process.returncode}:\n{tail}")

    def wait_for_log(self, name: str, text: str, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log(name):
            self.check_alive(name)
            if time.monotonic() > deadline:
                raise BenchError(f"{name} did not log {text!r} within {timeout:g} s")
            time.sleep(0.2)

    def stop(self, name: str) -> None:
        """SIGTERM, so that the process stops its children itself; then SIGKILL to whatever
        is left of its group (the group's id is the process's own, from start_new_session)."""
        process = self.running.pop(name, None)
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if any(group == process.pid for _, group, _ in _process_cpu()):
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            self.stop(name)

    def logged_errors(self) -> dict[str, dict[str, Any]]:
        """Errors and tracebacks each process logged: a run with any is not a clean one."""
        found = {}
        for path in sorted(self.log_dir.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()
            errors = [line.strip() for line in lines if LOGGED_ERROR.search(line)]
            if errors:
                found[path.stem] = {"lines": len(errors), "first": errors[:3]}
        return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# HTTP, with the standard library.


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def fetch(
    port: int,
    path: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    host: str = HOST,
) -> Answer:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


@dataclass(frozen=True)
class FormAccess:
    """What a browser holds after opening a form: the CSRF cookie and the form's token."""

    cookie: str
    token: str
    # The rest of a signing form's fields that every signer sends alike, URL-encoded.
    signing_fields: str = ""


def open_form(port: int, path: str, *, cookie: str = "", host: str = HOST) -> FormAccess:
    """GET a form as a browser does, with the cookies it holds already (cookie: a Cookie
    header); what the browser then holds."""
    answer = fetch(port, path, headers={"Cookie": cookie} if cookie else None, host=host)
    if answer.status != 200:
        raise BenchError(f"GET {path} answered {answer.status}")
    cookies = SimpleCookie()
    for header in answer.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    match = CSRF_INPUT.search(answer.body)
    if "csrftoken" not in cookies or match is None:
        raise BenchError(f"GET {path} gave no CSRF cookie or no form token")
    started = STARTED_INPUT.search(answer.body)
    signing_fields = (
        urlencode({"consent": "on", "started": started.group(1).decode()}) if started else ""
    )
    csrf_cookie = f"csrftoken={cookies['csrftoken'].value}"
    return FormAccess(
        f"{cookie}; {csrf_cookie}" if cookie else csrf_cookie,
        match.group(1).decode(),
        signing_fields,
    )


def read_count(port: int) -> int:
    answer = fetch(port, PAGE_TARGETS["api"], timeout=5)
    if answer.status != 200:
        raise BenchError(f"the counter API answered {answer.status}")
    return int(json.loads(answer.body)["signature_count"])


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


# The site's environment and commands.


def site_environment(
    *, port: int, database_url: str, secret_key: str, mail_log: Path
) -> dict[str, str]:
    """Production settings on this machine: plain HTTP, no rate limits, local services."""
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT_DIR),
        "DJANGO_SETTINGS_MODULE": "tests.bench.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secret_key,
        "DJANGO_ALLOWED_HOSTS": HOST,
        "SITE_URL": f"http://{HOST}:{port}",
        "RATELIMIT_ENABLE": "0",
        # The public log's heads, signed with a key of this run's own.
        "LOG_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        # The fraud rules apply as in production; the signing load comes through one proxy, from
        # many client addresses (sign.lua), and sends the form SIGN_MIN_SECONDS after reading it.
        "TRUSTED_PROXY_COUNT": "1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "CACHE_URL": f"{REDIS_URL}/{CACHE_DB}",
        "CELERY_BROKER_URL": f"{REDIS_URL}/{BROKER_DB}",
        # E-mails are rendered and handed to a provider that writes each recipient down.
        "EMAIL_BACKEND": "tests.bench.mail.RecordingBackend",
        "BENCH_MAIL_LOG": str(mail_log),
    }


def run_command(argv: list[str], env: dict[str, str], *, quiet: bool = False) -> str:
    result = subprocess.run(
        argv, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BenchError(
            f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    if not quiet and result.stdout.strip():
        for line in result.stdout.strip().splitlines()[-3:]:
            say(f"  {line.strip()}")
    return result.stdout


def manage(env: dict[str, str], *args: str) -> str:
    return run_command([sys.executable, "manage.py", *args], env)


def site_data(env: dict[str, str], *args: str) -> Any:
    """Run tests/bench/data.py (Django-side) and read its JSON answer."""
    output = run_command([sys.executable, "-m", "tests.bench.data", *args], env, quiet=True)
    return json.loads(output)


# Services this harness relies on.


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("wrk is missing: installing it with apt-get")
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            stdout=subprocess.DEVNULL,
            check=False,
        )
        found = shutil.which("wrk")
        if found:
            return found
    raise BenchError(
        "the load generator wrk is not installed: `apt-get install wrk` (Debian, Ubuntu) or "
        "`brew install wrk` (macOS), then run the benchmark again"
    )


def require_services(*, redis_too: bool) -> None:
    services = [("PostgreSQL", 5432), ("Redis", 6379)] if redis_too else [("PostgreSQL", 5432)]
    for name, port in services:
        host = urlsplit(POSTGRES_URL).hostname if name == "PostgreSQL" else HOST
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError as error:
            raise BenchError(f"{name} is not reachable at {host}:{port}: {error}") from error


def reset_database() -> str:
    """Drop and create the scratch database; its URL."""
    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
        name = sql.Identifier(DATABASE)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    return f"{POSTGRES_URL}/{DATABASE}"


def drop_database() -> None:
    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
        name = sql.Identifier(DATABASE)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def flush_redis() -> None:
    """Empty the cache and broker databases this benchmark owns."""
    for db in (CACHE_DB, BROKER_DB):
        with redis.Redis.from_url(f"{REDIS_URL}/{db}") as client:
            client.flushdb()


def broker_backlog() -> int:
    """Messages waiting in any queue of the broker, or taken by a worker and not yet done."""
    with redis.Redis.from_url(f"{REDIS_URL}/{BROKER_DB}") as client:
        waiting = sum(client.llen(key) for key in client.scan_iter() if client.type(key) == b"list")
        return waiting + client.hlen("unacked")


# Where the CPU goes.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CPU_GROUPS = {"server": ("site", "bare-project"), "celery": ("celery-worker", "celery-beat")}


def _process_cpu() -> Iterator[tuple[int, int, float]]:
    """(pid, process group, CPU seconds) of every process on the machine."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # After the command name in parentheses: state, ppid, pgrp, ..., utime (12th), stime.
        fields = stat[stat.rindex(")") + 2 :].split()
        yield int(entry.name), int(fields[2]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _is_our_backend(pid: int) -> bool:
    """A PostgreSQL backend serving the scratch database (its title names the database)."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return title.startswith(b"postgres: ") and f" {DATABASE} ".encode() in title


def cpu_seconds(processes: Processes) -> dict[str, float]:
    """CPU seconds used so far by the site's processes, by kind, and by the whole machine."""
    groups = {
        process.pid: kind
        for kind, names in CPU_GROUPS.items()
        for name in names
        if (process := processes.running.get(name)) is not None
    }
    totals = dict.fromkeys([*CPU_GROUPS, "postgres"], 0.0)
    for pid, group, seconds in _process_cpu():
        if group in groups:
            totals[groups[group]] += seconds
        elif _is_our_backend(pid):
            totals["postgres"] += seconds
    with open("/proc/stat") as stat:
        # user nice system idle iowait irq softirq: all but idle and iowait are busy (steal,
        # next, is time the hypervisor gave to other machines).
        ticks = [int(value) for value in stat.readline().split()[1:8]]
    totals["busy"] = (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS
    return totals


# wrk.


@dataclass(frozen=True)
class WrkResult:
    """One wrk run, as its Lua done() reported it, and the CPU seconds spent meanwhile."""

    data: dict[str, Any]
    cpu: dict[str, float]

    @property
    def requests_per_second(self) -> float:
        return self.data["requests"] / (self.data["duration_us"] / 1e6)

    def latency_ms(self, which: str) -> float:
        return self.data["latency_us"][which] / 1000

    @property
    def errors(self) -> int:
        return sum(self.data["errors"].values())

    def cpu_ms_per_request(self, answered: int | None = None) -> dict[str, float]:
        """CPU milliseconds per answered request, by process; "busy" is the whole machine."""
        requests = answered if answered is not None else self.data["requests"]
        return {name: 1000 * seconds / max(requests, 1) for name, seconds in self.cpu.items()}


def run_wrk(
    url: str,
    *,
    seconds: int,
    options: Options,
    processes: Processes,
    script: str,
    script_args: Sequence[str] = (),
) -> WrkResult:
    argv = [
        "wrk",
        f"--threads={options.wrk_threads}",
        f"--connections={options.connections}",
        f"--duration={seconds}s",
        f"--timeout={WRK_TIMEOUT_SECONDS}s",
        f"--script={BENCH_DIR / script}",
        url,
    ]
    if script_args:
        argv += ["--", *script_args]
    cpu_before = cpu_seconds(processes)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {name: value - cpu_before[name] for name, value in cpu_seconds(processes).items()}
    cpu["wrk"] = (children.ru_utime + children.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    ours = sum(value for name, value in cpu.items() if name != "busy")
    cpu["rest"] = max(0.0, cpu["busy"] - ours)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return WrkResult(json.loads(line.removeprefix("BENCH_RESULT ")), cpu)
    raise BenchError(f"wrk gave no result ({result.returncode}):\n{result.stdout}{result.stderr}")


# The phases.


@dataclass
class Run:
    """A benchmark run: its options, processes, environment and collected results."""

    options: Options
    processes: Processes
    run_id: str
    port: int
    env: dict[str, str]
    results: dict[str, Any]
    bare_port: int = 0
    bare_env: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def timed(self, key: str, action: Callable[[], Any]) -> Any:
        started = time.monotonic()
        value = action()
        self.results["setup_seconds"][key] = round(time.monotonic() - started, 1)
        return value


def prepare_database(run: Run) -> None:
    count = run.options.signatures
    say(f"Database {DATABASE}: migrate, {count:,} signatures, collectstatic")
    run.timed("migrate", lambda: manage(run.env, "migrate", "--verbosity", "0"))
    run.timed("fake_signatures", lambda: manage(run.env, "fake_signatures", SLUG, str(count)))
    run.timed("collectstatic", lambda: manage(run.env, "collectstatic", "--noinput", "-v", "0"))
    with psycopg.connect(run.env["DATABASE_URL"], autocommit=True) as connection:
        # Fresh statistics, as autovacuum would have them on a database that grew over weeks.
        run.timed("analyze", lambda: connection.execute("VACUUM ANALYZE"))


def serve(
    run: Run, name: str, server: Server, *, package: str, port: int, env: dict[str, str], path: str
) -> None:
    """Start server on port with package's application, and wait for path to answer 200."""
    run.processes.start(name, server.argv(package, port), env)

    def answers() -> bool:
        run.processes.check_alive(name)
        try:
            return fetch(port, path, timeout=2).status == 200
        except OSError:
            return False

    if not wait_until(answers, STARTUP_TIMEOUT):
        raise BenchError(f"{name} ({server.name}) did not answer within {STARTUP_TIMEOUT:g} s")


# The yardstick: what `django-admin startproject` gives, with one short view and nothing of ours.
BARE_PACKAGE = "bareproject"
BARE_PATH = "/bare/"
BARE_VIEW = """
from django.http import HttpResponse
from django.urls import path


def bare(request):
    return HttpResponse(b"bare")


urlpatterns = [path("bare/", bare)]
"""


def make_bare_project(directory: Path) -> dict[str, str]:
    """A throwaway startproject in directory: DEBUG off, ALLOWED_HOSTS set, its default
    middleware, one view returning a short HttpResponse, no database. Its environment."""
    run_command(
        [sys.executable, "-m", "django", "startproject", BARE_PACKAGE, str(directory)],
        {**os.environ},
    )
    package = directory / BARE_PACKAGE
    settings = (package / "settings.py").read_text()
    settings = settings.replace("DEBUG = True", "DEBUG = False")
    settings = settings.replace("ALLOWED_HOSTS = []", f"ALLOWED_HOSTS = [{HOST!r}]")
    (package / "settings.py").write_text(settings + "\nDATABASES = {}\n")
    (package / "urls.py").write_text(BARE_VIEW)
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTHONPATH"))
    }
    return {**environment, "PYTHONPATH": str(directory)}


def start_site(run: Run, server: Server) -> None:
    """The site and the bare project, each under server."""
    serve(
        run,
        "site",
        server,
        package="manifesto",
        port=run.port,
        env=run.env,
        path=PAGE_TARGETS["bare"],
    )
    serve(
        run,
        "bare-project",
        server,
        package=BARE_PACKAGE,
        port=run.bare_port,
        env=run.bare_env,
        path=BARE_PATH,
    )
    run.results["server"] = {
        "name": server.name,
        "kind": server.kind,
        "workers": server.workers,
        "threads": server.threads,
    }
    say(f"Site on {run.base_url}, bare project on port {run.bare_port}: {server.describe()}")


def stop_site(run: Run) -> None:
    run.processes.stop("bare-project")
    run.processes.stop("site")


def start_celery_worker(run: Run) -> None:
    argv = [sys.executable, "-m", "celery", "-A", "manifesto", "worker", "--loglevel=INFO"]
    argv.append(f"--hostname=bench-{run.run_id}@%h")
    run.processes.start("celery-worker", argv, run.env)
    run.processes.wait_for_log("celery-worker", " ready.")
    say("Celery worker ready")


def start_celery_beat(run: Run, schedule_dir: Path) -> None:
    argv = [sys.executable, "-m", "celery", "-A", "manifesto", "beat", "--loglevel=INFO"]
    argv.append(f"--schedule={schedule_dir / 'celerybeat-schedule'}")
    run.processes.start("celery-beat", argv, run.env)
    run.processes.wait_for_log("celery-beat", "beat: Starting")
    say("Celery beat started")


def page_url(run: Run, name: str) -> str:
    """The bare project's view ("project"), or one of the site's PAGE_TARGETS."""
    if name == "project":
        return f"http://{HOST}:{run.bare_port}{BARE_PATH}"
    return run.base_url + PAGE_TARGETS[name]


# The yardstick first, then the site's own bare view (what our middleware costs), then its pages.
PAGES = ("project", *PAGE_TARGETS)


def measure_page_set(run: Run, *, rounds: int, seconds: int) -> tuple[dict[str, Any], dict]:
    """Every page of PAGES under load, the rounds interleaved; each page's medians, and the
    ratios of the counter API's, the home page's and the in-site bare view's requests per
    second to the bare project's."""
    options = run.options
    for name in PAGES:
        url = urlsplit(page_url(run, name))
        answer = fetch(url.port or 80, url.path)
        if answer.status != 200:
            raise BenchError(f"GET {url.path} ({name}) answered {answer.status}, not 200")
    say("  warming up every worker on each page")
    for name in PAGES:
        run_wrk(
            page_url(run, name),
            seconds=2,
            options=options,
            processes=run.processes,
            script="report.lua",
        )
    runs: dict[str, list[WrkResult]] = {name: [] for name in PAGES}
    for round_number in range(1, rounds + 1):
        for name in PAGES:
            result = run_wrk(
                page_url(run, name),
                seconds=seconds,
                options=options,
                processes=run.processes,
                script="report.lua",
            )
            runs[name].append(result)
            say(
                f"  round {round_number} {name:7} {result.requests_per_second:8.1f} req/s  "
                f"mean {result.latency_ms('mean'):6.1f} ms  p99 {result.latency_ms('p99'):6.1f} ms"
                + (f"  errors {result.data['errors']}" if result.errors else "")
            )
    pages: dict[str, Any] = {}
    for name, results in runs.items():
        pages[name] = {
            "path": urlsplit(page_url(run, name)).path,
            "requests_per_second": round(
                statistics.median(r.requests_per_second for r in results), 1
            ),
            "latency_mean_ms": round(statistics.median(r.latency_ms("mean") for r in results), 2),
            "latency_p99_ms": round(statistics.median(r.latency_ms("p99") for r in results), 2),
            "errors": sum(r.errors for r in results),
            "cpu_ms_per_request": median_cpu(results),
            "runs": [{**r.data, "cpu_seconds": r.cpu} for r in results],
        }
    project = pages["project"]["requests_per_second"]
    ratios: dict[str, Any] = {}
    for name in ("api", "home", "bare"):
        # The target is the ratio of the medians. Each round's own ratio, and the ratio of the
        # CPU the server spent per request, show how far other load on the machine moved it.
        ratios[f"{name}_to_project"] = round(pages[name]["requests_per_second"] / project, 3)
        ratios[f"{name}_to_project_by_round"] = [
            round(page.requests_per_second / yardstick.requests_per_second, 3)
            for page, yardstick in zip(runs[name], runs["project"], strict=True)
        ]
        ratios[f"{name}_to_project_by_cpu"] = round(
            pages["project"]["cpu_ms_per_request"]["server"]
            / max(pages[name]["cpu_ms_per_request"]["server"], 1e-9),
            3,
        )
    return pages, ratios


def measure_pages(run: Run) -> None:
    say(f"Pages: {', '.join(PAGES)}, {run.options.rounds} rounds interleaved")
    pages, ratios = measure_page_set(run, rounds=run.options.rounds, seconds=run.options.duration)
    run.results["pages"] = pages
    run.results["ratios"] = ratios


def median_cpu(results: Sequence[WrkResult]) -> dict[str, float]:
    per_request = [result.cpu_ms_per_request() for result in results]
    return {
        name: round(statistics.median(cpu[name] for cpu in per_request), 2)
        for name in per_request[0]
    }


def sign_with_wrk(
    run: Run, *, prefix: str, seconds: int, connections: int, drain: int
) -> WrkResult:
    """wrk and sign.lua: connections POST the form for seconds, each with a new address
    starting with prefix, then get drain more seconds to have their last answers."""
    form = open_form(run.port, SIGN_PATH)
    # As long as a person takes to fill the form at least: the fraud rules see honest signers.
    time.sleep(SIGN_FORM_SECONDS)
    options = replace(run.options, connections=connections)
    return run_wrk(
        run.base_url + SIGN_PATH,
        seconds=seconds + drain,
        options=options,
        processes=run.processes,
        script="sign.lua",
        script_args=[
            prefix.removesuffix("-"),
            SIGN_PATH,
            form.token,
            form.cookie,
            run.base_url + SIGN_PATH,
            str(seconds),
            str(connections // options.wrk_threads),
            form.signing_fields,
            SIGNER_NETWORK,
        ],
    )


def measure_servers(run: Run) -> None:
    """The same work under each server of SERVERS: its own bare project, the counter API and
    the home page (ratios to that project), and signing with the worker frozen."""
    options = run.options
    measured: dict[str, Any] = {}
    for server in SERVERS.values():
        say(f"Servers: {server.describe()}")
        start_site(run, server)
        try:
            pages, ratios = measure_page_set(run, rounds=1, seconds=options.duration)
            prefix = f"bench-{run.run_id}-{server.name}-"
            run.processes.pause("celery-worker")
            try:
                result = sign_with_wrk(
                    run,
                    prefix=prefix,
                    seconds=options.duration,
                    connections=options.connections,
                    drain=SIGNING_DRAIN_SECONDS,
                )
            finally:
                run.processes.resume("celery-worker")
        finally:
            stop_site(run)
        data = result.data
        rate = data["signed"] / data["window_s"]
        say(
            f"  signing {rate:.1f}/s, p99 {result.latency_ms('p99'):.1f} ms, "
            f"{data['other']} other answers {data['other_statuses'] or ''}"
        )
        measured[server.name] = {
            "server": server.describe(),
            "project_requests_per_second": pages["project"]["requests_per_second"],
            "site_bare_requests_per_second": pages["bare"]["requests_per_second"],
            "api_requests_per_second": pages["api"]["requests_per_second"],
            "home_requests_per_second": pages["home"]["requests_per_second"],
            "api_to_project": ratios["api_to_project"],
            "home_to_project": ratios["home_to_project"],
            "bare_to_project": ratios["bare_to_project"],
            "signatures_per_second": round(rate, 1),
            "signing_p99_ms": round(result.latency_ms("p99"), 2),
            "signing_other_answers": data["other"],
            "errors": sum(page["errors"] for page in pages.values()) + result.errors,
        }
        # The worker answers this server's signings before the next one is measured.
        if not wait_until(lambda: broker_backlog() == 0, MAIL_DRAIN_TIMEOUT, interval=0.5):
            raise BenchError("the worker did not answer the servers phase's signings")
    run.results["servers"] = measured


def server_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    return [
        (
            name,
            f"{row['project_requests_per_second']:.0f}",
            f"{row['api_to_project']:.2f}",
            f"{row['home_to_project']:.2f}",
            f"{row['bare_to_project']:.2f}",
            f"{row['signatures_per_second']:.0f}",
            f"{row['signing_p99_ms']:.0f}",
            str(row["errors"] + row["signing_other_answers"]),
        )
        for name, row in results.get("servers", {}).items()
    ]


SERVER_COLUMNS = (
    "server",
    "bare project req/s",
    "API ratio",
    "home ratio",
    "site bare ratio",
    "signing/s",
    "signing p99 ms",
    "errors",
)


def measure_signing(run: Run) -> None:
    options = run.options
    prefix = f"bench-{run.run_id}-sign-"
    before = site_data(run.env, "counts", SLUG, "--email-prefix", prefix)
    seconds = options.signing_seconds
    say(f"Signing: {seconds} s of POSTs, {options.connections} connections, new address each")
    # A signing is measured from the POST to the stored request and the queued task, as the
    # design defines it: in production the workers that record the signatures and send the
    # e-mails run on machines of their own, so here the worker waits, frozen, and answers the
    # backlog afterwards. What the requests stored is counted before it wakes.
    run.processes.pause("celery-worker")
    try:
        result = sign_with_wrk(
            run,
            prefix=prefix,
            seconds=seconds,
            connections=options.connections,
            drain=SIGNING_DRAIN_SECONDS,
        )
        taken = site_data(run.env, "counts", SLUG, "--email-prefix", prefix)
    finally:
        run.processes.resume("celery-worker")
    signing_done = time.monotonic()
    data = result.data
    stored = taken["requests"] - before["requests"]
    rate = data["signed"] / data["window_s"]
    say(
        f"  {data['signed']:,} signatures in {data['window_s']:.1f} s: {rate:.1f}/s, "
        f"p99 {result.latency_ms('p99'):.1f} ms; {data['other']} other answers "
        f"{data['other_statuses'] or ''}; {stored:,} signing requests stored"
    )
    backlog = broker_backlog()
    say(f"  tasks still queued: {backlog:,}; waiting for the worker to answer them")
    drained = wait_until(lambda: broker_backlog() == 0, MAIL_DRAIN_TIMEOUT, interval=0.5)
    drain_seconds = time.monotonic() - signing_done
    sent = site_data(run.env, "counts", SLUG, "--email-prefix", prefix)
    say(
        f"  {sent['prefixed'] - before['prefixed']:,} signatures recorded, {sent['sent']:,} "
        f"confirmations sent, {sent['requests']:,} requests unanswered"
    )
    run.results["signing"] = {
        "seconds": round(data["window_s"], 2),
        "signatures_per_second": round(rate, 1),
        "latency_mean_ms": round(result.latency_ms("mean"), 2),
        "latency_p50_ms": round(result.latency_ms("p50"), 2),
        "latency_p99_ms": round(result.latency_ms("p99"), 2),
        "latency_max_ms": round(result.latency_ms("max"), 2),
        "redirects": data["signed"],
        "other_answers": data["other"],
        "other_statuses": data["other_statuses"],
        "socket_errors": {k: v for k, v in data["errors"].items() if k != "status"},
        "rows_before": before["rows"],
        # The signing requests stored while the worker was frozen: what the site took in.
        "new_rows": stored,
        "rows_match_redirects": stored == data["signed"],
        "mail_backlog_at_end": backlog,
        "mail_drained": drained,
        "mail_drained_after_seconds": round(drain_seconds, 1),
        # Once the worker has answered them: the signatures it recorded, and their e-mails.
        "signatures_recorded": sent["prefixed"] - before["prefixed"],
        "requests_unanswered": sent["requests"],
        "confirmation_emails_sent": sent["sent"],
        "cpu_ms_per_request": {
            name: round(value, 2)
            for name, value in result.cpu_ms_per_request(data["signed"] + data["other"]).items()
        },
        "cpu_seconds": result.cpu,
    }


def confirm_one(port: int, url: str) -> tuple[str, float]:
    """Open a confirmation link and press its button: the POST's status (or what went wrong)
    and when it returned."""
    path = urlsplit(url).path
    try:
        form = open_form(port, path)
        answer = fetch(
            port,
            path,
            method="POST",
            body=urlencode({"csrfmiddlewaretoken": form.token}).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": form.cookie,
                "Referer": url,
            },
        )
        outcome = str(answer.status)
    except (BenchError, OSError) as error:
        outcome = f"failed: {error}"[:80]
    return outcome, time.monotonic()


def measure_confirmations(run: Run, schedule_dir: Path) -> None:
    options = run.options
    count = options.confirmations
    prefix = f"bench-{run.run_id}-confirm-"
    before = site_data(run.env, "counts", SLUG)
    urls: list[str] = site_data(run.env, "pending", SLUG, str(count), "--email-prefix", prefix)
    expected = before["confirmed"] + count
    say(f"Confirmations: {count:,} pending stored; {before['confirmed']:,} confirmed before")
    start_celery_beat(run, schedule_dir)
    settled = wait_until(
        lambda: read_count(run.port) == before["confirmed"], COUNT_PRECONDITION_TIMEOUT
    )
    if not settled:
        say(f"  the counter does not show {before['confirmed']:,} before confirming")

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=options.confirm_clients) as pool:
        answers = list(pool.map(lambda url: confirm_one(run.port, url), urls))
    last_post = max(returned for _, returned in answers)
    statuses = Counter(status for status, _ in answers)
    say(
        f"  {count:,} POSTs by {options.confirm_clients} clients in {last_post - started:.1f} s;"
        f" statuses {dict(statuses)}; waiting for the counter to show {expected:,}"
    )

    # Exact means every read shows the total from then on: each gunicorn process may answer
    # from a cache of its own, so one exact read is not enough.
    seen, first_exact, exact_since, overshoot = -1, None, None, False
    strays: list[int] = []
    deadline = last_post + options.count_timeout
    while True:
        seen = read_count(run.port)
        read_at = time.monotonic()
        if seen == expected:
            first_exact = first_exact or read_at
            exact_since = exact_since or read_at
            if read_at - exact_since >= STABILITY_WATCH:
                break
        else:
            overshoot = overshoot or seen > expected
            if exact_since is not None:
                strays.append(seen)
            exact_since = None
            if read_at > deadline:
                break
        time.sleep(COUNT_POLL_INTERVAL)
    after = site_data(run.env, "counts", SLUG)
    delay = None if exact_since is None else max(0.0, exact_since - last_post)
    if delay is None:
        say(f"  MISSED: the counter shows {seen:,}, not {expected:,}, after the timeout")
    else:
        say(f"  every read showed {expected:,} from {delay:.2f} s after the last confirmation")
    if strays:
        say(f"  after an exact read, other reads still showed {sorted(set(strays))}")
    run.results["confirmation"] = {
        "confirmations": count,
        "clients": options.confirm_clients,
        "post_statuses": dict(statuses),
        "posting_seconds": round(last_post - started, 2),
        "confirmed_before": before["confirmed"],
        "expected_count": expected,
        "confirmed_in_database": after["confirmed"],
        "count_seen_last": seen,
        "count_delay_seconds": None if delay is None else round(delay, 3),
        "first_exact_read_seconds": (
            None if first_exact is None else round(max(0.0, first_exact - last_post), 3)
        ),
        "count_exact": delay is not None and not overshoot,
        "count_overshot": overshoot,
        "reads_off_after_an_exact_one": sorted(set(strays)),
        "count_ready_before": settled,
        "timeout_seconds": options.count_timeout,
    }


# The soak: many clients for a minute, the e-mail worker sending meanwhile as in production.

# wrk runs this long after the soak's window: a request still unanswered by then is slower than
# wrk's timeout, and counted as one.
SOAK_DRAIN_SECONDS = WRK_TIMEOUT_SECONDS


def stored_addresses(database_url: str, prefix: str) -> tuple[set[str], int]:
    """The addresses of the signatures starting with prefix, and how many signing requests of
    such addresses are still unanswered, read straight from the database."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT email FROM petition_signature WHERE starts_with(email, %s)", [prefix]
        ).fetchall()
        (unanswered,) = connection.execute(
            "SELECT count(*) FROM petition_signingrequest WHERE starts_with(email, %s)", [prefix]
        ).fetchone()
    return {email for (email,) in rows}, unanswered


def measure_soak(run: Run) -> None:
    """Many clients sign at once, each time with a new address, while the worker answers the
    signing requests. Once the worker has drained, every signing answered 2xx or 3xx must be a
    recorded signature and no request be left unanswered, no answer may be a 5xx, and each new
    signer must have received exactly one e-mail."""
    clients, seconds = run.options.soak_clients, run.options.soak_duration
    prefix = f"bench-{run.run_id}-soak-"
    mail_log = Path(run.env["BENCH_MAIL_LOG"])
    mail_log.touch()  # its time stamp is read even if no e-mail leaves
    say(f"Soak: {clients} clients sign for {seconds} s, new address each, e-mail worker running")
    started = time.time()
    result = sign_with_wrk(
        run, prefix=prefix, seconds=seconds, connections=clients, drain=SOAK_DRAIN_SECONDS
    )
    data = result.data
    # The last answer, to within wrk's start-up.
    load_end = started + data["window_s"]
    statuses = Counter({"302": data["signed"], **data["other_statuses"]})
    accepted = sum(n for status, n in statuses.items() if status[0] in "23")
    server_errors = sum(n for status, n in statuses.items() if status[0] == "5")
    other = statuses.total() - accepted - server_errors
    socket_errors = {kind: n for kind, n in data["errors"].items() if kind != "status"}
    backlog = broker_backlog()
    drained = wait_until(lambda: broker_backlog() == 0, MAIL_DRAIN_TIMEOUT, interval=0.5)
    # The worker appends to the mail log as each message leaves: its last write is the last one.
    drain_seconds = max(0.0, mail_log.stat().st_mtime - load_end) if drained else None
    # The web requests store signing requests; the worker records the signatures: those are
    # read once it has answered every request.
    stored, unanswered = stored_addresses(run.env["DATABASE_URL"], prefix)
    log = mail_log.read_text().split()
    received = Counter(address for address in log if address.startswith(prefix))
    soak = {
        "clients": clients,
        "seconds": round(data["window_s"], 2),
        "accepted": accepted,
        "signatures_per_second": round(accepted / max(data["window_s"], 1e-3), 1),
        "latency_p50_ms": round(result.latency_ms("p50"), 1),
        "latency_p99_ms": round(result.latency_ms("p99"), 1),
        "latency_max_ms": round(result.latency_ms("max"), 1),
        "statuses": dict(statuses),
        "server_errors": server_errors,
        "other_answers": other,
        "socket_errors": socket_errors,
        "new_rows": len(stored),
        "requests_unanswered": unanswered,
        "mail_backlog_at_end": backlog,
        "mail_drained": drained,
        "mail_drained_after_seconds": None if drain_seconds is None else round(drain_seconds, 1),
        "emails": received.total(),
        "duplicates": sum(n - 1 for n in received.values() if n > 1),
        "missing": len(stored - received.keys()),
    }
    soak["signing_ok"] = (
        soak["new_rows"] == accepted
        and not unanswered
        and not server_errors
        and not other
        and not any(socket_errors.values())
    )
    soak["mail_ok"] = (
        drained
        and soak["emails"] == soak["new_rows"]
        and not soak["duplicates"]
        and not soak["missing"]
    )
    run.results["soak"] = soak
    say(
        f"  {accepted:,} signings accepted in {soak['seconds']:.1f} s by {clients} clients: "
        f"{soak['signatures_per_second']:.1f}/s, p50 {soak['latency_p50_ms']:.0f} ms, "
        f"p99 {soak['latency_p99_ms']:.0f} ms; answers {dict(statuses)}"
    )
    say(
        f"  {soak['new_rows']:,} signatures recorded, {unanswered:,} requests unanswered; "
        f"5xx {server_errors}; other answers {other}; "
        f"socket errors {sum(socket_errors.values())} {socket_errors}"
    )
    say(
        f"  e-mails sent {soak['emails']:,}, duplicates {soak['duplicates']}, missing "
        f"{soak['missing']}; {backlog:,} still queued when wrk stopped; "
        + (
            f"the last e-mail left {drain_seconds:.1f} s after the last answer"
            if drained
            else f"NOT drained after {MAIL_DRAIN_TIMEOUT:g} s"
        )
    )
    say(f"  soak: {'PASS' if soak['signing_ok'] and soak['mail_ok'] else 'FAIL'}")


# Timing: does the time a signing takes tell whether its address signed before?

CHECK_INBOX_PATH = f"/fr/petitions/{SLUG}/verifiez-vos-e-mails/"
RESEND_PATH = f"/fr/petitions/{SLUG}/renvoyer/"
# The two doors that take an address: the signing form, and "send the e-mail again" from the
# page a browser lands on after signing.
TIMING_DOORS = {"sign": "signing", "resend": "send it again"}
# A kind is indistinguishable from a new address if either holds.
TARGET_TIMING_P = 0.01
TARGET_TIMING_MEDIAN_MS = 0.1
# Untimed requests through each door before the timed ones: each gunicorn process and thread
# has then served both, with addresses of no kind in the comparison.
TIMING_WARM_UP = 20
# Resamples of the bootstrap that gives each median difference its 95 % confidence interval.
TIMING_BOOTSTRAP = 2000


@dataclass(frozen=True)
class TimedAnswer:
    nanoseconds: int
    status: int
    length: int


def time_signing(port: int, email: str) -> TimedAnswer:
    """Open the petition's page and send its form as a browser does; the POST's wall time."""
    form = open_form(port, SIGN_PATH)
    fields = {
        "csrfmiddlewaretoken": form.token,
        "first_name": "Camille",
        "last_name": "Martin",
        "email": email,
        "country": "FR",
        "postal_code": "75011",
        "website": "",
    }
    return _time_post(
        port, SIGN_PATH, f"{urlencode(fields)}&{form.signing_fields}", form, referer=SIGN_PATH
    )


def time_resend(port: int, cookie: str) -> TimedAnswer:
    """With the session cookie of a browser that signed, open the "check your inbox" page and
    press its "send the e-mail again"; the POST's wall time."""
    form = open_form(port, CHECK_INBOX_PATH, cookie=cookie)
    body = urlencode({"csrfmiddlewaretoken": form.token})
    return _time_post(port, RESEND_PATH, body, form, referer=CHECK_INBOX_PATH)


def _time_post(port: int, path: str, body: str, form: FormAccess, *, referer: str) -> TimedAnswer:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": form.cookie,
        "Origin": f"http://{HOST}:{port}",
        "Referer": f"http://{HOST}:{port}{referer}",
    }
    encoded = body.encode()
    started = time.perf_counter_ns()
    answer = fetch(port, path, method="POST", body=encoded, headers=headers)
    elapsed = time.perf_counter_ns() - started
    return TimedAnswer(elapsed, answer.status, len(answer.body))


def compare_timings(samples: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
    """Each kind's times against the new addresses': the difference of the medians, with its
    95 % confidence interval (bootstrap: how small a difference the run could have seen), and
    the two-sided Mann-Whitney U test's p-value (could the two samples come from one
    distribution?)."""
    import numpy
    from scipy.stats import mannwhitneyu

    generator = numpy.random.default_rng()

    def resampled_medians(times: list[int]) -> numpy.ndarray:
        values = numpy.asarray(times) / 1e6
        draws = generator.choice(values, size=(TIMING_BOOTSTRAP, len(values)))
        return numpy.median(draws, axis=1)

    baseline = samples["new"]
    baseline_medians = resampled_medians(baseline)
    new_median = statistics.median(baseline) / 1e6
    compared: dict[str, dict[str, Any]] = {}
    for kind, times in samples.items():
        median = statistics.median(times) / 1e6
        quartiles = statistics.quantiles(times, n=4)
        figures: dict[str, Any] = {
            "n": len(times),
            "median_ms": round(median, 4),
            "p25_ms": round(quartiles[0] / 1e6, 4),
            "p75_ms": round(quartiles[2] / 1e6, 4),
        }
        if kind != "new":
            difference = median - new_median
            p_value = float(mannwhitneyu(times, baseline, alternative="two-sided").pvalue)
            low, high = numpy.percentile(resampled_medians(times) - baseline_medians, [2.5, 97.5])
            figures |= {
                "median_difference_ms": round(difference, 4),
                "median_difference_ci95_ms": [round(float(low), 4), round(float(high), 4)],
                "p_value": p_value,
                "indistinguishable": p_value > TARGET_TIMING_P
                or abs(difference) < TARGET_TIMING_MEDIAN_MS,
            }
        compared[kind] = figures
    return compared


def measure_timing(run: Run) -> None:
    """Sign, and ask for the e-mail again, one request at a time, in a shuffled order, with new
    addresses and with addresses of each known kind (pending, confirmed, suspect, unsubscribed,
    suppressed, withdrawn), each time from a fresh browser; compare each kind's wall times
    with the new addresses'.

    The worker is frozen while the requests are timed, unless told otherwise, and answers them
    afterwards: in production it runs on machines of its own, while here it would take the two
    cores from the requests that follow each answer it makes. Running, it doubled the spread
    of the times (interquartile range about 10 ms instead of 4.5 ms, in runs side by side), so
    that only differences of a few milliseconds could show, and made the phase twice as long;
    made to answer each request before the next, it made the phase four times as long. What a
    frozen worker leaves out is only what its own work does to the database and the broker
    meanwhile: --timing-worker running measures that too."""
    options = run.options
    count = options.timing_requests
    prefix = f"bench-{run.run_id}-timing-"
    if not wait_until(lambda: broker_backlog() == 0, MAIL_DRAIN_TIMEOUT, interval=0.5):
        raise BenchError("the worker still had tasks queued before the timing phase")
    say(
        f"Timing: {count} signings and {count} requests to send the e-mail again per kind of "
        f"address, one at a time, shuffled; worker {options.timing_worker}"
    )
    # Every request has an address of its own, known or new, so that each is what a first
    # attempt with such an address costs, and a withdrawn address is not signed again.
    addresses: dict[str, dict[str, list[dict[str, str]]]] = {
        door: site_data(run.env, "known", SLUG, str(count), "--email-prefix", f"{prefix}{door}-")
        for door in TIMING_DOORS
    }
    kinds = list(addresses["sign"])
    with psycopg.connect(run.env["DATABASE_URL"], autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE petition_signature, petition_suppression")
    plan = [
        (door, kind, address)
        for door, by_kind in addresses.items()
        for kind, entries in by_kind.items()
        for address in entries
    ]
    secrets.SystemRandom().shuffle(plan)
    warm_up = site_data(
        run.env,
        "known",
        SLUG,
        "0",
        "--new",
        str(TIMING_WARM_UP),
        "--email-prefix",
        f"{prefix}warm-",
    )
    for address in warm_up["new"]:
        time_signing(run.port, address["email"])
        time_resend(run.port, address["cookie"])
    if options.timing_worker == "frozen":
        wait_until(lambda: broker_backlog() == 0, MAIL_DRAIN_TIMEOUT, interval=0.1)
        run.processes.pause("celery-worker")
    samples: dict[str, dict[str, list[int]]] = {door: {k: [] for k in kinds} for door in addresses}
    answers: dict[str, dict[str, Counter[str]]] = {
        door: {kind: Counter() for kind in kinds} for door in addresses
    }
    started = time.monotonic()
    # The client's own pauses (its garbage collector) would only add noise.
    gc.collect()
    gc.disable()
    try:
        for door, kind, address in plan:
            if door == "sign":
                timed = time_signing(run.port, address["email"])
            else:
                timed = time_resend(run.port, address["cookie"])
            samples[door][kind].append(timed.nanoseconds)
            answers[door][kind][f"{timed.status} {timed.length} bytes"] += 1
    finally:
        gc.enable()
        if options.timing_worker == "frozen":
            run.processes.resume("celery-worker")
    seconds = time.monotonic() - started
    say(f"  {len(plan):,} requests timed in {seconds:.0f} s; waiting for the worker to answer them")
    drained = wait_until(lambda: broker_backlog() == 0, MAIL_DRAIN_TIMEOUT, interval=0.5)
    _, unanswered = stored_addresses(run.env["DATABASE_URL"], prefix)
    kind_of = {
        address["email"]: (door, kind)
        for door, by_kind in addresses.items()
        for kind, entries in by_kind.items()
        for address in entries
    }
    received = Counter(
        kind_of[address]
        for address in Path(run.env["BENCH_MAIL_LOG"]).read_text().split()
        if address in kind_of
    )
    site_data(run.env, "forget", "--email-prefix", prefix)
    timing: dict[str, Any] = {
        "worker": options.timing_worker,
        "requests_per_kind": count,
        "seconds": round(seconds, 1),
        "worker_drained": drained,
        "requests_unanswered": unanswered,
        "doors": {},
    }
    for door, label in TIMING_DOORS.items():
        compared = compare_timings(samples[door])
        for kind, figures in compared.items():
            figures["answers"] = dict(answers[door][kind])
            figures["emails"] = received[door, kind]
        timing["doors"][door] = {
            "kinds": compared,
            # One answer for every kind: the same status and body length.
            "same_answers": len({a for by_kind in answers[door].values() for a in by_kind}) == 1,
            "samples_us": {
                kind: [t // 1000 for t in times] for kind, times in samples[door].items()
            },
        }
        print_table(
            timing_rows(compared),
            (label, "n", "median ms", "Δ vs new ms", "95 % CI", "p", "verdict"),
        )
    say(
        "  e-mails by kind (sign / send again): "
        + ", ".join(f"{kind} {received['sign', kind]}/{received['resend', kind]}" for kind in kinds)
        + f"; {unanswered} requests unanswered"
    )
    run.results["timing"] = timing


def timing_rows(compared: dict[str, dict[str, Any]]) -> list[tuple[str, ...]]:
    rows = []
    for kind, figures in compared.items():
        if kind == "new":
            rows.append((kind, str(figures["n"]), f"{figures['median_ms']:.3f}", "", "", "", ""))
            continue
        low, high = figures["median_difference_ci95_ms"]
        rows.append(
            (
                kind,
                str(figures["n"]),
                f"{figures['median_ms']:.3f}",
                f"{figures['median_difference_ms']:+.3f}",
                f"{low:+.2f} to {high:+.2f}",
                f"{figures['p_value']:.3g}",
                "indistinguishable" if figures["indistinguishable"] else "DISTINGUISHABLE",
            )
        )
    return rows


def timing_summary_rows(timing: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    target = f"p > {TARGET_TIMING_P:g} or |Δ| < {TARGET_TIMING_MEDIAN_MS:g} ms"
    for door, label in TIMING_DOORS.items():
        compared = timing["doors"][door]["kinds"]
        for kind, figures in compared.items():
            if kind == "new":
                continue
            control = " (control)" if kind == "new again" else ""
            rows.append(
                (
                    f"{label} time, {kind} vs new{control} (worker {timing['worker']})",
                    f"Δ median {figures['median_difference_ms']:+.3f} ms of "
                    f"{compared['new']['median_ms']:.2f}, p {figures['p_value']:.3g}, "
                    f"{figures['n']} each",
                    target,
                    verdict(figures["indistinguishable"]),
                )
            )
        answers = {kind: figures["answers"] for kind, figures in compared.items()}
        rows.append(
            (
                f"{label}: the same answer for every kind",
                ", ".join(sorted({a for by_kind in answers.values() for a in by_kind})),
                "one status and length",
                verdict(timing["doors"][door]["same_answers"]),
            )
        )
    return rows


# The staff tools: export and updates to signers.

EXPORT_COLUMNS = (
    "first_name, last_name, email, country, postal_code, language, created_at, confirmed_at, "
    "wants_news, unsubscribed_at, source"
)
SMALL_EXPORT_SLUG = "bench-export-small"
SMALL_EXPORT_ROWS = 10_000
EXPORT_ROUNDS = 3
EXPORT_SAID = re.compile(r" in (\d+\.\d+) s\.")
UPDATE_SLUG = "bench-updates"
TARGET_EXPORT_RATIO = 2.0
TARGET_EXPORT_MEMORY_MB = 20.0
TARGET_DOSSIER_SECONDS = 600.0
TARGET_DOSSIER_MEMORY_MB = 20.0
UPDATE_TIME_LIMIT = 5  # seconds a batch may run: a claim is taken back after twice that
UPDATE_TIMEOUT = 900.0


def staff_data(env: dict[str, str], *args: str) -> Any:
    """Run tests/bench/staff_data.py (Django-side) and read its JSON answer."""
    output = run_command([sys.executable, "-m", "tests.bench.staff_data", *args], env, quiet=True)
    return json.loads(output)


@dataclass(frozen=True)
class Measured:
    seconds: float
    max_rss_mb: float


def run_measured(argv: list[str], env: dict[str, str], log: Path) -> Measured:
    """Run a command; its wall time and the peak memory (resident set) of its process."""
    with log.open("wb") as output:
        started = time.monotonic()
        process = subprocess.Popen(
            argv, cwd=PROJECT_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        # wait4 gives the resources of this child alone (RUSAGE_CHILDREN would mix in the
        # others), ru_maxrss in kilobytes on Linux.
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed ({process.returncode}):\n{log.read_text()}")
    return Measured(seconds, usage.ru_maxrss / 1024)


def copy_floor(database_url: str, slug: str, target: Path) -> dict[str, float]:
    """PostgreSQL's COPY of the same rows and raw columns, written to a file: through psycopg
    in this process, and through psql when it is installed; seconds each."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        petition_id = connection.execute(
            "SELECT id FROM petition_petition WHERE slug = %s", [slug]
        ).fetchone()[0]
        statement = (
            f"COPY (SELECT {EXPORT_COLUMNS} FROM petition_signature "  # noqa: S608 (constants)
            f"WHERE petition_id = {int(petition_id)} AND confirmed_at IS NOT NULL "
            "ORDER BY id) TO STDOUT (FORMAT csv)"
        )
        started = time.monotonic()
        with (
            target.open("wb") as file,
            connection.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for data in copy:
                file.write(data)
        floors = {"psycopg": time.monotonic() - started}
    if shutil.which("psql"):
        with target.open("wb") as file:
            started = time.monotonic()
            subprocess.run(
                ["psql", "--no-psqlrc", "--quiet", database_url, "--command", statement],
                stdout=file,
                check=True,
            )
            floors["psql"] = time.monotonic() - started
    return floors


def measure_log(run: Run) -> None:
    """The public log: every stored signature appended (as on the day the log is switched on
    for a petition that has them all), then inclusion and consistency proofs at that size and
    what the log takes on disk. The site's later phases run with the log caught up, appended
    to by beat as in production."""
    say(f"Public log: appending {run.options.signatures:,} signatures, then proofs")
    figures = site_data(run.env, "log", SLUG)
    run.results["log"] = figures
    say(
        f"  {figures['leaves']:,} leaves in {figures['append_seconds']:.1f} s, "
        f"{figures['bytes_per_leaf']:.1f} bytes a leaf; inclusion proof median "
        f"{figures['inclusion_ms']['median']:.2f} ms, p99 {figures['inclusion_ms']['p99']:.2f} ms"
    )


def measure_export(run: Run) -> None:
    """export_signatures of every confirmed signature, against PostgreSQL's COPY of the same
    columns in the same run, and its peak memory with 10,000 and with all the rows."""
    env = run.env
    count = run.options.signatures
    say(f"Export: {count:,} rows against COPY, memory at {SMALL_EXPORT_ROWS:,} and {count:,}")
    staff_data(env, "petition", SMALL_EXPORT_SLUG)
    manage(env, "fake_signatures", SMALL_EXPORT_SLUG, str(SMALL_EXPORT_ROWS), "--seed", "1")
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE petition_signature")
    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-export-") as scratch:
        directory = Path(scratch)
        exported = directory / "export.csv"

        def export(slug: str) -> Measured:
            argv = [sys.executable, "manage.py", "export_signatures", slug, "--output"]
            return run_measured([*argv, str(exported)], env, run.processes.log_path("export"))

        small = export(SMALL_EXPORT_SLUG)
        for _round in range(EXPORT_ROUNDS):
            floors = copy_floor(env["DATABASE_URL"], SLUG, directory / "copy.csv")
            full = export(SLUG)
            # The command's own account: from its first query to its last byte, without the
            # start of Python and Django.
            said = EXPORT_SAID.search(run.processes.log("export"))
            streaming = float(said[1]) if said else None
            rounds.append(
                {
                    "copy": floors,
                    "export": full.seconds,
                    "export_streaming": streaming,
                    "max_rss_mb": full.max_rss_mb,
                }
            )
            say(
                f"  COPY {' / '.join(f'{k} {v:.2f} s' for k, v in floors.items())}; "
                f"export_signatures {full.seconds:.2f} s ({streaming} s after start-up), "
                f"peak {full.max_rss_mb:.1f} MB"
            )
        size = exported.stat().st_size
        rows = sum(1 for _ in exported.open("rb")) - 1  # lines; no cell holds a line break here
    # Best of as many runs on each side: the export's against one COPY client's, psql where it
    # is installed (a process started for the purpose, as the export's is), else psycopg.
    client = "psql" if all("psql" in r["copy"] for r in rounds) else "psycopg"
    floor = min(r["copy"][client] for r in rounds)
    export_seconds = min(r["export"] for r in rounds)
    big_rss = max(r["max_rss_mb"] for r in rounds)
    run.results["export"] = {
        "rows": count,
        "lines_written": rows,
        "bytes": size,
        "rounds": rounds,
        "copy_client": client,
        "copy_seconds": round(floor, 3),
        "export_seconds": round(export_seconds, 3),
        "export_streaming_seconds": min(
            (r["export_streaming"] for r in rounds if r["export_streaming"]), default=None
        ),
        "ratio_to_copy": round(export_seconds / floor, 3),
        "max_rss_mb_small": round(small.max_rss_mb, 1),
        "max_rss_mb_full": round(big_rss, 1),
        "small_rows": SMALL_EXPORT_ROWS,
        "memory_growth_mb": round(big_rss - small.max_rss_mb, 1),
    }


def measure_dossier(run: Run) -> None:
    """dossier --all: one PDF per député in a ZIP, every confirmed signature given a
    circonscription (spread evenly over the seats), its wall time and peak memory, against one
    département's (Rhône, 14 députés)."""
    env = run.env
    say("Dossier: every signature placed in a circonscription, then a PDF for each député")
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
        connection.execute(
            """
            WITH seats AS (
                SELECT row_number() OVER (ORDER BY departement, circonscription) - 1 AS n,
                       departement, circonscription
                FROM petition_target WHERE role = 'deputy' AND retired_at IS NULL
            ), total AS (SELECT count(*) AS seats FROM seats)
            INSERT INTO petition_chosencirconscription
                (signature_id, departement, number, chosen_at)
            SELECT s.id, seats.departement, seats.circonscription, now()
            FROM petition_signature s CROSS JOIN total
            JOIN seats ON seats.n = s.id % total.seats
            WHERE s.confirmed_at IS NOT NULL
            ON CONFLICT DO NOTHING
            """
        )
        connection.execute("VACUUM ANALYZE petition_chosencirconscription")
    manage(
        env,
        "shell",
        "-c",
        "from petition import figures; from petition.models import Petition; "
        f"figures.compute(Petition.objects.get(slug={SLUG!r}))",
    )
    with tempfile.TemporaryDirectory(prefix="bench-dossier-") as scratch:
        directory = Path(scratch)

        def dossier(name: str, *scope: str) -> tuple[Measured, int, int]:
            path = directory / f"{name}.zip"
            argv = [sys.executable, "manage.py", "dossier", SLUG, *scope, "--output", str(path)]
            measured = run_measured(argv, env, run.processes.log_path(f"dossier-{name}"))
            with zipfile.ZipFile(path) as archive:
                return measured, len(archive.namelist()), path.stat().st_size

        one, one_pdfs, _size = dossier("rhone", "--departement", "69")
        say(f"  Rhône: {one_pdfs} PDFs in {one.seconds:.1f} s, peak {one.max_rss_mb:.1f} MB")
        every, pdfs, size = dossier("all", "--all")
        say(f"  all: {pdfs} PDFs in {every.seconds:.1f} s, peak {every.max_rss_mb:.1f} MB")
    run.results["dossier"] = {
        "signatures": run.options.signatures,
        "pdfs": pdfs,
        "zip_bytes": size,
        "seconds": round(every.seconds, 1),
        "max_rss_mb": round(every.max_rss_mb, 1),
        "departement_pdfs": one_pdfs,
        "departement_seconds": round(one.seconds, 1),
        "departement_max_rss_mb": round(one.max_rss_mb, 1),
        "memory_growth_mb": round(every.max_rss_mb - one.max_rss_mb, 1),
    }


def dossier_summary_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    made = results.get("dossier")
    if not made:
        return []
    return [
        (
            f"dossier for all {made['pdfs']} députés, {made['signatures']:,} signatures",
            f"{made['seconds']:.0f} s ({made['zip_bytes'] / 1e6:.0f} MB ZIP)",
            f"< {TARGET_DOSSIER_SECONDS:g} s",
            verdict(made["seconds"] < TARGET_DOSSIER_SECONDS),
        ),
        (
            f"dossier peak memory, {made['departement_pdfs']} → {made['pdfs']} PDFs",
            f"{made['departement_max_rss_mb']:.1f} → {made['max_rss_mb']:.1f} MB "
            f"({made['memory_growth_mb']:+.1f} MB)",
            f"within {TARGET_DOSSIER_MEMORY_MB:g} MB",
            verdict(abs(made["memory_growth_mb"]) <= TARGET_DOSSIER_MEMORY_MB),
        ),
    ]


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as file:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def _start_update_worker(run: Run, env: dict[str, str]) -> None:
    argv = [sys.executable, "-m", "celery", "-A", "manifesto", "worker", "--loglevel=INFO"]
    argv += ["-Q", "bulk", f"--hostname=bench-updates-{run.run_id}@%h"]
    run.processes.start("update-worker", argv, env)
    run.processes.wait_for_log("update-worker", " ready.")


def _kill_update_worker(run: Run) -> None:
    """SIGKILL to the worker and its pool: no warm shutdown, nothing acknowledged."""
    process = run.processes.running.pop("update-worker")
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _update_times(database_url: str, update_id: int) -> dict[str, datetime | None]:
    """When the update's sending was ordered, its recipients listed, and its sending finished
    (read straight from the database: polling through Django would cost a process each time)."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT queued_at, prepared_at, finished_at FROM petition_update WHERE id = %s",
            [update_id],
        ).fetchone()
    return dict(zip(("queued_at", "prepared_at", "finished_at"), row, strict=True))


def send_update(run: Run, env: dict[str, str], mail_log: Path, *, kill: bool) -> dict[str, Any]:
    """Send an update to every signer of UPDATE_SLUG; with kill, SIGKILL the worker once half
    the messages have left, and start it again once the dead batch's lease is over."""
    total = run.results["updates"]["signers"]
    database_url = env["DATABASE_URL"]
    _start_update_worker(run, env)
    update_id = staff_data(env, "send", UPDATE_SLUG)["id"]
    killed_after = None
    if kill:
        if not wait_until(lambda: _count_lines(mail_log) >= total // 2, UPDATE_TIMEOUT, 0.02):
            raise BenchError("the update did not reach half its signers")
        _kill_update_worker(run)
        killed_after = _count_lines(mail_log)
        say(f"  killed the worker (SIGKILL) after {killed_after:,} messages")
        time.sleep(2 * UPDATE_TIME_LIMIT + 1)
        _start_update_worker(run, env)
        say("  started it again")

    def finished() -> bool:
        run.processes.check_alive("update-worker")
        return _update_times(database_url, update_id)["finished_at"] is not None

    if not wait_until(finished, UPDATE_TIMEOUT, 0.2):
        raise BenchError(f"the update was not sent within {UPDATE_TIMEOUT:g} s")
    run.processes.stop("update-worker")
    times = _update_times(database_url, update_id)
    # From the order (the admin's button) to the last message recorded sent.
    seconds = (times["finished_at"] - times["queued_at"]).total_seconds()
    listing = (times["prepared_at"] - times["queued_at"]).total_seconds()
    state = staff_data(env, "update", str(update_id))
    received = Counter(mail_log.read_text().split())
    uncertain = state.pop("uncertain_addresses")
    messages = sum(received.values())
    outcome = {
        "signers": total,
        "seconds": round(seconds, 2),
        "listing_seconds": round(listing, 2),
        "messages": messages,
        "recipients": len(received),
        "duplicates": sum(n - 1 for n in received.values() if n > 1),
        "messages_per_second": round(messages / seconds, 1),
        "uncertain": len(uncertain),
        "uncertain_received": sum(1 for address in uncertain if address in received),
        "killed_after_messages": killed_after,
        **state,
    }
    say(
        f"  {messages:,} messages to {outcome['recipients']:,} signers in {seconds:.1f} s "
        f"({outcome['messages_per_second']:,.0f}/s; recipients listed in {listing:.1f} s), "
        f"{outcome['duplicates']} duplicates, {outcome['uncertain']} uncertain"
    )
    return outcome


def measure_updates(run: Run) -> None:
    """An update to the signers of a petition through anymail's test backend in a real Celery
    worker: messages per second, then the same with the worker killed once midway."""
    signers = run.options.update_signers
    say(f"Updates: {signers:,} signers, anymail's test backend, a worker on the bulk queue")
    staff_data(run.env, "petition", UPDATE_SLUG)
    manage(run.env, "fake_signatures", UPDATE_SLUG, str(signers), "--seed", "2")
    recipients = staff_data(run.env, "news-for-all", UPDATE_SLUG)["recipients"]
    run.results["updates"] = {"signers": recipients}
    broker = f"{REDIS_URL}/{UPDATE_BROKER_DB}"
    with tempfile.TemporaryDirectory(prefix="bench-mail-") as scratch:
        for kill in (False, True):
            with redis.Redis.from_url(broker) as client:
                client.flushdb()
            mail_log = Path(scratch) / f"mail-{'killed' if kill else 'plain'}.log"
            env = {
                **run.env,
                "CELERY_BROKER_URL": broker,
                "EMAIL_BACKEND": "tests.bench.mail.RecordingBackend",
                "BENCH_MAIL_LOG": str(mail_log),
                "UPDATE_SEND_RATE": "0",
                "UPDATE_BATCH_TIME_LIMIT": str(UPDATE_TIME_LIMIT),
            }
            key = "killed_midway" if kill else "plain"
            run.results["updates"][key] = send_update(run, env, mail_log, kill=kill)
    with redis.Redis.from_url(broker) as client:
        client.flushdb()


def staff_summary_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    exported = results.get("export")
    if exported:
        rows.append(
            (
                f"export of {exported['rows']:,} rows ÷ {exported['copy_client']}'s COPY of the "
                "same columns",
                f"{exported['ratio_to_copy']:.2f} ({exported['export_seconds']:.2f} s ÷ "
                f"{exported['copy_seconds']:.2f} s; {exported['export_streaming_seconds']} s "
                "after start-up)",
                f"≤ {TARGET_EXPORT_RATIO:g}",
                verdict(exported["ratio_to_copy"] <= TARGET_EXPORT_RATIO),
            )
        )
        rows.append(
            (
                f"export peak memory, {exported['small_rows']:,} → {exported['rows']:,} rows",
                f"{exported['max_rss_mb_small']:.1f} → {exported['max_rss_mb_full']:.1f} MB "
                f"({exported['memory_growth_mb']:+.1f} MB)",
                f"within {TARGET_EXPORT_MEMORY_MB:g} MB",
                verdict(abs(exported["memory_growth_mb"]) <= TARGET_EXPORT_MEMORY_MB),
            )
        )
    updates = results.get("updates", {})
    for key, label in (("plain", "update"), ("killed_midway", "update, worker killed midway")):
        outcome = updates.get(key)
        if not outcome:
            continue
        exact = outcome["messages"] == outcome["signers"] == outcome["recipients"]
        rows.append(
            (
                f"{label}, {outcome['signers']:,} signers",
                f"{outcome['messages']:,} messages, {outcome['duplicates']} duplicates, "
                f"{outcome['messages_per_second']:,.0f}/s"
                + (f", {outcome['uncertain']} uncertain" if outcome["uncertain"] else ""),
                f"exactly {outcome['signers']:,}",
                verdict(exact and not outcome["duplicates"]),
            )
        )
    return rows


# Report.


def log_rows(figures: dict[str, Any] | None) -> list[tuple[str, str, str, str]]:
    if not figures:
        return []
    proof = figures["inclusion_ms"]
    agree = (
        figures["count"] == figures["signature_count"] and figures["appended"] == figures["leaves"]
    )
    return [
        (
            f"public log: {figures['leaves']:,} leaves appended",
            f"{figures['append_seconds']:.1f} s; head count {figures['count']:,}, "
            f"counted {figures['signature_count']:,}",
            f"< {TARGET_LOG_APPEND_S:.0f} s, equal",
            verdict(figures["append_seconds"] < TARGET_LOG_APPEND_S and agree),
        ),
        (
            f"public log: inclusion proof at {figures['leaves']:,} leaves",
            f"median {proof['median']:.2f} ms, p99 {proof['p99']:.2f} ms "
            f"({proof['samples']} proofs, database reads included); consistency median "
            f"{figures['consistency_ms']['median']:.2f} ms",
            f"< {TARGET_LOG_PROOF_MS:.0f} ms",
            verdict(proof["median"] < TARGET_LOG_PROOF_MS),
        ),
        (
            "public log: storage a leaf",
            f"{figures['bytes_per_leaf']:.1f} bytes (tiles, with their table and index); "
            f"{figures['entry_bytes_per_leaf']:.1f} bytes of entries (each signature's "
            "receipt hash, lookup key and place in the log), and 33 on each signature",
            f"< {TARGET_LOG_BYTES_PER_LEAF:.0f} bytes",
            verdict(figures["bytes_per_leaf"] < TARGET_LOG_BYTES_PER_LEAF),
        ),
    ]


def verdict(met: bool) -> str:
    return "yes" if met else "NO"


def summary_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = log_rows(results.get("log"))
    pages = results.get("pages")
    if pages:
        for name in PAGES:
            page = pages[name]
            rows.append(
                (
                    f"{name} GET {page['path']}",
                    f"{page['requests_per_second']:.0f} req/s, mean {page['latency_mean_ms']:.1f}"
                    f" ms, p99 {page['latency_p99_ms']:.1f} ms"
                    + (f", {page['errors']} errors" if page["errors"] else ""),
                    "",
                    "",
                )
            )
        ratios = results["ratios"]
        for name, label, target in (
            ("api", "counter API", TARGET_API_RATIO),
            ("home", "home page", TARGET_HOME_RATIO),
            ("bare", "site's bare view (our middleware)", None),
        ):
            ratio = ratios[f"{name}_to_project"]
            by_round = ", ".join(f"{value:.2f}" for value in ratios[f"{name}_to_project_by_round"])
            rows.append(
                (
                    f"{label} ÷ bare project (req/s)",
                    f"{ratio:.2f} (rounds {by_round}; server CPU/request "
                    f"{ratios[f'{name}_to_project_by_cpu']:.2f})",
                    "" if target is None else f"≥ {target}",
                    "" if target is None else verdict(ratio >= target),
                )
            )
    signing = results.get("signing")
    if signing:
        rate = signing["signatures_per_second"]
        rows.append(
            (
                f"signing, {signing['rows_before']:,} rows stored",
                f"{rate:.0f} signatures/s over {signing['seconds']:.0f} s",
                f"≥ {TARGET_SIGNING_RATE:.0f}/s",
                verdict(rate >= TARGET_SIGNING_RATE),
            )
        )
        p99 = signing["latency_p99_ms"]
        rows.append(
            (
                "signing latency p99",
                f"{p99:.0f} ms (mean {signing['latency_mean_ms']:.0f} ms)",
                f"< {TARGET_SIGNING_P99_MS:.0f} ms",
                verdict(p99 < TARGET_SIGNING_P99_MS),
            )
        )
        others = signing["other_answers"]
        rows.append(
            (
                "signing requests stored = 302 answers",
                f"{signing['new_rows']:,} requests, {signing['redirects']:,} redirects"
                + (f", {others} other answers {signing['other_statuses']}" if others else ""),
                "equal, no other answer",
                verdict(signing["rows_match_redirects"] and not others),
            )
        )
        recorded = signing["signatures_recorded"]
        rows.append(
            (
                "signatures recorded, confirmations sent",
                f"{recorded:,} and {signing['confirmation_emails_sent']:,} of "
                f"{signing['new_rows']:,}, queue empty"
                f" {signing['mail_drained_after_seconds']:.0f} s after signing"
                + ("" if signing["mail_drained"] else " (NOT drained)")
                + (
                    f", {signing['requests_unanswered']:,} unanswered"
                    if signing["requests_unanswered"]
                    else ""
                ),
                "all",
                verdict(
                    signing["mail_drained"]
                    and recorded == signing["confirmation_emails_sent"] == signing["new_rows"]
                    and not signing["requests_unanswered"]
                ),
            )
        )
    confirmation = results.get("confirmation")
    if confirmation:
        delay = confirmation["count_delay_seconds"]
        count = confirmation["confirmations"]
        figure = (
            f"missed: {confirmation['count_seen_last']:,} ≠ {confirmation['expected_count']:,}"
            f" after {confirmation['timeout_seconds']:g} s"
            if delay is None
            else f"{delay:.2f} s, " + ("exact" if confirmation["count_exact"] else "NOT exact")
        )
        failed = count - confirmation["post_statuses"].get("200", 0)
        if failed:
            figure += f"; {failed:,} confirmations failed {confirmation['post_statuses']}"
        if confirmation["reads_off_after_an_exact_one"]:
            figure += f"; went back to {confirmation['reads_off_after_an_exact_one'][:3]}"
        if not confirmation["count_ready_before"]:
            figure += f"; counter was not at {confirmation['confirmed_before']:,} before"
        rows.append(
            (
                f"count after the last of {count:,} confirmations",
                figure,
                f"exact within {TARGET_COUNT_DELAY_S:g} s",
                verdict(
                    delay is not None
                    and delay <= TARGET_COUNT_DELAY_S
                    and confirmation["count_exact"]
                ),
            )
        )
    soak = results.get("soak")
    if soak:
        errors = sum(soak["socket_errors"].values())
        drained = (
            f"last sent {soak['mail_drained_after_seconds']:.0f} s after the last answer"
            if soak["mail_drained"]
            else "NOT drained"
        )
        rows += [
            (
                f"soak, {soak['clients']} clients for {soak['seconds']:.0f} s",
                f"{soak['accepted']:,} signatures, {soak['signatures_per_second']:.0f}/s, "
                f"p50 {soak['latency_p50_ms']:.0f} ms, p99 {soak['latency_p99_ms']:.0f} ms",
                "",
                "",
            ),
            (
                "soak: signatures recorded = 2xx/3xx answers",
                f"{soak['new_rows']:,} signatures, {soak['accepted']:,} answers; "
                + (
                    f"{soak['requests_unanswered']:,} requests unanswered; "
                    if soak.get("requests_unanswered")
                    else ""
                )
                + f"{soak['server_errors']} 5xx, {soak['other_answers']} other, {errors} errors",
                "equal, no 5xx or error",
                verdict(soak["signing_ok"]),
            ),
            (
                "soak: confirmation e-mails",
                f"{soak['emails']:,} for {soak['new_rows']:,} rows, {soak['duplicates']} "
                f"duplicates, {soak['missing']} missing, {drained}",
                "one each",
                verdict(soak["mail_ok"]),
            ),
        ]
    timing = results.get("timing")
    if timing:
        rows += timing_summary_rows(timing)
    rows += staff_summary_rows(results)
    rows += dossier_summary_rows(results)
    if "logged_errors" in results:
        logged = results["logged_errors"]
        rows.append(
            (
                "errors logged by the servers and Celery",
                ", ".join(f"{name}: {found['lines']}" for name, found in logged.items()) or "0",
                "0",
                verdict(not logged),
            )
        )
    return rows


CPU_COLUMNS = ("server", "postgres", "celery", "wrk", "rest", "busy")


def cpu_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    """CPU milliseconds per request: the site's processes, wrk, the rest, the whole machine."""
    measured = {name: page["cpu_ms_per_request"] for name, page in results.get("pages", {}).items()}
    if "signing" in results:
        measured["signing"] = results["signing"]["cpu_ms_per_request"]
    return [
        (name, *(f"{cpu[column]:.2f}" for column in CPU_COLUMNS)) for name, cpu in measured.items()
    ]


def print_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * width for width in widths)
    print(line)
    print("  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)))
    print(line)
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(line, flush=True)


def git_revision() -> str:
    result = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


# Main.


def bench(options: Options, results: dict[str, Any]) -> None:
    """Run every phase, filling results as they come; stop everything whatever happens."""
    if {"servers", "pages", "signing", "soak"} & set(options.only):
        ensure_wrk()
    uses_redis = bool(REDIS_PHASES & set(options.only))
    require_services(redis_too=uses_redis)
    run_id = secrets.token_hex(4)
    log_dir = RESULTS_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    for old_log in log_dir.glob("*.log"):
        old_log.unlink()
    port = free_port()
    started = time.monotonic()
    processes = Processes(log_dir)
    say(f"Run {run_id}; logs in {log_dir.relative_to(PROJECT_DIR)}/")
    results["load_average_at_start"] = [round(load, 2) for load in os.getloadavg()]
    if os.getloadavg()[0] > BUSY_LOAD_AVERAGE:
        say(
            f"WARNING: the load average is {os.getloadavg()[0]:.1f} before anything started: "
            "other processes share the CPU, so the figures will be low and noisy"
        )
    bare_dir = tempfile.mkdtemp(prefix="bench-bare-project-")
    try:
        if uses_redis:
            flush_redis()
        database_url = reset_database()
        env = site_environment(
            port=port,
            database_url=database_url,
            secret_key=secrets.token_urlsafe(50),
            mail_log=log_dir / "mail.log",
        )
        run = Run(options, processes, run_id, port, env, results, bare_port=free_port())
        prepare_database(run)
        if "log" in options.only:
            measure_log(run)
        if SITE_PHASES & set(options.only):
            run.bare_env = make_bare_project(Path(bare_dir))
            start_celery_worker(run)
        if "servers" in options.only:
            measure_servers(run)
        if (SITE_PHASES - {"servers"}) & set(options.only):
            start_site(run, SERVERS[options.server])
        if "pages" in options.only:
            measure_pages(run)
        if "signing" in options.only:
            measure_signing(run)
        if "confirmations" in options.only:
            with tempfile.TemporaryDirectory(prefix="bench-beat-") as schedule_dir:
                measure_confirmations(run, Path(schedule_dir))
                # Beat writes its schedule there until it stops.
                processes.stop("celery-beat")
        if "soak" in options.only:
            measure_soak(run)
        if "timing" in options.only:
            measure_timing(run)
        processes.stop_all()
        if "export" in options.only:
            measure_export(run)
        if "updates" in options.only:
            measure_updates(run)
        if "dossier" in options.only:
            measure_dossier(run)
    finally:
        processes.stop_all()
        shutil.rmtree(bare_dir, ignore_errors=True)
        results["logged_errors"] = processes.logged_errors()
        if uses_redis:
            flush_redis()
        if options.keep_db:
            say(f"Kept the database {DATABASE}")
        else:
            drop_database()
        results["total_seconds"] = round(time.monotonic() - started, 1)


def main(argv: Sequence[str]) -> int:
    options = parse_options(argv)
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "revision": git_revision(),
        "cpus": os.cpu_count(),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(options).items()},
        "setup_seconds": {},
    }
    failure = None
    try:
        bench(options, results)
    except BenchError as error:
        failure = str(error)
        results["error"] = failure
    rows = summary_rows(results)
    results["summary"] = [
        {"what": what, "figure": figure, "target": target, "met": met == "yes"}
        for what, figure, target, met in rows
        if target
    ]
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print()
    if rows:
        print_table(rows, ("what", "figure", "target", "met"))
    if servers := server_rows(results):
        print("Servers: the same work under each, ratios to a bare project under the same server")
        print_table(servers, SERVER_COLUMNS)
    if cpu := cpu_rows(results):
        print("CPU milliseconds per request (rest: every other process on the machine; busy: all)")
        print_table(cpu, ("load", *CPU_COLUMNS))
    for name, found in results.get("logged_errors", {}).items():
        print(f"{name} logged {found['lines']} error lines, first: {found['first'][0][:200]}")
    total = results.get("total_seconds")
    if total is not None:
        print(f"Total time: {total:.0f} s with {options.signatures:,} signatures stored.")
    print(f"Results written to {options.output}")
    if failure:
        print(f"bench: {failure}", file=sys.stderr)
        return 1
    return 0 if all(row["met"] for row in results["summary"]) else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
