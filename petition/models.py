from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Q, Value
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from . import merkle
from .addresses import canonical_email


class Outcome(models.TextChoices):
    VICTORY = "victory", _("victory")
    OTHER = "other", _("another outcome")


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
    # Signatures are anonymised ANONYMISE_AFTER_DAYS after this (petition.privacy).
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    signature_count = models.PositiveIntegerField(
        _("confirmed signatures"),
        default=0,
        editable=False,
        help_text=_("Kept up to date by the task queue; never edited by hand."),
    )
    count_updated_at = models.DateTimeField(_("count updated at"), default=timezone.now)
    # Bookkeeping of petition.counting: confirmations up to counted_until, folded for good.
    settled_count = models.PositiveIntegerField(default=0, editable=False)
    # Of signature_count, the signatures collected on paper: typed in, or counted by the
    # number on a sheet alone (petition.paper). Kept by petition.counting.reconcile.
    paper_count = models.PositiveIntegerField(_("of which on paper"), default=0, editable=False)
    # Of paper_count, the sheets counted by their number alone: they are in settled_count.
    untyped_paper_count = models.PositiveIntegerField(default=0, editable=False)
    counted_until = models.DateTimeField(null=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The campaign's milestones, shown on its news page (petition.advocacy.news).
    delivered_on = models.DateField(
        _("delivered on"),
        null=True,
        blank=True,
        help_text=_("When the signatures were handed over."),
    )
    delivered_to = models.CharField(
        _("delivered to"),
        max_length=300,
        blank=True,
        help_text=_("To whom, as the news page says it: “the Minister for Digital Affairs”."),
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    outcome_on = models.DateField(_("outcome on"), null=True, blank=True)
    outcome_text = models.TextField(
        _("what came of it"), blank=True, help_text=_("Shown on the news page with the outcome.")
    )

    class Meta:
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        if self.is_open:
            self.closed_at = None
        elif self.closed_at is None:
            self.closed_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "closed_at"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("petition", args=[self.slug])

    def clean(self) -> None:
        errors = {}
        # The texts are per language (translation.py): one in any language says to whom.
        whom = [getattr(self, f"delivered_to_{code}", "") for code, _name in settings.LANGUAGES]
        delivered_to = any(whom) or bool(self.delivered_to)
        if self.delivered_on and not delivered_to:
            errors[f"delivered_to_{settings.MODELTRANSLATION_DEFAULT_LANGUAGE}"] = _(
                "Say to whom the signatures were delivered."
            )
        if delivered_to and not self.delivered_on:
            errors["delivered_on"] = _("Say when the signatures were delivered.")
        if self.outcome and not self.outcome_on:
            errors["outcome_on"] = _("Say when the outcome came.")
        if self.outcome_on and not self.outcome:
            errors["outcome"] = _("Choose the outcome.")
        if errors:
            raise ValidationError(errors)

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


# The signatures that make up a petition's public count: confirmed, neither suspect nor
# invalidated by staff.
COUNTED = models.Q(confirmed_at__isnull=False, suspect_reason="", invalidated_at__isnull=True)


class SignatureQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs) -> list[Signature]:
        # save() is skipped here: the canonical address is filled in the same way.
        objs = list(objs)
        for signature in objs:
            if signature.anonymised_at is None:
                signature.email_canonical = (
                    canonical_email(signature.email) if signature.email else ""
                )
        return super().bulk_create(objs, *args, **kwargs)

    def confirmed(self) -> SignatureQuerySet:
        return self.filter(confirmed_at__isnull=False)

    def counted(self) -> SignatureQuerySet:
        """The signatures that make up a petition's public count (COUNTED)."""
        return self.filter(COUNTED)

    def suspect(self) -> SignatureQuerySet:
        """Signatures the fraud rules set aside until staff clear them (petition.abuse)."""
        return self.exclude(suspect_reason="").filter(invalidated_at__isnull=True)

    def invalidated(self) -> SignatureQuerySet:
        return self.filter(invalidated_at__isnull=False)

    def pending(self) -> SignatureQuerySet:
        return self.filter(confirmed_at__isnull=True)

    def suppressed(self) -> SignatureQuerySet:
        """Signatures whose address the mail provider reported bouncing or complaining."""
        return self.filter(
            models.Exists(Suppression.objects.for_signature(models.OuterRef("email")))
        )

    def reachable(self) -> SignatureQuerySet:
        """Signatures whose address may still be written to: not unsubscribed, not suppressed."""
        return self.filter(unsubscribed_at__isnull=True).exclude(
            models.Exists(Suppression.objects.for_signature(models.OuterRef("email")))
        )

    def news_recipients(self) -> SignatureQuerySet:
        """Who receives the campaign's updates: confirmed, asked for news, still reachable."""
        return self.counted().filter(wants_news=True, source=Source.ONLINE).reachable()

    def with_status(self, status: str) -> SignatureQuerySet:
        """The signatures in one of SignatureStatus; "all" (or "") filters nothing."""
        if status in ("", "all"):
            return self
        filters = {
            SignatureStatus.CONFIRMED: self.counted,
            SignatureStatus.PENDING: self.pending,
            SignatureStatus.SUSPECT: self.suspect,
            SignatureStatus.INVALIDATED: self.invalidated,
            SignatureStatus.UNSUBSCRIBED: lambda: self.filter(unsubscribed_at__isnull=False),
            SignatureStatus.SUPPRESSED: self.suppressed,
        }
        if status not in filters:
            raise ValueError(f"Unknown signature status {status!r}.")
        return filters[status]()

    def for_email(self, email: str) -> SignatureQuerySet:
        """The signatures of the mailbox an address reaches, however it is spelt: the unique
        constraint's own comparison, which its index serves."""
        return self.filter(email_canonical=canonical_email(email))

    def with_referred_count(self) -> SignatureQuerySet:
        """Annotate referred_count: the confirmed signatures made through each one's link.

        For listings and mailings; one signature's figure is Signature.referred_count().
        """
        return self.annotate(
            referred_count=Count(
                "referrals",
                filter=Q(
                    referrals__confirmed_at__isnull=False,
                    referrals__suspect_reason="",
                    referrals__invalidated_at__isnull=True,
                ),
            )
        )


REFERRAL_CODE_BYTES = 12
# A receipt for the public log: 128 random bits (petition.log).
RECEIPT_BYTES = 16
# token_urlsafe's alphabet and length for RECEIPT_BYTES: anything else is no receipt of ours.
RECEIPT_PATTERN = r"[A-Za-z0-9_-]{22}"
# token_urlsafe's alphabet and length for REFERRAL_CODE_BYTES; anything else is no code of ours.
REFERRAL_CODE_PATTERN = r"[A-Za-z0-9_-]{16}"


def new_referral_code() -> str:
    """A random code for a signer's personal link: 96 bits, so nobody can guess another's,
    and nothing in it comes from the signer (neither the row's id nor the address)."""
    return secrets.token_urlsafe(REFERRAL_CODE_BYTES)


class Source(models.TextChoices):
    ONLINE = "online", _("online")
    PAPER = "paper", _("on paper")


class Signature(models.Model):
    """A citizen's signature. It counts once confirmed_at is set, and only then.

    A signature collected on paper (petition.paper) is entered by staff, confirmed as it is
    entered, may have no e-mail address, and is never written to: its signer consented to
    nothing online.
    """

    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="signatures", verbose_name=_("petition")
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    # Empty only on paper, or once anonymised.
    email = models.EmailField(_("e-mail address"), max_length=254, blank=True)
    # The mailbox the address reaches (petition.addresses): what "one signature per person"
    # compares. Empty once the signature is anonymised.
    email_canonical = models.CharField(max_length=254, editable=False)
    country = CountryField(_("country"), default="FR")
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    wants_news = models.BooleanField(_("wants news of the campaign"), default=False)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    created_at = models.DateTimeField(_("signed at"), default=timezone.now)
    # What the signer agreed to, word for word, when they signed (created_at).
    consent = models.ForeignKey(
        "ConsentWording",
        on_delete=models.PROTECT,
        null=True,
        editable=False,
        related_name="+",
        verbose_name=_("consent to sign"),
    )
    news_consent = models.ForeignKey(
        "ConsentWording",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("consent to news"),
    )
    # A keyed hash of the client address, for the fraud rules; never the address itself, and
    # dropped after IP_HASH_RETENTION_DAYS (petition.privacy).
    ip_hash = models.CharField(
        _("client address (keyed hash)"), max_length=64, blank=True, default="", db_default=""
    )
    suspect_reason = models.CharField(
        _("why suspect"),
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text=_("Set by the fraud rules: not counted until staff restore it."),
    )
    invalidated_at = models.DateTimeField(_("invalidated by staff at"), null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(_("confirmation e-mail sent at"), null=True)
    confirmation_failed_at = models.DateTimeField(
        _("confirmation e-mail failed at"), null=True, blank=True
    )
    confirmation_error = models.TextField(
        _("why the confirmation e-mail failed"), blank=True, default="", db_default=""
    )
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)
    # Set on confirmation: only a counted signature has a link of its own to share. The
    # database default serves rows written outside the ORM (fake_signatures' COPY).
    referral_code = models.CharField(
        _("referral code"), max_length=32, blank=True, default="", db_default="", editable=False
    )
    referred_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="referrals",
        verbose_name=_("signed through the link of"),
    )

    source = models.CharField(
        _("source"),
        max_length=8,
        choices=Source.choices,
        default=Source.ONLINE,
        db_default=Source.ONLINE,
        editable=False,
    )
    paper_import = models.ForeignKey(
        "PaperImport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="signatures",
        verbose_name=_("imported with"),
    )

    # The public log (petition.log) knows a signature only by the SHA-256 of its receipt, a
    # random value shown once to the signer at confirmation and kept nowhere here.
    receipt_hash = models.BinaryField(max_length=32, null=True, editable=False)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        # Being staff is not enough to take the list of signers away: exports need this.
        permissions = [("export_signatures", _("Can export signatures"))]
        ordering = ["-created_at"]
        constraints = [
            # Anonymised signatures have no address left to compare.
            models.UniqueConstraint(
                fields=["petition", "email_canonical"],
                condition=~models.Q(email_canonical=""),
                name="one_signature_per_mailbox_per_petition",
            ),
            models.CheckConstraint(
                condition=models.Q(confirmed_at__isnull=True)
                | models.Q(confirmed_at__gte=models.F("created_at")),
                name="confirmed_after_signed",
            ),
            models.CheckConstraint(
                condition=~models.Q(email="")
                | models.Q(source=Source.PAPER)
                | models.Q(anonymised_at__isnull=False),
                name="email_unless_paper_or_anonymised",
            ),
            models.CheckConstraint(
                condition=models.Q(source=Source.ONLINE, paper_import__isnull=True)
                | models.Q(source=Source.PAPER, paper_import__isnull=False),
                name="paper_signature_has_its_import",
            ),
            # Partial: pending signatures, most of the table in a surge, have no code to index.
            models.UniqueConstraint(
                fields=["referral_code"],
                condition=~models.Q(referral_code=""),
                name="unique_referral_code",
            ),
        ]
        indexes = [
            # The count's fold reads confirmations by time, the log's batches in the order
            # (confirmed_at, id): both are ranges of this index.
            models.Index(fields=["petition", "confirmed_at", "id"], name="signature_confirmed_idx"),
            models.Index(fields=["ip_hash", "created_at"], name="signature_ip_hash_idx"),
            # What the sweep for unsent confirmation e-mails and the deletion of stale pending
            # signatures look through: the pending few, never the confirmed million.
            models.Index(
                fields=["created_at"],
                condition=models.Q(confirmed_at__isnull=True),
                name="signature_pending_idx",
            ),
            # The paper signatures, few among the online ones: what the count reads of them.
            models.Index(
                fields=["petition"],
                condition=models.Q(source="paper"),
                name="signature_paper_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def save(self, *args, **kwargs) -> None:
        if self.anonymised_at is None:
            self.email_canonical = canonical_email(self.email) if self.email else ""
        super().save(*args, **kwargs)

    @property
    def is_counted(self) -> bool:
        return self.is_confirmed and not self.suspect_reason and self.invalidated_at is None

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def receives_email(self) -> bool:
        return self.unsubscribed_at is None and self.source == Source.ONLINE and bool(self.email)

    # The signer's receipt for the public log, in memory only: set by mark_confirmed() when it
    # confirms, shown to the signer once, and never stored (only its hash is).
    receipt = ""

    def mark_confirmed(self) -> bool:
        """Confirm this signature; False if it was already confirmed.

        A conditional UPDATE, so two simultaneous confirmations count once. Confirming makes
        the signer's receipt (petition.log): only its hash is stored.
        """
        now = timezone.now()
        code = self.referral_code or new_referral_code()
        receipt = secrets.token_urlsafe(RECEIPT_BYTES)
        digest = merkle.receipt_hash(receipt)
        updated = Signature.objects.filter(pk=self.pk, confirmed_at__isnull=True).update(
            confirmed_at=now, referral_code=code, receipt_hash=digest
        )
        if updated:
            self.confirmed_at = now
            self.referral_code = code
            self.receipt_hash = digest
            self.receipt = receipt
        else:
            # Confirmed meanwhile, by another request: this copy catches up with the row.
            self.refresh_from_db(fields=["confirmed_at", "referral_code"])
        return bool(updated)

    def ensure_referral_code(self) -> str:
        """This confirmed signature's referral code, made now if it was confirmed without one
        (signatures confirmed before personal links existed, or loaded in bulk)."""
        if self.referral_code:
            return self.referral_code
        if not self.is_confirmed:
            raise ValueError("only a confirmed signature has a personal link")
        # Conditional, so that two simultaneous requests end with one code, the same for both.
        Signature.objects.filter(pk=self.pk, referral_code="").update(
            referral_code=new_referral_code()
        )
        self.referral_code = (
            Signature.objects.filter(pk=self.pk).values_list("referral_code", flat=True).get()
        )
        return self.referral_code

    def referred_count(self) -> int:
        """How many people signed through this signer's link and confirmed: counted only once
        confirmed, like every signature."""
        return Signature.objects.counted().filter(referred_by=self).count()

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
        Signature.objects.filter(pk=self.pk).update(
            confirmation_sent_at=self.confirmation_sent_at,
            confirmation_failed_at=None,
            confirmation_error="",
        )

    def mark_confirmation_failed(self, error: str) -> None:
        """The confirmation e-mail could not be sent, even after retries: staff see why."""
        self.confirmation_failed_at = timezone.now()
        self.confirmation_error = error[:2000]
        Signature.objects.filter(pk=self.pk).update(
            confirmation_failed_at=self.confirmation_failed_at,
            confirmation_error=self.confirmation_error,
        )


class SigningRequestQuerySet(models.QuerySet):
    def unheld(self, *, by: str = "") -> SigningRequestQuerySet:
        """Requests no worker holds, or only the task `by`, or whose hold has run out (the
        worker died, or the retry it waited for is overdue)."""
        free = Q(held_until__isnull=True) | Q(held_until__lt=timezone.now())
        if by:
            free |= Q(held_by=by)
        return self.filter(free)


class SigningRequest(models.Model):
    """A signing, or a request to send the e-mail again, as the site took it in.

    Taking it in is the same work for every address, known or not: one INSERT of this row and
    one task queued after the commit. Only the worker looks for a signature of the address,
    decides which e-mail it is owed, if any (petition.signing), and sends it; so neither the
    answer nor the time it takes tells anyone whether an address has signed. The row is deleted
    once its e-mail has left or none was due; until then, beat's sweep queues it again (the
    broker was down, a worker died).
    """

    # Not shown to anyone: plain labels.
    class Kind(models.TextChoices):
        SIGN = "sign", "signing"
        RESEND = "resend", "send the e-mail again"
        # Staff sending a confirmation again (say after the provider failed): no daily cap.
        STAFF = "staff", "sent again by staff"

    class Mail(models.TextChoices):
        NONE = "", "none"
        CONFIRM = "confirm", "confirmation link"
        ALREADY_SIGNED = "already_signed", "already signed"

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    email = models.EmailField(max_length=254)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    # What a signing carries besides the address (petition.signing.Submission): names, place,
    # consent wording, referral code and the traits the fraud rules read.
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The worker's decision, made once: a task run again sends what was decided, no more.
    decided_at = models.DateTimeField(null=True)
    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, null=True, related_name="+")
    mail = models.CharField(max_length=16, choices=Mail.choices, blank=True, default="")
    # The task sending its e-mail holds the request until then, so that the sweep or a
    # redelivered task never sends a second copy.
    held_by = models.CharField(max_length=64, blank=True, default="")
    held_until = models.DateTimeField(null=True)

    objects = SigningRequestQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="signing_request_created_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class MailboxAllowance(models.Model):
    """The e-mails one mailbox was sent because someone signed with its address.

    Whoever types a stranger's address, however often and from wherever, makes the site write
    to that mailbox at most SIGNING_MAILS_PER_DAY times in 24 hours, SIGNING_MAIL_INTERVAL
    apart. The mailbox is known only by a keyed hash of its canonical address.
    """

    mailbox = models.CharField(max_length=64, unique=True)
    # The times of the latest sendings, oldest first, as POSIX timestamps.
    sent = models.JSONField(default=list)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.mailbox[:12]

    @staticmethod
    def key(email: str) -> str:
        return salted_hmac("petition.mailbox", canonical_email(email)).hexdigest()

    @classmethod
    def take(cls, email: str) -> bool:
        """Use one of the address's e-mails; False when its allowance is spent for now.

        Call inside a transaction: the row is locked, so concurrent requests for one mailbox
        never overspend it.
        """
        key = cls.key(email)
        try:
            with transaction.atomic():
                cls.objects.get_or_create(mailbox=key)
        except IntegrityError:
            pass  # Made a moment ago by a concurrent request for the same mailbox.
        allowance = cls.objects.select_for_update().get(mailbox=key)
        now = timezone.now()
        day_ago = (now - timedelta(days=1)).timestamp()
        sent = [at for at in allowance.sent if at > day_ago]
        interval = settings.SIGNING_MAIL_INTERVAL_SECONDS
        if len(sent) >= settings.SIGNING_MAILS_PER_DAY or (
            sent and sent[-1] > now.timestamp() - interval
        ):
            return False
        allowance.sent = [*sent, now.timestamp()]
        allowance.updated_at = now
        allowance.save(update_fields=["sent", "updated_at"])
        return True


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
    # Counted by the circonscription a signer chose, or the one of a département that has only
    # one (petition.advocacy.figures).
    by_circonscription = models.JSONField(
        default=list, help_text=_("[département, circonscription, count] triples")
    )
    computed_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("petition figures")
        verbose_name_plural = _("petition figures")

    def __str__(self) -> str:
        return str(self.petition)


# Staff tools: the status of a signature as staff filter it, exports, addresses the mail provider
# gave up on, and updates to signers.


class SignatureStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("confirmed")
    PENDING = "pending", _("waiting for confirmation")
    UNSUBSCRIBED = "unsubscribed", _("unsubscribed")
    SUPPRESSED = "suppressed", _("address bouncing or complaining")
    SUSPECT = "suspect", _("suspect, not counted")
    INVALIDATED = "invalidated", _("invalidated by staff")


class ExportRecord(models.Model):
    """One export of signatures: who took which rows, when, and how many left.

    Written by petition.export only: created when an export starts, completed when its last row
    has left. Staff read these records; nobody can add, change or delete them.
    """

    class Source(models.TextChoices):
        ADMIN = "admin", _("admin")
        COMMAND = "command", _("command line")

    class Variant(models.TextChoices):
        FULL = "full", _("full, with contact data")
        OFFICIALS = "officials", _("for officials, without contact data")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("user"),
    )
    # Kept as text as well, so that the record outlives the account.
    username = models.CharField(_("by"), max_length=150)
    source = models.CharField(_("from"), max_length=10, choices=Source.choices)
    petition = models.ForeignKey(
        Petition,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("petition"),
    )
    filters = models.TextField(_("filter"), blank=True)
    variant = models.CharField(_("format"), max_length=10, choices=Variant.choices)
    delimiter = models.CharField(_("delimiter"), max_length=1)
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(
        _("finished at"),
        null=True,
        help_text=_("Empty if the export stopped before its last row."),
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)

    class Meta:
        verbose_name = _("export of signatures")
        verbose_name_plural = _("exports of signatures")
        ordering = ["-started_at"]
        # An audit log: no permission to add, change or delete exists at all.
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.username} {self.started_at:%Y-%m-%d %H:%M} ({self.rows})"

    def record_rows(self, rows: int, *, finished: bool) -> None:
        """Store how many rows have left, and whether the export reached its end."""
        self.rows = rows
        if finished:
            self.finished_at = timezone.now()
        ExportRecord.objects.filter(pk=self.pk).update(rows=rows, finished_at=self.finished_at)


