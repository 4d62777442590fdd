"""The only code that writes signatures: each function owns its transaction and side effects."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import abuse, tasks
from .models import ConsentWording, Petition, Signature, Suppression
from .queueing import after_commit

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


def sign(
    *,
    petition: Petition,
    details: SignatureDetails,
    language: str,
    traits: abuse.SigningTraits = abuse.UNKNOWN_TRAITS,
) -> Signature:
    """Record a signature, or find the one this address already made, and e-mail the signer.

    A new or still pending signature gets its confirmation link; a confirmed one gets a note
    saying so. The caller answers the same way in every case, so nobody can learn whether an
    address has signed. A signature that trips the fraud rules (petition.abuse) is recorded
    and e-mailed like any other, and set aside as suspect.
    """
    try:
        with transaction.atomic():
            signature = Signature.objects.create(
                petition=petition,
                referred_by_id=_referrer_id(petition, details.referral_code),
                first_name=details.first_name,
                last_name=details.last_name,
                email=details.email,
                country=details.country,
                postal_code=details.postal_code,
                wants_news=details.wants_news,
                language=language,
                consent_id=_wording(ConsentWording.Kind.SIGN, language, details.consent_text),
                news_consent_id=_wording(
                    ConsentWording.Kind.NEWS,
                    language,
                    details.news_consent_text if details.wants_news else "",
                ),
                ip_hash=traits.address_hash,
                suspect_reason=abuse.suspect_reason(petition, traits),
            )
            send_confirmation(signature=signature, again=False)
    except IntegrityError:
        # The address signed already (perhaps a moment ago, in a concurrent request).
        signature = Signature.objects.filter(petition=petition).for_email(details.email).get()
        send_confirmation(signature=signature)
    return signature


def _wording(kind: str, language: str, text: str) -> int | None:
    return ConsentWording.record(kind, language, text) if text else None


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


def send_confirmation(*, signature: Signature, again: bool = True) -> None:
    """Queue the e-mail a signer needs next: the confirmation link, or "already signed".

    The first link leaves once, whatever happens to the worker sending it; a signer who asks
    for it again (signing again, "send it again") gets a new copy.
    """
    if signature.is_confirmed:
        after_commit(tasks.send_already_signed_email, signature.pk)
    else:
        after_commit(tasks.send_confirmation_email, signature.pk, again)


@transaction.atomic
def confirm(*, signature: Signature) -> bool:
    """Confirm a signature; the running count takes it in within a second (petition.counting).

    Returns False when it was already confirmed: the count then moves no further.
    """
    newly_confirmed = signature.mark_confirmed()
    if newly_confirmed and tasks.fold_count.app.conf.task_always_eager:
        # Without a broker no beat folds the counts every second: fold now, after the commit,
        # so that the count is right at once. With a broker, nothing more happens here.
        after_commit(tasks.fold_count, signature.petition_id)
        after_commit(tasks.refresh_petition_figures, signature.petition_id)
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
