"""Load or refresh the députés a petition asks to act, from the Assemblée nationale's list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations
from django.db import transaction

from petition.advocacy.deputies import DeputiesFileError, import_deputies, read_deputies_file
from petition.models import Petition


class Command(BaseCommand):
    """Read FILE (the format of petition/advocacy/data/fr-deputies-2025-03.csv) whole, then add
    the députés it lists to the petition's targets, change those whose details changed, and
    retire (never delete) those it no longer lists. A row that cannot be read is reported with
    its line number, and nothing is imported."""

    help = (
        "Load or refresh the députés of a petition from FILE, a CSV with the columns nom, "
        "region, departement, email, groupe, circonscription; report who was added, changed "
        "and retired."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV file")
        parser.add_argument(
            "--petition",
            default=settings.HOME_PETITION_SLUG,
            metavar="SLUG",
            help="the petition they are asked to act on (default: the campaign's own)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would change, change nothing"
        )

    # Operators read English, as in the site's other commands.
    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        petition = Petition.objects.filter(slug=options["petition"]).first()
        if petition is None:
            raise CommandError(f"No petition has the slug {options['petition']!r}.")
        try:
            content = options["file"].read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {options['file']}: {error.strerror}.") from error
        try:
            rows = read_deputies_file(content)
        except DeputiesFileError as error:
            raise CommandError("\n".join(["Nothing was imported.", *error.problems])) from error
        with transaction.atomic():
            report = import_deputies(petition=petition, rows=rows)
            if options["dry_run"]:
                transaction.set_rollback(True)
        if options["verbosity"] >= 1:
            for line in report.lines():
                self.stdout.write(line)
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was changed.")
