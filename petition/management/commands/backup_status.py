"""python manage.py backup_status: fails when the last good backup is older than a day."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from petition.backups import status


class Command(BaseCommand):
    help = (
        "Say when the last good backup was taken; exit with status 1 when there is none, or it "
        "is older than BACKUP_MAX_AGE_HOURS (24): for monitoring."
    )

    def handle(self, *args: object, **options: object) -> None:
        now = status.current()
        if now.last_good is None:
            raise CommandError(f"No good backup ({now.where}): {now.problem}.")
        hours = now.age.total_seconds() / 3600
        said = f"Last good backup {now.last_good.isoformat()}, {hours:.1f} h ago ({now.where})"
        if now.problem:
            raise CommandError(f"{said}, but: {now.problem}.")
        if not now.fresh:
            raise CommandError(
                f"{said}: older than BACKUP_MAX_AGE_HOURS ({settings.BACKUP_MAX_AGE_HOURS:g})."
            )
        self.stdout.write(f"{said}.")
