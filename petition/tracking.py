"""What the mail provider tells through anymail's tracking webhooks (/anymail/<provider>/tracking/,
authenticated by ANYMAIL_WEBHOOK_SECRET): hard bounces and complaints stop all e-mail to the
address, and the provider's own unsubscribe link stops the campaign's e-mails.

Connected in PetitionConfig.ready(); the work itself is in petition.services.
"""

from __future__ import annotations

import logging

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason, tracking
from django.conf import settings
from django.core import checks
from django.dispatch import receiver

logger = logging.getLogger(__name__)

# Anymail calls "bounced" some temporary failures that a few providers report as such; the
# address may work tomorrow, so those suppress nothing. (Most providers report them as
# "deferred", which is ignored here anyway.)
SOFT_BOUNCES = {"soft_bounce", "soft_bounced", "softbounce"}


def _is_soft_bounce(event: AnymailTrackingEvent) -> bool:
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    kind = str(raw.get("event") or raw.get("Type") or raw.get("RecordType") or "")
    if kind.replace(" ", "_").lower() in SOFT_BOUNCES:
        return True
    # Amazon SES describes its bounces as "Permanent: …" or "Transient: …".
    return (event.description or "").startswith("Transient")


def _reason(event: AnymailTrackingEvent, esp_name: str) -> str:
    parts = [event.event_type, event.reject_reason, event.description, event.mta_response]
    when = event.timestamp.isoformat(timespec="seconds") if event.timestamp else ""
    said = " — ".join(str(part) for part in parts if part)
    reason = f"{esp_name} {when}: {said}".strip()[:1000]
    # The remote mail server wrote most of it, and may have put in a NUL or a stray surrogate
    # (JSON lets "\u0000" and "\ud800" through): PostgreSQL can store neither.
    return reason.replace("\x00", "").encode(errors="replace").decode()


def _could_have_signed(address: str) -> bool:
    """Whether the signing form takes the address: the site writes to no other, and some
    (too long, with a NUL or a stray surrogate) could not even be looked up."""
    # Imported here, as services below.
    from .forms import SignatureForm

    return "email" not in SignatureForm({"email": address}).errors


@receiver(tracking, dispatch_uid="petition.tracking.record_delivery_problem")
def record_delivery_problem(
    sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: object
) -> None:
    """Act on the tracking events that concern the site; ignore the others."""
    # Imported here: this module is loaded at start-up (ready()), and services loads Celery
    # tasks and Faker, which every process need not pay for.
    from . import services

    if not event.recipient or not _could_have_signed(event.recipient):
        return
    kind = event.event_type
    bounced = (kind == EventType.BOUNCED and not _is_soft_bounce(event)) or (
        # The provider refused to send because of an earlier bounce or an invalid address.
        kind == EventType.REJECTED
        and event.reject_reason in {RejectReason.BOUNCED, RejectReason.INVALID}
    )
    complained = kind == EventType.COMPLAINED or (
        kind == EventType.REJECTED and event.reject_reason == RejectReason.SPAM
    )
    if bounced or complained:
        services.record_delivery_problem(
            email=event.recipient,
            bounced=bounced,
            complained=complained,
            provider=esp_name,
            reason=_reason(event, esp_name),
            at=event.timestamp,
        )
        logger.info("%s reported %s for an address: no more e-mail to it.", esp_name, kind)
    elif kind == EventType.UNSUBSCRIBED:
        services.unsubscribe_address(email=event.recipient)


def check_webhook_secret(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """check --deploy: a provider's webhooks without a secret would let anyone suppress
    addresses (anymail only warns, at the first request)."""
    if not settings.EMAIL_BACKEND.startswith("anymail.") or settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return []
    return [
        checks.Warning(
            "The anymail tracking webhooks have no secret.",
            hint="Set ANYMAIL_WEBHOOK_SECRET=user:password and give the provider "
            "https://user:password@your.site/anymail/<provider>/tracking/.",
            id="petition.W001",
        )
    ]
