"""The staff's list of decision-makers, the import of the députés' list, and their responses."""

from __future__ import annotations

import io

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from ..admin.exports import EXPORT_PERMISSION
from ..models import Petition
from . import services
from .deputies import DeputiesFileError, import_deputies, read_deputies_file
from .models import DossierRun, Target, TargetResponse
from .places import AREAS

# The Assemblée nationale's list is about 90 KB.
DEPUTIES_FILE_MAX_BYTES = 1_000_000


class DeputiesFileForm(forms.Form):
    petition = forms.ModelChoiceField(
        label=_("Asked to act on"), queryset=Petition.objects.all(), empty_label=None
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns nom, region, departement, email, groupe, circonscription, as in the "
            "Assemblée nationale's published list."
        ),
    )

    def clean_file(self) -> list:
        upload = self.cleaned_data["file"]
        if upload.size > DEPUTIES_FILE_MAX_BYTES:
            raise forms.ValidationError(
                gettext("The file is larger than %(size)s: it is not the list of députés.")
                % {"size": filesizeformat(DEPUTIES_FILE_MAX_BYTES)}
            )
        try:
            return read_deputies_file(upload.read())
        except DeputiesFileError as error:
            raise forms.ValidationError(
                [gettext("Nothing was imported."), *error.problems]
            ) from error


class RetiredFilter(admin.SimpleListFilter):
    title = _("in office")
    parameter_name = "in_office"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", _("in office")), ("no", _("left office"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(retired_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(retired_at__isnull=False)
        return queryset


# A link typed without its scheme is taken as https, as Django 6 will.
LINKS = {models.URLField: {"assume_scheme": "https"}}


class TargetResponseInline(admin.StackedInline):
    model = TargetResponse
    formfield_overrides = LINKS
    extra = 0
    fields = ["received_on", "position", "text", "language", "url", "published_at"]
    readonly_fields = ["published_at"]
    show_change_link = True


class DossierForm(forms.Form):
    petition = forms.ModelChoiceField(
        label=_("Petition"), queryset=Petition.objects.all(), empty_label=None
    )
    depute = forms.ModelChoiceField(
        label=_("One député"),
        queryset=Target.objects.active().deputies().order_by("name"),
        required=False,
    )
    departement = forms.ChoiceField(
        label=_("Or the députés of one département"),
        choices=[("", "—"), *((code, f"{name} ({code})") for code, name in AREAS.items())],
        required=False,
    )
    everyone = forms.BooleanField(label=_("Or every député"), required=False)

    def clean(self) -> dict:
        cleaned = super().clean()
        chosen = [bool(cleaned.get(name)) for name in ("depute", "departement", "everyone")]
        if sum(chosen) != 1:
            raise forms.ValidationError(_("Choose one député, one département, or every député."))
        return cleaned


class DossierAdminMixin:
    """The dossiers for députés, from the decision-makers' list: one PDF at once, or a ZIP made
    by Celery, its progress shown on the page. They list signers' names: only staff who may
    export signatures make them."""

    def has_dossier_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "can_make_dossiers": self.has_dossier_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def dossier_urls(self) -> list:
        return [
            path(
                "dossiers/",
                self.admin_site.admin_view(self.dossiers_view),
                name="petition_target_dossiers",
            ),
            path(
                "dossiers/<int:run_id>/download/",
                self.admin_site.admin_view(self.dossier_download_view),
                name="petition_target_dossier_download",
            ),
        ]

    def dossiers_view(self, request: HttpRequest) -> HttpResponse:
        from . import dossier

        if not self.has_dossier_permission(request):
            raise PermissionDenied
        form = DossierForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            petition = form.cleaned_data["petition"]
            deputy = form.cleaned_data["depute"]
            if deputy is not None:
                buffer = io.BytesIO()
                dossier.write_pdf(dossier.Campaign.of(petition), deputy, buffer)
                response = HttpResponse(buffer.getvalue(), content_type="application/pdf")
                response["Content-Disposition"] = (
                    f'attachment; filename="{dossier.file_name(deputy)}"'
                )
                return response
            dossier.start_run(
                petition=petition,
                departement=form.cleaned_data["departement"],
                user=request.user,
            )
            messages.success(
                request,
                gettext("The dossiers are being made. Their progress shows on this page."),
            )
            return redirect("admin:petition_target_dossiers")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Dossiers for députés"),
            "opts": self.opts,
            "form": form,
            "runs": DossierRun.objects.select_related("requested_by")[:10],
            "changelist_url": reverse("admin:petition_target_changelist"),
        }
        return TemplateResponse(request, "admin/petition/target/dossiers.html", context)

    def dossier_download_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        from . import dossier

        if not self.has_dossier_permission(request):
            raise PermissionDenied
        run = DossierRun.objects.filter(pk=run_id, finished_at__isnull=False).first()
        if run is None or not dossier.run_path(run).exists():
            raise Http404
        name = f"dossiers-{run.departement or 'tous'}-{run.requested_at:%Y-%m-%d}.zip"
        return FileResponse(dossier.run_path(run).open("rb"), as_attachment=True, filename=name)


