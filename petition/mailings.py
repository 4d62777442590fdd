"""Updates to signers: news of the campaign that staff write, e-mailed by Celery to the confirmed
signers who asked for news and are still reachable, each in their own language.

How a sending goes:

1. `start_sending` orders it once; `prepare` then lists the recipients, one UpdateDelivery row
   each, in one statement: the audience is fixed at that moment.
2. `send_batch` (a Celery task on the low-priority "bulk" queue, which queues the next batch
   itself) claims a few pending rows, skips the signers who have unsubscribed or whose address
   bounced since, and hands the rest to the mail backend: one message per signer (SMTP and
   Django's backends), or one batch call with per-recipient merge data where the anymail
   provider supports it. Batches are sized and spaced to keep to UPDATE_SEND_RATE.
3. `resume` (at every worker start, and every minute from beat) takes over the rows of a batch
   whose worker died, and starts the sending again if it stopped.

What a crash leaves, and the policy. Each row is marked "attempted" (committed) just before it
is handed to the mail backend, and "sent" just after. Rows claimed but never attempted go back
to the queue: nobody is skipped. Rows attempted but not marked sent are the only doubt: the
worker died while handing them over, and no program can know whether the provider took them.
Those rows are NOT sent again: they become "uncertain", which staff see in the admin and may
choose to send again. So nobody ever receives two copies (at most once); a crash can only leave
in doubt the message (SMTP) or the one batch call (provider batch API) that was in the hands of
the mail backend at that instant. A failure the backend reports is sorted the same way: a
refusal (SMTP or HTTP error answer, nobody listening) delivered nothing, and the rows go again;
a connection lost midway is uncertain.

A batch that outlives its lease (twice UPDATE_BATCH_TIME_LIMIT; Celery kills it at the limit)
is presumed dead. Should it still be running, marking a row attempted checks that the row is
still its own, so it never hands over a row that was taken back.
"""

from __future__ import annotations

import math
import smtplib
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby

from anymail.backends.base import AnymailBaseBackend
from anymail.exceptions import AnymailError, AnymailRecipientsRefused, AnymailRequestsAPIError
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from .emails import SiteEmail, absolute_url
from .models import (
    Petition,
    Signature,
    SignatureQuerySet,
    Suppression,
    Switches,
    Update,
    UpdateDelivery,
)
from .queueing import after_commit
from .tokens import make_unsubscribe_token

