"""The benchmark's mail provider: anymail's test backend, which also writes down every
recipient of every message it takes, one line each, in the file BENCH_MAIL_LOG.

The file is what the provider received, kept apart from the site's own records: the soak and
the update phase count its lines to tell how many messages left, and whether anyone got two.
"""

from __future__ import annotations

import os
from typing import Any

from anymail.backends.test import EmailBackend as TestBackend
from django.core import mail


class RecordingBackend(TestBackend):
    def post_to_esp(self, payload: Any, message: Any) -> Any:
        response = super().post_to_esp(payload, message)
        lines = "".join(f"{address}\n" for address in payload.recipient_emails).encode()
        # One write in append mode: a worker killed midway leaves whole batches or none.
        descriptor = os.open(os.environ["BENCH_MAIL_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(descriptor, lines)
        finally:
            os.close(descriptor)
        # The test backend keeps every message in memory; a hundred thousand need not stay.
        mail.outbox.clear()
        return response
