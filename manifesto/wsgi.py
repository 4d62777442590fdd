import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from manifesto.answers import SharedAnswers
from manifesto.charsets import utf8_only
from manifesto.health import health_probes

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manifesto.settings")

django_application = get_wsgi_application()
# The load balancer's probes, then the counter API, are answered before any of Django runs
# (the API from memory, for a second).
application = health_probes(
    utf8_only(
        SharedAnswers(
            django_application, prefix="/api/petitions/", seconds=settings.COUNTER_CACHE_SECONDS
        )
    )
)

from manifesto.checks import refuse_to_serve_without_a_shared_cache  # noqa: E402 - needs settings

refuse_to_serve_without_a_shared_cache()


def load_what_requests_would() -> None:
    """Load, as the process starts, what its first requests would otherwise load while people
    wait: both languages' catalogues, the address validator's patterns and the Celery app with
    its tasks. A surge that meets new processes (a deployment, a restart) then meets warm ones."""
    from django.core.validators import validate_email
    from django.utils import translation

    from petition.queueing import load_tasks

    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            translation.gettext("Sign")
    validate_email("warm@example.org")
    load_tasks()


load_what_requests_would()
