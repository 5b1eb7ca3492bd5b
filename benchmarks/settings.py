"""The page benchmark's server settings (benchmarks/pages.py runs gunicorn with them): production
settings, read from the same environment as kap_clinic.settings, plus one middleware in front that
counts each request's SQL statements (sqlcount.py). Nothing else differs from production."""

from kap_clinic.settings import *  # noqa: F403

MIDDLEWARE = ["benchmarks.sqlcount.CountQueriesMiddleware", *MIDDLEWARE]  # noqa: F405
