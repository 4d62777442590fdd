"""An import of paper signatures, registered with the petition app (petition.models imports it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PaperImportQuerySet(models.QuerySet):
    def standing(self) -> PaperImportQuerySet:
        """The imports that count: not undone."""
        return self.filter(undone_at__isnull=True)

    def untyped_sheets(self) -> PaperImportQuerySet:
        """Standing sheets counted by their number alone, as the public log page lists them."""
        return self.standing().filter(count_alone__gt=0).order_by("collected_on", "pk")


class PaperImport(models.Model):
    """One import of paper signatures: the rows of a typed-in sheet (a CSV), or the number of
    signatures on a sheet that was not typed in. It is the audit record of the import (who,
    when, how many, what was set aside as a duplicate) and of its undoing."""

    petition = models.ForeignKey(
        "petition.Petition",
        on_delete=models.PROTECT,
        related_name="paper_imports",
        verbose_name=_("petition"),
    )
    event = models.CharField(_("event"), max_length=300)
    collected_on = models.DateField(_("collected on"))
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    rows_created = models.PositiveIntegerField(_("signatures typed in"), default=0)
    count_alone = models.PositiveIntegerField(
        _("signatures counted without being typed in"), default=0
    )
    # Each row set aside because its mailbox had signed already: its line and why
    # (services.Duplicate), never the address.
    duplicates = models.JSONField(_("duplicates set aside"), default=list, blank=True)
    imported_at = models.DateTimeField(_("imported at"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    # Kept as text as well, so that the record outlives the account.
    imported_by_name = models.CharField(_("imported by"), max_length=150)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )
    undone_by_name = models.CharField(_("undone by"), max_length=150, blank=True)

    objects = PaperImportQuerySet.as_manager()

    class Meta:
        app_label = "petition"
        # "Sheet": each import is one, typed in or counted; and French admin titles read
        # "Affichage de feuille…", where "import" would need an elision Django does not make.
        verbose_name = _("sheet of paper signatures")
        verbose_name_plural = _("sheets of paper signatures")
        ordering = ["-imported_at"]
        # Imports are made and undone through their own pages, never edited or deleted: the
        # record stays. "add" is the permission to import and to undo.
        default_permissions = ("add", "view")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(undone_at__isnull=True) | models.Q(undone_by_name__gt=""),
                name="paper_import_undone_by_someone",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} ({self.collected_on:%Y-%m-%d})"

    @property
    def signatures_in_all(self) -> int:
        return self.rows_created + self.count_alone

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None
