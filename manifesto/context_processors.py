from django.conf import settings
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import translate_url
from django.utils import translation
from django.utils.encoding import iri_to_uri


def alternate_languages(request: HttpRequest) -> dict:
    """This page's address in each language, for hreflang links and the language switcher."""
    # The path without its query string: a page is the same page whatever ?ref= it carries.
    # From SITE_URL, never the request's Host: the 400 page answering a forged Host header is
    # drawn with these links too.
    url = iri_to_uri(settings.SITE_URL + request.path)
    return {
        "alternate_languages": [
            {"code": code, "name": name, "url": translate_url(url, code)}
            for code, name in settings.LANGUAGES
        ]
    }


# Open Graph names its locales language_TERRITORY.
OPEN_GRAPH_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


def open_graph(request: HttpRequest) -> dict:
    """What link previews need on every page: absolute addresses built from SITE_URL, the
    page's locale and the others, and the share image drawn for this language."""
    language = translation.get_language()
    if language not in OPEN_GRAPH_LOCALES:
        language = settings.LANGUAGE_CODE
    return {
        "site_url": settings.SITE_URL,
        "open_graph": {
            "locale": OPEN_GRAPH_LOCALES[language],
            "alternate_locales": [
                locale for code, locale in OPEN_GRAPH_LOCALES.items() if code != language
            ],
            "image": settings.SITE_URL + static(f"img/share-{language}.png"),
        },
    }


def staff_account_pages(request: HttpRequest) -> dict:
    """The admin's own context (header, user links, sidebar) for the staff pages that are not
    the admin's: sign-in, second factors, sessions. Only those pay for it."""
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match is not None else ""
    if not name or not (name.startswith(("account_", "mfa_")) or name == "staff_sessions"):
        return {}
    from django.contrib import admin

    return {
        **admin.site.each_context(request),
        "reauthentication_minutes": settings.STAFF_REAUTHENTICATION_SECONDS // 60,
    }