Skip = UpdateDelivery.SkipReason
# What differs from one signer to the next is rendered as these marks, then put in place: the
# templates render once per language and batch, not once per signer. The characters are from
# Unicode's private use area, which nobody types.
MARK = "\ue000{}\ue001"
MARK_CHARACTERS = str.maketrans("", "", "\ue000\ue001")
PERSONAL_FIELDS = ("first_name", "unsubscribe_url")
# Merge fields in the syntax of the providers whose anymail backend sends a batch with
# per-recipient merge data in a message written on the fly; UPDATE_MERGE_FIELD overrides this
# ("FIELD" stands for the field's name), and "off" sends one message per signer everywhere.
MERGE_FIELD_SYNTAX = {
    "Brevo": "{{ params.FIELD }}",
    "SendinBlue": "{{ params.FIELD }}",
    "Mailgun": "%recipient.FIELD%",
    "Mailjet": "[[var:FIELD]]",
    "SparkPost": "{{FIELD}}",
    "Test": "{{FIELD}}",
}
UNSUBSCRIBE_POST = {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


# Settings.


def send_rate() -> float:
    """Messages per second at most (0: as fast as the backend goes)."""
    return max(0.0, float(settings.UPDATE_SEND_RATE))


def batch_size() -> int:
    """Signers per batch: about one second's worth at the rate, so that a batch is short and
    never holds a worker long away from the confirmation e-mails."""
    size = max(1, int(settings.UPDATE_BATCH_SIZE))
    rate = send_rate()
    return min(size, max(1, math.ceil(rate))) if rate else size


def lease() -> timedelta:
    """How long a claim may last before its batch is presumed dead: twice its time limit."""
    return timedelta(seconds=2 * settings.UPDATE_BATCH_TIME_LIMIT)


def merge_field_syntax(backend: object) -> str | None:
    """The merge field syntax for batch sending through this backend, or None."""
    configured = settings.UPDATE_MERGE_FIELD.strip()
    if not isinstance(backend, AnymailBaseBackend) or configured.lower() == "off":
        return None
    return configured or MERGE_FIELD_SYNTAX.get(backend.esp_name)


# Who receives an update.


def recipients(petition: Petition) -> SignatureQuerySet:
    """The signatures an update of this petition goes to, as of now."""
    return Signature.objects.filter(petition=petition).news_recipients()


def audience(petition: Petition) -> dict[str, int]:
    """How many signers an update would reach now, per language."""
    rows = recipients(petition).order_by().values("language").annotate(count=Count("pk"))
    return {row["language"]: row["count"] for row in rows}


# Rendering.


@dataclass(frozen=True)
class Rendered:
    """An update rendered in one language, with marks where each signer's details go."""

    language: str
    subject: str
    text: str
    html: str

    def filled(self, text_values: dict[str, str], html_values: dict[str, str]) -> Rendered:
        text, html = self.text, self.html
        for name in PERSONAL_FIELDS:
            text = text.replace(MARK.format(name), text_values[name])
            html = html.replace(MARK.format(name), html_values[name])
        return Rendered(self.language, self.subject, text, html)

    def for_signer(self, *, first_name: str, unsubscribe_url: str) -> Rendered:
        """The message of one signer."""
        values = {"first_name": first_name, "unsubscribe_url": unsubscribe_url}
        return self.filled(values, {name: escape(value) for name, value in values.items()})

    def with_merge_fields(self, syntax: str) -> Rendered:
        """The message of a batch, with the provider's merge fields for each signer's details.

        Providers put merge data in as it is, so the HTML part takes a first name escaped
        beforehand (first_name_html), and the text part the name as typed.
        """

        def merge(name: str) -> str:
            return syntax.replace("FIELD", name)

        return self.filled(
            {"first_name": merge("first_name"), "unsubscribe_url": merge("unsubscribe_url")},
            {"first_name": merge("first_name_html"), "unsubscribe_url": merge("unsubscribe_url")},
        )


def render(update: Update, *, language: str) -> Rendered:
    """The update in one language, from templates/petition/email/update_*."""
    with translation.override(language):
        context = {
            "update": update,
            "subject": update.subject.translate(MARK_CHARACTERS),
            "body": update.body.translate(MARK_CHARACTERS),
            "petition": update.petition,
            # base.html reads the signer's language and first name from "signature".
            "signature": {"language": language, "first_name": MARK.format("first_name")},
            "home_url": absolute_url(reverse("home")),
            "unsubscribe_url": MARK.format("unsubscribe_url"),
        }
        prefix = "petition/email/update"
        subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
        text = render_to_string(f"{prefix}_body.txt", context)
        html = render_to_string(f"{prefix}_body.html", context)
    return Rendered(language, subject, text, html)


class UnsubscribeLinks:
    """Each signer's unsubscribe link, in one language: the path is reversed once per batch."""

    def __init__(self, language: str) -> None:
        with translation.override(language):
            self.head, _, self.tail = absolute_url(
                reverse("unsubscribe", args=["TOKEN"])
            ).rpartition("TOKEN")

    def url(self, signature: Signature) -> str:
        return f"{self.head}{make_unsubscribe_token(signature)}{self.tail}"


def message_for_signer(
    rendered: Rendered, *, to: str, first_name: str, unsubscribe_url: str
) -> SiteEmail:
    """One signer's copy, with the RFC 8058 one-click unsubscribe headers."""
    filled = rendered.for_signer(first_name=first_name, unsubscribe_url=unsubscribe_url)
    message = SiteEmail(
        subject=filled.subject,
        body=filled.text,
        to=[to],
        headers={"List-Unsubscribe": f"<{unsubscribe_url}>", **UNSUBSCRIBE_POST},
    )
    message.attach_alternative(filled.html, "text/html")
    return message


def preview(update: Update, *, language: str, first_name: str) -> Rendered:
    """The update as a signer called first_name would read it (the link is only a sample)."""
    return render(update, language=language).for_signer(
        first_name=first_name, unsubscribe_url=sample_unsubscribe_url(language)
    )


def sample_unsubscribe_url(language: str) -> str:
    # A link of the right shape that unsubscribes nobody: its page says the link is not valid.
    with translation.override(language):
        return absolute_url(reverse("unsubscribe", args=["test"]))


def test_messages(update: Update, *, email: str, first_name: str) -> list[SiteEmail]:
    """The update in every language, marked as a test, for a member of staff to check."""
    messages = []
    for language, _name in settings.LANGUAGES:
        rendered = render(update, language=language)
        message = message_for_signer(
            rendered,
            to=email,
            first_name=first_name,
            unsubscribe_url=sample_unsubscribe_url(language),
        )
        with translation.override(language):
            message.subject = gettext("[Test] %(subject)s") % {"subject": message.subject}
        messages.append(message)
    return messages


# Services: what staff do.


def send_test(*, update: Update, user: AbstractBaseUser) -> None:
    """Queue the update, in every language, to the e-mail address of a member of staff."""
    after_commit("petition.tasks.send_update_test", update.pk, user.pk)


@transaction.atomic
def start_sending(*, update: Update, user: AbstractBaseUser) -> bool:
    """Order the sending of an update to its signers; False if it was ordered already.

    The recipients are listed by a task once this transaction has committed; from then on the
    update can no longer be edited.
    """
    if not update.mark_queued(user):
        return False
    after_commit("petition.tasks.prepare_update", update.pk)
    return True


@transaction.atomic
def resend_uncertain(*, update: Update) -> int:
    """Send again the copies whose fate a crash left uncertain (some may then arrive twice).

    Staff choose this knowingly; returns how many copies go back to the queue.
    """
    count = (
        UpdateDelivery.objects.filter(update=update, skip_reason=Skip.UNCERTAIN)
        .select_for_update()
        .update(
            claim=None,
            claimed_at=None,
            attempted_at=None,
            skipped_at=None,
            skip_reason="",
            detail="",
        )
    )
    if count:
        Update.objects.filter(pk=update.pk).update(finished_at=None, progressed_at=timezone.now())
        after_commit("petition.tasks.send_update_batch", update.pk)
    return count


# The sending itself, run by the tasks.


def prepare(*, update_id: int) -> bool:
    """List the recipients of an ordered update, once; False if there was nothing to do."""
    with transaction.atomic():
        update = Update.objects.select_for_update().filter(pk=update_id).first()
        if update is None or update.queued_at is None or update.prepared_at is not None:
            return False
        source, params = (
            recipients(update.petition)
            .order_by()
            .values_list("pk")
            .query.get_compiler(connection=db_connection)
            .as_sql()
        )
        quote = db_connection.ops.quote_name
        meta = UpdateDelivery._meta
        columns = ", ".join(
            quote(meta.get_field(name).column)
            for name in ("update", "signature", "skip_reason", "detail")
        )
        # One statement, however many signers: the rows never pass through Python.
        with db_connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 (quoted names)
                f"SELECT %s, s.{quote('pk')}, '', '' FROM ({source}) AS s",
                [update.pk, *params],
            )
            count = cursor.rowcount
        now = timezone.now()
        Update.objects.filter(pk=update.pk).update(
            prepared_at=now, recipient_count=count, progressed_at=now
        )
    if not count:
        finish_if_done(update_id=update_id)
    return True


