from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Value
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField


class Petition(models.Model):
    """A text citizens sign. Its long texts exist per language (see translation.py)."""

    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=200)
    introduction = models.TextField(_("introduction"), help_text=_("Shown before the proposals."))
    conclusion = models.TextField(
        _("conclusion"), blank=True, help_text=_("Shown after the proposals.")
    )
    notes = models.TextField(_("notes"), blank=True, help_text=_("Footnotes, shown in small."))
    about = models.TextField(_("about the organisation"), blank=True)
    goal = models.PositiveIntegerField(_("goal"), default=100_000)
    is_open = models.BooleanField(_("open for signing"), default=True)
    signature_count = models.PositiveIntegerField(
        _("confirmed signatures"),
        default=0,
        editable=False,
        help_text=_("Kept up to date by the task queue; never edited by hand."),
    )
    count_updated_at = models.DateTimeField(_("count updated at"), default=timezone.now)
    # Bookkeeping of petition.counting: confirmations up to counted_until, folded for good.
    settled_count = models.PositiveIntegerField(default=0, editable=False)
    counted_until = models.DateTimeField(null=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("petition", args=[self.slug])

    @property
    def current_goal(self) -> int:
        """The goal staff set or, once it is reached, the next milestone (1, 2, 5, 10, 20…)."""
        if self.goal > self.signature_count:
            return self.goal
        milestone = 1
        while True:
            for factor in (1, 2, 5):
                if milestone * factor > self.signature_count:
                    return milestone * factor
            milestone *= 10

    @property
    def progress_percent(self) -> int:
        return min(100, self.signature_count * 100 // self.current_goal)


class Proposal(models.Model):
    """One of the petition's concrete demands, shown as a numbered item."""

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="proposals", verbose_name=_("petition")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    text = models.TextField(_("text"))

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text[:80]


class SignatureQuerySet(models.QuerySet):
    def confirmed(self) -> SignatureQuerySet:
        return self.filter(confirmed_at__isnull=False)

    def counted(self) -> SignatureQuerySet:
        """The signatures that make up a petition's public count."""
        return self.confirmed()

    def pending(self) -> SignatureQuerySet:
        return self.filter(confirmed_at__isnull=True)

    def for_email(self, email: str) -> SignatureQuerySet:
        # The unique constraint's own comparison, which its index serves. iexact compares
        # upper() instead, and the two disagree on a few letters (dotted capital I, long s,
        # Kelvin sign): a signature the constraint finds, iexact may miss, or find twice.
        return self.alias(email_lower=Lower("email")).filter(email_lower=Lower(Value(email)))


class Signature(models.Model):
    """A citizen's signature. It counts once confirmed_at is set, and only then."""

    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="signatures", verbose_name=_("petition")
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("e-mail address"), max_length=254)
    country = CountryField(_("country"), default="FR")
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    wants_news = models.BooleanField(_("wants news of the campaign"), default=False)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    created_at = models.DateTimeField(_("signed at"), default=timezone.now)
    confirmation_sent_at = models.DateTimeField(_("confirmation e-mail sent at"), null=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), "petition", name="one_signature_per_email_per_petition"
            ),
            models.CheckConstraint(
                condition=models.Q(confirmed_at__isnull=True)
                | models.Q(confirmed_at__gte=models.F("created_at")),
                name="confirmed_after_signed",
            ),
        ]
        indexes = [
            models.Index(fields=["petition", "confirmed_at"], name="signature_confirmed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def receives_email(self) -> bool:
        return self.unsubscribed_at is None

    def mark_confirmed(self) -> bool:
        """Confirm this signature; False if it was already confirmed.

        A conditional UPDATE, so two simultaneous confirmations count once.
        """
        now = timezone.now()
        updated = Signature.objects.filter(pk=self.pk, confirmed_at__isnull=True).update(
            confirmed_at=now
        )
        if updated:
            self.confirmed_at = now
        return bool(updated)

    def mark_unsubscribed(self) -> bool:
        """Stop the campaign's e-mails to this signer; False if already done."""
        now = timezone.now()
        updated = Signature.objects.filter(pk=self.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now
        )
        if updated:
            self.unsubscribed_at = now
        return bool(updated)

    def mark_confirmation_sent(self) -> None:
        self.confirmation_sent_at = timezone.now()
        Signature.objects.filter(pk=self.pk).update(confirmation_sent_at=self.confirmation_sent_at)


class PetitionFigures(models.Model):
    """Public aggregates of a petition's signatures, kept by Celery (petition.figures).

    Pages read this row; none ever aggregates the signatures table itself.
    """

    petition = models.OneToOneField(
        Petition, on_delete=models.CASCADE, primary_key=True, related_name="figures"
    )
    per_day = models.JSONField(default=list, help_text=_("[date, confirmations] pairs"))
    by_country = models.JSONField(default=list, help_text=_("[country code, count] pairs"))
    by_departement = models.JSONField(default=list, help_text=_("[département, count] pairs"))
    other_countries = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("petition figures")
        verbose_name_plural = _("petition figures")

    def __str__(self) -> str:
        return str(self.petition)
