"""Celery tasks. Each takes ids, re-reads its rows and does nothing when the work is moot."""

from __future__ import annotations

import logging

from anymail.exceptions import AnymailAPIError
from celery import shared_task

from . import counting, figures
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


@shared_task(expires=5)
def fold_counts() -> None:
    """Every second (beat): bring every open petition's count up to date."""
    for petition_id in Petition.objects.filter(is_open=True).values_list("pk", flat=True):
        counting.fold(petition_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def fold_count(petition_id: int) -> None:
    """Bring one petition's count up to date (after a confirmation, when no beat runs)."""
    counting.fold(petition_id, wait=True)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def refresh_signature_count(petition_id: int) -> None:
    """Recount one petition exactly, repairing any drift of its running count."""
    counting.reconcile(petition_id)


@shared_task
def reconcile_counts() -> None:
    """Periodic exact recount of every petition: repairs and logs any drift."""
    for petition_id in Petition.objects.values_list("pk", flat=True):
        counting.reconcile(petition_id)


@shared_task(expires=10 * 60)
def refresh_figures() -> None:
    """Every few minutes (beat): recompute the public figures of every open petition."""
    for petition in Petition.objects.filter(is_open=True):
        figures.compute(petition)


@shared_task
def refresh_petition_figures(petition_id: int) -> None:
    """Recompute one petition's figures (after a confirmation, when no beat runs)."""
    petition = Petition.objects.filter(pk=petition_id).first()
    if petition is not None:
        figures.compute(petition)