@dataclass(frozen=True)
class BatchOutcome:
    """What one batch did: messages handed over, whether more remain, and how long to wait
    before the next batch to keep to the rate."""

    sent: int
    more: bool
    wait: float = 0.0


@dataclass
class _Claim:
    token: uuid.UUID
    ids: list[int] = field(default_factory=list)


def send_batch(*, update_id: int) -> BatchOutcome:
    """Claim the next pending copies of an update and send them; see the module's docstring."""
    update = Update.objects.select_related("petition").filter(pk=update_id).first()
    if update is None or update.prepared_at is None or update.finished_at is not None:
        return BatchOutcome(0, more=False)
    if Switches.current().mailings_paused:
        # The chain stops here; resume() starts it again once staff turn the switch off.
        return BatchOutcome(0, more=False)
    started = time.monotonic()
    size = batch_size()
    claim = _claim(update, size)
    if not claim.ids:
        finish_if_done(update_id=update.pk)
        return BatchOutcome(0, more=False)
    sent = 0
    try:
        deliveries = _reachable(claim)
        connection = get_connection()
        syntax = merge_field_syntax(connection)
        by_language = groupby(deliveries, key=lambda delivery: delivery.signature.language)
        for language, group in by_language:
            rendered = render(update, language=language)
            links = UnsubscribeLinks(language)
            copies = list(group)
            if syntax:
                sent += _send_as_batch(connection, update, claim, rendered, copies, links, syntax)
            else:
                sent += _send_one_by_one(connection, update, claim, rendered, copies, links)
    finally:
        # Rows of this claim never handed over go back to the queue (after an error).
        UpdateDelivery.objects.filter(
            claim=claim.token, attempted_at__isnull=True
        ).in_flight().update(claim=None, claimed_at=None)
    Update.objects.filter(pk=update.pk).update(progressed_at=timezone.now())
    more = len(claim.ids) == size
    if not more:
        finish_if_done(update_id=update.pk)
    rate = send_rate()
    wait = max(0.0, sent / rate - (time.monotonic() - started)) if rate else 0.0
    return BatchOutcome(sent, more=more, wait=wait)


