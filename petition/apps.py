from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class PetitionConfig(AppConfig):
    name = "petition"
    verbose_name = _("Petitions")

    def ready(self) -> None:
        # Bounces and complaints reported by the mail provider's webhooks (anymail's signal).
        from . import staff, tracking

        # Staff logins, second factors and sessions (petition.staff).
        staff.connect()

        checks.register(tracking.check_webhook_secret, checks.Tags.security, deploy=True)

        from . import log

        checks.register(log.check_signing_key, checks.Tags.security, deploy=True)
