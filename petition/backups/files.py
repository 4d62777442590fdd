"""`manage.py backup` and `restore FILE`: the embedded default's backups, and small
installations' on PostgreSQL.

A backup is one file: a dump made by django-dbbackup's connector for the database (SQLite's
online backup API, a consistent copy of a live database; pg_dump on PostgreSQL), behind a header
that says which site made it, when and from which engine, the whole encrypted and authenticated
with BACKUP_ENCRYPTION_KEY (Fernet: AES-128-CBC and HMAC-SHA256). The file is read whole in
memory: this is for databases of up to some hundreds of thousands of signatures; production's
continuous backups are pgBackRest's (deploy/pgbackrest/).

It protects against a lost or damaged database file and a mistake, back to the last backup
taken; everything after that backup is lost but the erasures (petition.backups.journal). It does
not protect against losing the key, nor against a backup kept on the same disk as the database.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from dbbackup.db.base import BaseDBConnector, get_connector
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from . import journal
from .restore import Finished, RestoreRefused, finish

MAGIC = b"CAMELEON-PETITION-BACKUP 1\n"
SUFFIX = ".backup"


def new_key() -> str:
    return Fernet.generate_key().decode()


def _fernet() -> Fernet:
    if not settings.BACKUP_ENCRYPTION_KEY:
        raise RestoreRefused(
            "BACKUP_ENCRYPTION_KEY is not set: backups are always encrypted. Make a key with "
            "`python manage.py backup --new-key` and keep a copy away from this machine."
        )
    try:
        return Fernet(settings.BACKUP_ENCRYPTION_KEY.encode())
    except ValueError as error:
        raise RestoreRefused(
            "BACKUP_ENCRYPTION_KEY is not a key made by `python manage.py backup --new-key`."
        ) from error


def _connector() -> BaseDBConnector:
    return get_connector("default")


@dataclass(frozen=True)
class Header:
    site: str
    engine: str
    made_at: datetime


def write(*, directory: Path | None = None, output: Path | None = None) -> Path:
    """Make a backup of the database; the path of the file written (mode 0600)."""
    fernet = _fernet()
    made_at = timezone.now()
    header = {
        "site": settings.SITE_URL,
        "engine": connection.vendor,
        "made_at": made_at.isoformat(),
    }
    with _connector().create_dump() as dump:
        dump.seek(0)
        payload = json.dumps(header).encode() + b"\n" + dump.read()
    if output is None:
        directory = Path(directory or settings.BACKUP_DIR)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        output = directory / f"petition-{made_at:%Y%m%d-%H%M%S}{SUFFIX}"
    partial = output.with_name(output.name + ".part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(MAGIC + fernet.encrypt(payload))
        file.flush()
        os.fsync(file.fileno())
    partial.replace(output)
    return output


def read(path: Path) -> tuple[Header, bytes]:
    """Open a backup: its header and dump, or RestoreRefused saying why not."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise RestoreRefused(f"Cannot read {path}: {error.strerror}.") from error
    if not content.startswith(MAGIC):
        raise RestoreRefused(f"{path} is not a backup made by `manage.py backup`.")
    try:
        payload = _fernet().decrypt(content[len(MAGIC) :])
    except InvalidToken as error:
        raise RestoreRefused(
            f"{path} cannot be decrypted with BACKUP_ENCRYPTION_KEY: a wrong key, or a file "
            "altered or cut short."
        ) from error
    first, _, dump = payload.partition(b"\n")
    fields = json.loads(first)
    header = Header(fields["site"], fields["engine"], datetime.fromisoformat(fields["made_at"]))
    return header, dump


def restore(path: Path) -> tuple[Header, Finished]:
    """Put the database back as the backup has it, then apply again the erasures made since
    and recount (restore.finish). Checks everything before touching the database."""
    header, dump = read(path)
    if header.site != settings.SITE_URL:
        raise RestoreRefused(
            f"{path} is a backup of {header.site}, not of this site ({settings.SITE_URL}). "
            "To move a site on purpose, set SITE_URL to the backup's first."
        )
    if header.engine != connection.vendor:
        raise RestoreRefused(
            f"{path} is a backup of a {header.engine} database; this site uses {connection.vendor}."
        )
    try:
        since = journal.entries(since=header.made_at)
    except DatabaseError:
        since = []  # A new, empty database: nothing was erased there.
    connection.close()
    # pg_restore reads its standard input from a real file.
    with tempfile.TemporaryFile() as file:
        file.write(dump)
        file.seek(0)
        _connector().restore_dump(file)
    connection.close()
    return header, finish(journal_entries=since)


def newest(directory: Path | None = None) -> tuple[Path, datetime] | None:
    """The newest backup file in the directory, and when it was written."""
    found = sorted(
        (p.stat().st_mtime, p) for p in Path(directory or settings.BACKUP_DIR).glob(f"*{SUFFIX}")
    )
    if not found:
        return None
    mtime, path = found[-1]
    return path, datetime.fromtimestamp(mtime, tz=timezone.get_current_timezone())
