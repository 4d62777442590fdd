"""A passkey in software, for the tests that talk to the site without a browser: it answers
the site's WebAuthn challenges as an authenticator does (an ES256 key pair, "none" attestation),
and the site checks its answers with its real WebAuthn library. The browser tests use Chromium's
own virtual authenticator instead (tests/integration/test_staff_browser.py).
"""

from __future__ import annotations

import json
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import sha256, websafe_encode
from fido2.webauthn import (
    Aaguid,
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
)

# The test client's address as a browser would have it: WebAuthn needs a secure context, which
# http://localhost is.
HOST = "localhost"
ORIGIN = f"http://{HOST}"


class SoftPasskey:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = 0

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": ORIGIN, "crossOrigin": False}
        ).encode()

    def create(self, creation_options: dict) -> str:
        """The answer to navigator.credentials.create(), as the page posts it (JSON)."""
        challenge = creation_options["publicKey"]["challenge"]
        client_data = self._client_data("webauthn.create", challenge)
        credential = AttestedCredentialData.create(
            Aaguid.NONE, self.credential_id, ES256.from_cryptography_key(self.key.public_key())
        )
        authenticator_data = AuthenticatorData.create(
            sha256(HOST.encode()),
            AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.UV | AuthenticatorData.FLAG.AT,
            self.counter,
            credential,
        )
        attestation = AttestationObject.create("none", authenticator_data, {})
        return json.dumps(
            {
                "id": websafe_encode(self.credential_id),
                "rawId": websafe_encode(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": websafe_encode(client_data),
                    "attestationObject": websafe_encode(bytes(attestation)),
                },
                "clientExtensionResults": {},
            }
        )

    def get(self, request_options: dict) -> str:
        """The answer to navigator.credentials.get(), as the page posts it (JSON)."""
        challenge = request_options["publicKey"]["challenge"]
        client_data = self._client_data("webauthn.get", challenge)
        self.counter += 1
        authenticator_data = AuthenticatorData.create(
            sha256(HOST.encode()),
            AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.UV,
            self.counter,
        )
        signature = self.key.sign(
            bytes(authenticator_data) + sha256(client_data), ec.ECDSA(hashes.SHA256())
        )
        return json.dumps(
            {
                "id": websafe_encode(self.credential_id),
                "rawId": websafe_encode(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": websafe_encode(client_data),
                    "authenticatorData": websafe_encode(bytes(authenticator_data)),
                    "signature": websafe_encode(signature),
                },
                "clientExtensionResults": {},
            }
        )


def page_data(content: bytes) -> dict:
    """The WebAuthn options a page hands its script (allauth's json_script "js_data")."""
    text = content.decode()
    start = text.index('<script id="js_data" type="application/json">')
    start = text.index(">", start) + 1
    end = text.index("</script>", start)
    return json.loads(text[start:end])
