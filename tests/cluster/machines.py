"""What the cluster's tests share: the `deploy/cluster` command, a browser that signs from an
address of its own on the cluster's bridge, and the mail node's folder read as a recipient."""

from __future__ import annotations

import email
import email.policy
import http.client
import json
import os
import re
import subprocess
import time
import urllib.parse
from email.message import EmailMessage
from pathlib import Path

from tests.conftest import MANIFESTO_SLUG

PROJECT = Path(__file__).resolve().parents[2]
CLUSTER = PROJECT / "deploy" / "cluster"
CLUSTER_DIR = Path(os.environ.get("CLUSTER_DIR", "/tmp/petition-cluster"))  # noqa: S108
MAILDIR = CLUSTER_DIR / "maildir"
# The tests' clients sign from addresses of their own on the bridge, as many people would: few
# signings each, under the fraud rules' threshold (SUSPECT_AFTER_PER_ADDRESS_PER_HOUR).
CLIENT_ADDRESSES = [f"10.231.77.{host}" for host in range(100, 250)]
SIGN_PATH = f"/fr/petitions/{MANIFESTO_SLUG}/"
# Read, then filled in: the fraud rules want a few seconds between the form and its sending.
READING_SECONDS = 3.2


def cluster(*argv: str) -> dict:
    result = subprocess.run([str(CLUSTER), *argv], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def site_settings() -> dict[str, str]:
    """The site's settings `deploy/cluster up` was given, beyond production's."""
    return json.loads((CLUSTER_DIR / "cluster.json").read_text())["settings"]


def primary_database() -> str:
    found = cluster("status")
    address = found["nodes"][found["primary"]]["address"]
    return f"postgresql://postgres@{address}:5432/petition"


class Browser:
    """One person's browser, from one address: cookies kept, one connection a request."""

    def __init__(self, host: str, port: int, source: str) -> None:
        self.host, self.port, self.source = host, port, source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=15, source_address=(self.source, 0)
        )
        headers = {"Host": self.host, "Referer": f"http://{self.host}:{self.port}{path}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return response.status, text
        finally:
            connection.close()

    def form(self, path: str) -> dict[str, str]:
        status, page = self.request("GET", path)
        assert status == 200, status
        return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def signing(fields: dict[str, str], address: str) -> dict[str, str]:
    """The petition's form, as a person fills it in."""
    return {
        **fields,
        "first_name": "Camille",
        "last_name": "Martin",
        "email": address,
        "country": "FR",
        "postal_code": "69007",
        "consent": "on",
        "website": "",
    }


def sign(browser: Browser, address: str) -> int:
    fields = browser.form(SIGN_PATH)
    time.sleep(READING_SECONDS)
    status, _page = browser.request("POST", SIGN_PATH, signing(fields, address))
    return status


def read(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def mail_to(address: str) -> list[EmailMessage]:
    """Every message the mail node took for address, oldest first."""
    found = (read(path) for path in sorted(MAILDIR.glob("*.eml")))
    return [message for message in found if message["To"] == address]
