"""Make the dossier staff hand to députés: a PDF for one, a ZIP of one PDF per député for a
département or for all of them."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations

from petition.advocacy import dossier
from petition.advocacy.places import AREAS
from petition.models import Petition


class Command(BaseCommand):
    """A député's dossier (manifesto, proposals, counts, signatures per day, the signers of the
    circonscription without contact data) as a PDF in French; for a département or all the
    députés, a ZIP of one PDF each, written as it goes in constant memory. For operators: it
    checks no permission, like export_signatures."""

    help = (
        "Write the dossier of the petition SLUG for one député (--depute ADDRESS: a PDF), one "
        "département (--departement CODE) or every député (--all): a ZIP of one PDF each."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the petition's slug")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--depute", metavar="ADDRESS", help="the député's public address")
        which.add_argument("--departement", metavar="CODE", help="a département: 69, 2A, 971…")
        which.add_argument("--all", action="store_true", help="every député in office")
        parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")

    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        petition = Petition.objects.filter(slug=options["slug"]).first()
        if petition is None:
            raise CommandError(f"No petition has the slug {options['slug']!r}.")
        departement = (options["departement"] or "").upper()
        if departement and departement not in AREAS:
            raise CommandError(f"No département has the code {options['departement']!r}.")
        targets = dossier.deputies(petition, departement=departement, email=options["depute"] or "")
        if not targets.exists():
            raise CommandError("No député in office matches.")
        campaign = dossier.Campaign.of(petition)
        started = time.monotonic()
        with options["output"].open("wb") as out:
            if options["depute"]:
                count = dossier.write_pdf(campaign, targets.get(), out)
                self.stdout.write(f"1 PDF, {count} signers, in {time.monotonic() - started:.1f} s.")
                return
            total = targets.count()
            for done, _deputy in enumerate(dossier.write_zip(campaign, targets.iterator(), out), 1):
                if sys.stderr.isatty():
                    sys.stderr.write(f"\r{done}/{total} PDFs")
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        self.stdout.write(f"{total} PDFs in a ZIP, in {time.monotonic() - started:.1f} s.")
