"""Decision-makers a petition asks to act (targets), what they answered, and the circonscription
a signer chose to write to their député.

Registered with the petition app: petition/models.py imports this module.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .places import AREAS, area_name, ordinal


class TargetQuerySet(models.QuerySet):
    def active(self) -> TargetQuerySet:
        """Those still in office: a député who left is retired, never deleted."""
        return self.filter(retired_at__isnull=True)

    def deputies(self) -> TargetQuerySet:
        return self.filter(role=Target.Role.DEPUTY)

    def of_area(self, area: str) -> TargetQuerySet:
        return self.deputies().filter(departement=area).order_by("circonscription", "name")

    def written_to_from_abroad(self) -> TargetQuerySet:
        """Whom a signer who has no député to write to is offered: ministers and platforms
        with a public address."""
        return self.filter(
            role__in=[Target.Role.MINISTER, Target.Role.PLATFORM], email__gt=""
        ).order_by("role", "name")


class Target(models.Model):
    """A decision-maker a petition asks to act: a député, a minister, a platform…"""

    class Role(models.TextChoices):
        DEPUTY = "deputy", _("member of the National Assembly")
        SENATOR = "senator", _("senator")
        MINISTER = "minister", _("minister")
        PLATFORM = "platform", _("online platform")
        OTHER = "other", _("other")

    class Civility(models.TextChoices):
        NONE = "", _("none")
        MADAME = "Mme", "Mme"
        MONSIEUR = "M.", "M."

    petition = models.ForeignKey(
        "petition.Petition",
        on_delete=models.PROTECT,
        related_name="targets",
        verbose_name=_("asked to act on"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    civility = models.CharField(_("civility"), max_length=4, choices=Civility.choices, blank=True)
    name = models.CharField(_("name"), max_length=200)
    organisation = models.CharField(
        _("organisation or parliamentary group"), max_length=200, blank=True
    )
    departement = models.CharField(
        _("département"),
        max_length=3,
        blank=True,
        choices=sorted(AREAS.items()),
        help_text=_("Where they were elected, if they were."),
    )
    circonscription = models.PositiveSmallIntegerField(_("circonscription"), null=True, blank=True)
    email = models.EmailField(_("public e-mail address"), max_length=254, blank=True)
    asked_on = models.DateField(
        _("asked on"), null=True, blank=True, help_text=_("When the campaign asked them to act.")
    )
    retired_at = models.DateTimeField(
        _("left office at"),
        null=True,
        blank=True,
        help_text=_("Kept, never deleted: their answers keep their author."),
    )
    # How many signers opened the message to them that the site prepares; nothing else about
    # those messages is stored.
    messages_opened = models.PositiveIntegerField(
        _("messages opened by signers"), default=0, editable=False
    )
    created_at = models.DateTimeField(_("added at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    objects = TargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision-maker")
        verbose_name_plural = _("decision-makers")
        ordering = ["role", "departement", "circonscription", "name"]
        constraints = [
            # The import recognises a député by their address.
            models.UniqueConstraint(
                models.F("petition"),
                Lower("email"),
                condition=models.Q(role="deputy") & ~models.Q(email=""),
                name="one_deputy_per_address_per_petition",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="deputy")
                | (models.Q(circonscription__isnull=False) & ~models.Q(departement="")),
                name="deputy_has_a_seat",
            ),
            models.CheckConstraint(
                condition=models.Q(circonscription__isnull=True) | ~models.Q(departement=""),
                name="circonscription_within_a_departement",
            ),
        ]
        indexes = [
            models.Index(fields=["petition", "role", "departement"], name="target_place_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        return f"{self.civility} {self.name}" if self.civility else self.name

    @property
    def departement_name(self) -> str:
        return area_name(self.departement) if self.departement else ""

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    @property
    def circonscription_label(self) -> str:
        """ "7th circonscription", in the active language; empty for who has none."""
        return ordinal(self.circonscription) if self.circonscription else ""

    @property
    def seat_label(self) -> str:
        """Where they were elected, in the active language: "Rhône, 7th circonscription"."""
        if self.circonscription is None:
            return self.departement_name
        return f"{self.departement_name}, {ordinal(self.circonscription)}"

    def seat(self) -> str:
        """Where they were elected, in French as it is named: "Rhône, 7e circonscription"."""
        if self.circonscription is None:
            return self.departement_name
        suffix = "re" if self.circonscription == 1 else "e"
        return f"{self.departement_name}, {self.circonscription}{suffix} circonscription"


class TargetResponse(models.Model):
    """What a decision-maker answered, as staff recorded it. Shown on the public page once
    published."""

    class Position(models.TextChoices):
        SUPPORTS = "supports", _("supports")
        OPPOSES = "opposes", _("opposes")
        UNDECIDED = "undecided", _("answered without taking a position")

    target = models.ForeignKey(
        Target, on_delete=models.PROTECT, related_name="responses", verbose_name=_("from")
    )
    received_on = models.DateField(_("received on"), default=timezone.localdate)
    position = models.CharField(_("position"), max_length=10, choices=Position.choices)
    text = models.TextField(
        _("their words"), help_text=_("Quoted as they wrote it: a letter, a post, a statement.")
    )
    language = models.CharField(
        _("language of their words"), max_length=8, choices=settings.LANGUAGES, default="fr"
    )
    url = models.URLField(_("link"), blank=True, help_text=_("Where it was published, if it was."))
    published_at = models.DateTimeField(_("public since"), null=True, blank=True, editable=False)
    update = models.ForeignKey(
        "petition.Update",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("update to signers"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("response of a decision-maker")
        verbose_name_plural = _("responses of decision-makers")
        ordering = ["-received_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.target} ({self.received_on:%Y-%m-%d})"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class ChosenCirconscription(models.Model):
    """The circonscription a signer said they vote in, to write to their député. A postal code
    tells only the département: nothing else places a signer in a circonscription."""

    signature = models.OneToOneField(
        "petition.Signature",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="chosen_circonscription",
    )
    departement = models.CharField(max_length=3, choices=sorted(AREAS.items()))
    number = models.PositiveSmallIntegerField()
    chosen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("circonscription chosen by a signer")
        verbose_name_plural = _("circonscriptions chosen by signers")
        indexes = [models.Index(fields=["departement", "number"], name="chosen_circo_idx")]

    def __str__(self) -> str:
        return f"{self.departement}-{self.number}"


class DossierRun(models.Model):
    """Dossiers for many députés (a département, or all), made by Celery for staff to download
    from the admin; its progress shows there."""

    petition = models.ForeignKey(
        "petition.Petition", on_delete=models.CASCADE, related_name="+", verbose_name=_("petition")
    )
    departement = models.CharField(
        _("département"),
        max_length=3,
        blank=True,
        choices=sorted(AREAS.items()),
        help_text=_("Empty: every député."),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        editable=False,
        related_name="+",
        verbose_name=_("asked for by"),
    )
    requested_at = models.DateTimeField(_("asked for at"), default=timezone.now, editable=False)
    total = models.PositiveIntegerField(_("députés"), default=0, editable=False)
    done = models.PositiveIntegerField(_("PDFs made"), default=0, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, editable=False)

    class Meta:
        verbose_name = _("dossier for députés")
        verbose_name_plural = _("dossiers for députés")
        ordering = ["-requested_at"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.departement or '*'} {self.requested_at:%Y-%m-%d %H:%M}"

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 0
