"""A worker cut off the network while it holds a signing's e-mail: another worker sends the
e-mail once the hold has lapsed, and the first one, back on the network, sends it no second
time (`make cluster-test`). The hold outlasts Celery's time limit (manifesto.checks), so the
first worker's attempt ended before anyone else's began."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from tests.cluster.machines import (
    CLUSTER_DIR,
    Browser,
    cluster,
    mail_to,
    primary_database,
    sign,
    site_settings,
)
from tests.integration.waiting import wait_until

pytestmark = pytest.mark.cluster


def holder(address: str) -> str | None:
    with psycopg.connect(primary_database()) as connection:
        row = connection.execute(
            "SELECT held_by FROM petition_signingrequest WHERE email = %s", [address]
        ).fetchone()
    return row[0] if row else None


def test_a_partitioned_worker_does_not_send_again_what_another_sent(layout, client_addresses):
    settings = site_settings()
    claim = int(settings.get("CONFIRMATION_CLAIM_SECONDS", 300))
    backoff = int(settings.get("MAIL_RETRY_BACKOFF", 5))
    sweep = int(settings.get("CONFIRMATION_SWEEP_EVERY_SECONDS", 60))
    sweep += int(settings.get("CONFIRMATION_SWEEP_AFTER_SECONDS", 120))
    lb = (layout["nodes"]["lb"]["address"], 8080)
    nodes = layout["nodes"]
    first, second = (
        f"cut.{uuid.uuid4().hex[:8]}@example.org",
        f"back.{uuid.uuid4().hex[:8]}@example.org",
    )

    # worker2 alone answers the signing, and cannot reach the mail server: it holds the e-mail.
    cluster("kill", "worker1")
    cluster("partition", "mail")
    try:
        assert sign(Browser(*lb, client_addresses[0]), first) == 302
        held_by = wait_until(
            lambda: holder(first), timeout=30, what="worker2 to take the signing", interval=0.2
        )
        cluster("partition", "worker2")
    finally:
        cluster("heal", "mail")
    cut_off = time.monotonic()

    # worker1 comes back; once worker2's hold has lapsed, the sweep gives the e-mail to worker1.
    cluster("start", "worker1")
    [message] = wait_until(
        lambda: mail_to(first),
        timeout=claim + 2 * backoff + sweep + 60,
        what="the e-mail to leave",
        interval=0.2,
    )
    assert message["X-Peer"] == nodes["worker1"]["address"]
    assert time.monotonic() - cut_off > 0.8 * claim, "sent before worker2's hold lapsed"
    assert holder(first) is None

    # worker2 comes back and works again (it alone answers the next signing), and does not send
    # the first e-mail a second time.
    cluster("kill", "worker1")
    cluster("heal", "worker2")
    try:
        assert sign(Browser(*lb, client_addresses[1]), second) == 302
        [answered] = wait_until(
            lambda: mail_to(second), timeout=60, what="worker2 to come back", interval=0.2
        )
        assert answered["X-Peer"] == nodes["worker2"]["address"]
        time.sleep(2 * backoff + 5)
        assert len(mail_to(first)) == 1
    finally:
        cluster("start", "worker1")
    log = (CLUSTER_DIR / "worker2" / "process-1.log").read_text()
    assert f"answer_signing[{held_by}] received" in log
