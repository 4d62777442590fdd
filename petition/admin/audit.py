"""Records of what happened, for staff to read: the log of exports, what happened to staff
accounts (logins, second factors, sessions), the consent wordings signers agreed to, the hourly
abuse reports, and the addresses the mail provider gave up on (the only ones staff may
delete)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..models import AbuseReport, ConsentWording, ExportRecord, StaffEvent, Suppression


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


@admin.register(StaffEvent)
class StaffEventAdmin(ReadOnlyAdmin):
    """Every login, failed login, second factor added, used or removed, reauthentication and
    session ended, with a keyed hash of the client address: who did what, when, from where."""

    list_display = ["at", "username", "kind", "what", "actor", "ip_hash", "browser"]
    list_filter = ["kind", "at"]
    search_fields = ["username", "=ip_hash", "=browser"]
    date_hierarchy = "at"
    fields = [
        "at",
        "user",
        "username",
        "kind",
        "what",
        "actor",
        "ip_hash",
        "browser",
        "user_agent",
        "language",
        "notified_at",
    ]
    readonly_fields = ["what"]

    @admin.display(description=_("detail"))
    def what(self, event: StaffEvent) -> str:
        from ..emails import staff_event_detail

        return staff_event_detail(event) or "—"


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
