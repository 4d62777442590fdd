"""The site's kill switches: pausing signing, pausing updates to signers."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from ..models import Switches


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