@admin.register(Target)
class TargetAdmin(DossierAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "role",
        "organisation",
        "seat",
        "email",
        "messages_opened",
        "in_office",
    ]
    list_filter = ["role", RetiredFilter, "petition", "departement"]
    search_fields = ["name", "organisation", "email"]
    fields = [
        "petition",
        "role",
        "civility",
        "name",
        "organisation",
        "departement",
        "circonscription",
        "email",
        "asked_on",
        "retired_at",
        "messages_opened",
    ]
    readonly_fields = ["messages_opened"]
    inlines = [TargetResponseInline]
    change_list_template = "admin/petition/target/change_list.html"

    @admin.display(description=_("circonscription"))
    def seat(self, target: Target) -> str:
        return target.seat()

    @admin.display(description=_("in office"), boolean=True)
    def in_office(self, target: Target) -> bool:
        return not target.is_retired

    def get_urls(self) -> list:
        return [
            *self.dossier_urls(),
            path(
                "import-deputies/",
                self.admin_site.admin_view(self.import_view),
                name="petition_target_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Load or refresh the députés from a CSV: all of it or, at the first bad row, none."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        form = DeputiesFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            report = import_deputies(
                petition=form.cleaned_data["petition"], rows=form.cleaned_data["file"]
            )
            for line in report.lines():
                messages.info(request, line)
            return redirect("admin:petition_target_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import the députés"),
            "opts": self.opts,
            "form": form,
            "changelist_url": reverse("admin:petition_target_changelist"),
        }
        return TemplateResponse(request, "admin/petition/target/import.html", context)


@admin.register(TargetResponse)
class TargetResponseAdmin(admin.ModelAdmin):
    formfield_overrides = LINKS
    list_display = ["target", "received_on", "position", "is_published", "update"]
    list_filter = ["position", "target__role"]
    search_fields = ["target__name", "text"]
    autocomplete_fields = ["target"]
    fields = ["target", "received_on", "position", "text", "language", "url", "published_at"]
    readonly_fields = ["published_at"]
    actions = ["publish", "unpublish", "publish_with_update"]

    @admin.display(description=_("public"), boolean=True)
    def is_published(self, response: TargetResponse) -> bool:
        return response.is_published

    @admin.action(description=_("Publish on the public page"))
    def publish(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = services.publish_responses(responses=queryset)
        messages.success(
            request,
            ngettext("%(count)d response published.", "%(count)d responses published.", count)
            % {"count": count},
        )

    @admin.action(description=_("Remove from the public page"))
    def unpublish(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = services.unpublish_responses(responses=queryset)
        messages.success(
            request,
            ngettext("%(count)d response withdrawn.", "%(count)d responses withdrawn.", count)
            % {"count": count},
        )

    @admin.action(description=_("Publish, and write an update to signers about it"))
    def publish_with_update(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        responses = list(queryset.select_related("target"))
        if len(responses) != 1:
            messages.error(request, gettext("Choose one response to write an update about."))
            return None
        update = services.draft_update(response=responses[0], user=request.user)
        messages.success(
            request,
            gettext(
                "The response is public. Here is a draft update about it: read it, change it, "
                "send yourself a test, then send it, or delete it."
            ),
        )
        return redirect("admin:petition_update_change", update.pk)
