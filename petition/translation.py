from modeltranslation.translator import TranslationOptions, register

from .models import Petition, Proposal, Update


@register(Petition)
class PetitionTranslationOptions(TranslationOptions):
    fields = (
        *("title", "introduction", "conclusion", "notes", "about"),
        *("delivered_to", "outcome_text"),
    )
    required_languages = ("fr", "en")


@register(Proposal)
class ProposalTranslationOptions(TranslationOptions):
    fields = ("text",)
    required_languages = ("fr", "en")


@register(Update)
class UpdateTranslationOptions(TranslationOptions):
    fields = ("subject", "body")
    required_languages = ("fr", "en")