def _claim(update: Update, size: int) -> _Claim:
    claim = _Claim(uuid.uuid4())
    with transaction.atomic():
        # SKIP LOCKED: two batches of the same update, should they run at once, take
        # different rows instead of waiting for each other.
        claim.ids = list(
            UpdateDelivery.objects.pending()
            .filter(update=update)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:size]
        )
        UpdateDelivery.objects.filter(pk__in=claim.ids).update(
            claim=claim.token, claimed_at=timezone.now()
        )
    return claim


def _reachable(claim: _Claim) -> list[UpdateDelivery]:
    """The claimed copies to send, by language; those whose signer left since are skipped."""
    deliveries = list(
        UpdateDelivery.objects.filter(claim=claim.token)
        .select_related("signature")
        .only(
            "pk",
            "signature__id",
            "signature__email",
            "signature__first_name",
            "signature__language",
            "signature__unsubscribed_at",
        )
        .annotate(
            suppressed=Exists(Suppression.objects.for_signature(OuterRef("signature__email")))
        )
        .order_by("signature__language", "pk")
    )
    gone = {
        Skip.UNSUBSCRIBED: [d.pk for d in deliveries if d.signature.unsubscribed_at is not None],
        Skip.SUPPRESSED: [
            d.pk for d in deliveries if d.suppressed and d.signature.unsubscribed_at is None
        ],
    }
    for reason, ids in gone.items():
        if ids:
            _settle(claim, ids, skipped=reason)
    skipped = {pk for ids in gone.values() for pk in ids}
    return [delivery for delivery in deliveries if delivery.pk not in skipped]


def _attempt(claim: _Claim, ids: Sequence[int]) -> list[int]:
    """Mark copies as being handed over, and return those still held by this claim."""
    now = timezone.now()
    held = (
        UpdateDelivery.objects.filter(pk__in=ids, claim=claim.token, attempted_at__isnull=True)
        .in_flight()
        .update(attempted_at=now)
    )
    if held == len(ids):
        return list(ids)
    # Only when the batch outlived its lease and recovery took rows back: keep to ours.
    return list(
        UpdateDelivery.objects.filter(
            pk__in=ids, claim=claim.token, attempted_at=now, sent_at__isnull=True
        ).values_list("pk", flat=True)
    )


def _settle(claim: _Claim, ids: Sequence[int], *, skipped: str = "", detail: str = "") -> None:
    """Record the fate of copies of this claim: sent, or skipped for a reason."""
    now = timezone.now()
    rows = UpdateDelivery.objects.filter(pk__in=ids, claim=claim.token)
    if skipped:
        rows.filter(sent_at__isnull=True).update(
            skipped_at=now, skip_reason=skipped, detail=detail[:500]
        )
    else:
        # Sent wins over "uncertain", should recovery have doubted a batch that was alive.
        rows.update(sent_at=now, skipped_at=None, skip_reason="", detail="")


