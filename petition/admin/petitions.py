"""Petitions, their proposals, and each petition's dashboard."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from ..models import Petition, Proposal


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
        "delivered_on",
        "created_at",
        "dashboard_link",
    ]
    list_filter = ["is_open"]
    search_fields = ["slug", "title_fr", "title_en"]
    readonly_fields = [
        "signature_count",
        "paper_count",
        "count_updated_at",
        "closed_at",
        "created_at",
    ]
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
        from .. import dashboard

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
