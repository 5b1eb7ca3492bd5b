"""Settings for the test suite: production settings with test-only relaxations.

DEBUG stays off (as in production); only what a test server on plain HTTP needs is relaxed.
"""

import os
import re

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-" + "k" * 64)
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SECURE_COOKIES", "false")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")

from kap_clinic.settings import *  # noqa: F403

STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_AUTOREFRESH = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A test database in a file, like `make run`'s, not Django's shared-cache in-memory one: there
    # a second writer fails at once with "database table is locked" whatever the busy timeout,
    # which is not how the app's SQLite behaves. One file per test run (two runs at once).
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(VAR_DIR / f"test_kap_clinic_{os.getpid()}.sqlite3")  # noqa: F405
    }
    # A throwaway database: no fsync per commit (speed only; the locking is the same).
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA synchronous=OFF;"  # noqa: F405
if os.environ.get("KAP_TEST_DB_SUFFIX"):
    # `make test` runs the browser tests beside the rest: each half on a test database of its own.
    suffix = os.environ["KAP_TEST_DB_SUFFIX"]
    test_db = DATABASES["default"].setdefault("TEST", {})  # noqa: F405
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
        test_db["NAME"] = str(VAR_DIR / f"test_kap_clinic_{suffix}_{os.getpid()}.sqlite3")  # noqa: F405
    else:
        test_db["NAME"] = f"test_{DATABASES['default']['NAME']}_{suffix}"  # noqa: F405
    # And a Redis database of its own: a worker one half starts must not take the other's tasks.
    match = re.fullmatch(r"(redis://[^/]+)/(\d+)", CELERY_BROKER_URL)  # noqa: F405
    if match:
        db = int(match.group(2))
        CELERY_BROKER_URL = REDIS_URL = f"{match.group(1)}/{14 if db == 15 else db + 1}"
