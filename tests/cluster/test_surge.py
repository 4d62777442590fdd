"""A surge of signings through the cluster's load balancer while its machines fail
(`make cluster-test`, against `deploy/cluster up`): web1, then worker1, then the active beat are
killed, the database fails over to its standby, the dead nodes come back (the old primary as the
new one's standby), and a worker is cut off the network and back. Nothing acknowledged is lost,
every signer gets one e-mail, and the count is exact. It prints how long each fault disturbed
the signings and the e-mails (the README's figures)."""

from __future__ import annotations

import http.client
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg
import pytest

from tests.cluster.machines import (
    CLIENT_ADDRESSES,
    CLUSTER_DIR,
    MAILDIR,
    READING_SECONDS,
    SIGN_PATH,
    Browser,
    cluster,
    primary_database,
    read,
    signing,
)
from tests.conftest import MANIFESTO_SLUG

pytestmark = pytest.mark.cluster

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
    (37, "start", "old primary"),
    (40, "partition", "worker2"),
    (48, "heal", "worker2"),
]
HEALED_AFTER = 30
LB_LOG = CLUSTER_DIR / "lb" / "process-0.log"
# A signing slower than this counts as disturbed by the fault before it.
SLOW_SECONDS = 2.0
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/(?:fr|en)/(?:confirmer|confirm)/[^/\s]+/)")


@dataclass
class Signing:
    started: float
    finished: float
    address: str
    status: int  # 0: no answer


@dataclass
class Surge:
    started: float = field(default_factory=time.monotonic)
    started_wall: float = field(default_factory=time.time)
    signings: list[Signing] = field(default_factory=list)
    confirmed: dict[str, float] = field(default_factory=dict)
    faults: list[tuple[float, str, str]] = field(default_factory=list)
    takeover_seconds: float | None = None
    command_seconds: list[float] = field(default_factory=list)
    balanced_seconds: dict[tuple[str, str], float | None] = field(default_factory=dict)
    failed_over_from: str = ""
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
        time.sleep(READING_SECONDS)
        for _ in range(3):
            if surge.at() >= SURGE_SECONDS:
                return
            address = f"surge.{number}.{next(counter)}@example.org"
            started = surge.at()
            try:
                status, _page = browser.request("POST", SIGN_PATH, signing(fields, address))
            except (OSError, http.client.HTTPException):
                status = 0
            with surge.lock:
                surge.signings.append(Signing(started, surge.at(), address, status))
            time.sleep(0.5)


def confirm_as_mail_arrives(surge: Surge, lb: tuple[str, int], until: threading.Event) -> None:
    seen: set[str] = set()
    while not until.is_set():
        for path in sorted(MAILDIR.glob("*.eml")):
            if path.name in seen:
                continue
            seen.add(path.name)
            message = read(path)
            link = CONFIRM_LINK.search(message.get_body(preferencelist=("plain",)).get_content())
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
        elif command == "failover":
            surge.failed_over_from = cluster("status")["primary"]
        elif node == "old primary":
            node = surge.failed_over_from
        surge.faults.append((surge.at(), command, node))
        started = time.monotonic()
        cluster(command, *([node] if node else []))
        surge.command_seconds.append(time.monotonic() - started)
        if node.startswith("web"):
            # HAProxy says when it takes a node out, and when it puts it back; from the moment
            # the node's last process is gone, or its server process started.
            said = f"Server web/{node} is {'DOWN' if command == 'kill' else 'UP'}"
            surge.balanced_seconds[node, command] = seconds_until(
                lambda said=said: said in LB_LOG.read_text(), time.monotonic()
            )
        if command == "kill" and node.startswith("beat"):
            other = "beat2" if node == "beat1" else "beat1"
            surge.takeover_seconds = seconds_until(
                lambda other=other: cluster("status")["nodes"][other]["active"], started
            )


def seconds_until(condition: Callable[[], bool], since: float, limit: float = 30) -> float | None:
    while time.monotonic() - since < limit:
        if condition():
            return time.monotonic() - since
        time.sleep(0.1)
    return None


def counter(lb: tuple[str, int]) -> int:
    connection = http.client.HTTPConnection(*lb, timeout=5)
    connection.request("GET", f"/api/petitions/{MANIFESTO_SLUG}/", headers={"Host": lb[0]})
    count = json.loads(connection.getresponse().read())["signature_count"]
    connection.close()
    return count