class SuppressionQuerySet(models.QuerySet):
    def for_email(self, email: str) -> SuppressionQuerySet:
        return self.alias(address=Lower("email")).filter(address=Lower(Value(email)))

    def for_signature(self, email: models.Expression) -> SuppressionQuerySet:
        """The suppression of an address given as an expression (OuterRef("email"))."""
        return self.alias(address=Lower("email")).filter(address=Lower(email))


class Suppression(models.Model):
    """An address the mail provider reported as bouncing for good, or whose owner complained
    (marked a message as spam): it gets no more e-mail from the site, whatever it signed."""

    email = models.EmailField(_("e-mail address"), max_length=254)
    bounced_at = models.DateTimeField(_("bounced at"), null=True, blank=True)
    complained_at = models.DateTimeField(_("complained at"), null=True, blank=True)
    provider = models.CharField(_("reported by"), max_length=50, blank=True)
    reason = models.TextField(_("reason"), blank=True, help_text=_("What the provider said."))
    created_at = models.DateTimeField(_("suppressed at"), default=timezone.now)

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="one_suppression_per_address"),
            models.CheckConstraint(
                condition=models.Q(bounced_at__isnull=False)
                | models.Q(complained_at__isnull=False),
                name="suppressed_for_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.email


class Update(models.Model):
    """News of the campaign that staff write to the signers who asked for it.

    Its subject and body exist per language (see translation.py); each signer receives the
    version in their own language. Sending is ordered once (queued_at); the recipients are
    listed then (prepared_at), and UpdateDelivery records what happened to each copy.
    """

    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="updates", verbose_name=_("petition")
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(
        _("body"),
        help_text=_(
            "Plain text. A blank line starts a new paragraph; web addresses become links. The "
            "greeting and the unsubscribe link are added to every message."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        editable=False,
        related_name="+",
        verbose_name=_("written by"),
    )
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)
    tested_at = models.DateTimeField(_("last test sent at"), null=True, editable=False)
    queued_at = models.DateTimeField(_("sending ordered at"), null=True, editable=False)
    queued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        editable=False,
        related_name="+",
        verbose_name=_("sending ordered by"),
    )
    prepared_at = models.DateTimeField(_("recipients listed at"), null=True, editable=False)
    recipient_count = models.PositiveIntegerField(_("recipients"), null=True, editable=False)
    # The last time a batch went out: a sending that stops moving is resumed (petition.mailings).
    progressed_at = models.DateTimeField(null=True, editable=False)
    finished_at = models.DateTimeField(_("sending finished at"), null=True, editable=False)
    # Shown on the petition's news page since then; None: not public.
    published_at = models.DateTimeField(
        _("on the news page since"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("update to signers")
        verbose_name_plural = _("updates to signers")
        ordering = ["-created_at"]
        permissions = [("send_update", _("Can send updates to signers"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(prepared_at__isnull=True) | models.Q(queued_at__isnull=False),
                name="update_listed_after_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(finished_at__isnull=True) | models.Q(prepared_at__isnull=False),
                name="update_finished_after_listed",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_draft(self) -> bool:
        return self.queued_at is None

    def mark_tested(self) -> None:
        self.tested_at = timezone.now()
        Update.objects.filter(pk=self.pk).update(tested_at=self.tested_at)

    def mark_queued(self, user: models.Model | None) -> bool:
        """Order the sending; False if it was already ordered (a double click sends once)."""
        now = timezone.now()
        updated = Update.objects.filter(pk=self.pk, queued_at__isnull=True).update(
            queued_at=now, queued_by=user
        )
        if updated:
            self.queued_at, self.queued_by = now, user
        return bool(updated)


class UpdateDeliveryQuerySet(models.QuerySet):
    def pending(self) -> UpdateDeliveryQuerySet:
        """Copies no batch holds yet, and that nothing has settled."""
        return self.filter(claim__isnull=True, sent_at__isnull=True, skipped_at__isnull=True)

    def in_flight(self) -> UpdateDeliveryQuerySet:
        """Copies a batch holds and has not settled (sent or skipped) yet."""
        return self.filter(claim__isnull=False, sent_at__isnull=True, skipped_at__isnull=True)


class UpdateDelivery(models.Model):
    """One signer's copy of an update, and what became of it.

    A batch claims pending copies, marks each as attempted just before handing it to the mail
    backend, then as sent. petition.mailings explains what a crash in between leaves.
    """

    class SkipReason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("unsubscribed before it left")
        SUPPRESSED = "suppressed", _("address bouncing or complaining")
        REJECTED = "rejected", _("refused by the mail provider")
        UNCERTAIN = (
            "uncertain",
            _("uncertain: the sending stopped while it was being handed to the mail provider"),
        )

    update = models.ForeignKey(
        Update, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("update")
    )
    signature = models.ForeignKey(
        Signature,
        on_delete=models.CASCADE,
        related_name="update_deliveries",
        verbose_name=_("signature"),
    )
    claim = models.UUIDField(null=True, editable=False)
    claimed_at = models.DateTimeField(_("claimed at"), null=True)
    attempted_at = models.DateTimeField(_("handed to the mail provider at"), null=True)
    sent_at = models.DateTimeField(_("sent at"), null=True)
    skipped_at = models.DateTimeField(_("not sent, from"), null=True)
    skip_reason = models.CharField(
        _("why not sent"), max_length=20, choices=SkipReason.choices, blank=True
    )
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    objects = UpdateDeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("copy of an update")
        verbose_name_plural = _("copies of updates")
        constraints = [
            models.UniqueConstraint(fields=["update", "signature"], name="one_copy_per_signer"),
            models.CheckConstraint(
                condition=models.Q(sent_at__isnull=True) | models.Q(skipped_at__isnull=True),
                name="copy_sent_or_skipped_not_both",
            ),
            models.CheckConstraint(
                condition=models.Q(sent_at__isnull=True) | models.Q(attempted_at__isnull=False),
                name="copy_sent_after_attempt",
            ),
            models.CheckConstraint(
                condition=models.Q(claim__isnull=True, claimed_at__isnull=True)
                | models.Q(claim__isnull=False, claimed_at__isnull=False),
                name="copy_claim_has_a_time",
            ),
        ]
        indexes = [
            # What batches claim next, in order, and nothing else: small however large the list.
            models.Index(
                fields=["update", "id"],
                condition=models.Q(
                    claim__isnull=True, sent_at__isnull=True, skipped_at__isnull=True
                ),
                name="update_copy_pending_idx",
            ),
            models.Index(
                fields=["update", "claimed_at"],
                condition=models.Q(
                    claim__isnull=False, sent_at__isnull=True, skipped_at__isnull=True
                ),
                name="update_copy_in_flight_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.update_id} → {self.signature_id}"


# Consent, fraud and the site's switches.


class ConsentWording(models.Model):
    """The exact words a signer agreed to, kept once however many signed them."""

    class Kind(models.TextChoices):
        SIGN = "sign", _("to sign")
        NEWS = "news", _("to receive news")

    kind = models.CharField(_("consent"), max_length=10, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    text = models.TextField(_("wording"))
    digest = models.CharField(max_length=64, unique=True, editable=False)
    first_used_at = models.DateTimeField(_("first used at"), default=timezone.now)

    class Meta:
        verbose_name = _("consent wording")
        verbose_name_plural = _("consent wordings")
        ordering = ["-first_used_at"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language}): {self.text[:60]}"

    @classmethod
    def digest_of(cls, kind: str, language: str, text: str) -> str:
        return hashlib.sha256(f"{kind}\0{language}\0{text}".encode()).hexdigest()

    @classmethod
    def record(
        cls, kind: str, language: str, text: str, *, agreed_at: datetime | None = None
    ) -> int:
        """The id of this wording, stored the first time anyone agrees to it (at agreed_at)."""
        # Read each time: the worker that records signatures does it off any visitor's clock,
        # and a remembered id would outlive the row were it ever removed.
        digest = cls.digest_of(kind, language, text)
        wording, _created = cls.objects.get_or_create(
            digest=digest,
            defaults={
                "kind": kind,
                "language": language,
                "text": text,
                "first_used_at": agreed_at or timezone.now(),
            },
        )
        return wording.pk


class Switches(models.Model):
    """The site's kill switches, one row that staff turn in the admin."""

    signing_paused = models.BooleanField(
        _("signing paused"),
        default=False,
        help_text=_("The form is replaced by a notice; nothing is lost, visitors come back."),
    )
    mailings_paused = models.BooleanField(
        _("updates to signers paused"),
        default=False,
        help_text=_("Sendings in progress stop after their current batch and resume when off."),
    )
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("kill switches")
        verbose_name_plural = _("kill switches")
        default_permissions = ("view", "change")

    def __str__(self) -> str:
        return str(_("kill switches"))

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)
        caches["local"].delete(SWITCHES_CACHE_KEY)

    @classmethod
    def current(cls) -> Switches:
        """The switches as they stand, read at most once a second per process."""
        local = caches["local"]
        switches = local.get(SWITCHES_CACHE_KEY)
        if switches is None:
            switches = cls.objects.filter(pk=1).first() or cls(pk=1)
            local.set(SWITCHES_CACHE_KEY, switches, settings.SWITCHES_CACHE_SECONDS)
        return switches


SWITCHES_CACHE_KEY = "petition:switches"


class AbuseReport(models.Model):
    """An hour of signing seen from afar (petition.abuse): the client addresses (as keyed
    hashes) and e-mail domains that signed unusually often, for staff to look into."""

    period_start = models.DateTimeField(_("from"))
    period_end = models.DateTimeField(_("to"), db_index=True)
    signatures = models.PositiveIntegerField(_("signatures in the hour"), default=0)
    suspect = models.PositiveIntegerField(_("of which suspect"), default=0)
    # [[hash, signatures, suspect], …] and [[domain, signatures, usual share %, share %], …]
    addresses = models.JSONField(_("client addresses"), default=list)
    domains = models.JSONField(_("e-mail domains"), default=list)

    class Meta:
        verbose_name = _("hourly abuse report")
        verbose_name_plural = _("hourly abuse reports")
        ordering = ["-period_end"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        start = timezone.localtime(self.period_start)
        end = timezone.localtime(self.period_end)
        return f"{start:%Y-%m-%d %H:%M} → {end:%H:%M}"


class SignatureLog(models.Model):
    """Where a petition's public log stands (petition.log): its size, what it adds up to, and
    how far through the confirmations (confirmed_at, then id) its batches have gone."""

    petition = models.OneToOneField(
        Petition, on_delete=models.PROTECT, primary_key=True, related_name="log"
    )
    size = models.BigIntegerField(default=0)
    additions = models.BigIntegerField(default=0)
    removals = models.BigIntegerField(default=0)
    confirmed_through = models.DateTimeField(null=True)
    confirmed_through_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.petition_id}: {self.size} leaves"

    @property
    def count(self) -> int:
        return self.additions - self.removals


class LogTile(models.Model):
    """256 consecutive entries of one level of a petition's log tree (petition.log).

    Level 0 holds the leaves themselves (33 bytes each); level n the 32-byte hashes of the
    complete subtrees of 256**n leaves. Only the last tile of each level ever grows.
    """

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField()
    offset = models.BigIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "level", "offset"], name="unique_log_tile")
        ]

    def __str__(self) -> str:
        return f"{self.petition_id}/{self.level}/{self.offset}"


class LogEntry(models.Model):
    """A signature as the public log knows it (petition.log): its receipt hash, and while it
    is in the count, the index of the leaf that added it. Not a foreign key: when a signature's
    row goes, withdrawn or deleted, its entry stays until the log has recorded its removal,
    and then holds nothing that leads back to anyone."""

    signature_id = models.BigIntegerField(primary_key=True)
    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    receipt_hash = models.BinaryField(max_length=32)
    # The first 8 bytes of its addition leaf's hash, as a signed integer: how a receipt or a
    # leaf hash is looked up (an index a quarter the size of one on the whole hash).
    leaf_key = models.BigIntegerField(db_index=True)
    leaf_index = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"{self.petition_id}: leaf {self.leaf_index}"


class TreeHead(models.Model):
    """A signed head of a petition's log: a C2SP checkpoint and its Ed25519 signature."""

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="tree_heads")
    size = models.BigIntegerField()
    root_hash = models.BinaryField(max_length=32)
    count = models.BigIntegerField()
    timestamp = models.DateTimeField()
    public_key = models.BinaryField(max_length=32)
    signature = models.BinaryField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "timestamp"], name="one_head_per_period")
        ]
        indexes = [models.Index(fields=["petition", "-timestamp"], name="tree_head_latest_idx")]

    def __str__(self) -> str:
        return f"{self.petition_id}: {self.size} at {self.timestamp:%Y-%m-%d %H:%M}"


