"""Write a petition's confirmed signatures as CSV, for staff to hand over."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from petition.export import DELIMITERS, signature_csv_lines
from petition.models import Petition, Signature


class Command(BaseCommand):
    """Export the confirmed signatures of a petition as CSV: UTF-8 with a byte order mark,
    formulas neutralised, streamed in constant memory to a file or to standard output."""

    help = (
        "Write the confirmed signatures of the petition SLUG as CSV (UTF-8 with a byte order "
        "mark, for Excel) to FILE, or to standard output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the petition's slug")
        parser.add_argument(
            "-o", "--output", type=Path, metavar="FILE", help="where to write (default: stdout)"
        )
        parser.add_argument(
            "--delimiter",
            choices=DELIMITERS,
            default=",",
            help='"," (default) or ";" for spreadsheets set up for French',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str = options["slug"]
        output: Path | None = options["output"]
        petition = Petition.objects.filter(slug=slug).first()
        if petition is None:
            known = ", ".join(Petition.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(f'No petition has the slug "{slug}". Known: {known or "none"}.')

        started = time.monotonic()
        lines = signature_csv_lines(petition, delimiter=options["delimiter"])
        if output is None:
            self.write_to_stdout(lines)
            return
        with output.open("w", encoding="utf-8", newline="") as file:
            file.writelines(lines)
        count = Signature.objects.confirmed().filter(petition=petition).count()
        self.stdout.write(
            self.style.SUCCESS(
                f'Wrote {count:,} confirmed signatures of "{slug}" to {output} '
                f"in {time.monotonic() - started:.1f} s."
            )
        )

    def write_to_stdout(self, lines: Iterable[str]) -> None:
        # The CSV is UTF-8 whatever the terminal's locale says, so bytes go out when the
        # stream has a byte layer underneath (a real stdout does; a StringIO does not).
        binary = getattr(self.stdout, "buffer", None)
        if binary is None:
            for text in lines:
                self.stdout.write(text, ending="")
            return
        self.stdout.flush()
        for text in lines:
            binary.write(text.encode())
        binary.flush()
