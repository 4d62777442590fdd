"""The public log checked by Go's transparency-log packages (golang.org/x/mod/sumdb/note and
sumdb/tlog, Debian's golang-golang-x-mod-dev): an implementation that shares nothing with ours
verifies our signed heads as C2SP signed notes, computes the same roots from the same leaves,
accepts our proofs, and makes the same ones."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from petition import log
from petition.models import Signature
from tests.conftest import IN_CI

PROGRAM = Path(__file__).parent / "golog" / "main.go"
GOPATH = Path("/usr/share/gocode")


@pytest.fixture(scope="module")
def go_checker(tmp_path_factory) -> Path:
    go = shutil.which("go")
    if go is None or not (GOPATH / "src/golang.org/x/mod/sumdb/tlog").is_dir():
        message = "needs Go and x/mod (apt-get install golang-go golang-golang-x-mod-dev)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    built = tmp_path_factory.mktemp("golog") / "golog"
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(GOPATH),
        "GOCACHE": str(tmp_path_factory.mktemp("gocache")),
        "GOFLAGS": "",
    }
    subprocess.run([go, "build", "-o", str(built), str(PROGRAM)], env=env, check=True)
    return built


def check_with_go(checker: Path, query: dict) -> dict:
    result = subprocess.run(
        [str(checker)], input=json.dumps(query), capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def b64(values: list[bytes]) -> list[str]:
    return [base64.b64encode(value).decode() for value in values]


@pytest.mark.django_db
def test_go_verifies_our_heads_roots_and_proofs_and_makes_the_same_proofs(go_checker, petition):
    now = timezone.now()
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            first_name="Alex",
            last_name=f"Petit {n}",
            email=f"alex.petit.{n}@example.org",
            language="fr",
            created_at=now - timedelta(days=1),
            confirmed_at=now - timedelta(hours=1),
        )
        for n in range(700)
    )
    log.append_all(petition.pk)
    Signature.objects.filter(pk__in=Signature.objects.order_by("pk").values("pk")[:5]).update(
        invalidated_at=now
    )
    log.reconcile(petition.pk)
    head = log.sign_head(petition, now=datetime(2026, 12, 7, 9, tzinfo=UTC))
    size = head.size
    described = log.describe(head)
    leaves = log.leaves(petition.pk, 0, size)
    inclusion = [(index, size) for index in (0, 1, 255, 256, 300, 511, 512, 699, size - 1)]
    inclusion += [(3, 4), (100, 257), (256, 257)]
    consistency = [(1, size), (2, size), (255, 256), (256, size), (257, 600), (300, size - 1)]

    answer = check_with_go(
        go_checker,
        {
            "verifier_key": described["verifier_key"],
            "checkpoint": described["checkpoint"],
            "leaves": b64(leaves),
            "inclusion": [
                {"index": i, "size": n, "path": b64(log.inclusion_proof(petition.pk, i, n))}
                for i, n in inclusion
            ],
            "consistency": [
                {"first": m, "second": n, "proof": b64(log.consistency_proof(petition.pk, m, n))}
                for m, n in consistency
            ],
        },
    )

    assert answer["note_error"] == ""
    assert answer["note_text"].encode() == log.checkpoint(head).body()
    assert answer["roots"][str(size)] == described["root_hash"]
    for n_text, root in answer["roots"].items():
        assert base64.b64decode(root) == log.root_hash(petition.pk, int(n_text))
    assert answer["inclusion"] == [""] * len(inclusion)
    assert answer["consistency"] == [""] * len(consistency)
    assert answer["record_proofs"] == [
        b64(log.inclusion_proof(petition.pk, i, n)) for i, n in inclusion
    ]
    assert answer["tree_proofs"] == [
        b64(log.consistency_proof(petition.pk, m, n)) for m, n in consistency
    ]


@pytest.mark.django_db
def test_go_refuses_an_altered_head_and_a_wrong_proof(go_checker, petition):
    now = timezone.now()
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            first_name="Alex",
            last_name=f"Petit {n}",
            email=f"alex.petit.{n}@example.org",
            language="fr",
            created_at=now - timedelta(days=1),
            confirmed_at=now - timedelta(hours=1),
        )
        for n in range(40)
    )
    log.append_all(petition.pk)
    head = log.sign_head(petition, now=datetime(2026, 12, 7, 9, tzinfo=UTC))
    described = log.describe(head)
    path = log.inclusion_proof(petition.pk, 7, head.size)
    path[1] = bytes(32)

    answer = check_with_go(
        go_checker,
        {
            "verifier_key": described["verifier_key"],
            "checkpoint": described["checkpoint"].replace("count 40", "count 41"),
            "leaves": b64(log.leaves(petition.pk, 0, head.size)),
            "inclusion": [{"index": 7, "size": head.size, "path": b64(path)}],
            "consistency": [],
        },
    )

    assert answer["note_error"]
    assert answer["inclusion"][0]
