"""Security headers: every page, the admin's included, carries a Content-Security-Policy that
allows no inline script or style, and holds none; only the embeddable counter may be framed, by
any site; the e-mail preview alone may style itself inline; and the rest of the headers and
cookie flags production relies on."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.http import HttpResponse
from django.urls import reverse

from petition.models import Update
from tests.conftest import Element, parse_html, write_update

LANGUAGES = ["fr", "en"]
PROJECT_DIR = Path(__file__).resolve().parents[1]
# What every page but the embeddable counter and the e-mail preview gets.
STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def policy(response: HttpResponse) -> dict[str, list[str]]:
    """The response's Content-Security-Policy, as {directive: sources}."""
    directives: dict[str, list[str]] = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} twice"
        directives[name] = sources
    return directives


def inline_code(page: Element) -> list[str]:
    """What a policy without 'unsafe-inline' would block in the page."""
    blocked = []
    for element in page.find_all():
        if element.tag == "style":
            blocked.append("<style> element")
        # Data blocks (type="application/json") are not run, hence not blocked.
        kind = element.attrs.get("type", "text/javascript")
        if element.tag == "script" and "src" not in element.attrs and kind != "application/json":
            blocked.append("<script> without src")
        for name, value in element.attrs.items():
            if name == "style" or name.startswith("on"):
                blocked.append(f"{name}= on {element!r}")
            if name in {"href", "src", "action"} and value.strip().startswith("javascript:"):
                blocked.append(f"javascript: URL on {element!r}")
    return blocked


def assert_strict(response: HttpResponse, page: str, *, frameable: bool = False) -> None:
    """The site's own policy: the site's files only, no inline code, framed by nobody (or, for
    the embeddable counter, by anybody)."""
    found = policy(response)
    expected = {**STRICT, "frame-ancestors": ["*"]} if frameable else STRICT
    assert {name: found.get(name) for name in expected} == expected, page
    assert "'unsafe-inline'" not in response["Content-Security-Policy"], page
    assert "'unsafe-eval'" not in response["Content-Security-Policy"], page
    if frameable:
        assert "X-Frame-Options" not in response, page
    else:
        assert response["X-Frame-Options"] == "DENY", page
    assert inline_code(parse_html(response)) == [], page


def test_every_public_page_allows_no_inline_code_and_only_the_counter_may_be_framed(
    public_pages,
):
    for name, response in public_pages.items():
        assert_strict(response, name, frameable=name.endswith(" embed"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_expired_form_page_has_the_policy_too(csrf_client, petition, signer_data, url, lang):
    response = csrf_client.post(url(lang, "petition", petition.slug), signer_data)

    assert response.status_code == 403
    assert_strict(response, "form expired")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_other_security_headers(client, petition, url, lang):
    response = client.get(url(lang, "home"))

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    features = response["Permissions-Policy"].split(", ")
    assert all(re.fullmatch(r"[a-z-]+=\(\)", feature) for feature in features), features
    assert {"camera=()", "microphone=()", "geolocation=()", "payment=()"} <= set(features)


def test_the_language_cookie_is_not_readable_by_scripts_nor_sent_by_other_sites(client, petition):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/fr/"})

    cookie = response.cookies["django_language"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


# The admin.


@pytest.fixture
def draft(petition, admin_user) -> Update:
    return write_update(petition, admin_user)


def test_every_admin_page_allows_no_inline_code_and_no_framing(admin_client, admin_paths):
    for name, path in admin_paths.items():
        response = admin_client.get(path)

        assert response.status_code == 200, name
        assert_strict(response, name)


def test_the_admin_login_page_allows_no_inline_code(client):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 200
    assert_strict(response, "login")


def test_the_update_preview_frames_each_email_from_an_address_of_its_own(admin_client, draft):
    page = parse_html(admin_client.get(reverse("admin:petition_update_preview", args=[draft.pk])))

    frames = page.find_all("iframe")
    assert [frame.attrs["src"] for frame in frames] == [
        reverse("admin:petition_update_preview_email", args=[draft.pk, language])
        for language in LANGUAGES
    ]
    assert all(frame.attrs["sandbox"] == "" and "srcdoc" not in frame.attrs for frame in frames)
    email = admin_client.get(frames[1].attrs["src"])
    assert email.status_code == 200
    assert "The manifesto moves on." in email.content.decode()
    # The e-mail's own inline styles apply; nothing runs, and only the admin may frame it.
    found = policy(email)
    assert found["style-src"] == ["'unsafe-inline'"]
    assert found["script-src"] == found["default-src"] == found["form-action"] == ["'none'"]
    assert found["frame-ancestors"] == ["'self'"]
    assert "sandbox" in found
    assert email["X-Frame-Options"] == "SAMEORIGIN"


def test_the_email_preview_is_for_staff_who_may_see_the_update(
    client, admin_client, django_user_model, draft
):
    path = reverse("admin:petition_update_preview_email", args=[draft.pk, "fr"])
    assert client.get(path).status_code == 302  # to the login page
    stranger = django_user_model.objects.create_user("stranger", is_staff=True)
    stranger.user_permissions.set(Permission.objects.filter(codename="view_petition"))
    client.force_login(stranger)
    assert client.get(path).status_code == 403
    other = reverse("admin:petition_update_preview_email", args=[draft.pk, "de"])
    assert admin_client.get(other).status_code == 404


# Production settings, as `manage.py check --deploy` sees them.


def production_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Loads manifesto.settings in a fresh interpreter with only env set, and prints the
    settings this module checks, as JSON."""
    names = [
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SECURE",
        "LANGUAGE_COOKIE_SECURE",
        "LANGUAGE_COOKIE_HTTPONLY",
        "LANGUAGE_COOKIE_SAMESITE",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "CONTENT_SECURITY_POLICY",
    ]
    code = (
        "import json, manifesto.settings as s; "
        f"print(json.dumps({{name: getattr(s, name) for name in {names!r}}}))"
    )
    keep = {"PATH", "HOME", "LANG", "SYSTEMROOT"}
    environment = {key: value for key, value in os.environ.items() if key in keep}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_DIR,
    )


def test_production_cookies_go_only_over_https_and_only_to_this_site():
    loaded = production_settings(DJANGO_SECRET_KEY="x" * 50)

    assert loaded.returncode == 0, loaded.stderr
    found = json.loads(loaded.stdout)
    for name in (
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SECURE",
        "LANGUAGE_COOKIE_SECURE",
        "LANGUAGE_COOKIE_HTTPONLY",
    ):
        assert found[name] is True, name
    assert found["LANGUAGE_COOKIE_SAMESITE"] == "Lax"
    assert found["SECURE_SSL_REDIRECT"]
    assert found["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert "report-uri" not in found["CONTENT_SECURITY_POLICY"]


def test_production_refuses_to_start_without_a_secret_key():
    loaded = production_settings()

    assert loaded.returncode != 0
    assert "DJANGO_SECRET_KEY" in loaded.stderr


def test_violations_are_reported_where_csp_report_uri_says():
    loaded = production_settings(
        DJANGO_SECRET_KEY="x" * 50, CSP_REPORT_URI="https://reports.example.org/csp"
    )

    assert loaded.returncode == 0, loaded.stderr
    found = json.loads(loaded.stdout)["CONTENT_SECURITY_POLICY"]
    assert found["report-uri"] == ["https://reports.example.org/csp"]