def _left_nothing(error: BaseException) -> bool:
    """Whether a failed hand-over certainly delivered nothing, so the copies may go again."""
    if isinstance(
        error,
        smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused | ConnectionRefusedError,
    ):
        return True  # the server answered no, or nobody listened
    if isinstance(error, AnymailRequestsAPIError):
        return error.status_code is not None  # an answer is a refusal; no answer is a doubt
    # Anymail's other errors (unsupported feature, invalid address…) come before any request.
    return isinstance(error, AnymailError)


def _failed(claim: _Claim, ids: Sequence[int], error: BaseException) -> None:
    if _left_nothing(error):
        UpdateDelivery.objects.filter(pk__in=ids, claim=claim.token, sent_at__isnull=True).update(
            attempted_at=None
        )
    else:
        _settle(claim, ids, skipped=Skip.UNCERTAIN, detail=str(error))


def _refused_for_good(error: BaseException) -> bool:
    """A refusal of the recipient itself, which sending again would not change."""
    if isinstance(error, AnymailRecipientsRefused):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in error.recipients.values())
    return False


def _send_one_by_one(
    connection: object,
    update: Update,
    claim: _Claim,
    rendered: Rendered,
    deliveries: list[UpdateDelivery],
    links: UnsubscribeLinks,
) -> int:
    sent = 0
    with connection:
        for delivery in deliveries:
            signature = delivery.signature
            message = message_for_signer(
                rendered,
                to=signature.email,
                first_name=signature.first_name,
                unsubscribe_url=links.url(signature),
            )
            # Read by anymail backends (tracking events carry them), ignored by the others.
            message.metadata = {"update": str(update.pk), "delivery": str(delivery.pk)}
            message.tags = ["update"]
            if not _attempt(claim, [delivery.pk]):
                continue
            try:
                connection.send_messages([message])
            except Exception as error:
                if _refused_for_good(error):
                    _settle(claim, [delivery.pk], skipped=Skip.REJECTED, detail=str(error))
                    continue
                _failed(claim, [delivery.pk], error)
                raise
            if _rejected(message, [signature.email]):
                _settle(claim, [delivery.pk], skipped=Skip.REJECTED)
            else:
                _settle(claim, [delivery.pk])
                sent += 1
    return sent


def _send_as_batch(
    connection: object,
    update: Update,
    claim: _Claim,
    rendered: Rendered,
    deliveries: list[UpdateDelivery],
    links: UnsubscribeLinks,
    syntax: str,
) -> int:
    merged = rendered.with_merge_fields(syntax)
    by_email = {delivery.signature.email: delivery for delivery in deliveries}
    message = SiteEmail(
        subject=merged.subject, body=merged.text, to=list(by_email), headers=UNSUBSCRIBE_POST
    )
    message.attach_alternative(merged.html, "text/html")
    message.merge_data, message.merge_headers, message.merge_metadata = {}, {}, {}
    for email, delivery in by_email.items():
        url = links.url(delivery.signature)
        first_name = delivery.signature.first_name
        message.merge_data[email] = {
            "first_name": first_name,
            "first_name_html": escape(first_name),
            "unsubscribe_url": url,
        }
        message.merge_headers[email] = {"List-Unsubscribe": f"<{url}>"}
        message.merge_metadata[email] = {"delivery": str(delivery.pk)}
    message.metadata = {"update": str(update.pk)}
    message.tags = ["update"]
    held = set(_attempt(claim, [delivery.pk for delivery in deliveries]))
    if len(held) < len(deliveries):
        message.to = [email for email, delivery in by_email.items() if delivery.pk in held]
    if not message.to:
        return 0
    ids = [by_email[email].pk for email in message.to]
    try:
        connection.send_messages([message])
    except Exception as error:
        if _refused_for_good(error):
            _settle(claim, ids, skipped=Skip.REJECTED, detail=str(error))
            return 0
        _failed(claim, ids, error)
        raise
    rejected = set(_rejected(message, message.to))
    _settle(claim, [by_email[email].pk for email in message.to if email not in rejected])
    if rejected:
        _settle(claim, [by_email[email].pk for email in rejected], skipped=Skip.REJECTED)
    return len(message.to) - len(rejected)


