from allauth.account import views as account_views
from anymail.urls import urlpatterns as anymail_urlpatterns
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from petition.urls import api_urlpatterns

from . import views

# Anymail's webhooks for every provider, inbound mail included, would answer anyone with a
# server error for want of their settings: only the tracking webhook of the one in use is served.
tracking_webhook = [
    pattern
    for pattern in anymail_urlpatterns
    if pattern.name == f"{settings.EMAIL_PROVIDER}_tracking_webhook"
]

urlpatterns = [
    *api_urlpatterns,
    path("i18n/setlang/", views.set_language, name="set_language"),
    # The mail provider's tracking webhook (bounces, complaints): see petition.tracking.
    path("anymail/", include((tracking_webhook, "anymail"))),
    *i18n_patterns(
        path("", views.home, name="home"),
        path(_("privacy/"), views.privacy, name="privacy"),
        path(_("legal-notice/"), views.legal, name="legal"),
        # Staff sign in through allauth (a password, then a second factor), at the admin's own
        # address; only the parts of allauth that staff use are served (no sign-up, no
        # password reset by e-mail).
        path(f"{settings.ADMIN_PATH}login/", views.staff_login, name="account_login"),
        path(f"{settings.ADMIN_PATH}account/logout/", account_views.logout, name="account_logout"),
        path(
            f"{settings.ADMIN_PATH}account/reauthenticate/",
            account_views.reauthenticate,
            name="account_reauthenticate",
        ),
        path(f"{settings.ADMIN_PATH}account/2fa/", include("allauth.mfa.urls")),
        path(
            f"{settings.ADMIN_PATH}account/sessions/", views.staff_sessions, name="staff_sessions"
        ),
        path(settings.ADMIN_PATH, admin.site.urls),
        path("", include("petition.urls")),
    ),
]
