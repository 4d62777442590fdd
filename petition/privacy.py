"""How long personal data is kept, and a signer's right to take their signature back.

The privacy notice (templates/manifesto/privacy.html) promises what this module does; change
both together. Retention runs daily from Celery beat (petition.tasks.apply_retention).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from .backups import journal
from .models import MailboxAllowance, Petition, Signature, SigningRequest, StaffEvent, StaffSession
from .queueing import after_commit


@dataclass(frozen=True)
class Retention:
    """What one pass of retention did."""

    pending_deleted: int
    address_hashes_dropped: int
    anonymised: int
    allowances_dropped: int = 0
    staff_events_deleted: int = 0
    dossiers_deleted: int = 0
    erasures_forgotten: int = 0


def apply_retention() -> Retention:
    from .advocacy.dossier import delete_stale_runs

    return Retention(
        pending_deleted=delete_stale_pending(),
        address_hashes_dropped=drop_old_address_hashes(),
        anonymised=anonymise_closed_petitions(),
        allowances_dropped=drop_spent_allowances(),
        staff_events_deleted=delete_old_staff_records(),
        dossiers_deleted=delete_stale_runs(),
        erasures_forgotten=journal.forget_old_entries(),
    )


def delete_old_staff_records() -> int:
    """The record of staff accounts is kept STAFF_EVENTS_RETENTION_DAYS; sessions ended long
    ago (expired, never signed out) go with them."""
    now = timezone.now()
    StaffSession.objects.filter(
        last_seen_at__lt=now - timedelta(seconds=settings.STAFF_SESSION_MAX_AGE)
    ).delete()
    cutoff = now - timedelta(days=settings.STAFF_EVENTS_RETENTION_DAYS)
    deleted, _ = StaffEvent.objects.filter(at__lt=cutoff).delete()
    return deleted


def drop_spent_allowances() -> int:
    """A mailbox's allowance remembers the e-mails of the last 24 hours: older ones serve
    nothing. Requests never answered in PENDING_RETENTION_DAYS go too, with what they carry."""
    now = timezone.now()
    SigningRequest.objects.filter(
        created_at__lt=now - timedelta(days=settings.PENDING_RETENTION_DAYS)
    ).delete()
    deleted, _ = MailboxAllowance.objects.filter(updated_at__lt=now - timedelta(days=1)).delete()
    return deleted


def delete_stale_pending() -> int:
    """Signatures nobody confirmed within PENDING_RETENTION_DAYS: never counted, so deleting
    them changes no count."""
    cutoff = timezone.now() - timedelta(days=settings.PENDING_RETENTION_DAYS)
    stale = Signature.objects.pending().filter(created_at__lt=cutoff)
    with transaction.atomic():
        _forget_in_history(stale)
        deleted, _ = stale.delete()
    return deleted


def drop_old_address_hashes() -> int:
    """The fraud rules look back an hour, the report a day: older hashes serve nothing."""
    cutoff = timezone.now() - timedelta(days=settings.IP_HASH_RETENTION_DAYS)
    return Signature.objects.filter(created_at__lt=cutoff).exclude(ip_hash="").update(ip_hash="")


def anonymise_closed_petitions() -> int:
    """Erase who signed a petition closed more than ANONYMISE_AFTER_DAYS ago. The signatures
    stay, with their country, postal code and dates, so that the counts and figures stay true."""
    cutoff = timezone.now() - timedelta(days=settings.ANONYMISE_AFTER_DAYS)
    closed = Petition.objects.filter(is_open=False, closed_at__lt=cutoff)
    now = timezone.now()
    with transaction.atomic():
        anonymised = 0
        for petition_id in closed.values_list("pk", flat=True):
            rows = Signature.objects.filter(petition_id=petition_id, created_at__lte=now)
            if done := anonymise(rows):
                journal.record_anonymisation(petition_id, at=now)
                anonymised += done
        return anonymised


def anonymise(signatures: QuerySet[Signature]) -> int:
    rows = signatures.filter(anonymised_at__isnull=True)
    with transaction.atomic():
        _forget_in_history(rows)
        return rows.update(
            first_name="",
            last_name="",
            email="",
            email_canonical="",
            ip_hash="",
            referral_code="",
            confirmation_error="",
            anonymised_at=timezone.now(),
        )


def withdraw(*, signature: Signature) -> None:
    """Take a signature back at its signer's request: erase it, and correct the count."""
    erase(Signature.objects.filter(pk=signature.pk))


def erase(signatures: QuerySet[Signature]) -> int:
    """Erase signatures, written down in the journal that a restore applies again
    (petition.backups.journal), and correct the counts; how many were erased."""
    with transaction.atomic():
        petition_ids = set(signatures.order_by().values_list("petition_id", flat=True).distinct())
        journal.record_withdrawals(signatures)
        _forget_in_history(signatures)
        _, deleted = signatures.delete()
        for petition_id in petition_ids:
            # An exact recount: the signature may already be part of the settled count.
            after_commit("petition.tasks.refresh_signature_count", petition_id)
            after_commit("petition.tasks.refresh_petition_figures", petition_id)
    return deleted.get(Signature._meta.label, 0)


def _forget_in_history(signatures: QuerySet[Signature]) -> None:
    """The admin's history names each signature it shows (its signer's name): keep that a
    signature was changed, not whose it was."""
    ids = signatures.order_by().annotate(key=Cast("pk", CharField())).values("key")
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Signature), object_id__in=ids
    ).update(object_repr="—", change_message="")
