"""Django-side helpers of the benchmark's staff phases, run in a process of their own.

    python -m tests.bench.staff_data petition SLUG            # make a petition (if missing)
    python -m tests.bench.staff_data news-for-all SLUG        # every confirmed signer wants news
    python -m tests.bench.staff_data send SLUG                # write an update and send it
    python -m tests.bench.staff_data update ID                # where its sending stands

Each prints JSON. DJANGO_SETTINGS_MODULE and DATABASE_URL come from the environment; `send`
queues the sending on CELERY_BROKER_URL, as the admin does.
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

from django.contrib.auth import get_user_model  # noqa: E402

from petition import mailings  # noqa: E402
from petition.models import Petition, Signature, Update, UpdateDelivery  # noqa: E402


def petition(slug: str) -> dict[str, Any]:
    found, created = Petition.objects.get_or_create(
        slug=slug,
        defaults={
            "title_fr": f"Banc d'essai {slug}",
            "title_en": f"Benchmark {slug}",
            "introduction_fr": "Pétition du banc d'essai.",
            "introduction_en": "The benchmark's petition.",
        },
    )
    return {"id": found.pk, "created": created}


def news_for_all(slug: str) -> dict[str, Any]:
    signatures = Signature.objects.filter(petition__slug=slug)
    signatures.update(wants_news=True, unsubscribed_at=None)
    return {"recipients": signatures.news_recipients().count()}


def send(slug: str) -> dict[str, Any]:
    staff, _created = get_user_model().objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True, "email": "staff@example.org"}
    )
    update = Update.objects.create(
        petition=Petition.objects.get(slug=slug),
        subject_fr="Des nouvelles du manifeste",
        subject_en="News of the manifesto",
        body_fr="Nous avons remis vos signatures.\n\nMerci : https://example.org/suite",
        body_en="We handed over your signatures.\n\nThank you: https://example.org/next",
    )
    mailings.start_sending(update=update, user=staff)
    return {"id": update.pk}


def update(update_id: int) -> dict[str, Any]:
    found = Update.objects.get(pk=update_id)
    progress = mailings.progress(found)
    uncertain = list(
        UpdateDelivery.objects.filter(
            update=found, skip_reason=UpdateDelivery.SkipReason.UNCERTAIN
        ).values_list("signature__email", flat=True)
    )
    return {
        "finished": found.finished_at is not None,
        "total": progress.total,
        "sent": progress.sent,
        "pending": progress.pending,
        "in_flight": progress.in_flight,
        "skipped": progress.skipped,
        "uncertain_addresses": uncertain,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.staff_data")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("petition", "news-for-all", "send"):
        commands.add_parser(name).add_argument("slug")
    commands.add_parser("update").add_argument("id", type=int)
    args = parser.parse_args(argv)
    if args.command == "update":
        result = update(args.id)
    else:
        result = {"petition": petition, "news-for-all": news_for_all, "send": send}[args.command](
            args.slug
        )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
