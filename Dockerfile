# One image for web (gunicorn), worker and beat (celery); docker-compose.yml picks the command.
#
#   docker build -t kap-clinic .
#
# Stage 1: front-end assets from npm (Bootstrap, Bootstrap Icons, Chart.js), never a CDN.
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# Stage 2: the application.
FROM python:3.11-slim

# Collected static files live in the image, outside var/ (a volume): an upgrade must not keep
# serving the previous release's files from the volume.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

# Dependencies first, from the runtime lock alone (exact versions and their hashes; `make lock`
# writes it from pyproject.toml), so this layer is rebuilt only when the lock changes. In
# hash-checking mode pip refuses any package the lock does not list, dependencies included.
# The project itself is not installed into site-packages: settings find templates/, static/,
# node_modules/ and var/ next to the code (BASE_DIR), so the code runs from /app.
COPY requirements/base.txt requirements/base.txt
RUN pip install --require-hashes -r requirements/base.txt

# Only the asset folders settings.STATICFILES_DIRS names.
COPY --from=assets /src/node_modules/bootstrap/dist node_modules/bootstrap/dist
COPY --from=assets /src/node_modules/bootstrap-icons/font node_modules/bootstrap-icons/font
COPY --from=assets /src/node_modules/chart.js/dist node_modules/chart.js/dist

COPY . .

# Build-time collectstatic: production storage (hashed, compressed names for whitenoise). The
# dummy secret and host exist only for this RUN line and are not in the image's environment.
# var/ (SQLite, beat schedule, filesystem broker) must be writable by the app user; nothing from
# the build belongs there. The code itself stays owned by root, read-only to the app.
RUN DEBUG=false \
    SECRET_KEY=build-only-collectstatic-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --no-input --verbosity 0 \
    && rm -rf var && mkdir var \
    && useradd --system --uid 1000 --user-group --home-dir /app --no-create-home app \
    && chown app:app var

USER app

EXPOSE 8000
# --timeout: a worker silent for 60 s is restarted. Every page answers in well under a second at
# group-practice scale (docs/benchmarks.md) and the CSV export streams, so only a stuck request
# meets it; the default (30 s) killed the audit trail and the export at N=10 before issue 13.
CMD ["gunicorn", "kap_clinic.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
