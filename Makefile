# KAP Clinic developer commands. `make run` and `make test` are all a new machine needs.
#
#   make run      web server + Celery worker + beat, demo data (SQLite, filesystem broker)
#   make run PORT=8001   the same on another port (8000 is the default)
#   make test     the whole suite with coverage (browser tests included)
#   make lint     ruff check, ruff format --check, mypy (services, selectors, rules), makemigrations --check
#   make format   ruff's fixes and formatting
#   make lock     rewrite requirements/*.txt from pyproject.toml (UPGRADE=1: newest versions)
#   make hooks    install the git pre-commit hooks (.pre-commit-config.yaml: the lint checks)
#   make backup   a consistent copy of the database under var/backups/ (pg_dump, or SQLite's backup)
#   make restore BACKUP=var/backups/...   put one back (replaces the database's contents)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
CHROMIUM ?= /usr/bin/chromium
# make run's port; the demo's links (SITE_URL in .env) follow it.
PORT ?= 8000

.PHONY: run run-check test lint format bench install assets migrate seed browser clean lock hooks backup restore

# Dependencies come from the locks, not from pyproject.toml: requirements/base.txt (runtime, what
# the Dockerfile installs) and requirements/dev.txt (runtime + the [dev] extra), exact versions
# with hashes, so every machine and CI install the same files. The project itself is installed
# editable without dependencies: pyproject.toml's ranges never pick versions here. The venv is
# rebuilt when the dev lock changes (a `git pull` bringing a new lock), and when pyproject.toml
# changes (the editable install's package list).
$(BIN)/activate: requirements/dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(BIN)/activate

# The locks, written by uv (pinned in the dev lock): it resolves for the Python and platform named
# here rather than this machine's, and ignores pip.conf, so a lock never carries a local index or
# wheel folder. A lock's existing pins are kept unless UPGRADE=1 (then: the newest versions that
# pyproject.toml allows). The dev lock is constrained by the runtime lock, so the two agree on every
# package they share. After `make lock`, `make install` installs what changed.
LOCK_TARGET := --python-version 3.11 --python-platform x86_64-unknown-linux-gnu
UV_COMPILE = $(BIN)/uv pip compile --quiet $(LOCK_TARGET) --generate-hashes \
	--custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade)

lock: $(BIN)/activate
	$(UV_COMPILE) pyproject.toml -o requirements/base.txt
	$(UV_COMPILE) pyproject.toml --extra dev -c requirements/base.txt -o requirements/dev.txt
	@git diff --stat -- requirements/ 2>/dev/null || true

install: $(BIN)/activate assets .env

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

assets: node_modules/.package-lock.json

# Local development settings; never used by docker-compose (see .dockerignore).
# Values with spaces are quoted: Django's .env reader and shells (and honcho's) then all agree.
.env:
	@printf 'DEBUG=true\nCLINIC_NAME="Riverside Therapy (demo)"\nSITE_URL=http://127.0.0.1:$(PORT)\n' > .env
	@echo "Wrote .env (DEBUG=true) for local development."

migrate: install
	$(PY) manage.py migrate --no-input

seed: migrate
	$(PY) manage.py seed_demo

## run: web server + Celery worker + beat on SQLite and the filesystem broker; Ctrl-C stops all.
# run-check comes first: a port in use is reported before the minute of setup, not after it. It
# runs on the system Python (no venv yet) and points .env's SITE_URL at PORT. demo/run.py says
# why the Procfile is not run with plain `honcho start`.
run: run-check seed
	PATH="$(CURDIR)/$(BIN):$$PATH" $(PY) -m demo.run start --port $(PORT)

run-check:
	@$(PYTHON) -m demo.run check --port $(PORT)

browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		(apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)); \
	else \
		echo "Browser tests need Chromium at $(CHROMIUM): run 'sudo apt-get install chromium' (Debian/Ubuntu) or set CHROMIUM=/path/to/chromium."; \
		exit 1; \
	fi

## test: the whole suite. Uses DATABASE_URL / REDIS_URL when set (CI: PostgreSQL and Redis).
# Coverage of the product packages: what is measured, and the floor (fail_under) under which the
# run fails, are in pyproject.toml's [tool.coverage.*]. The floor holds for the whole suite only: for
# part of it, turn coverage off, e.g. make test COV= PYTEST_ARGS=tests/accounts
# The two halves run at once, one per core, each on a test database of its own
# (KAP_TEST_DB_SUFFIX): the browser tests (Chromium and a live server) with the tests that mostly
# wait on other processes (real Celery workers, SMTP servers, the fuzzer's many requests), beside
# the rest. The first half's output is printed when both are done, then their coverage is
# combined and held to the floor.
SLOW_HALF := tests/e2e tests/integration/test_delivery.py tests/outbox tests/test_forms_fuzzed.py
COV ?= --cov --cov-report=term
ifeq ($(strip $(COV)),)
test: install browser
	CHROMIUM=$(CHROMIUM) $(BIN)/pytest $(PYTEST_ARGS)
else
test: install browser
	@rm -f .coverage .coverage.browser .coverage.rest var/test-browser.log
	@CHROMIUM=$(CHROMIUM) KAP_TEST_DB_SUFFIX=browser COVERAGE_FILE=.coverage.browser \
		$(BIN)/pytest --cov --cov-report= --cov-fail-under=0 $(PYTEST_ARGS) $(SLOW_HALF) \
		> var/test-browser.log 2>&1 & browser=$$!; \
	COVERAGE_FILE=.coverage.rest $(BIN)/pytest --cov --cov-report= --cov-fail-under=0 \
		$(addprefix --ignore=,$(SLOW_HALF)) $(PYTEST_ARGS); rest=$$?; \
	wait $$browser; browser_rc=$$?; \
	echo "==> the browser and process tests (beside the rest)"; cat var/test-browser.log; \
	$(BIN)/coverage combine -q .coverage.browser .coverage.rest && $(BIN)/coverage report; \
	cov=$$?; test $$rest -eq 0 -a $$browser_rc -eq 0 -a $$cov -eq 0
endif

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	DJANGO_SETTINGS_MODULE=kap_clinic.test_settings $(PY) manage.py makemigrations --check --dry-run

# The same checks as `make lint` before each commit: the hooks run the tools installed in .venv
# (repo: local), so they need no download and work offline.
hooks: install
	$(BIN)/pre-commit install

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## backup / restore: the database in DATABASE_URL (or make run's SQLite). Production: README.
backup: install
	$(PY) manage.py backup $(if $(OUTPUT),--output $(OUTPUT))

restore: install
	@test -n "$(BACKUP)" || { echo "Give the file: make restore BACKUP=var/backups/..."; exit 2; }
	$(PY) manage.py restore "$(BACKUP)" --yes

## bench: the reminder dispatch benchmark (PostgreSQL and Redis in DATABASE_URL / REDIS_URL).
# make bench SCALE=1 (or 10): the page benchmark instead (benchmarks/pages.py, docs/benchmarks.md):
# gunicorn with production settings on a clinic of that scale, seeded once into
# <DATABASE_URL's name>_scale<N> and reused; BENCH_ARGS passes its options (--iterations 40,
# --pages export,dashboard-admin, --help). The table goes to var/bench-pages-scale<N>.md.
SCALE ?=
bench: install
ifeq ($(strip $(SCALE)),)
	$(BIN)/pytest -p no:randomly benchmarks -q $(PYTEST_ARGS)
else
	$(PY) -m benchmarks.pages --scale $(SCALE) $(BENCH_ARGS)
endif

clean:
	rm -rf var/ .venv/ node_modules/ .env
