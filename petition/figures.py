"""Figures that move people: confirmations per day, by country and by French département.

Computed by a Celery task every few minutes and stored in PetitionFigures; pages only read them.
Places with fewer than FIGURES_MIN_BUCKET signatures are never shown, so that no figure points
at a handful of people. Days are shown in full: the daily totals follow from the public counter
anyway.
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone
from django_countries.fields import Country

from .advocacy.figures import by_circonscription
from .models import Petition, PetitionFigures, Signature


@functools.cache
def departement_names() -> dict[str, str]:
    """Code → name of every French département. Faker's list, read on first use: importing
    Faker takes half a second, which no web or worker process should pay at start-up."""
    from faker.providers.address.fr_FR import Provider as FrenchAddresses

    return dict(FrenchAddresses.departments)


CHART_DAYS = 30


def departement(postal_code: str) -> str | None:
    """The département a French postal code belongs to (2A/2B for Corsica, 97x overseas)."""
    if len(postal_code) != 5 or not postal_code.isdigit():
        return None
    if postal_code.startswith(("97", "98")):
        code = postal_code[:3]
    elif postal_code.startswith("20"):
        code = "2A" if postal_code < "20200" else "2B"
    else:
        code = postal_code[:2]
    return code if code in departement_names() else None


def _visible(counts: dict[str, int]) -> tuple[list[list], int]:
    """Buckets large enough to show, largest first, and the total of the hidden ones."""
    threshold = settings.FIGURES_MIN_BUCKET
    shown = sorted(([k, n] for k, n in counts.items() if n >= threshold), key=lambda b: -b[1])
    hidden = sum(n for n in counts.values() if n < threshold)
    return shown, hidden


def compute(petition: Petition) -> PetitionFigures:
    """Aggregate a petition's counted signatures and store the figures."""
    counted = Signature.objects.counted().filter(petition=petition).order_by()
    paris = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    per_day = [
        [row["day"].isoformat(), row["n"]]
        for row in counted.annotate(day=TruncDate("confirmed_at", tzinfo=paris))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    ]
    countries = {
        row["country"]: row["n"] for row in counted.values("country").annotate(n=Count("pk"))
    }
    departements: dict[str, int] = {}
    french_prefixes = (
        counted.filter(country="FR")
        .annotate(prefix=Substr("postal_code", 1, 3))
        .values("prefix")
        .annotate(n=Count("pk"))
    )
    for row in french_prefixes:
        code = departement(f"{row['prefix']}00")
        if code is not None:
            departements[code] = departements.get(code, 0) + row["n"]
    by_country, other_countries = _visible(countries)
    if other_countries < settings.FIGURES_MIN_BUCKET:
        other_countries = 0
    by_departement, _hidden = _visible(departements)
    figures, _created = PetitionFigures.objects.update_or_create(
        petition=petition,
        defaults={
            "per_day": per_day,
            "by_country": by_country,
            "by_departement": by_departement,
            "other_countries": other_countries,
            "by_circonscription": by_circonscription(petition, counted),
            "computed_at": timezone.now(),
        },
    )
    return figures


@dataclass(frozen=True)
class Bar:
    day: date
    count: int
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class DailyChart:
    """The geometry of the signatures-per-day bar chart, drawn as SVG by a template."""

    bars: list[Bar]
    width: int
    height: int
    bar_width: float
    top: int
    ticks: list[tuple[float, int]]
    total: int

    @property
    def first_day(self) -> date:
        return self.bars[0].day

    @property
    def last_day(self) -> date:
        return self.bars[-1].day


def daily_chart(per_day: list[list], *, today: date | None = None) -> DailyChart | None:
    """Bars for the last CHART_DAYS days (days without confirmations included)."""
    if not per_day:
        return None
    counts = {date.fromisoformat(day): n for day, n in per_day}
    last = today or timezone.localdate()
    first = max(min(counts), last - timedelta(days=CHART_DAYS - 1))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    width, height, gap = 600, 200, 2
    top = _nice_ceiling(max(counts.get(day, 0) for day in days))
    bar_width = width / len(days)
    bars = []
    for index, day in enumerate(days):
        count = counts.get(day, 0)
        bar_height = height * count / top
        bars.append(Bar(day, count, index * bar_width + gap / 2, height - bar_height, bar_height))
    ticks = [(height - height * value / top, value) for value in (0, top // 2, top)]
    total = sum(bar.count for bar in bars)
    return DailyChart(bars, width, height, max(bar_width - gap, 1), top, ticks, total)


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… at or above value, so the axis reads easily."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def page_context(petition: Petition) -> dict:
    """What the petition's page shows of its figures; empty until they are first computed."""
    figures = PetitionFigures.objects.filter(petition=petition).first()
    if figures is None:
        return {}
    return {
        "figures": figures,
        "chart": daily_chart(figures.per_day),
        "country_rows": [(Country(code=code), n) for code, n in figures.by_country[:10]],
        "departement_rows": [
            (code, departement_names()[code], n) for code, n in figures.by_departement[:10]
        ],
        "min_bucket": settings.FIGURES_MIN_BUCKET,
    }
