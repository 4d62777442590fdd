from django.urls import path, register_converter
from django.urls.converters import SlugConverter
from django.utils.translation import gettext_lazy as _

from . import api, log_api, views
from .advocacy import views as advocacy
from .models import Petition


class PetitionSlugConverter(SlugConverter):
    """A slug no longer than a petition's can be: a longer one names none, and would make the
    page and counter caches' keys longer than a cache takes. (The translated paths keep
    Django's own converter: they are in the catalogues, and their views cache nothing.)"""

    regex = rf"[-a-zA-Z0-9_]{{1,{Petition._meta.get_field('slug').max_length}}}"


register_converter(PetitionSlugConverter, "petition_slug")

# Translated paths: /fr/petitions/…/signer/ and /en/petitions/…/sign/ read naturally.
urlpatterns = [
    path("petitions/<petition_slug:slug>/", views.sign, name="petition"),
    path(_("petitions/<slug:slug>/check-your-inbox/"), views.check_inbox, name="check_inbox"),
    path(_("petitions/<slug:slug>/resend/"), views.resend, name="resend"),
    path(_("confirm/<str:token>/"), views.confirm, name="confirm"),
    path(_("unsubscribe/<str:token>/"), views.unsubscribe, name="unsubscribe"),
    path(_("share/<str:token>/"), views.sharing_page, name="sharing"),
    path(_("withdraw/<str:token>/"), views.withdraw, name="withdraw"),
    path(_("petitions/<slug:slug>/log/"), views.log_page, name="log"),
    path(
        _("share/<str:token>/circonscription/"),
        advocacy.choose_circonscription,
        name="choose_circonscription",
    ),
    path(_("share/<str:token>/write/"), advocacy.write, name="write_to_target"),
    path(_("petitions/<slug:slug>/decision-makers/"), advocacy.targets, name="targets"),
    path(_("petitions/<slug:slug>/news/"), advocacy.news_page, name="news"),
    path("embed/<petition_slug:slug>/", views.embed, name="embed"),
]

api_urlpatterns = [
    path("api/petitions/", api.petition_list, name="petition_list_api"),
    path("api/petitions/<petition_slug:slug>/", api.petition_detail, name="petition_api"),
    path("api/petitions/<petition_slug:slug>/log/", log_api.head, name="log_head_api"),
    path("api/petitions/<petition_slug:slug>/log/heads/", log_api.heads, name="log_heads_api"),
    path(
        "api/petitions/<petition_slug:slug>/log/inclusion/",
        log_api.inclusion,
        name="log_inclusion_api",
    ),
    path(
        "api/petitions/<petition_slug:slug>/log/consistency/",
        log_api.consistency,
        name="log_consistency_api",
    ),
    path("api/petitions/<petition_slug:slug>/log/leaves/", log_api.leaves, name="log_leaves_api"),
]