class StaffEvent(models.Model):
    """What happened to a staff account (petition.staff): logins, failed ones, second factors
    added, used or removed, reauthentications, sessions ended. Staff read it; nobody edits it.

    The client address is kept only as a keyed hash, as for signatures.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", _("login")
        LOGIN_FAILED = "login_failed", _("failed login")
        SECOND_FACTOR_FAILED = "second_factor_failed", _("wrong second factor")
        REAUTHENTICATED = "reauthenticated", _("second factor given again")
        FACTOR_ADDED = "factor_added", _("second factor added")
        FACTOR_REMOVED = "factor_removed", _("second factor removed")
        RECOVERY_CODES_GENERATED = "recovery_codes", _("new recovery codes")
        RECOVERY_CODE_USED = "recovery_code_used", _("recovery code used")
        FACTORS_RESET = "factors_reset", _("second factors reset")
        SESSIONS_ENDED = "sessions_ended", _("other sessions ended")
        LOGOUT = "logout", _("logout")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("account"),
    )
    # Kept as text as well, so that the record outlives the account; empty for a failed login
    # with a name no account has (which could be a password typed in the wrong field).
    username = models.CharField(_("account name"), max_length=150, blank=True)
    kind = models.CharField(_("event"), max_length=24, choices=Kind.choices)
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    ip_hash = models.CharField(_("client address (keyed hash)"), max_length=32, blank=True)
    # The browser, by the random identifier of its staff cookie: tells a new browser from a
    # known one.
    browser = models.CharField(_("browser"), max_length=32, blank=True)
    user_agent = models.CharField(_("browser software"), max_length=200, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    # Who did it, when it is not the account's owner (a superuser resetting factors).
    actor = models.CharField(_("done by"), max_length=150, blank=True)
    language = models.CharField(_("language"), max_length=8, default="fr")
    notified_at = models.DateTimeField(_("owner notified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff account event")
        verbose_name_plural = _("staff account events")
        ordering = ["-at"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        when = timezone.localtime(self.at)
        return f"{self.username or '—'} {self.get_kind_display()} {when:%Y-%m-%d %H:%M}"


class StaffSession(models.Model):
    """A staff member's signed-in browser. Sessions live in a signed cookie, which the server
    cannot take back: this row is what the cookie must still match (petition.staff). Deleting
    it ends the session wherever the cookie is."""

    key = models.CharField(max_length=43, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("account"),
    )
    started_at = models.DateTimeField(_("signed in at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen at"), default=timezone.now)
    ip_hash = models.CharField(_("client address (keyed hash)"), max_length=32, blank=True)
    user_agent = models.CharField(_("browser software"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("staff session")
        verbose_name_plural = _("staff sessions")
        ordering = ["-last_seen_at"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.user_id} {self.started_at:%Y-%m-%d %H:%M}"


# Decision-makers and what they answered (petition.advocacy), registered with this app.
from .advocacy.models import (  # noqa: E402, F401
    ChosenCirconscription,
    DossierRun,
    Target,
    TargetResponse,
)

# The journal of erasures a restore applies again (petition.backups), registered with this app.
from .backups.models import Erasure  # noqa: E402, F401

# Signatures collected on paper (petition.paper), registered with this app.
from .paper.models import PaperImport  # noqa: E402, F401
