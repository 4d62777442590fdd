"""Celery tasks. Each takes ids, re-reads its rows and does nothing when the work is moot."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from anymail.exceptions import AnymailAPIError
from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import OperationalError
from django.db.models import QuerySet

# The site's Celery app, through which the shared tasks below are sent: it must exist before
# the first is, and is imported here rather than when Django starts (see manifesto/__init__.py).
import manifesto.celery  # noqa: F401

from . import counting, figures, mailings
from .emails import build_message, confirmation_url
from .models import Petition, Signature, Suppression, Update

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
    if signature is None or signature.is_confirmed or _suppressed(signature):
        return False
    message = build_message(signature, "confirm", {"confirm_url": confirmation_url(signature)})
    message.send()
    signature.mark_confirmation_sent()
    return True


@shared_task(**MAIL_RETRY)
def send_already_signed_email(signature_id: int) -> bool:
    """Tell someone who signs again that their signature is already confirmed."""
    signature = Signature.objects.select_related("petition").filter(pk=signature_id).first()
    if signature is None or not signature.is_confirmed or _suppressed(signature):
        return False
    build_message(signature, "already_signed", {}).send()
    return True


@shared_task(expires=5)
def fold_counts() -> None:
    """Every second (beat): bring every open petition's count up to date."""
    _count_each(Petition.objects.filter(is_open=True), counting.fold)


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
    _count_each(Petition.objects.all(), counting.reconcile)


def _count_each(petitions: QuerySet[Petition], count: Callable[[int], object]) -> None:
    for petition_id in petitions.values_list("pk", flat=True):
        try:
            count(petition_id)
        except OperationalError as error:
            if not counting.busy_tables(error):
                raise
            # A migration or bulk operation holds the tables: the next run counts instead.
            logger.info("The count of petition %s waits: its tables are busy.", petition_id)


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


def _suppressed(signature: Signature) -> bool:
    # The provider reported the address bouncing or complaining: it gets no more e-mail.
    return Suppression.objects.for_email(signature.email).exists()


# Updates to signers (petition.mailings). The batches run on the low-priority "bulk" queue.


@shared_task(**MAIL_RETRY)
def send_update_test(update_id: int, user_id: int) -> bool:
    """Send an update, in every language, to a member of staff who asked for a test."""
    update = Update.objects.select_related("petition").filter(pk=update_id).first()
    user = get_user_model().objects.filter(pk=user_id).first()
    if update is None or user is None or not user.email:
        return False
    first_name = user.first_name or user.get_username()
    messages = mailings.test_messages(update, email=user.email, first_name=first_name)
    with get_connection() as connection:
        connection.send_messages(messages)
    update.mark_tested()
    return True


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def prepare_update(update_id: int) -> None:
    """List the recipients of an update whose sending was ordered, then start the batches."""
    if mailings.prepare(update_id=update_id):
        send_update_batch.delay(update_id)


@shared_task(
    **MAIL_RETRY,
    time_limit=settings.UPDATE_BATCH_TIME_LIMIT,
    soft_time_limit=settings.UPDATE_BATCH_TIME_LIMIT * 0.8,
)
def send_update_batch(update_id: int) -> None:
    """Send the next batch of an update, then queue the following one, spaced to keep to
    UPDATE_SEND_RATE. A batch killed midway is taken over by resume_updates."""
    while True:
        outcome = mailings.send_batch(update_id=update_id)
        if not outcome.more:
            return
        if not send_update_batch.app.conf.task_always_eager:
            send_update_batch.apply_async((update_id,), countdown=outcome.wait)
            return
        # Without a broker the batches run here, one after the other: queueing the next from
        # within this one would nest them all.
        time.sleep(outcome.wait)


@shared_task(expires=60)
def resume_updates() -> None:
    """At every worker start and every minute: carry on the sendings that stopped."""
    plan = mailings.resume()
    for update_id in plan.prepare:
        prepare_update.delay(update_id)
    for update_id in plan.send:
        send_update_batch.delay(update_id)
