"""A surge of signings through the cluster's load balancer while its machines fail
(`make cluster-test`, against `deploy/cluster up`): web1, then worker1, then the active beat are
killed, the database fails over to its standby, the dead nodes come back, and a worker is cut
off the network and back. Nothing acknowledged is lost, every signer gets one e-mail, and the
count is exact."""

from __future__ import annotations

import email
import email.policy
import http.client
import itertools
import json
import os
import re
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from tests.conftest import IN_CI, MANIFESTO_SLUG

pytestmark = pytest.mark.cluster

PROJECT = Path(__file__).resolve().parents[2]
CLUSTER = PROJECT / "deploy" / "cluster"
CLUSTER_DIR = Path(os.environ.get("CLUSTER_DIR", "/tmp/petition-cluster"))  # noqa: S108
# The test's clients sign from addresses of their own on the bridge, as many people would: few
# signings each, under the fraud rules' threshold (SUSPECT_AFTER_PER_ADDRESS_PER_HOUR).
CLIENT_ADDRESSES = [f"10.231.77.{host}" for host in range(100, 250)]
CLIENTS = 24
SURGE_SECONDS = 80
# When each fault happens, in seconds from the start of the surge.
FAULTS = [
    (6, "kill", "web1"),
    (12, "kill", "worker1"),
    (18, "kill", "beat"),
    (26, "failover", ""),
    (34, "start", "web1"),
    (35, "start", "worker1"),
    (36, "start", "beat"),
    (40, "partition", "worker2"),
    (48, "heal", "worker2"),
]
HEALED_AFTER = 30
SIGN_PATH = f"/fr/petitions/{MANIFESTO_SLUG}/"
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/(?:fr|en)/(?:confirmer|confirm)/[^/\s]+/)")


def cluster(*argv: str) -> dict:
    result = subprocess.run([str(CLUSTER), *argv], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def layout() -> dict:
    if not (CLUSTER_DIR / "cluster.json").exists():
        message = "no cluster is up: deploy/cluster up"
        if IN_CI or os.environ.get("CLUSTER_TEST"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    found = cluster("status")
    assert found["primary"] == "db1", "the test fails the database over: give it a new cluster"
    return found


@pytest.fixture(scope="module")
def client_addresses(layout) -> Iterator[list[str]]:
    for address in CLIENT_ADDRESSES:
        subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "petbr0"], check=False)
    yield CLIENT_ADDRESSES
    for address in CLIENT_ADDRESSES:
        subprocess.run(["ip", "addr", "del", f"{address}/32", "dev", "petbr0"], check=False)