def disturbances(surge: Surge, arrivals: dict[str, float]) -> list[dict]:
    """For each fault, until when after it signings failed or were slow, and the longest wait
    for an e-mail among the signings acknowledged before the next fault."""
    bounds = [at for at, _command, _node in surge.faults] + [float(SURGE_SECONDS)]
    found = []
    for number, ((at, command, node), until) in enumerate(
        zip(surge.faults, bounds[1:], strict=True)
    ):
        during = [s for s in surge.signings if at <= s.started < until]
        disturbed = [
            s.finished - at
            for s in during
            if s.status != 302 or s.finished - s.started > SLOW_SECONDS
        ]
        waits = [arrivals[s.address] - s.finished for s in during if s.address in arrivals]
        found.append(
            {
                "fault": f"{command} {node}".strip(),
                "at_s": round(at, 1),
                "command_s": round(surge.command_seconds[number], 1),
                "signings": len(during),
                "failed": sum(s.status != 302 for s in during),
                "disturbed_for_s": round(max(disturbed, default=0.0), 1),
                "slowest_signing_s": round(max(s.finished - s.started for s in during), 1)
                if during
                else None,
                "longest_mail_wait_s": round(max(waits, default=0.0), 1),
            }
        )
        balanced = surge.balanced_seconds.get((node, command))
        if balanced is not None:
            found[-1]["load_balancer_s"] = round(balanced, 1)
    return found


def test_a_surge_loses_nothing_while_machines_fail(layout, client_addresses):
    lb = (layout["nodes"]["lb"]["address"], 8080)
    surge = Surge()
    confirming = threading.Event()
    threads = [
        threading.Thread(target=sign_repeatedly, args=(surge, lb, n)) for n in range(CLIENTS)
    ]
    threads += [
        threading.Thread(target=make_faults, args=(surge,)),
        threading.Thread(target=confirm_as_mail_arrives, args=(surge, lb, confirming)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads[:-1]:
        thread.join()

    acknowledged = {s.address for s in surge.signings if s.status == 302}
    # Every acknowledged signer gets an e-mail, once the workers have caught up; each confirms.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not acknowledged <= set(surge.confirmed):
        time.sleep(1)
    confirming.set()
    threads[-1].join()
    last_confirmation = max(surge.confirmed.values())

    with psycopg.connect(primary_database()) as connection:
        stored = {
            row[0]
            for row in connection.execute(
                "SELECT email FROM petition_signature WHERE email LIKE 'surge.%%'"
            )
        }
        confirmed = {
            row[0]
            for row in connection.execute(
                "SELECT email FROM petition_signature WHERE confirmed_at IS NOT NULL"
            )
        }
        standbys = connection.execute(
            "SELECT application_name, sync_state FROM pg_stat_replication"
        ).fetchall()
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged signings lost"
    # The old primary came back as the new one's standby, which waits for it again.
    assert standbys == [(surge.failed_over_from, "sync")]

    recipients: dict[str, int] = {}
    arrivals: dict[str, float] = {}
    for path in sorted(MAILDIR.glob("*.eml")):
        to = read(path)["To"]
        recipients[to] = recipients.get(to, 0) + 1
        # The mail node names each file after the moment it took the message.
        arrivals.setdefault(to, int(path.name.split("-")[0]) / 1e9 - surge.started_wall)
    twice = {address: n for address, n in recipients.items() if n > 1}
    assert not twice, f"e-mailed more than once: {twice}"
    assert acknowledged <= set(recipients), f"no e-mail: {len(acknowledged - set(recipients))}"

    # The count catches up with the confirmations within 5 s of the last one. (A confirmation
    # whose answer was lost with a dying node may be stored without the test knowing.)
    assert set(surge.confirmed) <= confirmed
    while time.monotonic() - last_confirmation < 5 and counter(lb) != len(confirmed):
        time.sleep(0.2)
    assert counter(lb) == len(confirmed)

    failed = [s for s in surge.signings if s.status != 302]
    assert len(failed) < 0.02 * len(surge.signings), (len(failed), len(surge.signings), failed)
    last_fault = max(at for at, _command, _node in surge.faults)
    assert not [s for s in failed if s.started > last_fault + HEALED_AFTER]
    assert surge.takeover_seconds is not None
    assert surge.takeover_seconds < 15
    # HAProxy took the dead web node out within 2 s, and put it back once it answered.
    out = surge.balanced_seconds["web1", "kill"]
    assert out is not None
    assert out < 2
    assert surge.balanced_seconds["web1", "start"] is not None
    print(
        json.dumps(
            {
                "signings": len(surge.signings),
                "acknowledged": len(acknowledged),
                "failed": len(failed),
                "confirmed": len(confirmed),
                "beat_takeover_s": round(surge.takeover_seconds, 1),
                "faults": disturbances(surge, arrivals),
            },
            indent=1,
        )
    )
