"""Settings for the manifesto site, read from the environment.

With nothing set, the site runs on a laptop: SQLite, Celery tasks executed in-process, e-mail
printed to the console. Production sets DJANGO_SECRET_KEY, DATABASE_URL, CELERY_BROKER_URL and
an e-mail backend; see the README for every variable.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for development).")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105
# Rotating the key would break every link already e-mailed (unsubscribe and sharing links never
# expire): former keys stay valid for checking signatures, never for making them.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

# Absolute base for links in e-mails, which are rendered outside any request.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # modeltranslation patches the admin, so it must come before it.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_countries",
    "anymail",
    # Staff sign in through allauth: a password, then a second factor (allauth.mfa: passkeys,
    # authenticator apps, recovery codes). See petition.staff.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "manifesto",
    "petition",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files need no policy of their own. Before the rest, so that the
    # responses they cut short (CSRF failure, rate limit) get the headers too.
    "manifesto.security.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # allauth's login stages and its requests to reauthenticate.
    "allauth.account.middleware.AccountMiddleware",
    # No admin page for a session that has not passed a second factor, nor for one that ended.
    "manifesto.middleware.StaffAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns django-ratelimit's refusal (a PermissionDenied, hence a 403) into RATELIMIT_VIEW's 429.
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Turns a database that cannot be reached into a translated 503 page.
    "manifesto.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "manifesto.urls"
WSGI_APPLICATION = "manifesto.wsgi.application"
ASGI_APPLICATION = "manifesto.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "manifesto.context_processors.alternate_languages",
                "manifesto.context_processors.open_graph",
                "manifesto.context_processors.staff_account_pages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# Behind PgBouncer in transaction pooling (deploy/pgbouncer.ini), cursors that outlive a
# transaction cannot be used.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool(
    "DATABASE_DISABLE_SERVER_SIDE_CURSORS", False
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same, checking a kept connection only after a second unused (manifesto.db.postgresql).
    DATABASES["default"]["ENGINE"] = "manifesto.db.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    # Rate limits must be shared by every web node: production points CACHE_URL at Redis.
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # Each process's own memory, for what may be a second old: the counter and the home page.
    "local": {"BACKEND": "manifesto.caches.ProcessMemoryCache", "LOCATION": "local"},
}
if CACHE_URL:
    # The rate limits' counters, in the same Redis, with the same work for every attempt.
    CACHES["ratelimit"] = {"BACKEND": "manifesto.caches.RateLimitCache", "LOCATION": CACHE_URL}
    RATELIMIT_USE_CACHE = "ratelimit"
COUNTER_CACHE_SECONDS = float(os.environ.get("COUNTER_CACHE_SECONDS", "1"))

# The public log of counted signatures (petition.log). Its heads are signed with this Ed25519
# key: base64 of the 32-byte seed (`python manage.py log_key --new` makes one). Without it, in
# development, a key of this checkout is made once in LOG_DEVELOPMENT_KEY_FILE. After a
# rotation, list the old public keys (base64) here so that their heads stay verifiable.
LOG_SIGNING_KEY = os.environ.get("LOG_SIGNING_KEY", "")
LOG_RETIRED_PUBLIC_KEYS = env_list("LOG_RETIRED_PUBLIC_KEYS")
LOG_DEVELOPMENT_KEY_FILE = os.environ.get(
    "LOG_DEVELOPMENT_KEY_FILE", str(BASE_DIR / ".log-signing-key")
)
# One head per period at most, timed to its start: no head says more precisely when anyone
# signed.
LOG_HEAD_PERIOD_SECONDS = int(os.environ.get("LOG_HEAD_PERIOD_SECONDS", "300"))

# A signed cookie keeps web nodes stateless and costs no database write per signer.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_HTTPONLY = True
# Long enough to ask for the confirmation e-mail again, short enough to forget the signer.
SESSION_COOKIE_AGE = 3 * 24 * 3600

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
MODELTRANSLATION_DEFAULT_LANGUAGE = "fr"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("fr",)
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
COUNTRIES_FIRST = ["FR", "BE", "CH", "LU", "MC", "CA"]

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# E-mail. Every message leaves through a Celery task; the backend decides where it goes.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# The provider anymail sends through ("brevo" for anymail.backends.brevo.EmailBackend): the site
# serves its tracking webhook and no other (manifesto/urls.py). Empty with any other backend.
EMAIL_PROVIDER = (
    EMAIL_BACKEND.split(".")[2] if EMAIL_BACKEND.startswith("anymail.backends.") else ""
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CAMELEON <manifeste@localhost>")
# The Date of a message Django writes carries the site's time zone (Django sets the process's own
# from TIME_ZONE), rather than "-0000", which says the sender does not know its time zone.
EMAIL_USE_LOCALTIME = True
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Every ANYMAIL_* variable is handed to anymail: ANYMAIL_MAILGUN_API_KEY, ANYMAIL_BREVO_API_KEY…
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_")
}

# Celery. Without a broker, tasks run in-process right after the transaction commits.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = env_bool("CELERY_TASK_EAGER_PROPAGATES", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task is stopped at CELERY_TASK_TIME_LIMIT seconds: the hold a signing's task takes on its
# e-mail (CONFIRMATION_CLAIM_SECONDS) must outlast it, so that no other worker sends that e-mail
# while the first may still be sending it (manifesto.checks).
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "120"))
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "90"))
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    # Redis: without these, a broker that stops answering (frozen, or its host gone) holds the
    # page that publishes for ever: kombu's default is to wait. Workers keep waiting, though
    # (manifesto.celery.wait_for_a_stalled_broker).
    "socket_connect_timeout": 1,
    "socket_timeout": 1,
}
# A page must not wait on a broker that went away; the signature is saved by then, and the sweep
# sends its e-mail later (petition.services). One immediate retry on a new connection: a pooled
# one goes stale when the broker restarts.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TIMEZONE = TIME_ZONE
# Two beats may run, on two machines, with `-S redbeat.RedBeatScheduler` (deploy/): the one
# holding the lock in Redis schedules and renews it at every tick (a second apart, with the
# fold's schedule); the other tries for it every CELERY_BEAT_MAX_LOOP_INTERVAL seconds and gets
# it once CELERY_REDBEAT_LOCK_TIMEOUT has passed unrenewed: at most 12 s without a scheduler.
CELERY_BEAT_MAX_LOOP_INTERVAL = 2
CELERY_REDBEAT_REDIS_URL = os.environ.get("CELERY_BEAT_REDIS_URL", CELERY_BROKER_URL)
CELERY_REDBEAT_REDIS_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
CELERY_REDBEAT_LOCK_TIMEOUT = int(os.environ.get("CELERY_BEAT_LOCK_SECONDS", "10"))
CELERY_REDBEAT_KEY_PREFIX = "petition:redbeat"

# Petition behaviour.
CONFIRMATION_MAX_AGE = int(os.environ.get("CONFIRMATION_MAX_AGE_DAYS", "30")) * 24 * 3600
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
RATELIMIT_VIEW = "petition.views.rate_limited"
RATELIMIT_IP_META_KEY = "manifesto.proxies.client_ip"
# How many reverse proxies stand in front of the site and append to X-Forwarded-For.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
SIGN_RATE_PER_IP = os.environ.get("SIGN_RATE_PER_IP", "60/h")
SIGN_RATE_PER_EMAIL = os.environ.get("SIGN_RATE_PER_EMAIL", "5/h")
RESEND_RATE_PER_IP = os.environ.get("RESEND_RATE_PER_IP", "20/h")
# A signer choosing their circonscription or opening a message to a decision-maker: the count
# of messages opened is public, so nobody may pump it up.
WRITE_RATE_PER_IP = os.environ.get("WRITE_RATE_PER_IP", "30/h")
RESEND_RATE_PER_EMAIL = os.environ.get("RESEND_RATE_PER_EMAIL", "3/h")
# All signings of one petition together, from everywhere: a ceiling against a flood, well above
# an honest surge (empty: none).
SIGN_RATE_PER_PETITION = os.environ.get("SIGN_RATE_PER_PETITION", "600/s")
# Staff login attempts, per client address and per username.
LOGIN_RATE = os.environ.get("LOGIN_RATE", "10/15m")

# Staff accounts (petition.staff). The admin's login is allauth's, with a second factor that
# every staff account must have: passkeys (WebAuthn), an authenticator app (TOTP), and recovery
# codes for when both are lost.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "admin:index"
LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "manifesto.accounts.StaffAccountAdapter"
MFA_ADAPTER = "manifesto.accounts.StaffMFAAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# The site sends its own notices to staff, in their language, through Celery (petition.staff).
ACCOUNT_EMAIL_NOTIFICATIONS = False
MFA_SUPPORTED_TYPES = ["webauthn", "totp", "recovery_codes"]
MFA_FORMS = {
    "add_webauthn": "manifesto.accounts.StaffAddWebAuthnForm",
    "authenticate_webauthn": "manifesto.accounts.StaffAuthenticateWebAuthnForm",
    "reauthenticate_webauthn": "manifesto.accounts.StaffReauthenticateWebAuthnForm",
}
# Staff accounts are made by a superuser, with no address to verify first.
MFA_ALLOW_UNVERIFIED_EMAIL = True
MFA_TOTP_ISSUER = os.environ.get("MFA_TOTP_ISSUER", "CAMELEON")
MFA_RECOVERY_CODES_SHOW_ONCE = True
# A code of the 30 seconds before or after is taken too: phones' clocks drift. Each code works
# once.
MFA_TOTP_TOLERANCE = 1
# The second factor is asked again before the dangerous actions (exporting signatures, sending
# an update, bulk decisions, staff accounts' permissions and factors) if it was not used in the
# last STAFF_REAUTHENTICATION_SECONDS.
STAFF_REAUTHENTICATION_SECONDS = int(os.environ.get("STAFF_REAUTHENTICATION_SECONDS", "600"))
ACCOUNT_REAUTHENTICATION_TIMEOUT = STAFF_REAUTHENTICATION_SECONDS
# Reauthentication by a second factor or, for a member still enrolling a first, the password;
# never by a code sent by e-mail (an inbox is no second factor).
ACCOUNT_REAUTHENTICATION_METHODS = ["password", "mfa"]
# A staff session ends this long after its login (a working day) and after this long unused.
STAFF_SESSION_MAX_AGE = int(os.environ.get("STAFF_SESSION_MAX_AGE", str(10 * 3600)))
STAFF_SESSION_IDLE_TIMEOUT = int(os.environ.get("STAFF_SESSION_IDLE_TIMEOUT", "3600"))
# The record of staff accounts (logins, second factors) is kept this long.
STAFF_EVENTS_RETENTION_DAYS = int(os.environ.get("STAFF_EVENTS_RETENTION_DAYS", "365"))

# Fraud rules (petition.abuse). Suspect signatures are kept but not counted until staff clear them.
# Faster than this from the page's rendering to the signing: not a person typing.
SIGN_MIN_SECONDS = float(os.environ.get("SIGN_MIN_SECONDS", "3"))
# More signatures than this from one client address in an hour: the next ones are suspect.
SUSPECT_AFTER_PER_ADDRESS_PER_HOUR = int(os.environ.get("SUSPECT_AFTER_PER_ADDRESS_PER_HOUR", "20"))
# Refused as well as the shipped list of throwaway-mailbox domains (comma-separated).
DISPOSABLE_DOMAINS_EXTRA = frozenset(d.lower() for d in env_list("DISPOSABLE_DOMAINS_EXTRA"))
# The hourly report lists addresses and domains with at least this many signatures in the hour.
ABUSE_REPORT_MIN_SIGNATURES = int(os.environ.get("ABUSE_REPORT_MIN_SIGNATURES", "5"))
SWITCHES_CACHE_SECONDS = 1

# Privacy (petition.privacy): how long personal data is kept.
PENDING_RETENTION_DAYS = int(os.environ.get("PENDING_RETENTION_DAYS", "30"))
IP_HASH_RETENTION_DAYS = int(os.environ.get("IP_HASH_RETENTION_DAYS", "7"))
ANONYMISE_AFTER_DAYS = int(os.environ.get("ANONYMISE_AFTER_DAYS", "180"))

# Backups (petition.backups): any moment of the last BACKUP_RETENTION_DAYS can be restored, and
# the journal of erasures a restore applies again is kept that long. BACKUP_STANZA names
# production's pgBackRest stanza (deploy/pgbackrest/), whose `info` backup_status reads;
# without it, backups are `manage.py backup`'s files in BACKUP_DIR, encrypted with
# BACKUP_ENCRYPTION_KEY. backup_status fails when the last good one is older than
# BACKUP_MAX_AGE_HOURS.
BACKUP_RETENTION_DAYS = int(os.environ.get("BACKUP_RETENTION_DAYS", "14"))
BACKUP_STANZA = os.environ.get("BACKUP_STANZA", "")
BACKUP_DIR = os.environ.get("BACKUP_DIR", str(BASE_DIR / "backups"))
BACKUP_ENCRYPTION_KEY = os.environ.get("BACKUP_ENCRYPTION_KEY", "")
BACKUP_MAX_AGE_HOURS = float(os.environ.get("BACKUP_MAX_AGE_HOURS", "24"))
# django-dbbackup's connectors make `manage.py backup`'s dumps: SQLite's online backup API (a
# consistent copy of a live database, never a copy of its file), pg_dump for PostgreSQL.
DBBACKUP_CONNECTOR_MAPPING = {
    "django.db.backends.sqlite3": "dbbackup.db.sqlite.SqliteBackupConnector",
    # Django's PostgreSQL backend under the name of ours (manifesto.db.postgresql).
    "manifesto.db.postgresql": "dbbackup.db.postgresql.PgDumpBinaryConnector",
}

# Signings are answered by a worker (petition.models.SigningRequest): a task holds one this long
# while sending its e-mail; one not answered this long after it came in is queued again by the
# sweep.
CONFIRMATION_CLAIM_SECONDS = int(os.environ.get("CONFIRMATION_CLAIM_SECONDS", "300"))
CONFIRMATION_SWEEP_AFTER_SECONDS = int(os.environ.get("CONFIRMATION_SWEEP_AFTER_SECONDS", "120"))
# Each web process sends the signings it took in within this many seconds to the workers in one
# message (petition.queueing.gather_after_commit).
TASK_GATHER_SECONDS = float(os.environ.get("TASK_GATHER_SECONDS", "0.05"))
# However often an address is typed into the form, by whoever, it is sent at most this many
# e-mails (confirmation or "already signed") in 24 hours, this many seconds apart.
SIGNING_MAILS_PER_DAY = int(os.environ.get("SIGNING_MAILS_PER_DAY", "3"))
SIGNING_MAIL_INTERVAL_SECONDS = int(os.environ.get("SIGNING_MAIL_INTERVAL_SECONDS", "120"))
# Sending an e-mail that failed is tried again MAIL_MAX_RETRIES times, after MAIL_RETRY_BACKOFF
# seconds, then twice as long each time up to MAIL_RETRY_BACKOFF_MAX (at random below each: the
# retries of a burst spread out). Then the failure is recorded for staff.
MAIL_MAX_RETRIES = int(os.environ.get("MAIL_MAX_RETRIES", "12"))
MAIL_RETRY_BACKOFF = int(os.environ.get("MAIL_RETRY_BACKOFF", "5"))
MAIL_RETRY_BACKOFF_MAX = int(os.environ.get("MAIL_RETRY_BACKOFF_MAX", str(30 * 60)))
if not CACHE_URL:
    # A per-process cache is fine on one development machine, never across web nodes.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Behind the reverse proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Only the embeddable counter may be framed, by any site (petition.views.embed).
X_FRAME_OPTIONS = "DENY"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    LANGUAGE_COOKIE_SECURE = env_bool("LANGUAGE_COOKIE_SECURE", True)

# Content-Security-Policy (manifesto.security): the site's own files and nothing else, no inline
# script or style, no framing. A view changes it for itself with csp_replace: the embeddable
# counter, and the admin's preview of an e-mail.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}
if CSP_REPORT_URI := os.environ.get("CSP_REPORT_URI", ""):
    CONTENT_SECURITY_POLICY["report-uri"] = [CSP_REPORT_URI]
# Powerful browser features no page of the site uses, refused to it and to anything it frames.
PERMISSIONS_POLICY = {
    feature: []
    for feature in [
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "browsing-topics",
    ]
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django": {"level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")}},
}

# The campaign's own petition, served as the home page.
HOME_PETITION_SLUG = os.environ.get("HOME_PETITION_SLUG", "stop-cyberpedocriminalite")
ADMIN_PATH = os.environ.get("ADMIN_PATH", "admin/").strip("/") + "/"
# The legal notice names the host (French LCEN): "Name, address, phone".
LEGAL_HOSTING_PROVIDER = os.environ.get("LEGAL_HOSTING_PROVIDER", "")
FIGURES_MIN_BUCKET = int(os.environ.get("FIGURES_MIN_BUCKET", "10"))
# Dossiers for députés that Celery makes for the admin (ZIPs of PDFs): kept here until staff
# download them. They list signers' names: never a directory the web server serves.
DOSSIER_ROOT = os.environ.get("DOSSIER_ROOT", str(BASE_DIR / "dossiers"))
# Days a run of dossiers is kept for download, then deleted (petition.privacy).
DOSSIER_KEEP_DAYS = int(os.environ.get("DOSSIER_KEEP_DAYS", "7"))
# Seconds a run of dossiers may take (every député's, at a million signatures: minutes).
DOSSIER_TIME_LIMIT = int(os.environ.get("DOSSIER_TIME_LIMIT", "3600"))
CSRF_FAILURE_VIEW = "manifesto.views.csrf_failure"

# Updates to signers (petition.mailings): sent by Celery in batches on the "bulk" queue.
# At most this many messages a second for an update, however many workers (0: no limit).
UPDATE_SEND_RATE = float(os.environ.get("UPDATE_SEND_RATE", "20"))
# At most this many signers per batch (a batch is also kept to about one second at the rate).
UPDATE_BATCH_SIZE = int(os.environ.get("UPDATE_BATCH_SIZE", "500"))
# Seconds a batch may run; a batch silent for twice as long is presumed dead and taken over.
UPDATE_BATCH_TIME_LIMIT = int(os.environ.get("UPDATE_BATCH_TIME_LIMIT", "60"))
# The provider's merge field syntax for batch sending, "FIELD" standing for the name (e.g.
# "{{ params.FIELD }}"); empty: known from the anymail backend; "off": one message per signer.
UPDATE_MERGE_FIELD = os.environ.get("UPDATE_MERGE_FIELD", "")
