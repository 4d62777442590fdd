"""`deploy/cluster` refuses what it cannot do with a message and a non-zero exit, and leaves the
cluster as it was (`make cluster-test`). `down` with nothing up is checked by `make
cluster-drill`, after its own `down`."""

from __future__ import annotations

import subprocess

import pytest

from tests.cluster.machines import CLUSTER, cluster

pytestmark = pytest.mark.cluster


def refused(*argv: str) -> str:
    result = subprocess.run([str(CLUSTER), *argv], capture_output=True, text=True, check=False)
    assert result.returncode == 1, result
    assert result.stdout == ""
    return result.stderr


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["kill", "web3"], "kill takes one node among: lb, web1, web2, db1, db2, redis"),
        (["start"], "start takes one node among:"),
        (["partition", "web1", "web2"], "partition takes one node among:"),
        (["status", "now"], "status takes no argument"),
        (["reboot", "web1"], "unknown command 'reboot'"),
        (["up"], "a cluster is already up: deploy/cluster down first"),
        (["start", "web1"], "web1 is already running"),
    ],
)
def test_bad_input_gets_a_message_and_changes_nothing(layout, argv, said):
    assert said in refused(*argv)

    after = cluster("status")
    assert (after["primary"], after["standby"]) == (layout["primary"], layout["standby"])
    states = {node: entry["state"] for node, entry in after["nodes"].items()}
    assert states == dict.fromkeys(layout["nodes"], "up")
