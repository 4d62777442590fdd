"""Settings for the test suite: production settings, pointed at the local services.

The suite runs against PostgreSQL (DATABASE_URL, default: the local server). Celery tasks run
eagerly unless a test starts a real worker (see tests/conftest.py).
"""

import os
import socket

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production")
if "DATABASE_URL" not in os.environ:
    # PostgreSQL on this machine; a laptop without it runs what it can on SQLite, and the
    # tests that need PostgreSQL skip (in CI they fail instead: see tests/conftest.py).
    try:
        socket.create_connection(("localhost", 5432), timeout=1).close()
        os.environ["DATABASE_URL"] = "postgres://postgres@localhost:5432/petition"
    except OSError:
        os.environ["DATABASE_URL"] = "sqlite:///:memory:"
if "CACHE_URL" not in os.environ:
    # Production counts its limits in a Redis shared by every web process (manifesto.checks):
    # so does the suite, in a database of its own, where Redis runs.
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        os.environ["CACHE_URL"] = os.environ.get("TEST_CACHE_URL", "redis://127.0.0.1:6379/5")
    except OSError:
        pass
os.environ.setdefault("CELERY_TASK_EAGER_PROPAGATES", "1")
os.environ.setdefault("SITE_URL", "http://testserver")
# The public log's heads are signed with a key of the suite's own (petition.log).
os.environ.setdefault("LOG_SIGNING_KEY", "qUWPw6FFdL001VVI/qmNnBXwoweiPZ8A2JvUDHlDK9g=")

from manifesto.settings import *  # noqa: F403

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Mail leaves through locmem, but the provider's tracking events arrive as Brevo sends them.
EMAIL_PROVIDER = "brevo"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The suite speaks plain HTTP to the test client and the live server.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the sources, as in development: the suite runs no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tests read the counter right after changing it: no second-long memory cache.
COUNTER_CACHE_SECONDS = 0
# Most tests sign again at once and expect the e-mail it calls for; the tests of the mailbox
# allowance (tests/test_mailbox_allowance.py) put the production limits back.
SIGNING_MAIL_INTERVAL_SECONDS = 0
SIGNING_MAILS_PER_DAY = 1000
