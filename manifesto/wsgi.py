import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from manifesto.answers import SharedAnswers
from manifesto.charsets import utf8_only

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manifesto.settings")

django_application = get_wsgi_application()
# The counter API is answered from memory for a second before any of Django runs.
application = utf8_only(
    SharedAnswers(
        django_application, prefix="/api/petitions/", seconds=settings.COUNTER_CACHE_SECONDS
    )
)

from manifesto.checks import refuse_to_serve_without_a_shared_cache  # noqa: E402 - needs settings

refuse_to_serve_without_a_shared_cache()
