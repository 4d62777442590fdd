"""The staff's admin: petitions and their dashboards, signatures (read-only personal data) and
their export, the audit log of exports, addresses the mail provider gave up on, and updates to
signers. Every staff action is in Django's history (LogEntry), bulk actions included."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from manifesto.security import csp_replace

# Every process loads this module (the admin's autodiscovery; manage.py commands too), so the
# modules that only some views need are imported in those views: mailings (e-mail rendering,
# anymail's backends), services (Celery), dashboard.
from . import export

if TYPE_CHECKING:
    from . import mailings
from .models import (
    AbuseReport,
    ConsentWording,
    ExportRecord,
    Petition,
    Proposal,
    Signature,
    SignatureStatus,
    Suppression,
    Switches,
    Update,
)

EXPORT_PERMISSION = "petition.export_signatures"
SEND_UPDATE_PERMISSION = "petition.send_update"
# Query-string parameters of the changelist that are not filters.
NOT_FILTERS = {"o", "p", "e", "_to_field", "_popup", "all"}


class ProposalInline(TranslationTabularInline):
    model = Proposal
    extra = 0
    ordering = ["position"]


@admin.register(Petition)
class PetitionAdmin(TranslationAdmin):
    list_display = [
        "title",
        "slug",
        "signature_count",
        "goal",
        "is_open",
        "created_at",
        "dashboard_link",
    ]
    list_filter = ["is_open"]
    search_fields = ["slug", "title_fr", "title_en"]
    readonly_fields = ["signature_count", "count_updated_at", "closed_at", "created_at"]
    inlines = [ProposalInline]

    @admin.display(description=_("dashboard"))
    def dashboard_link(self, petition: Petition) -> str:
        url = reverse("admin:petition_petition_dashboard", args=[petition.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Dashboard"))

    def get_urls(self) -> list:
        return [
            path(
                "<path:object_id>/dashboard/",
                self.admin_site.admin_view(self.dashboard_view),
                name="petition_petition_dashboard",
            ),
            *super().get_urls(),
        ]

    def dashboard_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Confirmations today, this week and in all, the trend, and a chart per day."""
        from . import dashboard

        petition = self.get_object(request, unquote(object_id))
        if petition is None:
            raise Http404
        if not self.has_view_or_change_permission(request, petition):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Dashboard of “%(petition)s”") % {"petition": petition},
            "opts": self.opts,
            "original": petition,
            "petition": petition,
            "figures": dashboard.dashboard(petition),
            "updates": petition.updates.order_by("-created_at")[:5],
            "signatures_url": reverse("admin:petition_signature_changelist")
            + "?"
            + urlencode({"petition__id__exact": petition.pk}),
        }
        return TemplateResponse(request, "admin/petition/petition/dashboard.html", context)


class ExportForm(forms.Form):
    variant = forms.ChoiceField(
        label=_("Format"), choices=ExportRecord.Variant.choices, initial=ExportRecord.Variant.FULL
    )
    delimiter = forms.ChoiceField(
        label=_("Separator"),
        choices=[
            (",", _("comma (,): most software")),
            (";", _("semicolon (;): spreadsheets set up for French")),
        ],
        initial=",",
    )


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
class SignatureAdmin(admin.ModelAdmin):
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
    ]
    list_filter = [
        "petition",
        StatusFilter,
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
    ]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)

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
        from . import services

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
        condition; a first step shows how many signatures it takes, the second does it."""
        from . import abuse  # through petition.tasks, it loads Faker (see dashboard_view)

        decide = abuse.invalidate if action == "invalidate" else abuse.restore
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request),
                **_changelist_filter(request),
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
        from . import services

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

    def get_urls(self) -> list:
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="petition_signature_export",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "can_export": self.has_export_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The signatures of the changelist's current filter (and search), as CSV.

        GET shows the choices (format, delimiter) and how many rows; POST streams the file.
        Only for users with the export permission: being staff is not enough.
        """
        if not self.has_export_permission(request):
            raise PermissionDenied
        try:
            signatures = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            messages.error(request, gettext("This filter cannot be exported."))
            return redirect("admin:petition_signature_changelist")
        filters = _filters(request)
        petition = _filtered_petition(filters)
        form = ExportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            variant = form.cleaned_data["variant"]
            _record, _stream, chunks = export.start(
                signatures,
                user=request.user,
                username=request.user.get_username(),
                source=ExportRecord.Source.ADMIN,
                petition=petition,
                filters=export.describe(**filters),
                variant=variant,
                delimiter=form.cleaned_data["delimiter"],
            )
            name = f"signatures-{petition.slug if petition else 'all'}-{variant}"
            response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="{name}-{timezone.localdate():%Y-%m-%d}.csv"'
            )
            # Personal data: no cache anywhere keeps a copy.
            response["Cache-Control"] = "no-store"
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Export signatures"),
            "opts": self.opts,
            "form": form,
            "count": signatures.count(),
            **_changelist_filter(request),
        }
        return TemplateResponse(request, "admin/petition/signature/export.html", context)


