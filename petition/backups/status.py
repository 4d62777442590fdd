"""How old the last good backup is: `manage.py backup_status`, for monitoring."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from . import files
from .restore import pgbackrest, repository_problem


@dataclass(frozen=True)
class Status:
    where: str
    last_good: datetime | None
    problem: str = ""

    @property
    def age(self) -> timedelta | None:
        return None if self.last_good is None else timezone.now() - self.last_good

    @property
    def fresh(self) -> bool:
        limit = timedelta(hours=settings.BACKUP_MAX_AGE_HOURS)
        return not self.problem and self.age is not None and self.age <= limit


def current() -> Status:
    """The last good backup: pgBackRest's (BACKUP_STANZA), else manage.py backup's files."""
    if settings.BACKUP_STANZA:
        return _pgbackrest(settings.BACKUP_STANZA)
    found = files.newest()
    where = f"files in {settings.BACKUP_DIR}"
    if found is None:
        return Status(where, None, "no backup file there")
    return Status(f"{where} ({found[0].name})", found[1])


def _pgbackrest(stanza: str) -> Status:
    where = f"pgBackRest stanza {stanza}"
    try:
        answer = pgbackrest("--output=json", "info", stanza=stanza)
    except OSError as error:
        return Status(where, None, f"pgbackrest cannot run: {error.strerror}")
    try:
        info = json.loads(answer.stdout)[0]
    except (ValueError, IndexError):
        return Status(where, None, answer.stderr.strip() or "pgbackrest info answered nothing")
    good = [b["timestamp"]["stop"] for b in info.get("backup", []) if not b.get("error")]
    last = datetime.fromtimestamp(max(good), tz=UTC) if good else None
    if problem := repository_problem(info):
        return Status(where, last, problem)
    return Status(where, last, "" if good else "no good backup")
