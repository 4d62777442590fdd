"""Django-side helpers of the benchmark, run in a process of their own.

    python -m tests.bench.data counts SLUG [--email-prefix PREFIX]
    python -m tests.bench.data pending SLUG COUNT --email-prefix PREFIX

`counts` prints the petition's figures as JSON; `pending` stores COUNT signatures waiting for
confirmation and prints their confirmation links (built by the site's own code, on SITE_URL) as
a JSON list. DJANGO_SETTINGS_MODULE and DATABASE_URL come from the environment.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.settings")

import django

django.setup()

from django.utils import timezone  # noqa: E402

from petition.emails import confirmation_url  # noqa: E402
from petition.models import Petition, Signature, SigningRequest  # noqa: E402

# Reserved for documentation (RFC 2606): no message can ever reach anyone there.
DOMAIN = "example.org"


def counts(slug: str, email_prefix: str | None) -> dict[str, Any]:
    """The petition's rows, confirmed rows and stored count.

    With a prefix, also the rows whose address starts with it ("prefixed"), how many of
    those have had their confirmation e-mail sent ("sent"), and the signing requests of such
    addresses that no worker has answered yet ("requests").
    """
    petition = Petition.objects.get(slug=slug)
    signatures = Signature.objects.filter(petition=petition)
    figures: dict[str, Any] = {
        "rows": signatures.count(),
        "confirmed": signatures.confirmed().count(),
        "signature_count": petition.signature_count,
    }
    if email_prefix:
        prefixed = signatures.filter(email__startswith=email_prefix)
        figures["prefixed"] = prefixed.count()
        figures["sent"] = prefixed.filter(confirmation_sent_at__isnull=False).count()
        figures["requests"] = SigningRequest.objects.filter(
            petition=petition, email__startswith=email_prefix
        ).count()
    return figures


def pending(slug: str, count: int, email_prefix: str) -> list[str]:
    """Store count pending signatures, as if their e-mail had just left; their links."""
    petition = Petition.objects.get(slug=slug)
    now = timezone.now()
    Signature.objects.bulk_create(
        [
            Signature(
                petition=petition,
                first_name="Camille",
                last_name=f"Confirmation {index}",
                email=f"{email_prefix}{index}@{DOMAIN}",
                country="FR",
                postal_code="75011",
                language="fr",
                created_at=now,
                confirmation_sent_at=now,
            )
            for index in range(count)
        ],
        batch_size=1000,
    )
    stored = Signature.objects.filter(petition=petition, email__startswith=email_prefix)
    return [confirmation_url(signature) for signature in stored.order_by("pk")]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.data")
    commands = parser.add_subparsers(dest="command", required=True)
    counts_parser = commands.add_parser("counts")
    counts_parser.add_argument("slug")
    counts_parser.add_argument("--email-prefix")
    pending_parser = commands.add_parser("pending")
    pending_parser.add_argument("slug")
    pending_parser.add_argument("count", type=int)
    pending_parser.add_argument("--email-prefix", required=True)
    args = parser.parse_args(argv)
    if args.command == "counts":
        result: Any = counts(args.slug, args.email_prefix)
    else:
        result = pending(args.slug, args.count, args.email_prefix)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
