from django.contrib import admin
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from .models import Petition, Proposal, Signature


class ProposalInline(TranslationTabularInline):
    model = Proposal
    extra = 0
    ordering = ["position"]


@admin.register(Petition)
class PetitionAdmin(TranslationAdmin):
    list_display = ["title", "slug", "signature_count", "goal", "is_open", "created_at"]
    list_filter = ["is_open"]
    search_fields = ["slug", "title_fr", "title_en"]
    readonly_fields = ["signature_count", "count_updated_at", "created_at"]
    inlines = [ProposalInline]


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
    ]
    list_filter = [
        "petition",
        ("confirmed_at", admin.EmptyFieldListFilter),
        ("unsubscribed_at", admin.EmptyFieldListFilter),
        "wants_news",
        "country",
        "language",
        "created_at",
    ]
    search_fields = ["email", "last_name", "first_name", "postal_code"]
    date_hierarchy = "created_at"
    list_select_related = ["petition"]
    show_full_result_count = False
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
        "confirmed_at",
        "unsubscribed_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False
