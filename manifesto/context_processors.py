from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url


def alternate_languages(request: HttpRequest) -> dict:
    """This page's address in each language, for hreflang links and the language switcher."""
    url = request.build_absolute_uri()
    return {
        "alternate_languages": [
            {"code": code, "name": name, "url": translate_url(url, code)}
            for code, name in settings.LANGUAGES
        ]
    }
