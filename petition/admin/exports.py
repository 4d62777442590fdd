"""The export of signatures as CSV, a page of the signatures changelist (SignatureAdmin takes
it in through SignatureExportMixin). The log of exports is in audit."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import export
from ..models import ExportRecord, Petition
from ..staff import fresh_second_factor_required
from . import changelist_filter

EXPORT_PERMISSION = "petition.export_signatures"


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


class SignatureExportMixin:
    """The export page of the signatures admin, and its link on the changelist."""

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)

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

    @fresh_second_factor_required
    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The signatures of the changelist's current filter (and search), as CSV.

        GET shows the choices (format, delimiter) and how many rows; POST streams the file.
        Only for users with the export permission: being staff is not enough; and only with the
        second factor used in the last minutes.
        """
        if not self.has_export_permission(request):
            raise PermissionDenied
        try:
            signatures = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            messages.error(request, gettext("This filter cannot be exported."))
            return redirect("admin:petition_signature_changelist")
        filters = changelist_filter.params(request)
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
            **changelist_filter.context(request),
        }
        return TemplateResponse(request, "admin/petition/signature/export.html", context)


def _filtered_petition(filters: dict[str, str]) -> Petition | None:
    pk = filters.get("petition__id__exact", "")
    return Petition.objects.filter(pk=pk).first() if pk.isdigit() else None
