# KAP Clinic developer commands. `make run` and `make test` are all a new machine needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint format bench install assets migrate seed browser clean

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/activate

install: $(BIN)/activate assets .env

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

assets: node_modules/.package-lock.json

# Local development settings; never used by docker-compose (see .dockerignore).
.env:
	@printf 'DEBUG=true\nCLINIC_NAME=Riverside Therapy (demo)\nSITE_URL=http://127.0.0.1:8000\n' > .env
	@echo "Wrote .env (DEBUG=true) for local development."

migrate: install
	$(PY) manage.py migrate --no-input

seed: migrate
	$(PY) manage.py seed_demo

## run: web server + Celery worker + beat on SQLite and the filesystem broker; Ctrl-C stops all.
run: seed
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

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
test: install browser
	CHROMIUM=$(CHROMIUM) $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=kap_clinic.test_settings $(PY) manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/pytest -p no:randomly benchmarks -q $(PYTEST_ARGS)

clean:
	rm -rf var/ .venv/ node_modules/ .env
