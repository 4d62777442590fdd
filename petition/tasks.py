"""Celery tasks. Each takes ids, re-reads its rows and does nothing when the work is moot."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial

from anymail.exceptions import AnymailAPIError
from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import OperationalError, connection
from django.db.models import QuerySet
from django.utils import timezone

# The site's Celery app, through which the shared tasks below are sent: it must exist before
# the first is, and is imported here rather than when Django starts (see manifesto/__init__.py).
import manifesto.celery  # noqa: F401

from . import abuse, counting, figures, log, mailings, privacy, services
from .emails import build_message, build_staff_message, confirmation_url
from .models import Petition, SigningRequest, StaffEvent, Update
from .queueing import after_commit

logger = logging.getLogger(__name__)

LOG_APPEND_SECONDS = 4.0

# Worth another try: the provider's API failed, or the network or SMTP server did
# (smtplib.SMTPException is an OSError).
TRANSIENT_MAIL_ERRORS = (AnymailAPIError, OSError)
MAIL_RETRY = {
    "autoretry_for": TRANSIENT_MAIL_ERRORS,
    "retry_backoff": settings.MAIL_RETRY_BACKOFF,
    "retry_backoff_max": settings.MAIL_RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": settings.MAIL_MAX_RETRIES,
}


@shared_task(bind=True, max_retries=MAIL_RETRY["max_retries"])
def answer_signing(task: Task, request_id: int) -> str:
    """Answer a signing, or a request to send its e-mail again: record the signature if it is
    new, and send the e-mail it calls for, within the mailbox's allowance (services.decide_signing).
    Returns which e-mail left ("" for none).

    The request is held for this task while the message leaves, so that the sweep or a second
    delivery of the task meanwhile sends nothing; this task run again after its worker died
    takes its hold back at once. A failure to send, or to reach the database before sending, is
    retried with back-off; a sending failure that lasts is recorded on the signature, where
    staff see it.
    """
    holder = task.request.id or "in-process"
    try:
        request = services.decide_signing(request_id=request_id, holder=holder)
    except OperationalError as error:
        # The database restarted, or failed over to its standby, under the worker: nothing was
        # sent nor held for another task, so try again within seconds rather than leave the
        # signer to the sweep's minutes.
        if task.app.conf.task_always_eager:
            raise
        raise task.retry(exc=error, countdown=_backoff(task.request.retries)) from error
    if request is None:
        return ""
    if not request.mail:
        services.finish_signing(request=request)
        return ""
    signature = request.signature
    if request.mail == SigningRequest.Mail.CONFIRM:
        message = build_message(signature, "confirm", {"confirm_url": confirmation_url(signature)})
    else:
        message = build_message(signature, "already_signed", {})
    try:
        message.send()
    except TRANSIENT_MAIL_ERRORS as error:
        # Without a broker nothing could run a retry later: the failure is for staff at once.
        if task.request.retries >= task.max_retries or task.app.conf.task_always_eager:
            services.fail_signing(request=request, error=_describe(error))
            raise
        countdown = _backoff(task.request.retries)
        services.hold_signing(request=request, seconds=countdown)
        raise task.retry(exc=error, countdown=countdown) from error
    except Exception as error:
        # Not worth another try (a refused address, a template error): staff see it at once.
        services.fail_signing(request=request, error=_describe(error))
        raise
    _record_sent(request)
    return request.mail


# How long a worker keeps trying to record that an e-mail has left, through a database restart
# or failover, before it gives up and the sweep may send that e-mail again once the hold lapses.
RECORD_SENT_SECONDS = 30.0


def _record_sent(request: SigningRequest) -> None:
    """The e-mail has left: losing that news to a database that failed over meanwhile would
    have the sweep send it again, so try for a while, on a fresh connection each time."""
    deadline = time.monotonic() + min(RECORD_SENT_SECONDS, settings.CONFIRMATION_CLAIM_SECONDS / 2)
    pause = 0.25
    while True:
        try:
            services.finish_signing(request=request)
            return
        except OperationalError:
            if time.monotonic() + pause > deadline:
                raise
            logger.warning("Could not record the e-mail of signing request %s yet.", request.pk)
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 4.0)


def _backoff(retries: int) -> int:
    return get_exponential_backoff_interval(
        factor=MAIL_RETRY["retry_backoff"],
        retries=retries,
        maximum=MAIL_RETRY["retry_backoff_max"],
        full_jitter=True,
    )


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


@shared_task
def answer_signings(request_ids: list[int]) -> int:
    """The signings a web process took in within a few milliseconds (queueing.gather_after_commit),
    each answered by a task of its own: one slow mailbox delays no other, and each is retried
    alone. Sent twice, it answers nothing twice (answer_signing holds its request). Returns how
    many were queued."""
    for request_id in request_ids:
        answer_signing.delay(request_id)
    return len(request_ids)


@shared_task(expires=60)
def answer_unanswered_signings() -> int:
    """Every minute (beat): queue again the signings that were never answered (the broker was
    down when they came in, or a worker died answering one). Returns how many."""
    ids = services.unanswered_signings()
    for request_id in ids:
        answer_signing.delay(request_id)
    if ids:
        logger.warning("Queued again %d signings that had not been answered.", len(ids))
    return len(ids)


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
    """Recount one petition exactly, repairing any drift of its running count; its public
    log follows (what changed the count was not a confirmation)."""
    counting.reconcile(petition_id)
    after_commit("petition.tasks.reconcile_log", petition_id)


@shared_task
def reconcile_counts() -> None:
    """Periodic exact recount of every petition and its public log: repairs and logs any
    drift (the log's repair is leaves appended, never a rewrite)."""
    _count_each(Petition.objects.all(), counting.reconcile)
    for petition_id in Petition.objects.values_list("pk", flat=True):
        after_commit("petition.tasks.reconcile_log", petition_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def reconcile_log(petition_id: int) -> None:
    """Bring one petition's public log level with its count: removals, returns, repairs."""
    _count_each(Petition.objects.filter(pk=petition_id), log.reconcile)


@shared_task(expires=30)
def append_to_logs() -> None:
    """Every few seconds (beat): append to each petition's public log what entered or left
    its count since."""
    # A few seconds at most: a log catching up on a backlog (a first deployment, a bulk
    # restore) goes on at the next run, and leaves the worker to the other tasks between.
    _count_each(Petition.objects.all(), partial(log.append_all, seconds=LOG_APPEND_SECONDS))


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def append_to_log(petition_id: int) -> None:
    """Append to one petition's log (after a confirmation, when no beat runs)."""
    log.append_all(petition_id)


@shared_task(expires=60)
def sign_tree_heads() -> None:
    """Every minute (beat): sign a head of each petition's log, once a period at most, when it
    grew or the day changed."""
    for petition in Petition.objects.all():
        log.sign_head(petition)


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


# Staff accounts (petition.staff).


@shared_task(**MAIL_RETRY)
def send_staff_notice(event_id: int) -> bool:
    """Tell a staff member, by e-mail, of a login from a new browser or a change to their second
    factors. Sent once: an event whose notice left is not sent again."""
    event = StaffEvent.objects.select_related("user").filter(pk=event_id).first()
    if event is None or event.notified_at is not None or event.user is None:
        return False
    if not event.user.email:
        return False
    build_staff_message(event).send()
    StaffEvent.objects.filter(pk=event.pk).update(notified_at=timezone.now())
    return True


# Abuse and privacy.


@shared_task(expires=30 * 60)
def write_abuse_report() -> None:
    """Every hour (beat): the addresses and e-mail domains that signed unusually often."""
    abuse.report()


@shared_task(expires=6 * 3600)
def apply_retention() -> None:
    """Every day (beat): delete, drop and anonymise what the privacy notice says we do not keep."""
    done = privacy.apply_retention()
    logger.info(
        "Retention: %d unconfirmed signatures deleted, %d address hashes dropped, "
        "%d signatures anonymised.",
        done.pending_deleted,
        done.address_hashes_dropped,
        done.anonymised,
    )


# Dossiers for députés (petition.advocacy.dossier), made on the bulk queue.


@shared_task(
    acks_late=True,
    time_limit=settings.DOSSIER_TIME_LIMIT,
    soft_time_limit=settings.DOSSIER_TIME_LIMIT - 30,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def make_dossiers(run_id: int) -> None:
    """Make the ZIP of a DossierRun, one PDF per député, counting its progress as it goes. Run
    again (its worker died), it starts the file over; once finished, it does nothing."""
    from .advocacy import dossier

    dossier.make_run(run_id=run_id)
