"""Settings for the Celery worker that the integration tests start.

The suite's settings keep e-mail in memory; the worker must hand it to the SMTP server the tests
listen on, so here the e-mail backend comes from the environment, as in production.
"""

import os

from tests.settings import *  # noqa: F403

EMAIL_BACKEND = os.environ["EMAIL_BACKEND"]

# A test may give its worker production's limits on the e-mails one mailbox receives.
SIGNING_MAIL_INTERVAL_SECONDS = int(
    os.environ.get("SIGNING_MAIL_INTERVAL_SECONDS", SIGNING_MAIL_INTERVAL_SECONDS)  # noqa: F405
)
SIGNING_MAILS_PER_DAY = int(os.environ.get("SIGNING_MAILS_PER_DAY", SIGNING_MAILS_PER_DAY))  # noqa: F405