class Browser:
    """One person's browser, from one address: cookies kept, one connection a request."""

    def __init__(self, host: str, port: int, source: str) -> None:
        self.host, self.port, self.source = host, port, source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=15, source_address=(self.source, 0)
        )
        headers = {"Host": self.host, "Referer": f"http://{self.host}:{self.port}{path}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return response.status, text
        finally:
            connection.close()

    def form(self, path: str) -> dict[str, str]:
        status, page = self.request("GET", path)
        assert status == 200, status
        return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


@dataclass
class Surge:
    started: float = field(default_factory=time.monotonic)
    # (seconds from the start, address, status or 0 for no answer)
    signings: list[tuple[float, str, int]] = field(default_factory=list)
    confirmed: dict[str, float] = field(default_factory=dict)
    faults: list[tuple[float, str, str]] = field(default_factory=list)
    takeover_seconds: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    sources: Iterator[str] = field(default_factory=lambda: itertools.cycle(CLIENT_ADDRESSES))

    def at(self) -> float:
        return time.monotonic() - self.started

    def next_source(self) -> str:
        with self.lock:
            return next(self.sources)


def sign_repeatedly(surge: Surge, lb: tuple[str, int], number: int) -> None:
    counter = itertools.count()
    while surge.at() < SURGE_SECONDS:
        browser = Browser(*lb, surge.next_source())
        try:
            fields = browser.form(SIGN_PATH)
        except (OSError, AssertionError, http.client.HTTPException):
            time.sleep(0.5)
            continue
        # Read, then filled in: the fraud rules want a few seconds.
        time.sleep(3.2)
        for _ in range(3):
            if surge.at() >= SURGE_SECONDS:
                return
            address = f"surge.{number}.{next(counter)}@example.org"
            form = {
                **fields,
                "first_name": "Camille",
                "last_name": "Martin",
                "email": address,
                "country": "FR",
                "postal_code": "69007",
                "consent": "on",
                "website": "",
            }
            try:
                status, _page = browser.request("POST", SIGN_PATH, form)
            except (OSError, http.client.HTTPException):
                status = 0
            with surge.lock:
                surge.signings.append((surge.at(), address, status))
            time.sleep(0.5)


def confirm_as_mail_arrives(
    surge: Surge, lb: tuple[str, int], maildir: Path, until: threading.Event
) -> None:
    seen: set[str] = set()
    while not until.is_set():
        for path in sorted(maildir.glob("*.eml")):
            if path.name in seen:
                continue
            seen.add(path.name)
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            text = message.get_body(preferencelist=("plain",)).get_content()
            link = CONFIRM_LINK.search(text)
            if link is None:
                continue
            browser = Browser(*lb, surge.next_source())
            for _attempt in range(20):
                try:
                    fields = browser.form(link.group(1))
                    status, _page = browser.request("POST", link.group(1), fields)
                except (OSError, AssertionError, http.client.HTTPException):
                    status = 0
                if status == 200:
                    surge.confirmed[message["To"]] = time.monotonic()
                    break
                time.sleep(1)
        time.sleep(0.3)


def make_faults(surge: Surge) -> None:
    killed_beat = ""
    for when, command, node in FAULTS:
        time.sleep(max(0.0, when - surge.at()))
        if node == "beat":
            nodes = cluster("status")["nodes"]
            if command == "kill":
                killed_beat = next(name for name in ("beat1", "beat2") if nodes[name]["active"])
            node = killed_beat
        surge.faults.append((surge.at(), command, node))
        cluster(command, *([node] if node else []))
        if command == "kill" and node.startswith("beat"):
            killed = time.monotonic()
            other = "beat2" if node == "beat1" else "beat1"
            while time.monotonic() - killed < 30:
                if cluster("status")["nodes"][other]["active"]:
                    surge.takeover_seconds = time.monotonic() - killed
                    break
                time.sleep(0.5)


def primary_database(layout: dict) -> str:
    primary = cluster("status")["primary"]
    return f"postgresql://postgres@{layout['nodes'][primary]['address']}:5432/petition"


def counter(lb: tuple[str, int]) -> int:
    connection = http.client.HTTPConnection(*lb, timeout=5)
    connection.request("GET", f"/api/petitions/{MANIFESTO_SLUG}/", headers={"Host": lb[0]})
    count = json.loads(connection.getresponse().read())["signature_count"]
    connection.close()
    return count


def test_a_surge_loses_nothing_while_machines_fail(layout, client_addresses):
    lb_address = layout["nodes"]["lb"]["address"]
    lb = (lb_address, 8080)
    maildir = CLUSTER_DIR / "maildir"
    surge = Surge()
    confirming = threading.Event()
    threads = [
        threading.Thread(target=sign_repeatedly, args=(surge, lb, n)) for n in range(CLIENTS)
    ]
    threads += [
        threading.Thread(target=make_faults, args=(surge,)),
        threading.Thread(target=confirm_as_mail_arrives, args=(surge, lb, maildir, confirming)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads[:-1]:
        thread.join()

    acknowledged = {address for _at, address, status in surge.signings if status == 302}
    # Every acknowledged signer gets an e-mail, once the workers have caught up; each confirms.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not acknowledged <= set(surge.confirmed):
        time.sleep(1)
    confirming.set()
    threads[-1].join()
    last_confirmation = max(surge.confirmed.values())

    with psycopg.connect(primary_database(layout)) as connection:
        stored = {
            row[0]
            for row in connection.execute(
                "SELECT email FROM petition_signature WHERE email LIKE 'surge.%%'"
            )
        }
        (confirmed,) = connection.execute(
            "SELECT count(*) FROM petition_signature WHERE confirmed_at IS NOT NULL"
        ).fetchone()
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged signings lost"

    recipients: dict[str, int] = {}
    for path in maildir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        recipients[message["To"]] = recipients.get(message["To"], 0) + 1
    twice = {address: n for address, n in recipients.items() if n > 1}
    assert not twice, f"e-mailed more than once: {twice}"
    assert acknowledged <= set(recipients), f"no e-mail: {len(acknowledged - set(recipients))}"

    # The count catches up with the confirmations within 5 s of the last one.
    while time.monotonic() - last_confirmation < 5 and counter(lb) != confirmed:
        time.sleep(0.2)
    assert counter(lb) == confirmed == len(surge.confirmed)

    failed = [(at, status) for at, _address, status in surge.signings if status != 302]
    assert len(failed) < 0.02 * len(surge.signings), (len(failed), len(surge.signings), failed)
    last_fault = max(at for at, _command, _node in surge.faults)
    assert not [at for at, _status in failed if at > last_fault + HEALED_AFTER]
    assert surge.takeover_seconds is not None
    assert surge.takeover_seconds < 15
    print(
        json.dumps(
            {
                "signings": len(surge.signings),
                "acknowledged": len(acknowledged),
                "failed": len(failed),
                "confirmed": confirmed,
                "beat_takeover_s": round(surge.takeover_seconds, 1),
                "faults": surge.faults,
            }
        )
    )
