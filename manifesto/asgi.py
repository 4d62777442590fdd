import os

from django.core.asgi import get_asgi_application

from manifesto.charsets import utf8_only_asgi
from manifesto.health import health_probes_asgi

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manifesto.settings")

application = health_probes_asgi(utf8_only_asgi(get_asgi_application()))

from manifesto.checks import refuse_to_serve_without_a_shared_cache  # noqa: E402 - needs settings

refuse_to_serve_without_a_shared_cache()
