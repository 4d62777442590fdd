"""The public log of counted signatures: receipts, leaves appended by batch, signed heads, the
API's proofs, and what shows when the log or the count is tampered with."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from petition import log, merkle, privacy, tasks
from petition.models import LogEntry, LogTile, Signature, SignatureLog, TreeHead
from petition.tokens import make_sharing_token
from tests.conftest import parse_html, receipt_in

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def add(petition, number: int, *, start: int = 0, **fields) -> list[Signature]:
    now = timezone.now()
    fields.setdefault("confirmed_at", now - timedelta(hours=1))
    return Signature.objects.bulk_create(
        Signature(
            petition=petition,
            first_name="Alex",
            last_name=f"Petit {n}",
            email=f"alex.petit.{n}@example.org",
            postal_code="13001",
            language="fr",
            created_at=now - timedelta(days=1),
            **fields,
        )
        for n in range(start, start + number)
    )


def rebuilt_root(petition, size: int) -> bytes:
    builder = merkle.RootBuilder()
    for leaf in log.leaves(petition.pk, 0, size):
        builder.push(merkle.leaf_hash(leaf))
    return builder.root()


def api(client, petition, name: str, **query):
    return client.get(reverse(f"log_{name}_api", args=[petition.slug]), query)


def head_at(petition, moment: datetime) -> TreeHead:
    head = log.sign_head(petition, now=moment)
    assert head is not None
    return head


@pytest.mark.django_db
def test_a_confirmed_signer_gets_a_receipt_that_the_site_does_not_keep(
    petition, confirm_link, press_button
):
    thanks = press_button(confirm_link())
    receipt = receipt_in(thanks)

    assert len(base64.urlsafe_b64decode(receipt + "==")) == 16
    signature = Signature.objects.get()
    assert bytes(signature.receipt_hash) == hashlib.sha256(receipt.encode()).digest()
    stored = " ".join(str(value) for value in Signature.objects.values().get().values())
    assert receipt not in stored
    check = parse_html(thanks).find(
        "a", href=f"{reverse('log', args=[petition.slug])}?receipt={receipt}"
    )
    assert check.text


@pytest.mark.django_db
def test_the_sharing_link_of_the_thank_you_page_shows_the_receipt_again_and_no_other_does(
    client, petition, confirm_link, press_button, email_links
):
    link = confirm_link()
    thanks = press_button(link)
    receipt = receipt_in(thanks)
    sharing = parse_html(thanks).find("p", class_="share__privacy").find("a").attrs["href"]

    assert receipt_in(client.get(sharing)) == receipt
    signature = Signature.objects.get()
    plain = client.get(reverse("sharing", args=[make_sharing_token(signature)]))
    assert not parse_html(plain).find_all(data_receipt=True)
    forged = client.get(reverse("sharing", args=[make_sharing_token(signature, "A" * 22)]))
    assert not parse_html(forged).find_all(data_receipt=True)
    again = press_button(link)  # the link opened once more: already confirmed
    assert not parse_html(again).find_all(data_receipt=True)


@pytest.mark.django_db
def test_the_log_takes_in_counted_signatures_by_batch_and_agrees_with_the_count(petition):
    add(petition, 700)
    add(petition, 5, start=1000, confirmed_at=None)
    add(petition, 3, start=2000, suspect_reason="honeypot")

    first = log.append(petition.pk, limit=300)
    assert (first.additions, first.removals, first.size) == (300, 0, 300)
    assert log.append_all(petition.pk) == 400
    assert log.append_all(petition.pk) == 0

    state = SignatureLog.objects.get(petition=petition)
    assert (state.size, state.count) == (700, 700)
    assert log.recount(petition.pk) == 700
    assert log.root_hash(petition.pk, 700) == rebuilt_root(petition, 700)
    assert LogEntry.objects.filter(leaf_index__isnull=False).count() == 700
    indexes = sorted(LogEntry.objects.values_list("leaf_index", flat=True))
    assert indexes == list(range(700))


@pytest.mark.django_db
def test_leaving_the_count_appends_a_removal_and_rewrites_nothing(petition):
    signatures = add(petition, 10)
    log.append_all(petition.pk)
    receipts = dict(LogEntry.objects.values_list("signature_id", "receipt_hash"))
    before = {tile.pk: bytes(tile.data) for tile in LogTile.objects.all()}
    root_10 = log.root_hash(petition.pk, 10)
    invalidated, withdrawn, suspect = signatures[0], signatures[1], signatures[2]

    Signature.objects.filter(pk=invalidated.pk).update(invalidated_at=timezone.now())
    privacy.withdraw(signature=Signature.objects.get(pk=withdrawn.pk))
    Signature.objects.filter(pk=suspect.pk).update(suspect_reason="too fast")
    log.append_all(petition.pk)  # the batches take confirmations only
    assert SignatureLog.objects.get(petition=petition).size == 10
    log.reconcile(petition.pk)  # run after whatever changes the count otherwise

    state = SignatureLog.objects.get(petition=petition)
    assert (state.size, state.additions, state.removals, state.count) == (13, 10, 3, 7)
    new_leaves = log.leaves(petition.pk, 10, 13)
    assert {leaf[0] for leaf in new_leaves} == {merkle.REMOVAL}
    assert {leaf[1:] for leaf in new_leaves} == {
        bytes(receipts[s.pk]) for s in (invalidated, withdrawn, suspect)
    }
    # The first ten leaves are as they were: the tree grew, nothing in it changed.
    assert log.root_hash(petition.pk, 10) == root_10
    for pk, data in before.items():
        assert bytes(LogTile.objects.get(pk=pk).data)[: len(data)] == data

    # Staff clear the suspect one: it enters again, as a new leaf, with the same receipt hash.
    Signature.objects.filter(pk=suspect.pk).update(suspect_reason="")
    log.reconcile(petition.pk)
    state.refresh_from_db()
    assert (state.size, state.count) == (14, 8)
    assert log.leaves(petition.pk, 13, 14)[0] == merkle.leaf(
        merkle.ADDITION, bytes(receipts[suspect.pk])
    )


@pytest.mark.django_db
def test_bulk_loaded_signatures_get_a_receipt_hash_nobody_can_link_to_them(petition):
    signatures = add(petition, 3)
    assert all(s.receipt_hash is None for s in signatures)
    log.append_all(petition.pk)
    hashes = [bytes(h) for h in LogEntry.objects.values_list("receipt_hash", flat=True)]
    assert len(set(hashes)) == 3
    assert all(len(h) == 32 for h in hashes)
    assert not Signature.objects.filter(receipt_hash__isnull=False).exists()


@pytest.mark.django_db
def test_within_a_batch_leaves_follow_their_receipt_hash_not_the_order_of_confirmation(petition):
    add(petition, 50)
    log.append_all(petition.pk)
    receipts = [leaf[1:] for leaf in log.leaves(petition.pk, 0, 50)]
    assert receipts == sorted(receipts)


@pytest.mark.django_db
def test_heads_are_signed_once_a_period_when_the_log_grew_and_at_least_daily(petition):
    add(petition, 4)
    log.append_all(petition.pk)
    first = head_at(petition, MONDAY + timedelta(minutes=2, seconds=13))

    assert first.timestamp == MONDAY  # no finer than its period
    assert log.sign_head(petition, now=MONDAY + timedelta(minutes=4)) is None
    assert log.sign_head(petition, now=MONDAY + timedelta(minutes=30)) is None  # unchanged
    add(petition, 2, start=10)
    log.append_all(petition.pk)
    grown = head_at(petition, MONDAY + timedelta(minutes=31))
    assert (grown.size, grown.count) == (6, 6)
    next_day = head_at(petition, MONDAY + timedelta(days=1))
    assert next_day.size == 6

    for head in (first, grown, next_day):
        log.verify_head(head)
    assert bytes(grown.root_hash) == rebuilt_root(petition, 6)


@pytest.mark.django_db
def test_a_head_signed_by_another_key_does_not_verify(petition, settings):
    add(petition, 3)
    log.append_all(petition.pk)
    head = head_at(petition, MONDAY)
    other = Ed25519PrivateKey.generate()

    forged = TreeHead(
        petition=petition,
        size=head.size,
        root_hash=head.root_hash,
        count=head.count + 1000,
        timestamp=head.timestamp,
        public_key=other.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    )
    forged.signature = other.sign(log.checkpoint(forged).body())
    with pytest.raises(merkle.ProofError):
        log.verify_head(forged)
    altered = TreeHead.objects.get(pk=head.pk)
    altered.count += 1
    with pytest.raises(merkle.ProofError):
        log.verify_head(altered)


@pytest.mark.django_db
def test_after_a_key_rotation_the_old_heads_still_verify(petition, settings):
    add(petition, 3)
    log.append_all(petition.pk)
    old = head_at(petition, MONDAY)
    old_public = base64.b64encode(bytes(old.public_key)).decode()

    settings.LOG_SIGNING_KEY = base64.b64encode(bytes(range(32))).decode()
    with pytest.raises(merkle.ProofError):
        log.verify_head(old)
    settings.LOG_RETIRED_PUBLIC_KEYS = [old_public]
    log.verify_head(old)
    new = head_at(petition, MONDAY + timedelta(days=1))
    log.verify_head(new)
    assert bytes(new.public_key) != bytes(old.public_key)


@pytest.mark.django_db
def test_the_api_gives_a_receipts_inclusion_proof_that_checks_against_the_signed_head(
    client, petition, confirm_link, press_button
):
    add(petition, 300)
    receipt = receipt_in(press_button(confirm_link()))
    add(petition, 20, start=5000)
    log.append_all(petition.pk)
    tasks.sign_tree_heads()

    head = api(client, petition, "head").json()
    proof = api(client, petition, "inclusion", receipt=receipt).json()

    assert head["tree_size"] == 321
    assert head["count"] == 321
    assert proof["tree_size"] == 321
    assert proof["head"] == {key: value for key, value in head.items() if key != "links"}
    leaf_hash = log.addition_leaf_hash(merkle.receipt_hash(receipt))
    assert base64.b64decode(proof["leaf_hash"]) == leaf_hash
    merkle.verify_inclusion(
        leaf_hash,
        proof["leaf_index"],
        proof["tree_size"],
        [base64.b64decode(node) for node in proof["audit_path"]],
        base64.b64decode(head["root_hash"]),
    )
    by_hash = api(client, petition, "inclusion", leaf_hash=proof["leaf_hash"]).json()
    assert by_hash["audit_path"] == proof["audit_path"]
    body, signature = merkle.open_note(
        head["checkpoint"], head["verifier_key"].split("+")[0], base64.b64decode(head["public_key"])
    )
    assert merkle.Checkpoint.parse(body).count == 321
    assert base64.b64decode(head["signature"]) == signature


@pytest.mark.django_db
def test_an_unknown_receipt_answers_404_after_the_same_work_as_a_known_one(
    client, petition, confirm_link, press_button
):
    add(petition, 600)
    receipt = receipt_in(press_button(confirm_link()))
    log.append_all(petition.pk)
    tasks.sign_tree_heads()
    unknown = "Z" * 22

    with CaptureQueriesContext(connection) as known_queries:
        known = api(client, petition, "inclusion", receipt=receipt)
    with CaptureQueriesContext(connection) as unknown_queries:
        missing = api(client, petition, "inclusion", receipt=unknown)

    assert known.status_code == 200
    assert missing.status_code == 404
    assert missing.json()["error"]
    assert len(known_queries) == len(unknown_queries)
    shapes = [
        [query["sql"].split("WHERE")[0] for query in queries.captured_queries]
        for queries in (known_queries, unknown_queries)
    ]
    assert shapes[0] == shapes[1]


@pytest.mark.django_db
def test_consistency_proofs_join_every_earlier_head_to_the_latest(client, petition):
    heads = []
    for day in range(4):
        add(petition, 100 + 57 * day, start=1000 * day)
        log.append_all(petition.pk)
        heads.append(head_at(petition, MONDAY + timedelta(days=day)))
    latest = heads[-1]

    for head in heads[:-1]:
        answer = api(client, petition, "consistency", first=head.size, second=latest.size)
        merkle.verify_consistency(
            head.size,
            latest.size,
            bytes(head.root_hash),
            bytes(latest.root_hash),
            [base64.b64decode(node) for node in answer.json()["proof"]],
        )
        assert "immutable" in answer["Cache-Control"]
    daily = api(client, petition, "heads").json()["heads"]
    assert [h["tree_size"] for h in daily] == [h.size for h in reversed(heads)]


@pytest.mark.django_db
def test_the_leaves_are_given_by_page_and_rebuild_the_head(client, petition, settings):
    add(petition, 1200)
    log.append_all(petition.pk)
    head = head_at(petition, MONDAY)
    builder = merkle.RootBuilder()
    count = 0
    for start in range(0, head.size, 500):
        page = api(client, petition, "leaves", start=start, end=min(start + 500, head.size)).json()
        for leaf, leaf_hash in zip(page["leaves"], page["leaf_hashes"], strict=True):
            raw = base64.b64decode(leaf)
            assert base64.b64decode(leaf_hash) == merkle.leaf_hash(raw)
            builder.push(merkle.leaf_hash(raw))
            count += 1 if raw[0] == merkle.ADDITION else -1
    assert builder.root() == bytes(head.root_hash)
    assert count == head.count == 1200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("inclusion", {}),
        ("inclusion", {"receipt": "short"}),
        ("inclusion", {"receipt": "é" * 22}),
        ("inclusion", {"receipt": "A" * 22, "leaf_hash": "AAAA"}),
        ("inclusion", {"leaf_hash": "not base64!"}),
        ("inclusion", {"leaf_hash": base64.b64encode(b"x" * 31).decode()}),
        ("consistency", {}),
        ("consistency", {"first": "-1"}),
        ("consistency", {"first": "5", "second": "2"}),
        ("consistency", {"first": "1", "second": "99999999999999999999999"}),
        ("consistency", {"first": "1", "second": "9999"}),
        ("consistency", {"first": "1e3"}),
        ("leaves", {"start": "-5"}),
        ("leaves", {"start": "3", "end": "2"}),
        ("leaves", {"start": "0", "end": "10001"}),
        ("leaves", {"end": "ten"}),
        ("leaves", {"start": "٣"}),
    ],
)
def test_bad_queries_get_a_400_that_says_what_is_wrong(client, petition, name, query):
    add(petition, 20)
    log.append_all(petition.pk)
    head_at(petition, MONDAY)

    answer = api(client, petition, name, **query)

    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/json"
    assert len(answer.json()["error"]) > 10


@pytest.mark.django_db
def test_the_log_api_of_an_unknown_petition_or_of_one_without_a_head_answers_404(client, petition):
    for name in ("head", "heads", "inclusion", "consistency", "leaves"):
        assert api(client, petition, name).status_code == 404
        missing = client.get(reverse(f"log_{name}_api", args=["no-such-petition"]))
        assert missing.status_code == 404
        assert missing.json()["error"]


@pytest.mark.django_db
def test_the_log_holds_no_signer_data_and_no_time_finer_than_a_period(client, petition):
    signatures = add(petition, 30)
    log.append_all(petition.pk)
    head_at(petition, MONDAY + timedelta(minutes=7, seconds=42))
    everything = b"".join(bytes(tile.data) for tile in LogTile.objects.all())
    answers = b"".join(api(client, petition, name).content for name in ("head", "heads", "leaves"))
    for signature in signatures:
        for value in (signature.email, signature.last_name, signature.postal_code):
            assert value.encode() not in everything
            assert value.encode() not in answers
    assert api(client, petition, "head").json()["timestamp"] == "2026-12-07T09:05:00Z"


def flip_a_bit(tile: LogTile, at: int) -> None:
    data = bytearray(tile.data)
    data[at] ^= 1
    LogTile.objects.filter(pk=tile.pk).update(data=bytes(data))


@pytest.mark.django_db
def test_an_altered_node_breaks_the_consistency_with_earlier_heads(petition):
    add(petition, 600)
    log.append_all(petition.pk)
    earlier = head_at(petition, MONDAY)
    add(petition, 100, start=5000)
    log.append_all(petition.pk)
    latest = head_at(petition, MONDAY + timedelta(days=1))
    honest = log.consistency_proof(petition.pk, earlier.size, latest.size)

    # The hash of the first 256 leaves, as stored one level up.
    flip_a_bit(LogTile.objects.get(petition=petition, level=1, offset=0), 5)

    proof = log.consistency_proof(petition.pk, earlier.size, latest.size)
    assert proof != honest
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(
            earlier.size, latest.size, bytes(earlier.root_hash), bytes(latest.root_hash), proof
        )
    assert log.root_hash(petition.pk, latest.size) != bytes(latest.root_hash)


@pytest.mark.django_db
def test_an_altered_or_deleted_leaf_shows_in_the_rebuilt_root_and_its_inclusion_proof(petition):
    add(petition, 600)
    log.append_all(petition.pk)
    head = head_at(petition, MONDAY)
    tile = LogTile.objects.get(petition=petition, level=0, offset=1)
    index = 256 + 1  # the second leaf of that tile
    flip_a_bit(tile, merkle.LEAF_SIZE + 3)

    assert rebuilt_root(petition, head.size) != bytes(head.root_hash)
    leaf = log.leaves(petition.pk, index, index + 1)[0]
    path = log.inclusion_proof(petition.pk, index, head.size)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(
            merkle.leaf_hash(leaf), index, head.size, path, bytes(head.root_hash)
        )

    LogTile.objects.filter(pk=tile.pk).delete()
    with pytest.raises(log.LogCorrupted):
        log.inclusion_proof(petition.pk, index, head.size)


@pytest.mark.django_db
def test_reconciliation_repairs_a_row_deleted_behind_the_sites_back_with_a_removal_leaf(
    petition, caplog
):
    signatures = add(petition, 12)
    log.append_all(petition.pk)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM petition_signature WHERE id = %s", [signatures[3].pk])

    drift = log.reconcile(petition.pk)

    assert drift == 1
    state = SignatureLog.objects.get(petition=petition)
    assert state.count == Signature.objects.counted().count() == 11
    assert log.recount(petition.pk) == 11
    assert "caught up with its count by 1 leaves" in caplog.text
    assert log.reconcile(petition.pk) == 0


@pytest.mark.django_db
def test_the_counter_the_head_and_a_recount_of_the_leaves_agree(client, petition, add_signatures):
    add_signatures(25, pending=3)
    tasks.reconcile_counts()
    tasks.sign_tree_heads()

    counter = client.get(reverse("petition_api", args=[petition.slug])).json()
    head = api(client, petition, "head").json()
    assert counter["signature_count"] == head["count"] == log.recount(petition.pk) == 25


def test_without_a_signing_key_production_settings_fail_the_deploy_check(settings):
    settings.DEBUG = False
    settings.LOG_SIGNING_KEY = ""
    assert [error.id for error in log.check_signing_key()] == ["petition.E002"]
    settings.LOG_SIGNING_KEY = "bm90IGEga2V5"
    assert [error.id for error in log.check_signing_key()] == ["petition.E002"]


def test_in_development_a_key_is_made_once_and_kept(settings, tmp_path):
    settings.DEBUG = True
    settings.LOG_SIGNING_KEY = ""
    settings.LOG_DEVELOPMENT_KEY_FILE = str(tmp_path / "key")
    first = log.signing_key().public
    assert log.signing_key().public == first
    assert (tmp_path / "key").stat().st_mode & 0o077 == 0


@pytest.mark.django_db
def test_the_log_key_command_prints_the_key_to_publish(capsys, petition):
    call_command("log_key")
    out = capsys.readouterr().out
    public = log.signing_key().public
    assert merkle.fingerprint(public) in out
    assert merkle.verifier_key(log.key_name(), public) in out
