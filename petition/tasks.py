"""Celery tasks. Each takes ids, re-reads its rows and does nothing when the work is moot."""

from __future__ import annotations

import logging

from anymail.exceptions import AnymailAPIError
from celery import shared_task
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from .emails import build_message, confirmation_url
from .models import Petition, Signature

logger = logging.getLogger(__name__)

# Worth another try: the provider's API failed, or the network or SMTP server did
# (smtplib.SMTPException is an OSError).
TRANSIENT_MAIL_ERRORS = (AnymailAPIError, OSError)
MAIL_RETRY = {
    "autoretry_for": TRANSIENT_MAIL_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "max_retries": 12,
}


@shared_task(**MAIL_RETRY)
def send_confirmation_email(signature_id: int) -> bool:
    """Send the confirmation link to a pending signature. Returns whether a message left."""
    signature = Signature.objects.select_related("petition").filter(pk=signature_id).first()
    if signature is None or signature.is_confirmed:
        return False
    message = build_message(signature, "confirm", {"confirm_url": confirmation_url(signature)})
    message.send()
    signature.mark_confirmation_sent()
    return True


@shared_task(**MAIL_RETRY)
def send_already_signed_email(signature_id: int) -> bool:
    """Tell someone who signs again that their signature is already confirmed."""
    signature = Signature.objects.select_related("petition").filter(pk=signature_id).first()
    if signature is None or not signature.is_confirmed:
        return False
    build_message(signature, "already_signed", {}).send()
    return True


def _confirmed_count(petition_ref: OuterRef) -> Coalesce:
    counts = (
        Signature.objects.filter(petition=petition_ref)
        .confirmed()
        .order_by()
        .values("petition")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def refresh_signature_count(petition_id: int) -> None:
    """Store the exact number of confirmed signatures on the petition, in one statement."""
    Petition.objects.filter(pk=petition_id).update(
        signature_count=_confirmed_count(OuterRef("pk")), count_updated_at=timezone.now()
    )


@shared_task
def refresh_all_signature_counts() -> None:
    """Periodic reconciliation: repair any count that drifted from the signatures."""
    for petition_id in Petition.objects.values_list("pk", flat=True):
        refresh_signature_count(petition_id)
