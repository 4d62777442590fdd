"""Settings for the Celery worker that the integration tests start.

The suite's settings keep e-mail in memory; the worker must hand it to the SMTP server the tests
listen on, so here the e-mail backend comes from the environment, as in production.
"""

import os

from tests.settings import *  # noqa: F403

EMAIL_BACKEND = os.environ["EMAIL_BACKEND"]
