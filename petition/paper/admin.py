"""The staff's pages for paper signatures: the list of imports (each one's record, with its
duplicates), the import of a typed-in sheet or of a sheet's number alone, and the undoing of an
import. Only staff with the permission to add imports (petition.add_paperimport) import and
undo, with their second factor used in the last minutes."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from ..forms import CONTROL_CHARACTERS, no_control_characters
from ..models import Petition
from ..staff import fresh_second_factor_required
from . import services
from .models import PaperImport
from .sheets import EARLIEST, PaperFileError, read_paper_file

IMPORT_PERMISSION = "petition.add_paperimport"
# A typed-in sheet is a few KB; the largest exhibition's, a few hundred.
PAPER_FILE_MAX_BYTES = 2 * 1024 * 1024
# More than any sheet or event could hold: a typing slip, not a count.
MAX_COUNT_ALONE = 100_000


class PaperFileForm(forms.Form):
    petition = forms.ModelChoiceField(
        label=_("Petition"), queryset=Petition.objects.all(), empty_label=None
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "One signature a line. Columns: name (or first_name and last_name), postal_code, "
            "country, email (may be empty), event, date (2026-03-14 or 14/03/2026). Separated "
            "by commas or semicolons, in UTF-8."
        ),
    )

    def clean_file(self) -> list:
        upload = self.cleaned_data["file"]
        if upload.size > PAPER_FILE_MAX_BYTES:
            raise forms.ValidationError(
                gettext("The file is larger than %(size)s: split it in several imports.")
                % {"size": filesizeformat(PAPER_FILE_MAX_BYTES)}
            )
        self.file_name = CONTROL_CHARACTERS.sub("", upload.name or "")
        try:
            return read_paper_file(upload.read())
        except PaperFileError as error:
            raise forms.ValidationError(
                [gettext("Nothing was imported."), *error.problems]
            ) from error


class PaperCountForm(forms.Form):
    petition = forms.ModelChoiceField(
        label=_("Petition"), queryset=Petition.objects.all(), empty_label=None
    )
    event = forms.CharField(
        label=_("Event"),
        max_length=300,
        help_text=_("Shown publicly with the number: “#LePartage exhibition, Lyon”."),
    )
    collected_on = forms.DateField(
        label=_("Collected on"),
        help_text=_("2026-03-14 or 14/03/2026."),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    count = forms.IntegerField(
        label=_("Signatures on the sheet"), min_value=1, max_value=MAX_COUNT_ALONE
    )

    def clean_event(self) -> str:
        event = " ".join(self.cleaned_data["event"].split())
        no_control_characters(event)
        return event

    def clean_collected_on(self) -> object:
        day = self.cleaned_data["collected_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(gettext("This day is in the future."))
        if day < EARLIEST:
            raise forms.ValidationError(
                gettext("Paper signatures are not older than %(year)d.") % {"year": EARLIEST.year}
            )
        return day


class StandingFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "undone"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("no", _("counted")), ("yes", _("undone"))]

    def queryset(self, request: HttpRequest, queryset: object) -> object:
        if self.value() == "no":
            return queryset.filter(undone_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(undone_at__isnull=False)
        return queryset


@admin.register(PaperImport)
class PaperImportAdmin(admin.ModelAdmin):
    """The record of every import; the import and undo pages hang from it."""

    # Short headings: the list fits beside its filters.
    list_display = [
        "event",
        "collected_on",
        "typed_in",
        "by_number",
        "duplicate_count",
        "counts",
        "imported_at",
    ]
    list_filter = [StandingFilter, "petition"]
    search_fields = ["event", "file_name", "imported_by_name"]
    date_hierarchy = "imported_at"
    fields = [
        "petition",
        "event",
        "collected_on",
        "file_name",
        "rows_created",
        "count_alone",
        "duplicate_lines",
        "imported_at",
        "imported_by_name",
        "undone_at",
        "undone_by_name",
        "signatures_link",
    ]
    readonly_fields = fields
    change_list_template = "admin/petition/paperimport/change_list.html"
    change_form_template = "admin/petition/paperimport/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Through the import page, not the model's form.
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_import_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(IMPORT_PERMISSION)

    @admin.display(description=_("typed in"), ordering="rows_created")
    def typed_in(self, paper_import: PaperImport) -> int:
        return paper_import.rows_created

    @admin.display(description=_("by number"), ordering="count_alone")
    def by_number(self, paper_import: PaperImport) -> int:
        return paper_import.count_alone

    @admin.display(description=_("duplicates"))
    def duplicate_count(self, paper_import: PaperImport) -> int:
        return len(paper_import.duplicates)

    @admin.display(description=_("counted"), boolean=True)
    def counts(self, paper_import: PaperImport) -> bool:
        return not paper_import.is_undone

    @admin.display(description=_("duplicates set aside"))
    def duplicate_lines(self, paper_import: PaperImport) -> str:
        if not paper_import.duplicates:
            return gettext("None")
        return format_html_join(
            mark_safe("<br>"),
            "{}",
            ((line,) for line in services.duplicate_lines(paper_import)),
        )

    @admin.display(description=_("signatures"))
    def signatures_link(self, paper_import: PaperImport) -> str:
        if not paper_import.rows_created or paper_import.is_undone:
            return "—"
        url = reverse("admin:petition_signature_changelist")
        return format_html(
            '<a href="{}?paper_import__id__exact={}">{}</a>',
            url,
            paper_import.pk,
            gettext("The signatures of this import"),
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "can_import": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "can_undo": self.has_import_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="petition_paperimport_import",
            ),
            path(
                "<int:import_id>/undo/",
                self.admin_site.admin_view(self.undo_view),
                name="petition_paperimport_undo",
            ),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "changelist_url": reverse("admin:petition_paperimport_changelist"),
        }

    @fresh_second_factor_required
    def import_view(self, request: HttpRequest) -> HttpResponse:
        """A typed-in sheet (CSV) or a sheet's number alone: all of it, or nothing."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        kind = request.POST.get("kind") if request.method == "POST" else None
        file_form = PaperFileForm(
            request.POST if kind == "file" else None,
            request.FILES if kind == "file" else None,
            prefix="file",
        )
        count_form = PaperCountForm(request.POST if kind == "count" else None, prefix="count")
        if kind == "file" and file_form.is_valid():
            try:
                paper_import = services.import_sheet(
                    petition=file_form.cleaned_data["petition"],
                    rows=file_form.cleaned_data["file"],
                    file_name=file_form.file_name,
                    user=request.user,
                )
            except PaperFileError as error:
                for problem in error.problems:
                    file_form.add_error("file", problem)
            else:
                return self._done(request, paper_import)
        if kind == "count" and count_form.is_valid():
            paper_import = services.record_count(
                petition=count_form.cleaned_data["petition"],
                event=count_form.cleaned_data["event"],
                collected_on=count_form.cleaned_data["collected_on"],
                count=count_form.cleaned_data["count"],
                user=request.user,
            )
            return self._done(request, paper_import)
        context = {
            **self._context(request, gettext("Import paper signatures")),
            "file_form": file_form,
            "count_form": count_form,
            "max_size": PAPER_FILE_MAX_BYTES,
        }
        return TemplateResponse(request, "admin/petition/paperimport/import.html", context)

    def _done(self, request: HttpRequest, paper_import: PaperImport) -> HttpResponse:
        messages.success(
            request,
            gettext("%(what)s The count follows within seconds.")
            % {"what": services.describe(paper_import)},
        )
        return redirect("admin:petition_paperimport_change", paper_import.pk)

    @fresh_second_factor_required
    def undo_view(self, request: HttpRequest, import_id: int) -> HttpResponse:
        """GET asks "are you sure?" with what it takes back; POST undoes the whole import."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        paper_import = PaperImport.objects.select_related("petition").filter(pk=import_id).first()
        if paper_import is None:
            raise Http404
        change_url = reverse("admin:petition_paperimport_change", args=[paper_import.pk])
        if paper_import.is_undone:
            messages.info(request, gettext("This import was undone already."))
            return redirect(change_url)
        if request.method != "POST":
            context = {
                **self._context(request, gettext("Undo this import of paper signatures")),
                "paper_import": paper_import,
                "signatures": paper_import.signatures.count(),
                "change_url": change_url,
            }
            return TemplateResponse(request, "admin/petition/paperimport/undo.html", context)
        deleted = services.undo_import(paper_import=paper_import, user=request.user)
        messages.success(
            request,
            ngettext(
                "Import undone: %(count)d signature deleted; the count follows within seconds.",
                "Import undone: %(count)d signatures deleted; the count follows within seconds.",
                deleted,
            )
            % {"count": deleted},
        )
        return redirect(change_url)
