from __future__ import annotations

import os
import subprocess
import urllib.request
from collections.abc import Iterator

import pytest

from tests.cluster.machines import CLIENT_ADDRESSES, CLUSTER_DIR, cluster
from tests.conftest import IN_CI


@pytest.fixture
def layout() -> dict:
    """The cluster of `deploy/cluster up`, whole: its primary has a standby."""
    if not (CLUSTER_DIR / "cluster.json").exists():
        message = "no cluster is up: deploy/cluster up"
        if IN_CI or os.environ.get("CLUSTER_TEST"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    found = cluster("status")
    down = [node for node, entry in found["nodes"].items() if entry["state"] != "up"]
    assert not down, f"down: {down}"
    assert found["standby"], "the primary has no standby"
    for web in ("web1", "web2"):
        # A node whose namespace still runs PgBouncer may have lost its server.
        url = f"http://{found['nodes'][web]['address']}:8000/healthz"
        with urllib.request.urlopen(url, timeout=5) as answer:
            assert answer.status == 200, f"{web} does not answer"
    return found


@pytest.fixture(scope="session")
def client_addresses() -> Iterator[list[str]]:
    for address in CLIENT_ADDRESSES:
        subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "petbr0"], check=False)
    yield CLIENT_ADDRESSES
    for address in CLIENT_ADDRESSES:
        subprocess.run(["ip", "addr", "del", f"{address}/32", "dev", "petbr0"], check=False)
