"""Restoring the database, and what the site does right after (README, "Backups and restores").

A point-in-time restore (`point_in_time`) asks pgBackRest for the database as it was at a
moment, into an empty directory: the running database is never written over. Once that cluster
is started and DATABASE_URL names it, `finish` makes the restored database tell the truth again:

- erasures made after the restored moment are applied again (petition.backups.journal), read
  from the damaged database when it can still be read, or from the journal the restored
  database holds itself;
- the public log is carried forward: the damaged database's log, which already published heads
  past the restored moment, replaces the restored one (after checking that it extends it leaf
  for leaf), and the site then appends what differs, as leaves: the signatures that count again
  come back, those lost with the moments after the target leave. The log stays append-only, and
  every head ever published stays consistent with the next one;
- every count is recounted, the log reconciled with it, and a head signed.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from .. import counting, log
from ..models import LogEntry, LogTile, Petition, SignatureLog, TreeHead
from . import journal


class RestoreRefused(Exception):
    """A restore that was not done, and why: nothing was changed."""


# Point-in-time restores (pgBackRest).


@dataclass(frozen=True)
class Window:
    """The moments a stanza's backups can be restored to."""

    earliest: datetime
    latest: datetime
    backups: int


def pgbackrest(*args: str, stanza: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        ["pgbackrest", f"--stanza={stanza}", *args],  # noqa: S607
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )


def repository_problem(info: dict) -> str:
    """What pgBackRest's `info` says is wrong with a stanza's repository, in one line."""
    if info.get("status", {}).get("code", 0) == 0:
        return ""
    said = [r["status"]["message"] for r in info.get("repo", []) if r["status"]["code"]]
    return (said or [info["status"].get("message", "")])[0].splitlines()[0]


def window(*, stanza: str) -> Window:
    """From the first good backup's end to now: the write-ahead log is archived continuously
    from there. Raises RestoreRefused when the repository cannot be read (a missing or wrong
    encryption key, an unknown stanza)."""
    answer = pgbackrest("--output=json", "info", stanza=stanza)
    try:
        info = json.loads(answer.stdout)[0]
    except (ValueError, IndexError) as error:
        raise RestoreRefused(
            f"pgBackRest could not read the backups of stanza {stanza!r}: "
            f"{answer.stderr.strip() or answer.stdout.strip()}"
        ) from error
    if problem := repository_problem(info):
        raise RestoreRefused(
            f"pgBackRest could not read the backups of stanza {stanza!r}: {problem} (a wrong "
            "or missing repo1-cipher-pass makes the repository unreadable)."
        )
    good = [b for b in info.get("backup", []) if not b.get("error")]
    if not good:
        raise RestoreRefused(f"Stanza {stanza!r} has no good backup to restore.")
    earliest = datetime.fromtimestamp(good[0]["timestamp"]["stop"], tz=UTC)
    return Window(earliest=earliest, latest=timezone.now(), backups=len(good))


def point_in_time(*, target: datetime, into: Path, stanza: str) -> Window:
    """Restore the stanza's database as it was at `target` into the empty directory `into`,
    set to stop there and be promoted; start it with pg_ctl. Nothing else is touched."""
    if target.tzinfo is None:
        raise RestoreRefused("Give the target time with its time zone, e.g. 2026-12-07T02:31:00Z.")
    if into.exists() and any(into.iterdir()):
        raise RestoreRefused(
            f"{into} is not empty: a restore goes into a new directory, never over a database."
        )
    span = window(stanza=stanza)
    if not span.earliest <= target <= span.latest:
        raise RestoreRefused(
            f"{target.isoformat()} is outside what the backups cover: from "
            f"{span.earliest.isoformat()} to now ({span.latest.isoformat()})."
        )
    made = not into.exists()
    into.mkdir(mode=0o700, parents=True, exist_ok=True)
    answer = pgbackrest(
        f"--pg1-path={into}",
        "--type=time",
        f"--target={target.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S.%f+00')}",
        "--target-action=promote",
        "restore",
        stanza=stanza,
    )
    if answer.returncode != 0:
        if made:
            shutil.rmtree(into, ignore_errors=True)
        elif into.exists():
            for child in into.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise RestoreRefused(f"pgBackRest could not restore: {answer.stderr.strip()}")
    return span


