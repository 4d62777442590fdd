"""Signings a second through the cluster's load balancer with two web nodes, against one
(`make cluster-bench`, as root): `deploy/cluster up` with the rate limits off (every request
reaches the nodes from the load balancer's one address), then wrk and sign.lua through `lb` for
ROUND_SECONDS with web1 and web2 serving, then with web2 killed, ROUNDS times each, alternately.
The medians and their ratio are printed, then the cluster is taken down.

All eleven nodes share this machine's cores: the ratio says what a second web node adds when
the web nodes are what limits, not what two real machines hold (README, On several machines).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.__main__ import (
    BENCH_DIR,
    SIGN_FORM_SECONDS,
    SIGN_PATH,
    SIGNER_NETWORK,
    ensure_wrk,
    open_form,
)

PROJECT = Path(__file__).resolve().parents[2]
CLUSTER = PROJECT / "deploy" / "cluster"
ROUNDS = int(os.environ.get("CLUSTER_BENCH_ROUNDS", "3"))
ROUND_SECONDS = int(os.environ.get("CLUSTER_BENCH_SECONDS", "15"))
CONNECTIONS = 16
# HAProxy takes a dead node out after two failed checks 500 ms apart, and back after two good.
SETTLE_SECONDS = 3


def cluster(*argv: str, env: dict[str, str] | None = None) -> dict:
    result = subprocess.run(
        [str(CLUSTER), *argv], capture_output=True, text=True, check=False, env=env
    )
    if result.returncode != 0:
        raise SystemExit(f"deploy/cluster {' '.join(argv)}: {result.stderr.strip()}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def sign_for(url: str, host: str, port: int, run_id: str) -> dict:
    form = open_form(port, SIGN_PATH, host=host)
    # As long as a person takes to fill the form at least: the fraud rules see honest signers.
    time.sleep(SIGN_FORM_SECONDS)
    argv = ["wrk", "--threads=2", f"--connections={CONNECTIONS}"]
    argv += [f"--duration={ROUND_SECONDS + 5}s", "--timeout=10s"]
    argv += [f"--script={BENCH_DIR / 'sign.lua'}", url + SIGN_PATH, "--"]
    argv += [run_id, SIGN_PATH, form.token, form.cookie, url + SIGN_PATH, str(ROUND_SECONDS)]
    argv += [str(CONNECTIONS // 2), form.signing_fields, SIGNER_NETWORK]
    result = subprocess.run(argv, capture_output=True, text=True, check=True)
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH_RESULT "))
    found = json.loads(line.removeprefix("BENCH_RESULT "))
    return {
        "signings_per_s": found["signed"] / found["window_s"],
        "other": found["other"],
        "p99_ms": found["latency_us"]["p99"] / 1000,
    }


def main() -> int:
    if os.geteuid() != 0:
        print("cluster bench: needs root (deploy/cluster's namespaces)", file=sys.stderr)
        return 1
    ensure_wrk()
    env = {**os.environ, "RATELIMIT_ENABLE": "0"}
    layout = cluster("up", env=env)
    host, port = layout["url"].removeprefix("http://").split(":")
    rounds: dict[str, list[dict]] = {"two": [], "one": []}
    try:
        for number in range(ROUNDS):
            # Alternately first, so that neither always runs on a warmer or busier machine.
            for nodes in ("two", "one") if number % 2 == 0 else ("one", "two"):
                if nodes == "one":
                    cluster("kill", "web2")
                    time.sleep(SETTLE_SECONDS)
                result = sign_for(layout["url"], host, int(port), f"{nodes}{number}")
                rounds[nodes].append(result)
                print(f"round {number + 1}, {nodes} web node(s): {json.dumps(result)}", flush=True)
                if nodes == "one":
                    cluster("start", "web2")
                    time.sleep(SETTLE_SECONDS)
    finally:
        cluster("down")
    two = statistics.median(r["signings_per_s"] for r in rounds["two"])
    one = statistics.median(r["signings_per_s"] for r in rounds["one"])
    summary = {
        "two_web_nodes_per_s": round(two, 1),
        "one_web_node_per_s": round(one, 1),
        "ratio": round(two / one, 2),
        "p99_ms": {
            nodes: round(statistics.median(r["p99_ms"] for r in found), 1)
            for nodes, found in rounds.items()
        },
        "not_302": sum(r["other"] for found in rounds.values() for r in found),
        "rounds": ROUNDS,
        "round_seconds": ROUND_SECONDS,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
