"""The only code that writes signatures: each function owns its transaction and side effects.

A signing is taken in by the web request and answered by a worker: see SigningRequest.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import abuse
from .models import (
    ConsentWording,
    MailboxAllowance,
    Petition,
    Signature,
    SigningRequest,
    Suppression,
)
from .queueing import after_commit, gather_after_commit, runs_in_process

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignatureDetails:
    first_name: str
    last_name: str
    email: str
    country: str
    postal_code: str
    wants_news: bool
    # The personal link the signer came through, if any: a confirmed signer's referral code.
    referral_code: str = ""
    # The words of the boxes the signer ticked, as shown to them.
    consent_text: str = ""
    news_consent_text: str = ""


# The web request's side: the same work for every address.


def sign(
    *,
    petition: Petition,
    details: SignatureDetails,
    language: str,
    traits: abuse.SigningTraits = abuse.UNKNOWN_TRAITS,
) -> SigningRequest:
    """Take in a signing; a worker records the signature and e-mails the signer.

    One row written and one task queued, whatever the address: whether it signed before, and
    which e-mail it is owed (its confirmation link, or a note that it has signed already), only
    the worker finds out (decide_signing), off the clock of the visitor's request.
    """
    return _take(
        petition=petition,
        kind=SigningRequest.Kind.SIGN,
        email=details.email,
        language=language,
        details={"signer": asdict(details), "traits": asdict(traits)},
    )


def ask_again(*, petition: Petition, email: str, language: str) -> SigningRequest:
    """Take in "send the e-mail again" for the address signed from this browser: as for a
    signing, only the worker looks the address up."""
    return _take(petition=petition, kind=SigningRequest.Kind.RESEND, email=email, language=language)


def send_confirmation(*, signature: Signature) -> SigningRequest:
    """Staff send a signer's e-mail again (once the mail provider works again, say): the
    confirmation link, or the "already signed" note if it was confirmed meanwhile."""
    return _take(
        petition=signature.petition,
        kind=SigningRequest.Kind.STAFF,
        email=signature.email,
        language=signature.language,
    )


def _take(*, petition: Petition, kind: str, email: str, language: str, **fields) -> SigningRequest:
    request = SigningRequest.objects.create(
        petition=petition, kind=kind, email=email, language=language, **fields
    )
    gather_after_commit("petition.tasks.answer_signings", request.pk)
    return request


# The worker's side.


def decide_signing(*, request_id: int, holder: str) -> SigningRequest | None:
    """Find or record the request's signature, decide which e-mail it calls for, and hold the
    request for the task `holder` while that e-mail leaves.

    Decided once: a task run again (its worker died, or it retries a failed sending) finds the
    decision made and sends the same e-mail, no other. None when there is nothing to do: the
    request is answered already, or another task holds it.
    """
    with transaction.atomic():
        request = (
            SigningRequest.objects.unheld(by=holder)
            .select_for_update(of=("self",))
            .select_related("petition")
            .filter(pk=request_id)
            .first()
        )
        if request is None:
            return None
        if request.decided_at is None:
            request.signature = _signature_for(request)
            request.mail = _mail_due(request)
            request.decided_at = timezone.now()
        request.held_by = holder
        request.held_until = timezone.now() + timedelta(seconds=settings.CONFIRMATION_CLAIM_SECONDS)
        request.save()
    return request


def _signature_for(request: SigningRequest) -> Signature | None:
    """The signature of the request's address; a first signing records it now."""
    signatures = Signature.objects.filter(petition=request.petition).for_email(request.email)
    existing = signatures.first()
    if existing is not None or request.kind != SigningRequest.Kind.SIGN:
        return existing
    signer = SignatureDetails(**request.details["signer"])
    traits = abuse.SigningTraits(**request.details["traits"])
    try:
        with transaction.atomic():
            return Signature.objects.create(
                petition=request.petition,
                referred_by_id=_referrer_id(request.petition, signer.referral_code),
                first_name=signer.first_name,
                last_name=signer.last_name,
                email=signer.email,
                country=signer.country,
                postal_code=signer.postal_code,
                wants_news=signer.wants_news,
                language=request.language,
                created_at=request.created_at,
                consent_id=_wording(request, ConsentWording.Kind.SIGN, signer.consent_text),
                news_consent_id=_wording(
                    request,
                    ConsentWording.Kind.NEWS,
                    signer.news_consent_text if signer.wants_news else "",
                ),
                ip_hash=traits.address_hash,
                suspect_reason=abuse.suspect_reason(request.petition, traits),
            )
    except IntegrityError:
        # A request for the same mailbox, answered at the same moment, recorded it.
        return signatures.get()


def _mail_due(request: SigningRequest) -> str:
    """Which e-mail the request calls for, within the mailbox's allowance: a stranger typing
    someone's address cannot fill that inbox. Suspect signatures are answered like any other."""
    signature = request.signature
    if signature is None or Suppression.objects.for_email(signature.email).exists():
        return SigningRequest.Mail.NONE
    if request.kind != SigningRequest.Kind.STAFF and not MailboxAllowance.take(signature.email):
        return SigningRequest.Mail.NONE
    if signature.is_confirmed:
        return SigningRequest.Mail.ALREADY_SIGNED
    return SigningRequest.Mail.CONFIRM