def _filters(request: HttpRequest) -> dict[str, str]:
    """The signatures changelist's filter (and search) a page about its rows was opened with."""
    return {k: v for k, v in request.GET.items() if k not in NOT_FILTERS}


def _changelist_filter(request: HttpRequest) -> dict[str, str]:
    """What the pages about the changelist's current rows (export, bulk decisions) show of its
    filter, and the way back to the changelist with that filter."""
    query = request.GET.urlencode()
    return {
        "filters": export.describe(**_filters(request)),
        "query_string": query,
        "changelist_url": reverse("admin:petition_signature_changelist")
        + (f"?{query}" if query else ""),
    }


def _filtered_petition(filters: dict[str, str]) -> Petition | None:
    pk = filters.get("petition__id__exact", "")
    return Petition.objects.filter(pk=pk).first() if pk.isdigit() else None


def _day(moment: object) -> str:
    return timezone.localtime(moment).date().isoformat() if moment else ""


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that staff may read and nobody may add, change or delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "username",
        "source",
        "petition",
        "variant",
        "filters",
        "rows",
        "finished_at",
    ]
    list_filter = ["source", "variant", "petition", "started_at"]
    search_fields = ["username", "filters"]
    date_hierarchy = "started_at"


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Addresses that get no more e-mail, and why. Deleting one (the address works again, its
    owner says) lets e-mail go to it again; the history keeps who did it."""

    list_display = ["email", "bounced_at", "complained_at", "provider", "created_at"]
    list_filter = [
        ("bounced_at", admin.EmptyFieldListFilter),
        ("complained_at", admin.EmptyFieldListFilter),
        "provider",
    ]
    search_fields = ["email"]
    readonly_fields = ["email", "bounced_at", "complained_at", "provider", "reason", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Update)
class UpdateAdmin(TranslationAdmin):
    """Write an update in French and English, preview it, send yourself a test, then send it
    to the signers who asked for news; follow its progress here."""

    list_display = ["subject", "petition", "state", "created_at", "queued_at", "finished_at"]
    list_filter = ["petition"]
    search_fields = ["subject_fr", "subject_en"]
    fields = ["petition", "subject", "body"]
    change_form_template = "admin/petition/update/change_form.html"

    @admin.display(description=_("state"))
    def state(self, update: Update) -> str:
        from . import mailings

        if update.is_draft:
            return gettext("draft")
        if update.finished_at:
            return gettext("sent")
        figures = mailings.progress(update)
        return gettext("sending: %(percent)d%%") % {"percent": figures.percent}

    def get_readonly_fields(self, request: HttpRequest, obj: Update | None = None) -> list:
        if obj is not None and not obj.is_draft:
            # What signers received cannot change afterwards.
            return self.replace_orig_field(["petition", "subject", "body"])
        return super().get_readonly_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Update | None = None) -> bool:
        if obj is not None and not obj.is_draft:
            return False
        return super().has_delete_permission(request, obj)

    def has_send_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(SEND_UPDATE_PERMISSION)

    def save_model(self, request: HttpRequest, obj: Update, form: object, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        from . import mailings

        update = self.get_object(request, unquote(object_id))
        extra = {}
        if update is not None:
            extra = {
                "update": update,
                "progress": None if update.is_draft else mailings.progress(update),
                "can_send": self.has_send_permission(request),
                # Counted over every signature: only while it can still change anything.
                "audience": (
                    sum(mailings.audience(update.petition).values()) if update.is_draft else None
                ),
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def get_urls(self) -> list:
        def view(function: object, name: str) -> object:
            return path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(function),
                name=f"petition_update_{name.replace('-', '_')}",
            )

        return [
            view(self.preview_view, "preview"),
            path(
                "<path:object_id>/preview/<str:language>/",
                self.admin_site.admin_view(self.preview_email_view),
                name="petition_update_preview_email",
            ),
            view(self.test_view, "test"),
            view(self.send_view, "send"),
            view(self.resend_uncertain_view, "resend-uncertain"),
            *super().get_urls(),
        ]

    def _update(self, request: HttpRequest, object_id: str, *, change: bool = False) -> Update:
        update = self.get_object(request, unquote(object_id))
        if update is None:
            raise Http404
        allowed = (
            self.has_change_permission(request, update)
            if change
            else self.has_view_or_change_permission(request, update)
        )
        if not allowed:
            raise PermissionDenied
        return update

    def _change_url(self, update: Update) -> str:
        return reverse("admin:petition_update_change", args=[update.pk])

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The update in each language, as a signer reads it."""
        update = self._update(request, object_id)
        previews = [
            (language, label, self._preview(request, update, language))
            for language, label in self._languages()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Preview of “%(update)s”") % {"update": update},
            "opts": self.opts,
            "original": update,
            "previews": previews,
        }
        return TemplateResponse(request, "admin/petition/update/preview.html", context)

    # E-mails style themselves inline (mail clients ignore style sheets), which the site's policy
    # forbids: this document alone allows it. Only staff see it, sandboxed in the preview page's
    # frame (and by its policy, were it opened on its own), where no script runs and no form goes.
    @csp_replace(
        {
            "default-src": ["'none'"],
            "script-src": ["'none'"],
            "style-src": ["'unsafe-inline'"],
            "form-action": ["'none'"],
            "frame-ancestors": ["'self'"],
            "sandbox": [],
        }
    )
    @method_decorator(xframe_options_sameorigin)
    def preview_email_view(
        self, request: HttpRequest, object_id: str, language: str
    ) -> HttpResponse:
        """The update's e-mail in one language, alone: the preview page's frame shows it."""
        if language not in dict(settings.LANGUAGES):
            raise Http404
        update = self._update(request, object_id)
        return HttpResponse(self._preview(request, update, language).html)

    @staticmethod
    def _preview(request: HttpRequest, update: Update, language: str) -> mailings.Rendered:
        from . import mailings

        name = request.user.first_name or request.user.get_username()
        return mailings.preview(update, language=language, first_name=name)

    @staticmethod
    def _languages() -> list[tuple[str, str]]:
        return [(code, str(label)) for code, label in settings.LANGUAGES]

    def test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST: send the update, in every language, to the member of staff asking."""
        from . import mailings

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        update = self._update(request, object_id, change=True)
        if not request.user.email:
            messages.error(request, gettext("Your account has no e-mail address to send a test."))
            return redirect(self._change_url(update))
        mailings.send_test(update=update, user=request.user)
        self.log_change(
            request, update, gettext("Sent a test to %(email)s.") % {"email": request.user.email}
        )
        messages.success(
            request,
            gettext("A test in every language is on its way to %(email)s.")
            % {"email": request.user.email},
        )
        return redirect(self._change_url(update))

    def send_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: how many signers, per language, will receive it; POST: send it."""
        from . import mailings

        update = self._update(request, object_id, change=True)
        if not self.has_send_permission(request):
            raise PermissionDenied
        if not update.is_draft:
            messages.info(request, gettext("This update has already been sent."))
            return redirect(self._change_url(update))
        audience = mailings.audience(update.petition)
        total = sum(audience.values())
        if request.method == "POST":
            if mailings.start_sending(update=update, user=request.user):
                self.log_change(
                    request,
                    update,
                    gettext("Started sending to %(count)d signers.") % {"count": total},
                )
                messages.success(
                    request,
                    gettext("Sending has started. Its progress shows on this page."),
                )
            return redirect(self._change_url(update))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Send “%(update)s” to the signers") % {"update": update},
            "opts": self.opts,
            "original": update,
            "update": update,
            "total": total,
            "audience": [
                (label, audience.get(language, 0)) for language, label in self._languages()
            ],
        }
        return TemplateResponse(request, "admin/petition/update/send.html", context)

    def resend_uncertain_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST: send again the copies a crash left uncertain, knowing some may arrive twice."""
        from . import mailings

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        update = self._update(request, object_id, change=True)
        if not self.has_send_permission(request):
            raise PermissionDenied
        count = mailings.resend_uncertain(update=update)
        if count:
            self.log_change(
                request,
                update,
                gettext("Sent again %(count)d copies whose sending was uncertain.")
                % {"count": count},
            )
        messages.success(
            request,
            ngettext("%(count)d copy goes out again.", "%(count)d copies go out again.", count)
            % {"count": count},
        )
        return redirect(self._change_url(update))


@admin.register(ConsentWording)
class ConsentWordingAdmin(ReadOnlyAdmin):
    list_display = ["kind", "language", "text", "first_used_at"]
    list_filter = ["kind", "language"]


@admin.register(AbuseReport)
class AbuseReportAdmin(ReadOnlyAdmin):
    """The hourly reports; each links to the signatures behind a line, to invalidate them."""

    list_display = ["__str__", "signatures", "suspect", "address_count", "domain_count"]
    list_filter = ["period_end"]
    fields = [
        "period_start",
        "period_end",
        "signatures",
        "suspect",
        "address_lines",
        "domain_lines",
    ]

    @admin.display(description=_("busy client addresses"))
    def address_count(self, report: AbuseReport) -> int:
        return len(report.addresses)

    @admin.display(description=_("busy e-mail domains"))
    def domain_count(self, report: AbuseReport) -> int:
        return len(report.domains)

    @admin.display(description=_("client addresses (keyed hashes)"))
    def address_lines(self, report: AbuseReport) -> str:
        changelist = reverse("admin:petition_signature_changelist")
        rows = [
            (f"{changelist}?{urlencode({'q': digest})}", digest[:12], total, suspect)
            for digest, total, suspect in report.addresses
        ]
        return _report_table([gettext("address"), gettext("signatures"), gettext("suspect")], rows)

    @admin.display(description=_("e-mail domains"))
    def domain_lines(self, report: AbuseReport) -> str:
        changelist = reverse("admin:petition_signature_changelist")
        rows = [
            (
                f"{changelist}?{urlencode({'email__iendswith': '@' + domain})}",
                domain,
                total,
                "—" if usual is None else f"{usual} %",
                f"{share} %",
            )
            for domain, total, usual, share in report.domains
        ]
        return _report_table(
            [
                gettext("domain"),
                gettext("signatures"),
                gettext("usual share"),
                gettext("share this hour"),
            ],
            rows,
        )


def _report_table(headers: list[str], rows: list[tuple]) -> str:
    if not rows:
        return gettext("None")
    head = format_html_join("", '<th scope="col">{}</th>', ((h,) for h in headers))
    body = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td>' + "<td>{}</td>" * (len(headers) - 1) + "</tr>",
        rows,
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


@admin.register(Switches)
class SwitchesAdmin(admin.ModelAdmin):
    """One row: the changelist opens it directly."""

    fields = ["signing_paused", "mailings_paused", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        switches, _created = Switches.objects.get_or_create(pk=1)
        return redirect("admin:petition_switches_change", switches.pk)
