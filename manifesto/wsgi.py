import os

from django.core.wsgi import get_wsgi_application

from manifesto.charsets import utf8_only

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "manifesto.settings")

application = utf8_only(get_wsgi_application())

from manifesto.checks import refuse_to_serve_without_a_shared_cache  # noqa: E402 - needs settings

refuse_to_serve_without_a_shared_cache()
