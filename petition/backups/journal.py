"""What a restore must apply again so that it never undoes a withdrawal.

A restore puts the database back as it was at an earlier moment: a signer who withdrew after
that moment would be back in the list, and in the count. So every erasure is written down here,
in the same transaction as the erasure itself, and a restore reads this journal from where it
survived (the damaged database, before it is replaced, or the database the backup replaces) and
applies it to the restored one (`reapply`).

The journal names nobody. A withdrawn signature is known by its id and a keyed hash of its id,
signing time and mailbox (`fingerprint`): only its own row, as a backup holds it, matches, and
not a later signature that happened to get the same id after a restore (ids are handed out
again from the restored sequence). A closed petition's anonymisation is one entry for the whole
petition. Entries are kept BACKUP_RETENTION_DAYS and two days more (the oldest full backup
kept may be a day older than the window it serves), then deleted by retention.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from ..models import Signature
from .models import Erasure

SALT = "petition.backups.erasure"


@dataclass(frozen=True)
class Entry:
    """An erasure as a restore carries it from one database to another."""

    kind: str
    petition_id: int
    signature_id: int | None
    fingerprint: str
    at: datetime


def fingerprint(
    signature_id: int, created_at: datetime, email_canonical: str, *, secret: str | None = None
) -> str:
    moment = created_at.astimezone(UTC).isoformat()
    value = f"{signature_id}:{moment}:{email_canonical}"
    return salted_hmac(SALT, value, secret=secret, algorithm="sha256").hexdigest()


def matches(entry: Entry, signature_id: int, created_at: datetime, email_canonical: str) -> bool:
    """Whether a row is the signature the entry erased (the secret key may have been rotated
    since: its former values count too)."""
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        mine = fingerprint(signature_id, created_at, email_canonical, secret=secret)
        if constant_time_compare(mine, entry.fingerprint):
            return True
    return False


def record_withdrawals(signatures: QuerySet[Signature]) -> None:
    """Write down the signatures about to be erased; within the erasure's transaction."""
    rows = signatures.values_list("pk", "petition_id", "created_at", "email_canonical")
    Erasure.objects.bulk_create(
        [
            Erasure(
                kind=Erasure.Kind.WITHDRAWN,
                petition_id=petition_id,
                signature_id=pk,
                fingerprint=fingerprint(pk, created_at, email),
            )
            for pk, petition_id, created_at, email in rows
        ],
        ignore_conflicts=True,
    )


def record_anonymisation(petition_id: int, *, at: datetime) -> None:
    """Write down that a petition's signatures made up to `at` were anonymised."""
    Erasure.objects.create(kind=Erasure.Kind.ANONYMISED, petition_id=petition_id, at=at)


def entries(*, since: datetime | None = None) -> list[Entry]:
    """This database's journal, oldest first."""
    rows = Erasure.objects.order_by("at", "pk")
    if since is not None:
        rows = rows.filter(at__gte=since)
    return [
        Entry(kind, petition_id, signature_id, fingerprint, at)
        for kind, petition_id, signature_id, fingerprint, at in rows.values_list(
            "kind", "petition_id", "signature_id", "fingerprint", "at"
        )
    ]


def entries_in(connection: object) -> list[Entry]:
    """The journal of another database, read through an open psycopg connection (the damaged
    database a point-in-time restore replaces)."""
    table = Erasure._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT kind, petition_id, signature_id, fingerprint, at FROM {table} ORDER BY at, id"  # noqa: S608
        )
        return [Entry(*row) for row in cursor.fetchall()]


@dataclass(frozen=True)
class Reapplied:
    withdrawn: int
    anonymised: int


def reapply(journal: Iterable[Entry]) -> Reapplied:
    """Apply erasures again to this (restored) database: each withdrawn signature whose row is
    back is erased again, each anonymised petition anonymised again up to the same moment.
    Idempotent: an erasure already in place changes nothing."""
    from .. import privacy

    withdrawn = anonymised = 0
    journal = list(journal)
    wanted = {e.signature_id: e for e in journal if e.kind == Erasure.Kind.WITHDRAWN}
    back = Signature.objects.filter(pk__in=list(wanted)).values_list(
        "pk", "created_at", "email_canonical"
    )
    for pk, created_at, email in back:
        if matches(wanted[pk], pk, created_at, email):
            withdrawn += privacy.erase(Signature.objects.filter(pk=pk))
    for entry in journal:
        if entry.kind == Erasure.Kind.ANONYMISED:
            rows = Signature.objects.filter(petition_id=entry.petition_id, created_at__lte=entry.at)
            anonymised += privacy.anonymise(rows)
            Erasure.objects.get_or_create(
                kind=entry.kind, petition_id=entry.petition_id, at=entry.at
            )
    return Reapplied(withdrawn, anonymised)


def forget_old_entries() -> int:
    """Entries older than any backup kept serve nothing: deleted by retention."""
    cutoff = timezone.now() - timedelta(days=settings.BACKUP_RETENTION_DAYS + 2)
    deleted, _ = Erasure.objects.filter(at__lt=cutoff).delete()
    return deleted