# After a restore.


@dataclass
class Finished:
    withdrawn_again: int = 0
    anonymised_again: int = 0
    log_carried: bool = False
    leaves_appended: int = 0
    counts: dict[str, int] = field(default_factory=dict)


LOG_MODELS = (SignatureLog, LogTile, LogEntry, TreeHead)


def finish(
    *, damaged_url: str | None = None, journal_entries: list[journal.Entry] | None = None
) -> Finished:
    """Make the restored database (this site's) tell the truth again; see the module's doc.

    The erasures to apply again come from the damaged database when it is given, else from
    `journal_entries` (read before a restore replaced the database), else from the restored
    database's own journal."""
    done = Finished()
    entries = journal_entries
    if damaged_url:
        with psycopg.connect(damaged_url) as damaged:
            entries = journal.entries_in(damaged)
            _carry_log_forward(damaged)
            done.log_carried = True
    if entries is None:
        entries = journal.entries()
    sizes = dict(SignatureLog.objects.values_list("petition_id", "size"))
    reapplied = journal.reapply(entries)
    done.withdrawn_again, done.anonymised_again = reapplied.withdrawn, reapplied.anonymised
    for petition in Petition.objects.order_by("pk"):
        counting.reconcile(petition.pk)
        log.reconcile(petition.pk)
        with contextlib.suppress(ImproperlyConfigured):
            # Without the log's key on this machine, beat signs the next head.
            log.sign_head(petition)
        petition.refresh_from_db()
        done.counts[petition.slug] = petition.signature_count
    # Leaves appended since the log was carried forward (or restored), by the erasures' own
    # reconciliation too.
    for petition_id, size in SignatureLog.objects.values_list("petition_id", "size"):
        done.leaves_appended += size - sizes.get(petition_id, 0)
    return done


def _columns(model: type) -> str:
    return ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields)


def _root_or_none(petition_id: int, size: int) -> bytes | None:
    try:
        return log.root_hash(petition_id, size)
    except log.LogCorrupted:
        return None


def _carry_log_forward(damaged: psycopg.Connection) -> None:
    """Replace this database's log by the damaged database's, which must extend it leaf for
    leaf: else it is another site's, or another restore's, and nothing is changed."""
    if connection.vendor != "postgresql":
        raise RestoreRefused("Carrying the public log forward needs PostgreSQL on both sides.")
    petitions = list(Petition.objects.values_list("pk", flat=True))
    before = {
        pk: (size, log.root_hash(pk, size))
        for pk, size in SignatureLog.objects.values_list("petition_id", "size")
    }
    with transaction.atomic(), connection.cursor() as cursor:
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in LOG_MODELS)
        cursor.execute(f"TRUNCATE {tables}")
        for model in LOG_MODELS:
            table = connection.ops.quote_name(model._meta.db_table)
            columns = _columns(model)
            source = f"COPY (SELECT {columns} FROM {table} WHERE petition_id = ANY(%s)) TO STDOUT"  # noqa: S608
            with (
                damaged.cursor() as reading,
                reading.copy(source, [petitions]) as out,
                cursor.connection.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as into,
            ):
                for chunk in out:
                    into.write(chunk)
        for sql in connection.ops.sequence_reset_sql(no_style(), [LogTile, TreeHead]):
            cursor.execute(sql)
        after = dict(SignatureLog.objects.values_list("petition_id", "size"))
        for pk, (size, root) in before.items():
            if after.get(pk, 0) < size or _root_or_none(pk, size) != root:
                raise RestoreRefused(
                    "The damaged database's public log does not extend the restored one: it is "
                    "not this site's database, or not the one this backup was taken from. "
                    "Nothing was changed."
                )
