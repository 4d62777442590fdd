"""Confirmed signatures per circonscription, computed by Celery with the other figures
(petition.figures) and read by the public page of decision-makers.

A signer's circonscription is the one they chose, else unknown: a postal code tells only the
département. Only where the département elects a single député does the postal code tell the
circonscription too. Circonscriptions with fewer than FIGURES_MIN_BUCKET signatures are not
kept, as for the other figures.
"""

from __future__ import annotations

from collections import Counter
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet

from ..models import Petition, Signature
from .models import ChosenCirconscription, Target
from .places import POSTAL_EXCEPTIONS, area_of_postal_code


def _postal_prefixes(area: str) -> list[str]:
    """The beginnings of the postal codes of an area (before area_of_postal_code decides)."""
    exceptions = [code for code, place in POSTAL_EXCEPTIONS.items() if place == area]
    if exceptions:
        return exceptions
    return ["20"] if area in ("2A", "2B") else [area]


def single_seat_areas(petition: Petition) -> dict[str, int]:
    """The areas that elect one député, with that député's circonscription number."""
    rows = (
        Target.objects.active()
        .deputies()
        .filter(petition=petition)
        .order_by()
        .values("departement")
        .annotate(seats=Count("pk"), number=Max("circonscription"))
        .filter(seats=1)
    )
    return {row["departement"]: row["number"] for row in rows}


def by_circonscription(petition: Petition, counted: QuerySet[Signature]) -> list[list]:
    """[[area, number, signatures], …], largest first, for circonscriptions with at least
    FIGURES_MIN_BUCKET counted signatures."""
    counts: Counter[tuple[str, int]] = Counter()
    chosen = (
        ChosenCirconscription.objects.filter(signature__in=counted)
        .order_by()
        .values("departement", "number")
        .annotate(n=Count("pk"))
    )
    for row in chosen:
        counts[row["departement"], row["number"]] += row["n"]
    single = single_seat_areas(petition)
    if single:
        prefixes = [prefix for area in single for prefix in _postal_prefixes(area)]
        placed = (
            counted.filter(country="FR", chosen_circonscription__isnull=True)
            .filter(reduce(or_, (Q(postal_code__startswith=prefix) for prefix in prefixes)))
            .order_by()
            .values("postal_code")
            .annotate(n=Count("pk"))
        )
        for row in placed:
            area = area_of_postal_code(row["postal_code"])
            if area in single:
                counts[area, single[area]] += row["n"]
    threshold = settings.FIGURES_MIN_BUCKET
    shown = [[area, number, n] for (area, number), n in counts.items() if n >= threshold]
    return sorted(shown, key=lambda row: (-row[2], row[0], row[1]))
