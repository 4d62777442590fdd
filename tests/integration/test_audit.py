"""`python -m petition.audit`, run as anyone would run it against a live site: it proves a
signer's signature is counted and the count is the log's, and it fails loudly when the log
was altered, forked or signed by another key."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone

from petition import log, merkle, services
from petition.models import LogTile, Petition, Signature, TreeHead

if TYPE_CHECKING:
    from pytest_django.live_server_helper import LiveServer

MONDAY = datetime(2026, 12, 7, 9, tzinfo=UTC)


def sign_many(petition: Petition, number: int, start: int = 0) -> None:
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
        for n in range(start, start + number)
    )


def audit(live_server: LiveServer, petition: Petition, *args: str) -> subprocess.CompletedProcess:
    # From another directory, with nothing of the site's settings: only the program and the
    # address, as on another machine.
    return subprocess.run(
        [sys.executable, "-m", "petition.audit", f"{live_server.url}/", petition.slug, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[2])},
        check=False,
    )


@pytest.fixture
def signed_log(petition: Petition) -> tuple[Petition, str]:
    """A log of two days: 600 signatures, then 300 more with one signer who kept the receipt,
    and three that left the count."""
    sign_many(petition, 600)
    log.append_all(petition.pk)
    log.sign_head(petition, now=MONDAY)
    sign_many(petition, 300, start=1000)
    signer = Signature.objects.create(
        petition=petition, first_name="Lou", last_name="Fontaine", email="lou@example.org"
    )
    services.confirm(signature=signer)
    Signature.objects.filter(pk__in=Signature.objects.order_by("pk").values("pk")[:3]).update(
        invalidated_at=timezone.now()
    )
    log.reconcile(petition.pk)
    log.sign_head(petition, now=MONDAY + timedelta(days=1))
    return petition, signer.receipt


def test_a_signer_proves_from_elsewhere_that_their_signature_is_counted(
    live_server: LiveServer, signed_log: tuple[Petition, str], tmp_path: Path
) -> None:
    petition, receipt = signed_log
    key = merkle.fingerprint(log.signing_key().public)
    state = tmp_path / "seen.json"

    first = audit(live_server, petition, "--key", key, "--receipt", receipt, "--state", str(state))

    assert first.returncode == 0, first.stdout + first.stderr
    assert "The log checks out." in first.stdout
    assert "the leaves count 898 signatures, as the head says" in first.stdout
    assert "your signature is counted" in first.stdout
    assert "consistent with the head of 2026-12-07T09:00:00Z (600 leaves)" in first.stdout
    assert "904/904 leaves" in first.stderr  # the progress bar reached the end
    assert len(json.loads(state.read_text())["heads"]) == 2

    # The next day the log grew; the run checks it against the heads it kept.
    sign_many(petition, 20, start=5000)
    log.append_all(petition.pk)
    log.sign_head(petition, now=MONDAY + timedelta(days=2))
    second = audit(live_server, petition, "--state", str(state))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "consistent with the head of 2026-12-08T09:00:00Z (904 leaves)" in second.stdout


def test_an_altered_leaf_fails_the_audit(
    live_server: LiveServer, signed_log: tuple[Petition, str]
) -> None:
    petition, _ = signed_log
    tile = LogTile.objects.get(petition=petition, level=0, offset=0)
    data = bytearray(tile.data)
    data[1] ^= 0xFF  # another receipt hash in leaf 0
    LogTile.objects.filter(pk=tile.pk).update(data=bytes(data))

    result = audit(live_server, petition)

    assert result.returncode == 1
    assert "the leaves do not rebuild the latest head's root" in result.stdout
    assert "is not a state of this log" in result.stdout


def test_a_head_signed_by_another_key_fails_the_audit(
    live_server: LiveServer, signed_log: tuple[Petition, str]
) -> None:
    petition, _ = signed_log
    result = audit(live_server, petition, "--key", "ab" * 32)
    assert result.returncode == 1
    assert "signed by a key you do not trust" in result.stdout


def test_a_count_the_leaves_do_not_add_up_to_fails_the_audit_even_when_signed(
    live_server: LiveServer, signed_log: tuple[Petition, str]
) -> None:
    petition, _ = signed_log
    head = TreeHead.objects.order_by("-timestamp").first()
    # The site itself signs a head that claims three more signatures than its leaves hold.
    head.count += 3
    head.signature = log.signing_key().private.sign(log.checkpoint(head).body())
    head.save()

    result = audit(live_server, petition)

    assert result.returncode == 1
    assert "the leaves count 898 signatures, the head says 901" in result.stdout


def test_a_head_changed_after_signing_fails_the_audit(
    live_server: LiveServer, signed_log: tuple[Petition, str]
) -> None:
    petition, _ = signed_log
    head = TreeHead.objects.order_by("-timestamp").first()
    TreeHead.objects.filter(pk=head.pk).update(count=head.count + 3)

    result = audit(live_server, petition)

    assert result.returncode == 1
    assert "is not validly signed" in result.stderr