def _wording(request: SigningRequest, kind: str, text: str) -> int | None:
    if not text:
        return None
    return ConsentWording.record(kind, request.language, text, agreed_at=request.created_at)


def _referrer_id(petition: Petition, referral_code: str) -> int | None:
    """The signature whose personal link was followed; None for an unknown code, which is
    ignored: signing never fails because of a link someone shared."""
    if not referral_code:
        return None
    return (
        Signature.objects.counted()
        .filter(petition=petition, referral_code=referral_code)
        .values_list("pk", flat=True)
        .first()
    )


@transaction.atomic
def finish_signing(*, request: SigningRequest) -> None:
    """The request's e-mail has left, or none was due: nothing more to do, nor to keep."""
    if request.mail == SigningRequest.Mail.CONFIRM and request.signature is not None:
        request.signature.mark_confirmation_sent()
    SigningRequest.objects.filter(pk=request.pk).delete()


@transaction.atomic
def fail_signing(*, request: SigningRequest, error: str) -> None:
    """The request's e-mail could not be sent, even after retries. A confirmation's failure is
    recorded on the signature, where staff see it and can send it again (send_confirmation)."""
    if request.mail == SigningRequest.Mail.CONFIRM and request.signature is not None:
        request.signature.mark_confirmation_failed(error)
    else:
        logger.error("The e-mail of signing request %s could not be sent: %s", request.pk, error)
    SigningRequest.objects.filter(pk=request.pk).delete()


def hold_signing(*, request: SigningRequest, seconds: float) -> None:
    """Keep the request for its own task, which retries in `seconds`: the sweep leaves it be."""
    hold = timedelta(seconds=seconds + settings.CONFIRMATION_CLAIM_SECONDS)
    SigningRequest.objects.filter(pk=request.pk, held_by=request.held_by).update(
        held_until=timezone.now() + hold
    )


def unanswered_signings() -> list[int]:
    """Requests that should have been answered by now and that no task holds: the broker was
    down when they came in, or the worker answering them died."""
    cutoff = timezone.now() - timedelta(seconds=settings.CONFIRMATION_SWEEP_AFTER_SECONDS)
    return list(
        SigningRequest.objects.unheld()
        .filter(created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )


SWEEP_BATCH = 2000


# Confirming and unsubscribing.


@transaction.atomic
def confirm(*, signature: Signature) -> bool:
    """Confirm a signature; the running count takes it in within a second (petition.counting).

    Returns False when it was already confirmed: the count then moves no further.
    """
    newly_confirmed = signature.mark_confirmed()
    if newly_confirmed and runs_in_process():
        # Without a broker no beat folds the counts every second: fold now, after the commit,
        # so that the count is right at once. With a broker, nothing more happens here.
        after_commit("petition.tasks.fold_count", signature.petition_id)
        after_commit("petition.tasks.refresh_petition_figures", signature.petition_id)
        after_commit("petition.tasks.append_to_log", signature.petition_id)
    return newly_confirmed


def unsubscribe(*, signature: Signature) -> bool:
    """Stop the campaign's e-mails to a signer. The signature keeps counting."""
    return signature.mark_unsubscribed()


def record_delivery_problem(
    *,
    email: str,
    bounced: bool = False,
    complained: bool = False,
    provider: str = "",
    reason: str = "",
    at: datetime | None = None,
) -> Suppression:
    """Stop all e-mail to an address the provider reported bouncing for good, or whose owner
    complained; keep the first time each happened and what the provider said."""
    if not (bounced or complained):
        raise ValueError("A delivery problem is a bounce or a complaint.")
    at = at or timezone.now()
    with transaction.atomic():
        suppression = Suppression.objects.select_for_update().for_email(email).first()
        if suppression is None:
            try:
                with transaction.atomic():
                    suppression = Suppression.objects.create(
                        email=email,
                        bounced_at=at if bounced else None,
                        complained_at=at if complained else None,
                        provider=provider,
                        reason=reason,
                    )
                return suppression
            except IntegrityError:
                # The same event, or another, for this address arrived at the same moment.
                suppression = Suppression.objects.select_for_update().for_email(email).get()
        if bounced and suppression.bounced_at is None:
            suppression.bounced_at = at
        if complained and suppression.complained_at is None:
            suppression.complained_at = at
        if reason and reason not in suppression.reason:
            suppression.reason = "\n".join(filter(None, [suppression.reason, reason]))
        suppression.provider = suppression.provider or provider
        suppression.save(update_fields=["bounced_at", "complained_at", "reason", "provider"])
    return suppression


def unsubscribe_address(*, email: str) -> int:
    """Stop the campaign's e-mails to every signature of an address (the provider's own
    unsubscribe link was used); how many signatures this changed."""
    return (
        Signature.objects.for_email(email)
        .filter(unsubscribed_at__isnull=True)
        .update(unsubscribed_at=timezone.now())
    )
