"""The public log of each petition's counted signatures: an append-only RFC 9162 Merkle tree,
whose heads the site signs and publishes, so that anyone can check the count (README, "A count
anyone can check").

A signature enters the log when it enters the count, as an addition leaf naming its receipt's
hash, and leaves it the same way, by a removal leaf: withdrawn, invalidated or erased, it is
never rewritten out. Celery appends in batches (`append`), a few seconds behind the
confirmations, so no signing or confirming request waits on the log. A batch is taken from the
state of the rows, not from events: whatever is counted and not in the log goes in, whatever is
in the log and no longer counted comes out; running it twice appends nothing the second time.
Within a batch, leaves are ordered by receipt hash, so that their order says nothing of who
confirmed first.

The tree is stored as tiles of 256 entries (models.LogTile), like Go's checksum database: the
leaves, then the hashes of each complete group of 256 leaves, of 256 such groups, and so on.
Any proof reads a handful of tiles in one query.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from . import merkle
from .counting import SETTLE_AFTER
from .models import LogEntry, LogTile, Petition, Signature, SignatureLog, TreeHead

logger = logging.getLogger(__name__)

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
BATCH_SIZE = 10_000


def addition_leaf_hash(receipt_hash: bytes) -> bytes:
    return merkle.leaf_hash(merkle.leaf(merkle.ADDITION, receipt_hash))


def leaf_index(petition_id: int, leaf_hash: bytes) -> int | None:
    """Where the addition leaf of that hash is, while its signature is in the count."""
    return (
        _in_the_log()
        .filter(petition_id=petition_id, leaf_hash=leaf_hash)
        .values_list("leaf_index", flat=True)
        .first()
    )


# Tiles.


class Tiles:
    """The tiles of one petition's tree that one operation needs, read in one query."""

    def __init__(self, petition_id: int) -> None:
        self.petition_id = petition_id
        self.data: dict[tuple[int, int], bytes] = {}
        self._hashes: dict[tuple[int, int], list[bytes]] = {}

    def load(self, keys: set[tuple[int, int]]) -> None:
        keys = keys - self.data.keys()
        if not keys:
            return
        wanted = Q()
        for level in {level for level, _ in keys}:
            wanted |= Q(level=level, offset__in=[o for lv, o in keys if lv == level])
        rows = LogTile.objects.filter(wanted, petition_id=self.petition_id)
        for level, offset, data in rows.values_list("level", "offset", "data"):
            self.data[level, offset] = bytes(data)

    def hashes(self, level: int, offset: int) -> list[bytes]:
        """The entries of a tile as hashes: leaf hashes at level 0."""
        key = (level, offset)
        if key not in self._hashes:
            data = self.data.get(key, b"")
            if level == 0:
                self._hashes[key] = [
                    merkle.leaf_hash(data[i : i + merkle.LEAF_SIZE])
                    for i in range(0, len(data), merkle.LEAF_SIZE)
                ]
            else:
                self._hashes[key] = [
                    data[i : i + merkle.HASH_SIZE] for i in range(0, len(data), merkle.HASH_SIZE)
                ]
        return self._hashes[key]

    @staticmethod
    def place(start: int, end: int) -> tuple[int, int, int, int]:
        """Where a complete subtree's entries lie: level, tile offset, first entry, count."""
        height = (end - start).bit_length() - 1
        level, rest = divmod(height, TILE_HEIGHT)
        first = start >> (level * TILE_HEIGHT)
        return level, first // TILE_WIDTH, first % TILE_WIDTH, 1 << rest

    def complete(self, start: int, end: int) -> bytes:
        level, offset, first, count = self.place(start, end)
        entries = self.hashes(level, offset)[first : first + count]
        if len(entries) != count:
            raise LogCorrupted(f"tile {level}/{offset} of petition {self.petition_id} is short")
        return merkle.root_of_complete(entries)

    def prepare(self, plan: list[tuple[int, int]]) -> None:
        self.load({self.place(start, end)[:2] for start, end in plan})


class LogCorrupted(Exception):
    """A stored tile is missing or short: the database was altered outside the log."""


def _planned(compute) -> list[tuple[int, int]]:
    """The complete subtrees a computation reads: it runs once on stand-ins to find out."""
    plan: list[tuple[int, int]] = []

    def record(start: int, end: int) -> bytes:
        plan.append((start, end))
        return bytes(merkle.HASH_SIZE)

    compute(record)
    return plan


