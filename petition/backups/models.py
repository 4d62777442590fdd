"""The journal of erasures that a restore applies again (petition.backups.journal).

Registered with the petition app: petition/models.py imports this module.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Erasure(models.Model):
    """A signer's data erased: a signature withdrawn, or a closed petition's signatures
    anonymised. It names no one: a withdrawn signature only by its id and a keyed hash of what
    it was (journal.fingerprint), which the row alone, restored from a backup, can match."""

    class Kind(models.TextChoices):
        WITHDRAWN = "withdrawn", _("signature withdrawn")
        ANONYMISED = "anonymised", _("signatures of a closed petition anonymised")

    kind = models.CharField(_("what"), max_length=12, choices=Kind.choices)
    petition = models.ForeignKey(
        "petition.Petition", on_delete=models.PROTECT, related_name="+", verbose_name=_("petition")
    )
    # Not a foreign key: the row it names is gone, or about to be.
    signature_id = models.BigIntegerField(null=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(_("erased at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "signature_id"],
                condition=models.Q(signature_id__isnull=False),
                name="one_erasure_per_signature",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"
