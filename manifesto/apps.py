from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ManifestoConfig(AppConfig):
    name = "manifesto"
    verbose_name = _("Manifesto site")

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
