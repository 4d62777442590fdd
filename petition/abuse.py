"""Fraud rules: what sets a signature aside as suspect, and the hourly report staff read.

A suspect signature is kept and its signer sees and receives exactly what anyone else does, so
a bot learns nothing from trying; it only stays out of the count until staff clear it. Nothing
here calls a third party.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Value
from django.db.models.functions import StrIndex, Substr
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import AbuseReport, Petition, Signature
from .queueing import after_commit

# Reasons, as staff read them in the admin (kept in English, like log messages).
HONEYPOT = "filled the hidden field"
TOO_FAST = "signed {seconds:.1f} s after the page was shown"
NO_FORM_TIME = "no trace of the page's form"
BUSY_ADDRESS = "more than {limit} signatures from its client address in an hour"


def address_hash(ip: str) -> str:
    """A keyed hash of a client address, so that the database never holds the address.

    IPv6 addresses are taken by their /64 network: one subscriber has a whole one.
    """
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if address.version == 6:
        address = ipaddress.ip_network(f"{address}/64", strict=False).network_address
    return salted_hmac("petition.abuse.address", str(address)).hexdigest()[:32]


@dataclass(frozen=True)
class SigningTraits:
    """What the request says about who signed, besides what they typed."""

    address_hash: str = ""
    # The hidden field only programs fill in.
    honeypot: bool = False
    # Seconds from the page's rendering to the signing; None when not measured.
    fill_seconds: float | None = None
    # The form came back without the time the page put in it, or with a forged one.
    form_time_missing: bool = False


# For signatures made without a request (commands, imports): no rule applies.
UNKNOWN_TRAITS = SigningTraits()


def suspect_reason(petition: Petition, traits: SigningTraits) -> str:
    """Why a new signature looks automated or mass-produced; "" when it looks honest."""
    reasons = []
    if traits.honeypot:
        reasons.append(HONEYPOT)
    if traits.form_time_missing:
        reasons.append(NO_FORM_TIME)
    elif traits.fill_seconds is not None and traits.fill_seconds < settings.SIGN_MIN_SECONDS:
        reasons.append(TOO_FAST.format(seconds=traits.fill_seconds))
    if traits.address_hash:
        limit = settings.SUSPECT_AFTER_PER_ADDRESS_PER_HOUR
        recent = Signature.objects.filter(
            ip_hash=traits.address_hash, created_at__gte=timezone.now() - timedelta(hours=1)
        )
        if recent[:limit].count() >= limit:
            reasons.append(BUSY_ADDRESS.format(limit=limit))
    return "; ".join(reasons)[:200]


# Staff decisions. The counts follow: each touched petition is recounted exactly.


def invalidate(signatures: QuerySet[Signature]) -> int:
    """Take signatures out of the count for good (until restored)."""
    return _decide(signatures.filter(invalidated_at__isnull=True), invalidated_at=timezone.now())


def restore(signatures: QuerySet[Signature]) -> int:
    """Count signatures again: clears both a staff invalidation and the fraud rules' doubt."""
    return _decide(
        signatures.filter(Q(invalidated_at__isnull=False) | ~Q(suspect_reason="")),
        invalidated_at=None,
        suspect_reason="",
    )


def _decide(signatures: QuerySet[Signature], **changes: object) -> int:
    with transaction.atomic():
        petition_ids = set(signatures.order_by().values_list("petition_id", flat=True).distinct())
        changed = signatures.order_by().update(**changes)
        for petition_id in petition_ids:
            after_commit("petition.tasks.refresh_signature_count", petition_id)
            after_commit("petition.tasks.refresh_petition_figures", petition_id)
    return changed


# The hourly report.


def report(*, end: datetime | None = None) -> AbuseReport:
    """Write the report of the hour that ends at `end` (now): the client addresses and e-mail
    domains with at least ABUSE_REPORT_MIN_SIGNATURES signatures, busiest first. Each domain is
    shown with its usual share of the last 30 days, so that a surge stands out."""
    end = end or timezone.now()
    start = end - timedelta(hours=1)
    hour = Signature.objects.filter(created_at__gte=start, created_at__lt=end).order_by()
    minimum = settings.ABUSE_REPORT_MIN_SIGNATURES
    totals = hour.aggregate(total=Count("pk"), suspect=Count("pk", filter=~Q(suspect_reason="")))
    addresses = [
        [row["ip_hash"], row["signatures"], row["suspect"]]
        for row in hour.exclude(ip_hash="")
        .values("ip_hash")
        .annotate(signatures=Count("pk"), suspect=Count("pk", filter=~Q(suspect_reason="")))
        .filter(signatures__gte=minimum)
        .order_by("-signatures")[:50]
    ]
    domains = _busy_domains(hour, start=start, minimum=minimum, total=totals["total"])
    return AbuseReport.objects.create(
        period_start=start,
        period_end=end,
        signatures=totals["total"],
        suspect=totals["suspect"],
        addresses=addresses,
        domains=domains,
    )


def _busy_domains(
    hour: QuerySet[Signature], *, start: datetime, minimum: int, total: int
) -> list[list]:
    busy = list(_per_domain(hour).filter(signatures__gte=minimum).order_by("-signatures")[:50])
    if not busy:
        return []
    month = Signature.objects.filter(
        created_at__gte=start - timedelta(days=30), created_at__lt=start
    ).order_by()
    month_total = month.count()
    usual = dict(
        _per_domain(month)
        .filter(domain__in=[row["domain"] for row in busy])
        .values_list("domain", "signatures")
    )
    return [
        [
            row["domain"],
            row["signatures"],
            round(100 * usual.get(row["domain"], 0) / month_total, 1) if month_total else None,
            round(100 * row["signatures"] / total, 1),
        ]
        for row in busy
    ]


def _per_domain(signatures: QuerySet[Signature]) -> QuerySet:
    """Signatures per e-mail domain, in one query: the canonical address's domain, so that
    googlemail.com counts as gmail.com (anonymised signatures have none)."""
    at = StrIndex("email_canonical", Value("@"))
    return (
        signatures.exclude(email_canonical="")
        .annotate(domain=Substr("email_canonical", at + 1))
        .values("domain")
        .annotate(signatures=Count("pk"))
    )
