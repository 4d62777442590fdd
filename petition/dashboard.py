"""The figures staff watch on a petition's dashboard in the admin: exact, read when asked."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from .figures import CHART_DAYS, DailyChart, daily_chart
from .models import Petition, Signature, Suppression


@dataclass(frozen=True)
class Dashboard:
    today: int
    this_week: int
    last_7_days: int
    previous_7_days: int
    total: int
    pending: int
    unsubscribed: int
    suppressed: int
    suspect: int
    invalidated: int
    confirmation_failed: int
    news_recipients: int
    chart: DailyChart | None

    @property
    def trend_percent(self) -> int | None:
        """Last seven days against the seven before, in percent; None with nothing before."""
        if not self.previous_7_days:
            return None
        return round(100 * (self.last_7_days - self.previous_7_days) / self.previous_7_days)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def dashboard(petition: Petition, *, today: date | None = None) -> Dashboard:
    """A petition's confirmations today, this week (from Monday), over the last 7 days against
    the 7 before, per day for the chart, and its signatures by state. Days are French days."""
    today = today or timezone.localdate()
    paris = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    signatures = Signature.objects.filter(petition=petition).order_by()
    first_day = today - timedelta(days=max(CHART_DAYS, 14) - 1)
    per_day = {
        row["day"]: row["count"]
        for row in signatures.counted()
        .filter(confirmed_at__gte=_start_of(first_day))
        .annotate(day=TruncDate("confirmed_at", tzinfo=paris))
        .values("day")
        .annotate(count=Count("pk"))
    }

    def between(start: date, end: date) -> int:
        return sum(count for day, count in per_day.items() if start <= day <= end)

    suppressed = Exists(Suppression.objects.for_signature(OuterRef("email")))
    states = signatures.aggregate(
        total=Count(
            "pk",
            filter=Q(confirmed_at__isnull=False, suspect_reason="", invalidated_at__isnull=True),
        ),
        pending=Count("pk", filter=Q(confirmed_at__isnull=True)),
        suspect=Count("pk", filter=~Q(suspect_reason="") & Q(invalidated_at__isnull=True)),
        invalidated=Count("pk", filter=Q(invalidated_at__isnull=False)),
        confirmation_failed=Count(
            "pk", filter=Q(confirmation_failed_at__isnull=False, confirmed_at__isnull=True)
        ),
        unsubscribed=Count("pk", filter=Q(unsubscribed_at__isnull=False)),
        suppressed=Count("pk", filter=Q(suppressed)),
    )
    news_recipients = signatures.news_recipients().count()
    chart_days = [
        [day.isoformat(), count]
        for day, count in sorted(per_day.items())
        if day > today - timedelta(days=CHART_DAYS)
    ]
    return Dashboard(
        today=per_day.get(today, 0),
        this_week=between(today - timedelta(days=today.weekday()), today),
        last_7_days=between(today - timedelta(days=6), today),
        previous_7_days=between(today - timedelta(days=13), today - timedelta(days=7)),
        news_recipients=news_recipients,
        chart=daily_chart(chart_days, today=today),
        **states,
    )
