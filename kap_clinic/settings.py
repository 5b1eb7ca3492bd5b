"""Settings for KAP Clinic, read from the environment (django-environ).

Every variable is listed with its default and meaning in README.md ("Configuration"). The
defaults make `make run` work on a laptop with no services: SQLite and a filesystem Celery broker
under ``var/``. Production (DEBUG off) refuses to start without a real SECRET_KEY and
ALLOWED_HOSTS.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from clinic import table as clinic_table

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# --- Secrets and hosts: refuse to run in production without them (cookiecutter-django style).
_INSECURE_DEV_KEY = "dev-only-insecure-key-kap-clinic-never-use-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default=_INSECURE_DEV_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _INSECURE_DEV_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random string of at least 50 characters when DEBUG is off "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must list the clinic's host name(s) when DEBUG is off."
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "auditlog",
    "accounts",
    "audit",
    "patients",
    "sessions.apps.ClinicSessionsConfig",
    "integration",
    "outbox",
    "reports",
    "clinic",
    "staff",
    "demo",
    "kap_clinic",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # No browser cache of a signed-in response; the Permissions-Policy (kap_clinic/middleware.py).
    "kap_clinic.middleware.PrivateResponseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Control characters out of every GET and POST value, before any form (or CSRF) reads them.
    "kap_clinic.middleware.CleanInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp's, checking the session's two-factor device once a minute, not on every request.
    "accounts.middleware.OTPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.IdleLogoutMiddleware",
    "accounts.middleware.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # Axes last: it turns a locked-out login into our lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kap_clinic.urls"
WSGI_APPLICATION = "kap_clinic.wsgi.application"

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
                "kap_clinic.context_processors.clinic",
                "kap_clinic.context_processors.staff_badges",
            ],
        },
    },
]

# --- Database: SQLite under var/ by default, PostgreSQL in CI and production.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'kap_clinic.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # `make run`'s SQLite: a write transaction takes the write lock when it begins (IMMEDIATE),
    # and a second writer waits for it (timeout) instead of failing with "database is locked"
    # when two people book at once; the service's clash check then refuses the second booking.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users, passwords, two-factor, lockout.
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # a reset link is good for one day

OTP_TOTP_THROTTLE_FACTOR = 1

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Lock the account name from that address: a clinic behind one NAT address is not locked out as a
# whole, and nobody can lock a colleague out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the sign-in form's field, which holds the e-mail
AXES_USERNAME_CALLABLE = "accounts.views.lockout_username"
# Number of trusted reverse proxies in front of the app (0: X-Forwarded-For is ignored, it can be
# forged). One function reads the address for lockout and for the audit trail alike.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "audit.services.client_ip"
AXES_VERBOSE = False  # R25: axes logs user names; keep them out of the log

# R22: automatic logoff after inactivity (IDLE_TIMEOUT_MINUTES, a clinic setting below), returning
# to the same page after login.
SESSION_COOKIE_AGE = 60 * 60 * 12  # hard ceiling on any session, from sign-in
# An open dosing chart of a session under way pings this often (R22: it keeps its therapist
# signed in while the client is dosing; the 12 hours above still end it).
DOSING_KEEPALIVE_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Internationalisation: the clinic's local time for display, UTC in the database.
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static files: Bootstrap, its icons and Chart.js come from npm (node_modules), never a CDN.
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules/bootstrap/dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules/bootstrap-icons/font"),
    ("vendor/chart.js", BASE_DIR / "node_modules/chart.js/dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- E-mail: console in development, SMTP (EMAIL_URL=smtp://...) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# A hung mail server must not hold a reminder past its lease (REMINDER_LEASE_SECONDS).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Shown in the app and in e-mail subjects: R25 wants no clinical detail there, so the default
# says nothing about the treatment.
CLINIC_NAME = env.str("CLINIC_NAME", default="Therapy Practice")
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default=CLINIC_NAME)  # name in authenticator apps
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{CLINIC_NAME} <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Country assumed for phone numbers typed without a country code (ISO 3166 code).
PHONE_REGION = env.str("PHONE_REGION", default="US")
# Crisis line shown to clients (R20 confirmation page, portal footer).
CRISIS_LINE = env.str("CRISIS_LINE", default="call or text 988 (US Suicide & Crisis Lifeline)")
PORTAL_INVITATION_DAYS = env.int("PORTAL_INVITATION_DAYS", default=7)

# The clinic settings (clinic/table.py has their defaults and DOMAIN.md ranges; the admin may
# override each on the Clinic settings page): PREP_SESSIONS_REQUIRED (R2), SESSION_MINUTES,
# DOSING_SESSION_MINUTES (R9), BP_DEFER_SYSTOLIC/DIASTOLIC (R12), BP_HARD_STOP_SYSTOLIC/DIASTOLIC
# (R13), BP_RECHECK_WAIT_MINUTES, BP_RECHECKS (R12), POST_DOSE_VITALS_MINUTES (R14),
# MIN_OBSERVATION_MINUTES (R15), DOSE_HOLD_MINUTES (R10), REMINDER_DAYS, REMINDER_SEND_HOUR,
# QUIET_HOURS_START/END (R8), REMINDER_SIGNATURE (R25) and IDLE_TIMEOUT_SECONDS (from
# IDLE_TIMEOUT_MINUTES, R22). A value outside its range stops the server here.
vars().update(clinic_table.environment_values(env, clinic_name=CLINIC_NAME))


def _ranged(name: str, default: int, low: int, high: int, rule: str) -> int:
    """An integer server setting that refuses a value outside its allowed range."""
    value = env.int(name, default=default)
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name} must be between {low} and {high} ({rule}).")
    return value


# Integration reminders (R7, R8): the reminder days, send hour and quiet hours are clinic
# settings (above).
# R8: the therapist is alerted when a dose has no integration session booked this long after it.
INTEGRATION_ALERT_HOURS = _ranged("INTEGRATION_ALERT_HOURS", 24, 6, 72, "R8")
# The clinic's own address (https://clinic.example.org), for links in e-mails sent by the
# worker, which has no request to take it from. Empty: the e-mail says where to sign in instead.
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
# CLINIC_PHONE, REPLY_TO_EMAIL and SELF_BOOKING_URL, what client e-mails offer for an answer, are
# clinic settings (above).
# The outbox (every e-mail): the first retry after a transient failure (a mail server down,
# greylisting), doubling up to the cap, for as long as the message is of use (its expiry); how
# long a claimed message may stay "sending" before another worker takes it over (a worker died);
# how many seconds ahead of the beat's tick a message counts as due (tick jitter).
OUTBOX_RETRY_SECONDS = _ranged("OUTBOX_RETRY_SECONDS", 60, 1, 3600, "outbox backoff")
OUTBOX_RETRY_CAP_SECONDS = _ranged("OUTBOX_RETRY_CAP_SECONDS", 900, 60, 6 * 3600, "outbox cap")
OUTBOX_LEASE_SECONDS = _ranged("OUTBOX_LEASE_SECONDS", 300, 2, 3600, "outbox lease")
OUTBOX_CLAIM_AHEAD_SECONDS = _ranged("OUTBOX_CLAIM_AHEAD_SECONDS", 5, 0, 30, "outbox tick")
# How long a safety alert's e-mail (R20) and the integration check's (R8) are retried.
OUTBOX_ALERT_HOURS = _ranged("OUTBOX_ALERT_HOURS", 72, 1, 14 * 24, "R20")
# A reminder more than this late (an outage) is not sent: "tomorrow" would be wrong by then.
REMINDER_STALE_HOURS = _ranged("REMINDER_STALE_HOURS", 12, 1, 48, "R8")

# --- Security headers. HTTPS in production (R22 transmission security).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy without 'unsafe-inline': every script and style is a file served by the
# app (data for a script travels in json_script, which is not executed).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# --- Celery: json only, acks late, time limits, UTC; beat schedule in kap_clinic/celery.py.
REDIS_URL = env.str("REDIS_URL", default="")
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # No Redis needed for `make run`: kombu's filesystem transport under var/broker/.
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Must exceed the longest task; we never schedule days ahead with eta (CONVENTIONS.md).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Logging: no clinical detail in logs (R25); we log ids and events, never names or answers.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
    },
}
