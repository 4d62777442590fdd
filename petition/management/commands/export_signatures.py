"""Write a petition's signatures as CSV, for staff to hand over."""

from __future__ import annotations

import codecs
import gc
import getpass
import sys
import time
import zoneinfo
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.checks import Tags
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from petition import export
from petition.models import ExportRecord, Petition, Signature, SignatureStatus

STATUSES = [*SignatureStatus.values, "all"]


def parse_since(text: str) -> datetime:
    """A date (midnight, the site's time) or an ISO 8601 date and time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--since takes a date such as 2026-03-01, not {text!r}.") from error
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    return moment


class Command(BaseCommand):
    """Export the signatures of a petition as CSV: UTF-8 with a byte order mark, formulas
    neutralised, streamed in constant memory (PostgreSQL's COPY writes it) to a file or to
    standard output. Every export is written to the audit log that staff read in the admin.

    This command is for operators, who have shell access to the site and its database anyway:
    it checks no permission. In the admin, exports need the "Can export signatures" permission.
    """

    # An export needs the models right; the site's other checks (URLs, templates, admin) run
    # with every other command and at deployment, and would only delay the first row.
    requires_system_checks = [Tags.models]
    help = (
        "Write the signatures of the petition SLUG (by default the confirmed ones) as CSV, UTF-8 "
        "with a byte order mark for Excel, to FILE or to standard output. For operators with "
        "shell access; each export is recorded in the audit log shown in the admin."
    )

    def run_from_argv(self, argv: list[str]) -> None:
        super().run_from_argv(argv)
        # Only the command line comes here, and its process ends with the export. On the way
        # out, Python's collector would walk every object left from Django's start-up, a tenth
        # of a second; none has anything left to do (the file is closed, the audit log written,
        # the connection closed), so the collector is told to leave them to the exit.
        gc.freeze()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the petition's slug")
        parser.add_argument(
            "-o", "--output", type=Path, metavar="FILE", help="where to write (default: stdout)"
        )
        parser.add_argument(
            "--delimiter",
            choices=export.DELIMITERS,
            default=",",
            help='"," (default) or ";" for spreadsheets set up for French',
        )
        parser.add_argument(
            "--status",
            choices=STATUSES,
            default=SignatureStatus.CONFIRMED,
            help="which signatures: confirmed (default), pending, unsubscribed, suppressed "
            "(address bouncing or complaining) or all",
        )
        parser.add_argument(
            "--since",
            type=parse_since,
            metavar="DATE",
            help="only signatures made on or after DATE (2026-03-01, the site's time zone, or "
            "an ISO 8601 date and time)",
        )
        parser.add_argument(
            "--format",
            choices=export.Variant.values,
            default=export.Variant.FULL,
            help="full (default): every column; officials: names, postal code (in France) or "
            "country, and date, without contact data, to hand signatures over",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str = options["slug"]
        output: Path | None = options["output"]
        since: datetime | None = options["since"]
        petition = Petition.objects.filter(slug=slug).first()
        if petition is None:
            known = ", ".join(Petition.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(f'No petition has the slug "{slug}". Known: {known or "none"}.')

        signatures = Signature.objects.filter(petition=petition).with_status(options["status"])
        if since is not None:
            signatures = signatures.filter(created_at__gte=since)
        show_progress = sys.stderr.isatty()
        total = signatures.count() if show_progress else None
        started = time.monotonic()
        record, stream, chunks = export.start(
            signatures,
            user=None,
            username=f"{self.operator()} (command line)",
            source=ExportRecord.Source.COMMAND,
            petition=petition,
            filters=export.describe(
                status=options["status"],
                since=since.isoformat() if since else None,
            ),
            variant=options["format"],
            delimiter=options["delimiter"],
        )
        if show_progress:
            chunks = self.with_progress(chunks, stream, total or 0)
        if output is None:
            self.write_to_stdout(chunks)
            return
        with output.open("wb") as file:
            self.write_to(file, chunks)
        self.stdout.write(
            self.style.SUCCESS(
                f'Wrote {record.rows:,} signatures ({options["status"]}) of "{slug}" to {output} '
                f"in {time.monotonic() - started:.1f} s."
            )
        )

    @staticmethod
    def operator() -> str:
        try:
            return getpass.getuser()
        except (KeyError, OSError):  # no user name in the environment nor in passwd
            return "unknown"

    @staticmethod
    def write_to(file: BinaryIO, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            file.write(chunk)

    def write_to_stdout(self, chunks: Iterable[bytes]) -> None:
        # The CSV is UTF-8 whatever the terminal's locale says, so bytes go out when the
        # stream has a byte layer underneath (a real stdout does; a StringIO does not).
        binary = getattr(self.stdout, "buffer", None)
        if binary is None:
            decoder = codecs.getincrementaldecoder("utf-8")()
            for chunk in chunks:
                self.stdout.write(decoder.decode(chunk), ending="")
            return
        self.stdout.flush()
        self.write_to(binary, chunks)
        binary.flush()

    @staticmethod
    def with_progress(
        chunks: Iterable[bytes], stream: export.SignatureExport, total: int
    ) -> Iterable[bytes]:
        """Pass the chunks on, drawing a progress bar on the terminal (standard error)."""
        width, shown = 30, 0.0

        def draw() -> None:
            done = min(stream.rows, total)
            filled = width * done // total if total else width
            percent = 100 * done // total if total else 100
            bar = "#" * filled + "-" * (width - filled)
            sys.stderr.write(f"\r[{bar}] {done:,} / {total:,} rows {percent:3d}%")
            sys.stderr.flush()

        for chunk in chunks:
            yield chunk
            if time.monotonic() - shown > 0.2:
                draw()
                shown = time.monotonic()
        draw()
        sys.stderr.write("\n")
