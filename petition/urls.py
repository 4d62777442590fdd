from django.urls import path
from django.utils.translation import gettext_lazy as _

from . import api, views

# Translated paths: /fr/petitions/…/signer/ and /en/petitions/…/sign/ read naturally.
urlpatterns = [
    path("petitions/<slug:slug>/", views.sign, name="petition"),
    path(_("petitions/<slug:slug>/check-your-inbox/"), views.check_inbox, name="check_inbox"),
    path(_("petitions/<slug:slug>/resend/"), views.resend, name="resend"),
    path(_("confirm/<str:token>/"), views.confirm, name="confirm"),
    path(_("unsubscribe/<str:token>/"), views.unsubscribe, name="unsubscribe"),
    path(_("share/<str:token>/"), views.sharing_page, name="sharing"),
    path(_("withdraw/<str:token>/"), views.withdraw, name="withdraw"),
    path("embed/<slug:slug>/", views.embed, name="embed"),
]

api_urlpatterns = [
    path("api/petitions/", api.petition_list, name="petition_list_api"),
    path("api/petitions/<slug:slug>/", api.petition_detail, name="petition_api"),
]