def _rejected(message: SiteEmail, emails: Sequence[str]) -> list[str]:
    """The recipients an anymail provider refused (anymail_status); none for other backends."""
    status = getattr(message, "anymail_status", None)
    if status is None or not status.recipients:
        return []
    refused = {
        email.lower()
        for email, recipient in status.recipients.items()
        if recipient.status in {"rejected", "invalid"}
    }
    return [email for email in emails if email.lower() in refused]


def finish_if_done(*, update_id: int) -> bool:
    """Mark an update finished once no copy is pending or in flight."""
    deliveries = UpdateDelivery.objects.filter(update_id=update_id)
    if deliveries.pending().exists() or deliveries.in_flight().exists():
        return False
    return bool(
        Update.objects.filter(
            pk=update_id, prepared_at__isnull=False, finished_at__isnull=True
        ).update(finished_at=timezone.now())
    )


@dataclass(frozen=True)
class ResumePlan:
    """Updates whose recipients must be listed again, and updates whose sending must go on."""

    prepare: list[int]
    send: list[int]


def recover(*, update_id: int, now: datetime | None = None) -> tuple[int, int]:
    """Take back the copies held by batches past their lease: (uncertain, released)."""
    now = now or timezone.now()
    dead = UpdateDelivery.objects.filter(
        update_id=update_id, claimed_at__lt=now - lease()
    ).in_flight()
    uncertain = dead.filter(attempted_at__isnull=False).update(
        skipped_at=now, skip_reason=Skip.UNCERTAIN
    )
    released = dead.filter(attempted_at__isnull=True).update(claim=None, claimed_at=None)
    return uncertain, released


def resume() -> ResumePlan:
    """Find the sendings that stopped (a worker died) and say what to start again."""
    now = timezone.now()
    rate = send_rate()
    # A chain of batches that has not moved for this long has stopped.
    stalled_before = now - lease() - timedelta(seconds=batch_size() / rate if rate else 0)
    plan = ResumePlan(prepare=[], send=[])
    if Switches.current().mailings_paused:
        return plan
    for update in Update.objects.filter(queued_at__isnull=False, finished_at__isnull=True):
        if update.prepared_at is None:
            if update.queued_at < stalled_before:
                plan.prepare.append(update.pk)
            continue
        _uncertain, released = recover(update_id=update.pk, now=now)
        if finish_if_done(update_id=update.pk):
            continue
        if released or (update.progressed_at or update.prepared_at) < stalled_before:
            plan.send.append(update.pk)
    return plan


@dataclass(frozen=True)
class Progress:
    """Where the sending of an update stands."""

    total: int
    sent: int
    pending: int
    in_flight: int
    skipped: dict[str, int]

    @property
    def done(self) -> int:
        return self.sent + sum(self.skipped.values())

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 100

    @property
    def uncertain(self) -> int:
        return self.skipped.get(Skip.UNCERTAIN, 0)

    def skipped_labels(self) -> list[tuple[str, int]]:
        return [(Skip(reason).label, count) for reason, count in self.skipped.items() if count]


def progress(update: Update) -> Progress:
    """Counts of an update's copies by state, in one query."""
    unsettled = Q(sent_at__isnull=True, skipped_at__isnull=True)
    figures = UpdateDelivery.objects.filter(update=update).aggregate(
        total=Count("pk"),
        sent=Count("pk", filter=Q(sent_at__isnull=False)),
        pending=Count("pk", filter=unsettled & Q(claim__isnull=True)),
        in_flight=Count("pk", filter=unsettled & Q(claim__isnull=False)),
        **{
            f"skipped_{reason}": Count("pk", filter=Q(skipped_at__isnull=False, skip_reason=reason))
            for reason in Skip.values
        },
    )
    return Progress(
        total=figures["total"],
        sent=figures["sent"],
        pending=figures["pending"],
        in_flight=figures["in_flight"],
        skipped={reason: figures[f"skipped_{reason}"] for reason in Skip.values},
    )
