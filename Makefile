# Two commands on a fresh machine:
#   make demo   install, migrate SQLite, load the demo data, serve on http://127.0.0.1:8000/
#   make test   install, then run the whole suite on SQLite and on PostgreSQL
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/budget_workflow
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test test-sqlite test-postgres lint services

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Compiled message files are built here, never committed.
locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po $(VENV)/.installed
	command -v msgfmt >/dev/null || bash .ci/services
	$(PY) manage.py compilemessages --ignore=.venv --verbosity 0

install: $(VENV)/.installed locale/en/LC_MESSAGES/django.mo

# DEMO_MODE=1: plain HTTP on this machine, and seed_demo may create its known passwords
# (DESIGN.md, "Settings"). Without it the product is in production posture: HTTPS only.
demo: export DEMO_MODE = 1
demo: install
	$(PY) manage.py migrate --verbosity 0
	$(PY) manage.py seed_demo
	@echo
	@echo "  Open http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"
	@echo "  Log in as org_drafter, org_reviewer, edu_drafter, edu_reviewer, finance, approver,"
	@echo "  auditor, or the administrators admin, security_admin, audit_admin;"
	@echo "  password: $${DEMO_PASSWORD:-demo-pass-2025}"
	@echo
	$(PY) manage.py runserver $(HOST):$(PORT)

services:
	bash .ci/services

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

test-sqlite: install services
	$(PY) -m pytest --durations=15

# Two processes (pytest-xdist), each its own test database, a whole file at a time: most of
# this suite's time is spent waiting on the database, the browser and the live processes.
test-postgres: install services
	DATABASE_URL=$(PG_URL) $(PY) -m pytest -n 2 --dist loadfile --durations=15

# The two databases' runs at once, and their live tests start servers of their own (private
# Redis, free ports), so none sees another's.
test: lint
	$(MAKE) --no-print-directory -j2 --output-sync=line test-sqlite test-postgres
