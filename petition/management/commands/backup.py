"""python manage.py backup [--output FILE] [--new-key]: an encrypted backup of the database."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from petition.backups import files
from petition.backups.restore import RestoreRefused


class Command(BaseCommand):
    help = (
        "Write an encrypted backup of the database (a consistent copy, taken while the site "
        "runs) into BACKUP_DIR, or --output. For the embedded default and small installations; "
        "production backs up continuously with pgBackRest (README, Backups and restores)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, help="the file to write")
        parser.add_argument(
            "--new-key", action="store_true", help="print a new BACKUP_ENCRYPTION_KEY and stop"
        )

    def handle(
        self, *args: object, output: Path | None = None, new_key: bool = False, **options: object
    ) -> None:
        if new_key:
            self.stdout.write(f"BACKUP_ENCRYPTION_KEY={files.new_key()}")
            self.stderr.write(
                "Keep a copy away from this machine and its backups: without it no backup can "
                "be read."
            )
            return
        started = time.monotonic()
        try:
            path = files.write(output=output)
        except RestoreRefused as error:
            raise CommandError(str(error)) from error
        size = path.stat().st_size
        self.stdout.write(
            f"Backup written to {path} ({size:,} bytes, {time.monotonic() - started:.1f} s). "
            "It holds the signers' data: keep it off this machine, and no longer than "
            "BACKUP_RETENTION_DAYS."
        )
