"""The only code that writes the advocacy records: a signer's circonscription, the count of
messages opened, and the publication of responses."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from ..emails import absolute_url
from ..models import Signature, Update
from .models import ChosenCirconscription, Target, TargetResponse

# The draft update written from an answer, for staff to read before anything is sent.
UPDATE_TEMPLATES = "admin/petition/targetresponse"


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


def publish_responses(*, responses: QuerySet[TargetResponse]) -> int:
    """Show these responses on the public page (those already shown keep their date)."""
    return responses.filter(published_at__isnull=True).update(published_at=timezone.now())


def unpublish_responses(*, responses: QuerySet[TargetResponse]) -> int:
    return responses.filter(published_at__isnull=False).update(published_at=None)


@transaction.atomic
def draft_update(*, response: TargetResponse, user: AbstractBaseUser) -> Update:
    """Publish a response and write a draft update to signers about it, in both languages, for
    staff to read, change, test and send with the updates tool (or delete)."""
    publish_responses(responses=TargetResponse.objects.filter(pk=response.pk))
    response.refresh_from_db()
    if (
        response.update_id is not None
        and Update.objects.filter(pk=response.update_id, queued_at__isnull=True).exists()
    ):
        return Update.objects.get(pk=response.update_id)
    petition = response.target.petition
    texts = {}
    for language in ("fr", "en"):
        with translation.override(language):
            context = {
                "response": response,
                "target": response.target,
                "targets_url": absolute_url(reverse("targets", args=[petition.slug])),
            }
            subject = render_to_string(f"{UPDATE_TEMPLATES}/update_subject.txt", context)
            texts[f"subject_{language}"] = " ".join(subject.split())
            body = render_to_string(f"{UPDATE_TEMPLATES}/update_body.txt", context)
            texts[f"body_{language}"] = body.strip()
    update = Update.objects.create(petition=petition, created_by=user, **texts)
    TargetResponse.objects.filter(pk=response.pk).update(update=update)
    return update


def publish_updates(*, updates: QuerySet[Update]) -> int:
    """Show these updates on their petition's news page (those shown keep their date)."""
    return updates.filter(published_at__isnull=True).update(published_at=timezone.now())


def unpublish_updates(*, updates: QuerySet[Update]) -> int:
    return updates.filter(published_at__isnull=False).update(published_at=None)
