"""The only code that writes the advocacy records: a signer's circonscription, and the count of
messages opened."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ..models import Signature
from .models import ChosenCirconscription, Target


def choose_circonscription(*, signature: Signature, departement: str, number: int) -> None:
    """Keep the circonscription a signer says they vote in; a new choice replaces the old."""
    try:
        with transaction.atomic():
            ChosenCirconscription.objects.update_or_create(
                signature=signature,
                defaults={
                    "departement": departement,
                    "number": number,
                    "chosen_at": timezone.now(),
                },
            )
    except IntegrityError:
        # Chosen at the same moment from another tab: the other choice stands, as if first.
        pass


def count_message_opened(*, target: Target) -> None:
    """A signer opened the message to this decision-maker: one more, and nothing else kept."""
    Target.objects.filter(pk=target.pk).update(messages_opened=F("messages_opened") + 1)
