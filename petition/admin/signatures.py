"""Signatures: read-only personal data, their filters, and the staff's actions on them (stop
e-mails, invalidate or restore in bulk, send the confirmation again)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .. import abuse, services
from ..models import Signature, SignatureStatus, Suppression
from ..staff import require_fresh_second_factor
from . import changelist_filter
from .exports import SignatureExportMixin


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return SignatureStatus.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value in SignatureStatus.values:
            return queryset.with_status(value)
        return queryset


@admin.register(Signature)
class SignatureAdmin(SignatureExportMixin, admin.ModelAdmin):
    list_display = [
        "last_name",
        "first_name",
        "email",
        "country",
        "postal_code",
        "language",
        "created_at",
        "confirmed_at",
        "wants_news",
        "unsubscribed_at",
        "suspect_reason",
        "source",
    ]
    list_filter = [
        "petition",
        StatusFilter,
        "source",
        "country",
        "wants_news",
        ("unsubscribed_at", admin.EmptyFieldListFilter),
        ("confirmation_failed_at", admin.EmptyFieldListFilter),
        "language",
        "created_at",
    ]
    # "=ip_hash": the hourly abuse report links here with one client address's hash.
    search_fields = ["email", "last_name", "first_name", "postal_code", "=ip_hash"]
    date_hierarchy = "created_at"
    list_select_related = ["petition"]
    show_full_result_count = False
    actions = ["stop_emails", "invalidate", "restore", "send_confirmation_again"]
    # Signers' personal data is what they typed; staff read it, never rewrite it.
    readonly_fields = [
        "petition",
        "first_name",
        "last_name",
        "email",
        "country",
        "postal_code",
        "wants_news",
        "language",
        "created_at",
        "confirmation_sent_at",
        "confirmation_failed_at",
        "confirmation_error",
        "confirmed_at",
        "unsubscribed_at",
        "email_problem",
        "consent",
        "news_consent",
        "suspect_reason",
        "invalidated_at",
        "ip_hash",
        "anonymised_at",
        "source",
        "paper_import",
    ]
    fields = readonly_fields

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # An import's page links to its signatures.
        return lookup == "paper_import__id__exact" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("e-mail problem"))
    def email_problem(self, signature: Signature) -> str:
        suppression = Suppression.objects.for_email(signature.email).first()
        if suppression is None:
            return "—"
        what = []
        if suppression.bounced_at:
            what.append(gettext("bounced on %(date)s") % {"date": _day(suppression.bounced_at)})
        if suppression.complained_at:
            what.append(
                gettext("complained on %(date)s") % {"date": _day(suppression.complained_at)}
            )
        url = reverse("admin:petition_suppression_change", args=[suppression.pk])
        return format_html(
            '{}: <a href="{}">{}</a>', ", ".join(what), url, suppression.reason or url
        )

    @admin.action(description=_("Stop e-mails to the selected signers"))
    def stop_emails(self, request: HttpRequest, queryset: QuerySet[Signature]) -> None:
        """For signers who ask staff directly; recorded in each signature's history."""
        stopped = 0
        for signature in queryset.filter(unsubscribed_at__isnull=True):
            if services.unsubscribe(signature=signature):
                self.log_change(request, signature, gettext("Stopped e-mails to this signer."))
                stopped += 1
        self.message_user(
            request,
            ngettext(
                "E-mails stopped for %(count)d signer.",
                "E-mails stopped for %(count)d signers.",
                stopped,
            )
            % {"count": stopped},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Invalidate the selected signatures (no longer counted)"),
        permissions=["change"],
    )
    def invalidate(
        self, request: HttpRequest, queryset: QuerySet[Signature]
    ) -> HttpResponse | None:
        return self._decide(request, queryset, action="invalidate")

    @admin.action(
        description=_("Restore the selected signatures (counted again once confirmed)"),
        permissions=["change"],
    )
    def restore(self, request: HttpRequest, queryset: QuerySet[Signature]) -> HttpResponse | None:
        return self._decide(request, queryset, action="restore")

    def _decide(
        self, request: HttpRequest, queryset: QuerySet[Signature], *, action: str
    ) -> HttpResponse | None:
        """Invalidate or restore in bulk: the changelist's filter (or the ticked rows) is the
        condition; a first step shows how many signatures it takes, the second does it. Both ask
        for the second factor if it was not used in the last minutes."""
        require_fresh_second_factor(request)
        decide = abuse.invalidate if action == "invalidate" else abuse.restore
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request),
                **changelist_filter.context(request),
                "title": self.get_actions(request)[action][2],
                "opts": self.opts,
                "action": action,
                "count": queryset.count(),
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
            }
            return TemplateResponse(request, "admin/petition/signature/decide.html", context)
        targets = list(
            queryset.select_related(None).order_by("pk").only("pk", "first_name", "last_name")
        )
        changed = decide(queryset)
        message = (
            ngettext(
                "%(count)d signature invalidated; the counts follow within seconds.",
                "%(count)d signatures invalidated; the counts follow within seconds.",
                changed,
            )
            if action == "invalidate"
            else ngettext(
                "%(count)d signature restored; the counts follow within seconds.",
                "%(count)d signatures restored; the counts follow within seconds.",
                changed,
            )
        ) % {"count": changed}
        if changed:
            LogEntry.objects.log_actions(
                user_id=request.user.pk,
                queryset=targets,
                action_flag=CHANGE,
                change_message=message,
                single_object=False,
            )
        self.message_user(request, message, messages.SUCCESS)
        return None

    @admin.action(
        description=_("Send the confirmation e-mail again to the selected signers"),
        permissions=["change"],
    )
    def send_confirmation_again(self, request: HttpRequest, queryset: QuerySet[Signature]) -> None:
        """After a lasting failure of the mail provider, once it works again."""
        pending = queryset.pending().filter(anonymised_at__isnull=True)
        pending.update(confirmation_failed_at=None, confirmation_error="")
        count = 0
        for signature in pending:
            services.send_confirmation(signature=signature)
            count += 1
        self.message_user(
            request,
            ngettext(
                "Confirmation e-mail queued again for %(count)d signer.",
                "Confirmation e-mail queued again for %(count)d signers.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


def _day(moment: object) -> str:
    return timezone.localtime(moment).date().isoformat() if moment else ""