def _compute(petition_id: int, compute):
    tiles = Tiles(petition_id)
    tiles.prepare(_planned(compute))
    return compute(tiles.complete)


def root_hash(petition_id: int, size: int) -> bytes:
    if size == 0:
        return merkle.RootBuilder().root()
    return _compute(petition_id, lambda complete: merkle.subtree_hash(0, size, complete))


def inclusion_proof(petition_id: int, index: int, size: int) -> list[bytes]:
    return _compute(
        petition_id,
        lambda complete: merkle.inclusion_proof(
            index, size, lambda s, e: merkle.subtree_hash(s, e, complete)
        ),
    )


def consistency_proof(petition_id: int, first: int, second: int) -> list[bytes]:
    return _compute(
        petition_id,
        lambda complete: merkle.consistency_proof(
            first, second, lambda s, e: merkle.subtree_hash(s, e, complete)
        ),
    )


def leaves(petition_id: int, start: int, end: int) -> list[bytes]:
    """The leaves [start, end) as stored."""
    tiles = Tiles(petition_id)
    tiles.load({(0, offset) for offset in range(start // TILE_WIDTH, (end - 1) // TILE_WIDTH + 1)})
    found = []
    for index in range(start, end):
        data = tiles.data.get((0, index // TILE_WIDTH), b"")
        at = (index % TILE_WIDTH) * merkle.LEAF_SIZE
        found.append(data[at : at + merkle.LEAF_SIZE])
    return found


# Appending.


@dataclass(frozen=True)
class Batch:
    petition_id: int
    additions: int
    removals: int
    size: int


def _write_tiles(petition_id: int, size: int, new_leaves: list[bytes]) -> None:
    """Append leaves to the tree of `size` leaves: the last tile of each level grows, and each
    tile that fills up adds its root to the level above."""
    edge = Tiles(petition_id)
    edge.load(
        {
            (level, (size >> (level * TILE_HEIGHT)) // TILE_WIDTH)
            for level in range(max(1, (max(size, 1).bit_length() + TILE_HEIGHT - 1) // TILE_HEIGHT))
        }
    )
    changed: dict[tuple[int, int], bytearray] = {}

    def tile(level: int, offset: int) -> bytearray:
        key = (level, offset)
        if key not in changed:
            changed[key] = bytearray(edge.data.get(key, b""))
        return changed[key]

    entry_size = {0: merkle.LEAF_SIZE}
    for position, new_leaf in enumerate(new_leaves, start=size):
        level, index, entry = 0, position, new_leaf
        while True:
            data = tile(level, index // TILE_WIDTH)
            data += entry
            width = entry_size.get(level, merkle.HASH_SIZE)
            if len(data) // width != TILE_WIDTH:
                break
            if level == 0:
                hashes = [merkle.leaf_hash(data[i : i + width]) for i in range(0, len(data), width)]
            else:
                hashes = [bytes(data[i : i + width]) for i in range(0, len(data), width)]
            level, index, entry = level + 1, index // TILE_WIDTH, merkle.root_of_complete(hashes)
    LogTile.objects.bulk_create(
        [
            LogTile(petition_id=petition_id, level=level, offset=offset, data=bytes(data))
            for (level, offset), data in changed.items()
        ],
        update_conflicts=True,
        unique_fields=["petition", "level", "offset"],
        update_fields=["data"],
    )


def append(petition_id: int, *, limit: int = BATCH_SIZE) -> Batch | None:
    """Append the next confirmations to the petition's log, one batch at most; None if
    another batch of this petition is being appended.

    Confirmations are taken in order (confirmed_at, then id) from where the last batch
    stopped, as the count's fold takes them: only the last SETTLE_AFTER of them are looked at
    again, so that one whose transaction committed late still enters. What leaves the count,
    or comes back to it, is found by `reconcile`.
    """
    with transaction.atomic():
        SignatureLog.objects.get_or_create(petition_id=petition_id)
        log = _locked(petition_id)
        if log is None:
            return None
        rows = Signature.objects.counted().filter(petition_id=petition_id)
        if log.confirmed_through is not None:
            since = log.confirmed_through
            rows = rows.filter(
                Q(confirmed_at__gt=since) | Q(confirmed_at=since, pk__gt=log.confirmed_through_id)
            )
        entering = list(
            rows.exclude(Exists(_in_the_log().filter(signature_id=OuterRef("pk"))))
            .order_by("confirmed_at", "pk")
            .values_list("pk", "receipt_hash", "confirmed_at")[:limit]
        )
        horizon = timezone.now() - SETTLE_AFTER
        settled = [row for row in entering if row[2] <= horizon]
        if settled:
            log.confirmed_through, log.confirmed_through_id = settled[-1][2], settled[-1][0]
        return _append(log, [(pk, digest) for pk, digest, _ in entering], [])


def append_all(petition_id: int, *, seconds: float | None = None) -> int:
    """Append batches until the log has caught up with the confirmations, or for about
    `seconds`; the number of leaves appended."""
    appended = 0
    started = time.monotonic()
    while (batch := append(petition_id)) is not None and batch.additions:
        appended += batch.additions
        if seconds is not None and time.monotonic() - started > seconds:
            break
    return appended


def _in_the_log() -> QuerySet[LogEntry]:
    return LogEntry.objects.filter(leaf_index__isnull=False)


def _locked(petition_id: int) -> SignatureLog | None:
    rows = SignatureLog.objects.filter(petition_id=petition_id)
    if connection.vendor == "postgresql":
        rows = rows.select_for_update(skip_locked=True)
    return rows.first()


def _append(
    log: SignatureLog, entering: list[tuple[int, bytes | None]], leaving: list[tuple[int, bytes]]
) -> Batch:
    """Append removal leaves for `leaving`, then addition leaves for `entering` (signature id,
    receipt hash), each sorted by receipt hash, so that their order tells nothing of who
    confirmed or withdrew first; record it all in the same transaction."""
    # Signatures confirmed outside the site's own flow (bulk loads, or before the log
    # existed) get a receipt hash here: nobody holds their receipt, and nothing tells them
    # apart in the log.
    entering = sorted(
        ((pk, bytes(h) if h is not None else secrets.token_bytes(32)) for pk, h in entering),
        key=lambda row: row[1],
    )
    leaving = sorted(((pk, bytes(h)) for pk, h in leaving), key=lambda row: row[1])
    new_leaves = [merkle.leaf(merkle.REMOVAL, h) for _, h in leaving]
    first_addition = log.size + len(new_leaves)
    new_leaves += [merkle.leaf(merkle.ADDITION, h) for _, h in entering]
    if new_leaves:
        _write_tiles(log.petition_id, log.size, new_leaves)
        LogEntry.objects.filter(signature_id__in=[pk for pk, _ in leaving]).update(leaf_index=None)
        _enter(log.petition_id, entering, first_addition)
    SignatureLog.objects.filter(petition_id=log.petition_id).update(
        size=log.size + len(new_leaves),
        additions=log.additions + len(entering),
        removals=log.removals + len(leaving),
        confirmed_through=log.confirmed_through,
        confirmed_through_id=log.confirmed_through_id,
        updated_at=timezone.now(),
    )
    return Batch(log.petition_id, len(entering), len(leaving), log.size + len(new_leaves))


def _enter(petition_id: int, rows: list[tuple[int, bytes]], first_index: int) -> None:
    """Record the signatures (id, receipt hash) whose addition leaves were just appended, from
    first_index on."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        LogEntry.objects.bulk_create(
            [
                LogEntry(
                    signature_id=pk,
                    petition_id=petition_id,
                    receipt_hash=digest,
                    leaf_hash=addition_leaf_hash(digest),
                    leaf_index=index,
                )
                for index, (pk, digest) in enumerate(rows, start=first_index)
            ],
            update_conflicts=True,
            unique_fields=["signature_id"],
            update_fields=["leaf_index"],
        )
        return
    table = connection.ops.quote_name(LogEntry._meta.db_table)
    # The hashes travel as one bytea, 32 bytes each: an array of 10,000 hashes would be quoted
    # value by value, which costs more than the INSERT. PostgreSQL makes the leaf hashes.
    insert = (
        f"INSERT INTO {table} (signature_id, petition_id, receipt_hash, leaf_hash, leaf_index) "  # noqa: S608
        "SELECT (%s::bigint[])[n], %s, digest, sha256('\\x0000'::bytea || digest), %s + n - 1 "
        "FROM (SELECT n, substring(%s::bytea FROM n * 32 - 31 FOR 32) AS digest "
        "FROM generate_series(1, %s) AS n) AS v "
        "ON CONFLICT (signature_id) DO UPDATE SET leaf_index = EXCLUDED.leaf_index"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            insert,
            [
                [pk for pk, _ in rows],
                petition_id,
                first_index,
                b"".join(digest for _, digest in rows),
                len(rows),
            ],
        )


def check_signing_key(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    """An error under production settings when the log's heads could not be signed."""
    if settings.DEBUG:
        return []
    try:
        signing_key()
    except ImproperlyConfigured as error:
        return [
            Error(
                str(error),
                hint="Make a key with `python manage.py log_key --new` and set LOG_SIGNING_KEY "
                "to it on every machine that runs Celery beat or workers.",
                id="petition.E002",
            )
        ]
    return []


def recount(petition_id: int) -> int:
    """What the stored leaves add up to, read from the tiles themselves."""
    additions = removals = 0
    for (data,) in LogTile.objects.filter(petition_id=petition_id, level=0).values_list("data"):
        kinds = bytes(data)[:: merkle.LEAF_SIZE]
        removals += kinds.count(merkle.REMOVAL)
        additions += len(kinds) - kinds.count(merkle.REMOVAL)
    return additions - removals


# Signed heads.


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    name: str

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def signing_key() -> SigningKey:
    """The site's Ed25519 key (LOG_SIGNING_KEY: base64 of the 32-byte seed). In development,
    without one, a key of this checkout is made once and kept in DEVELOPMENT_KEY_FILE."""
    seed = settings.LOG_SIGNING_KEY
    if not seed:
        if not settings.DEBUG:
            raise ImproperlyConfigured("LOG_SIGNING_KEY is not set: tree heads cannot be signed.")
        seed = _development_seed()
    try:
        raw = base64.b64decode(seed, validate=True)
        private = Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError as error:
        raise ImproperlyConfigured("LOG_SIGNING_KEY is not the base64 of 32 bytes.") from error
    return SigningKey(private, key_name())


def _development_seed() -> str:
    path = Path(settings.LOG_DEVELOPMENT_KEY_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return path.read_text().strip()


def key_name() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def origin(petition: Petition) -> str:
    return f"{key_name()}/{petition.slug}"


def trusted_keys() -> list[bytes]:
    """Public keys whose heads stay valid: the current one and those retired by rotation."""
    keys = [base64.b64decode(key) for key in settings.LOG_RETIRED_PUBLIC_KEYS]
    with contextlib.suppress(ImproperlyConfigured):
        keys.insert(0, signing_key().public)
    return keys


def period_start(moment: datetime) -> datetime:
    """The start of the head period a moment falls in: heads are no finer than that."""
    period = settings.LOG_HEAD_PERIOD_SECONDS
    seconds = int(moment.timestamp()) // period * period
    return datetime.fromtimestamp(seconds, tz=UTC)


def checkpoint(head: TreeHead) -> merkle.Checkpoint:
    return merkle.Checkpoint(
        origin=origin(head.petition),
        size=head.size,
        root=bytes(head.root_hash),
        count=head.count,
        timestamp=head.timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def sign_head(petition: Petition, *, now: datetime | None = None) -> TreeHead | None:
    """Sign a head of the petition's log for the current period, when the tree grew since the
    last head or the last head is from another day; None when there is nothing new to sign."""
    key = signing_key()
    moment = period_start(now or timezone.now())
    with transaction.atomic():
        log = SignatureLog.objects.filter(petition=petition).first()
        size = log.size if log else 0
        count = log.count if log else 0
        latest = petition.tree_heads.order_by("-timestamp").first()
        if latest is not None:
            if latest.timestamp >= moment:
                return None
            same_day = latest.timestamp.astimezone(UTC).date() == moment.date()
            if latest.size == size and same_day and bytes(latest.public_key) == key.public:
                return None
        head = TreeHead(
            petition=petition,
            size=size,
            root_hash=root_hash(petition.pk, size),
            count=count,
            timestamp=moment,
            public_key=key.public,
        )
        head.signature = key.private.sign(checkpoint(head).body())
        head.save()
        return head


def verify_head(head: TreeHead) -> None:
    """Raise merkle.ProofError unless the head is signed by one of the trusted keys."""
    if bytes(head.public_key) not in trusted_keys():
        raise merkle.ProofError("the head is signed by a key the site does not trust")
    try:
        Ed25519PublicKey.from_public_bytes(bytes(head.public_key)).verify(
            bytes(head.signature), checkpoint(head).body()
        )
    except InvalidSignature as error:
        raise merkle.ProofError("the head's signature does not verify") from error


def latest_head(petition: Petition) -> TreeHead | None:
    return petition.tree_heads.order_by("-timestamp").first()


def daily_heads(petition: Petition, *, days: int = 366) -> list[TreeHead]:
    """The last head of each day, newest first."""
    since = timezone.now() - timedelta(days=days)
    heads = petition.tree_heads.filter(timestamp__gte=since).order_by("-timestamp")
    seen: set[object] = set()
    daily = []
    for head in heads.iterator():
        day = head.timestamp.astimezone(UTC).date()
        if day not in seen:
            seen.add(day)
            daily.append(head)
    return daily


def describe(head: TreeHead) -> dict[str, object]:
    """A head as the API and the pages give it."""
    point = checkpoint(head)
    name = key_name()
    public_key = bytes(head.public_key)
    return {
        "origin": point.origin,
        "tree_size": head.size,
        "root_hash": merkle.b64(point.root),
        "timestamp": point.timestamp,
        "count": head.count,
        "signature": merkle.b64(bytes(head.signature)),
        "public_key": merkle.b64(public_key),
        "key_fingerprint": merkle.fingerprint(public_key),
        "verifier_key": merkle.verifier_key(name, public_key),
        "checkpoint": merkle.signed_note(point.body(), name, public_key, bytes(head.signature)),
    }


# Reconciliation.


def reconcile(petition_id: int) -> int:
    """Bring the log level with the count; the leaves appended.

    Removal leaves for the signatures the log counts that no longer count (withdrawn,
    invalidated, set aside as suspect, or whose row was deleted behind the site's back), and
    addition leaves for those that count and are not in the log (cleared by staff, or missed);
    then whatever the batches have not reached yet. The repair is leaves appended, visible to
    every auditor; the tree itself is never rewritten.
    """
    appended = 0
    while True:
        with transaction.atomic():
            SignatureLog.objects.get_or_create(petition_id=petition_id)
            log = _locked(petition_id)
            if log is None:
                return appended
            counted = Signature.objects.counted().filter(petition_id=petition_id)
            leaving = list(
                _in_the_log()
                .filter(petition_id=petition_id)
                .exclude(Exists(counted.filter(pk=OuterRef("signature_id"))))
                .values_list("signature_id", "receipt_hash")[:BATCH_SIZE]
            )
            # A signature that comes back keeps the receipt hash it entered with (a bulk-loaded
            # one has its hash only in its entry).
            entering = [
                (pk, known if known is not None else digest)
                for pk, digest, known in counted.exclude(
                    Exists(_in_the_log().filter(signature_id=OuterRef("pk")))
                )
                .annotate(
                    known=Subquery(
                        LogEntry.objects.filter(signature_id=OuterRef("pk")).values("receipt_hash")[
                            :1
                        ]
                    )
                )
                .values_list("pk", "receipt_hash", "known")[:BATCH_SIZE]
            ]
            if not (leaving or entering):
                break
            batch = _append(log, entering, leaving)
            appended += batch.additions + batch.removals
    if appended:
        logger.warning(
            "The public log of petition %s caught up with its count by %d leaves.",
            petition_id,
            appended,
        )
    appended += append_all(petition_id)
    state = SignatureLog.objects.get(petition_id=petition_id)
    stored = recount(petition_id)
    if stored != state.count:
        logger.error(
            "The stored leaves of petition %s add up to %d, its log says %d: the tiles were "
            "altered outside the site.",
            petition_id,
            stored,
            state.count,
        )
    return appended


# A signer's check, on the site's own page (without JavaScript; with it, the browser checks).


@dataclass(frozen=True)
class ReceiptCheck:
    """What the log says of a receipt against its latest head: where its leaf is, if counted."""

    receipt: str
    head: TreeHead | None
    index: int | None = None

    @property
    def counted(self) -> bool:
        return self.index is not None


def check_receipt(petition: Petition, receipt: str) -> ReceiptCheck:
    """Find a receipt's addition leaf in the latest head and verify its proof and the head's
    signature, as the auditor would."""
    head = latest_head(petition)
    if head is None:
        return ReceiptCheck(receipt, None)
    wanted = addition_leaf_hash(merkle.receipt_hash(receipt))
    index = leaf_index(petition.pk, wanted)
    if index is None or index >= head.size:
        return ReceiptCheck(receipt, head)
    path = inclusion_proof(petition.pk, index, head.size)
    verify_head(head)
    merkle.verify_inclusion(wanted, index, head.size, path, bytes(head.root_hash))
    return ReceiptCheck(receipt, head, index)


def catch_up_in_process(petition: Petition) -> None:
    """Without Celery beat (the embedded default), the log catches up when someone looks."""
    append_all(petition.pk)
    sign_head(petition)
