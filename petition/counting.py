"""Running signature counts, kept by Celery so that neither signing nor reading waits on them.

Confirming a signature only sets its `confirmed_at`: no shared row is updated in the request and
no page ever counts rows. Every second, `fold` brings each petition's stored count up to date in
one aggregate query and one UPDATE:

    signature_count = settled_count + confirmations after counted_until

`settled_count` holds the confirmations up to `counted_until`, a watermark kept SETTLE_AFTER
behind the clock. Confirmations younger than that are counted afresh at every fold, so one whose
transaction commits late (its `confirmed_at` is taken before the commit) still enters the count;
only older ones are folded into `settled_count` for good. A fold is a pure function of the rows
and the watermark, so running it twice never counts twice, and an advisory lock keeps two copies
from doing the same work at once. `reconcile` recounts everything, repairs and reports drift.

Sheets of paper signatures counted by their number alone (petition.paper) have no rows:
`reconcile`, which the count task runs after every import or undoing, puts their total in
`settled_count`, where every fold keeps it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import OperationalError, connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from psycopg.errors import LockNotAvailable

from .models import PaperImport, Petition, Signature, Source

logger = logging.getLogger(__name__)

SETTLE_AFTER = timedelta(seconds=60)
# First key of the PostgreSQL advisory locks this module takes; the second is the petition id.
LOCK_NAMESPACE = 0x5167
TABLE_LOCK_TIMEOUT = "500ms"


@dataclass(frozen=True)
class Tally:
    """A petition's count as one fold or reconciliation left it."""

    petition_id: int
    signature_count: int
    drift: int = 0


def _lock(petition_id: int, *, wait: bool) -> bool:
    """Take this transaction's lock on a petition's count; without wait, False if it is held.

    Once it holds the lock, the transaction also stops waiting for table locks after
    TABLE_LOCK_TIMEOUT: when a migration or a bulk operation holds a whole table, a count gives
    up (busy_tables) and the next one tries again, rather than queue or deadlock behind it.
    """
    if connection.vendor != "postgresql":
        return True  # SQLite serialises writers by itself.
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)::text", [LOCK_NAMESPACE, petition_id])
        locked = cursor.fetchone()[0] != "false"
        if locked:
            cursor.execute(f"SET LOCAL lock_timeout = '{TABLE_LOCK_TIMEOUT}'")
    return locked


def busy_tables(error: OperationalError) -> bool:
    return isinstance(error.__cause__, LockNotAvailable)


def _store(petition: Petition, *, settled: int, until: datetime | None, total: int) -> None:
    changes = {"settled_count": settled, "counted_until": until, "signature_count": total}
    if total != petition.signature_count:
        changes["count_updated_at"] = timezone.now()
    Petition.objects.filter(pk=petition.pk).update(**changes)


def fold(petition_id: int, *, wait: bool = False) -> Tally | None:
    """Bring one petition's stored count up to date.

    Without wait, a fold that finds another one at work leaves it alone and returns None: the
    next second's fold sees whatever that one missed. With wait, it queues behind the other
    one, for a caller that needs its own confirmation counted when it returns.
    """
    with transaction.atomic():
        if not _lock(petition_id, wait=wait):
            return None
        petition = Petition.objects.filter(pk=petition_id).first()
        if petition is None:
            return None
        horizon = timezone.now() - SETTLE_AFTER
        since = petition.counted_until
        recent = Signature.objects.counted().filter(petition_id=petition_id)
        if since is not None:
            recent = recent.filter(confirmed_at__gt=since)
            horizon = max(horizon, since)
        figures = recent.aggregate(
            total=Count("pk"), settling=Count("pk", filter=Q(confirmed_at__lte=horizon))
        )
        settled = petition.settled_count if since is not None else 0
        total = settled + figures["total"]
        _store(petition, settled=settled + figures["settling"], until=horizon, total=total)
        return Tally(petition_id, total)


def reconcile(petition_id: int) -> Tally | None:
    """Recount a petition from scratch; log and repair any drift from the running count."""
    with transaction.atomic():
        _lock(petition_id, wait=True)
        petition = Petition.objects.filter(pk=petition_id).first()
        if petition is None:
            return None
        horizon = timezone.now() - SETTLE_AFTER
        figures = (
            Signature.objects.counted()
            .filter(petition_id=petition_id)
            .aggregate(total=Count("pk"), settled=Count("pk", filter=Q(confirmed_at__lte=horizon)))
        )
        untyped = untyped_count(petition_id)
        total = figures["total"] + untyped
        # What a fold would show now, measured against the truth; a sheet counted or undone
        # since the last reconciliation is no drift.
        expected = fold_view(petition, horizon) - petition.untyped_paper_count + untyped
        drift = total - expected
        if drift:
            logger.warning(
                "Signature count of petition %s drifted by %+d; repaired to %d.",
                petition.slug,
                drift,
                total,
            )
        _store(petition, settled=figures["settled"] + untyped, until=horizon, total=total)
        typed = Signature.objects.counted().filter(petition_id=petition_id, source=Source.PAPER)
        paper = typed.count() + untyped
        if (paper, untyped) != (petition.paper_count, petition.untyped_paper_count):
            Petition.objects.filter(pk=petition_id).update(
                paper_count=paper, untyped_paper_count=untyped
            )
        return Tally(petition_id, total, drift)


def untyped_count(petition_id: int) -> int:
    """The signatures of a petition's paper sheets that were counted without being typed in."""
    standing = PaperImport.objects.standing().filter(petition_id=petition_id)
    return standing.aggregate(n=Sum("count_alone"))["n"] or 0


def fold_view(petition: Petition, horizon: datetime) -> int:
    """The count a fold would store now, from the petition's own bookkeeping."""
    if petition.counted_until is None:
        return petition.signature_count
    recent = Signature.objects.counted().filter(
        petition_id=petition.pk, confirmed_at__gt=petition.counted_until
    )
    return petition.settled_count + recent.count()
