"""python manage.py restore FILE | --to TIME --into DIR | --finish [--damaged URL]"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from petition.backups import files, restore
from petition.backups.restore import Finished, RestoreRefused


class Command(BaseCommand):
    help = (
        "Restore the database. FILE: a backup made by `manage.py backup`, put back in place of "
        "the current database. --to TIME --into DIR: pgBackRest's point-in-time restore of "
        "production's database into a new, empty data directory (the running database is not "
        "touched); start it, point DATABASE_URL at it, then run --finish. --finish [--damaged "
        "URL]: apply again the erasures made after the restored moment, carry the public log "
        "forward from the damaged database, recount. Whatever is refused changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("file", nargs="?", type=Path, help="a backup made by manage.py backup")
        mode.add_argument("--to", help="the moment to restore, with its zone: 2026-12-07T02:31Z")
        mode.add_argument("--finish", action="store_true", help="after a point-in-time restore")
        parser.add_argument("--into", type=Path, help="an empty data directory (with --to)")
        parser.add_argument("--stanza", default="", help="pgBackRest's stanza (BACKUP_STANZA)")
        parser.add_argument(
            "--damaged", default="", help="with --finish: the database URL of the damaged one"
        )

    def handle(self, *args: object, **options: object) -> None:
        started = time.monotonic()
        try:
            if options["file"]:
                header, done = files.restore(options["file"])
                self.stdout.write(
                    f"Restored the backup of {header.made_at.isoformat()} "
                    f"({time.monotonic() - started:.1f} s)."
                )
                self._report(done)
            elif options["to"]:
                self._point_in_time(options)
                self.stdout.write(f"Restored in {time.monotonic() - started:.1f} s.")
            else:
                done = restore.finish(damaged_url=options["damaged"] or None)
                self._report(done)
        except RestoreRefused as error:
            raise CommandError(str(error)) from error

    def _point_in_time(self, options: dict) -> None:
        stanza = options["stanza"] or settings.BACKUP_STANZA
        if not stanza:
            raise RestoreRefused("Name pgBackRest's stanza: --stanza, or BACKUP_STANZA.")
        if not options["into"]:
            raise RestoreRefused("Say where to restore: --into, a new data directory.")
        try:
            target = datetime.fromisoformat(options["to"])
        except ValueError as error:
            raise RestoreRefused(
                f"{options['to']!r} is not a moment: write it as 2026-12-07T02:31:00Z."
            ) from error
        span = restore.point_in_time(target=target, into=options["into"], stanza=stanza)
        self.stdout.write(
            f"Restored stanza {stanza} as of {target.isoformat()} into {options['into']} "
            f"(from {span.backups} good backups, since {span.earliest.isoformat()}). Start it "
            "(pg_ctl start -D …); it replays the archived write-ahead log to that moment and "
            "opens. Then, with DATABASE_URL pointing at it: manage.py restore --finish "
            "--damaged <the damaged database's URL, if it can still be read>."
        )

    def _report(self, done: Finished) -> None:
        self.stdout.write(
            f"Erasures applied again: {done.withdrawn_again} withdrawn signatures, "
            f"{done.anonymised_again} anonymised. Public log "
            f"{'carried forward from the damaged database' if done.log_carried else 'as restored'}"
            f", {done.leaves_appended} leaves appended."
        )
        for slug, count in done.counts.items():
            self.stdout.write(f"{slug}: {count:,} signatures counted.")
