# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 5000

BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14

.PHONY: run test install bench lint typecheck migrations migrations-sqlite migrations-postgres \
	test-sqlite test-postgres verify openapi openapi-check ts-check browser clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## make run: migrate instance/studyhub.db, seed demo data if empty, serve on http://127.0.0.1:5000
run: install
	$(BIN)/studyhub init-db
	$(BIN)/studyhub seed --if-empty
	@echo ""
	@echo "  API docs:    http://$(HOST):$(PORT)/docs   (Authorize with a demo login)"
	@echo "  Demo logins: printed above on first run; kept in instance/demo-logins.txt"
	@echo "  Admin:       $(BIN)/studyhub create-admin --username NAME --email EMAIL"
	@echo ""
	$(BIN)/studyhub serve --host $(HOST) --port $(PORT)

## make test: everything CI checks. The two test passes use different databases, so they run
## side by side (one per core); -O keeps each pass's output together.
test: lint typecheck openapi-check ts-check browser migrations
	$(MAKE) --no-print-directory -O -j2 test-sqlite test-postgres

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

migrations: migrations-sqlite migrations-postgres

migrations-sqlite: install
	@rm -rf .migration-check && mkdir -p .migration-check
	scripts/migration-check.sh sqlite:///.migration-check/check.db
	@rm -rf .migration-check

migrations-postgres: install
	@if $(BIN)/python scripts/reachable.py $(PG_TEST_URL); then \
		set -e; \
		scratch=$$(basename "$(PG_TEST_URL)")_migrations; \
		url=$$($(BIN)/python scripts/pg_scratch_db.py create $(PG_TEST_URL) $$scratch); \
		scripts/migration-check.sh "$$url"; \
		$(BIN)/python scripts/pg_scratch_db.py drop $(PG_TEST_URL) $$scratch; \
	else $(MAKE) --no-print-directory _missing SERVICE="PostgreSQL ($(PG_TEST_URL))" \
		WHAT="migration checks on PostgreSQL"; fi

test-sqlite: install
	TEST_CACHE=memory $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	@if $(BIN)/python scripts/reachable.py $(PG_TEST_URL); then \
		if $(BIN)/python scripts/reachable.py $(REDIS_TEST_URL); then cache=redis; \
		else $(MAKE) --no-print-directory _missing SERVICE="Redis ($(REDIS_TEST_URL))" \
			WHAT="the Redis-backed pass (running on the in-memory cache)" || exit 1; \
			cache=memory; fi; \
		echo "TEST_DATABASE_URL=$(PG_TEST_URL) TEST_CACHE=$$cache pytest"; \
		TEST_DATABASE_URL=$(PG_TEST_URL) TEST_CACHE=$$cache \
			REDIS_TEST_URL=$(REDIS_TEST_URL) $(BIN)/pytest $(PYTEST_ARGS); \
	else $(MAKE) --no-print-directory _missing SERVICE="PostgreSQL ($(PG_TEST_URL))" \
		WHAT="the whole PostgreSQL test pass"; fi

## make verify: the slower tests over real processes (pytest marker `process`, not in `make test`):
## Redis killed, PostgreSQL connections dropped, StudyIndexer slow/garbage/down, 50 SQLite writers,
## SIGTERM under load, kill -9 before outbox delivery, a two-worker journey; then a 30 s soak smoke.
## They start their own redis-server and scratch PostgreSQL databases (test_faults_*) next to
## PG_TEST_URL; without PostgreSQL those tests skip loudly (CI: fail).
verify: install
	PG_TEST_URL=$(PG_TEST_URL) $(BIN)/pytest -m process tests/faults tests/e2e $(PYTEST_ARGS)
	$(BIN)/python -m bench.soak --minutes 0.5 --students 10

# A missing service is an error in CI and a loud skip elsewhere (DESIGN.md §12).
HINT ?= Start it (see README, 'Running against PostgreSQL + Redis').
_missing:
	@if [ "$${CI:-}" = "true" ]; then \
		echo "ERROR: $(SERVICE) is not available; CI cannot skip $(WHAT)." >&2; exit 1; \
	fi
	@echo "" >&2
	@echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
	@echo "!!! SKIPPED: $(WHAT): $(SERVICE) is not available." >&2
	@echo "!!! $(HINT)" >&2
	@echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
	@echo "" >&2

## make openapi: regenerate the committed openapi.json (after changing routes or schemas)
openapi: install
	LOG_DIR= $(BIN)/studyhub openapi --output openapi.json

# Fails when openapi.json no longer matches the code; the message says to run `make openapi`.
openapi-check: install
	LOG_DIR= $(BIN)/studyhub openapi --check --output openapi.json

# TypeScript types generated from openapi.json, and a small client type-checked against them
# (clients/ts: package.json + package-lock.json committed; node_modules and generated/ ignored).
TS_DIR := clients/ts
ts-check:
	@if command -v npm >/dev/null 2>&1; then \
		set -e; \
		if [ ! -d $(TS_DIR)/node_modules ] || [ $(TS_DIR)/package-lock.json -nt $(TS_DIR)/node_modules ]; then \
			(cd $(TS_DIR) && npm ci --no-audit --no-fund --loglevel=error) && touch $(TS_DIR)/node_modules; \
		fi; \
		cd $(TS_DIR) && npm run --silent check && echo "TypeScript client type-checks against openapi.json"; \
	else $(MAKE) --no-print-directory _missing SERVICE="npm (Node.js)" \
		WHAT="the TypeScript client check (make ts-check)" \
		HINT="Install Node.js and npm (Debian: apt-get install nodejs npm)."; fi

# Debian's Chromium for tests/ecosystem/test_docs_browser.py (Playwright drives it; its driver
# comes with the Python wheel and `playwright install` is never run).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the /docs browser test"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
			|| $(MAKE) --no-print-directory _missing SERVICE="chromium (apt-get failed)" \
				WHAT="the /docs browser test" HINT="apt-get install chromium"; \
	else $(MAKE) --no-print-directory _missing SERVICE="chromium ($(CHROMIUM))" \
		WHAT="the /docs browser test" HINT="Install it: sudo apt-get install chromium"; fi

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .migration-check \
		$(TS_DIR)/node_modules $(TS_DIR)/generated

## make bench: the performance lab (about 15 minutes; run it on an otherwise idle machine).
## SQLite, then PostgreSQL + Redis on a scratch database; the summary lands in bench/results/
## and in the README's Benchmarks section.
bench: install
	@command -v wrk >/dev/null || apt-get install -y wrk >/dev/null 2>&1 || \
		{ echo "wrk is missing and could not be installed: apt-get install wrk"; exit 1; }
	@# Bytecode as an installed package (pip, the container image) ships it: an editable checkout
	@# under PYTHONDONTWRITEBYTECODE would otherwise compile every module on every start.
	$(BIN)/python -m compileall -q src
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.progress
	@set -e; scratch=$$(basename "$(PG_TEST_URL)")_bench; \
	url=$$($(BIN)/python scripts/pg_scratch_db.py create $(PG_TEST_URL) $$scratch); \
	$(BIN)/python -m bench.run --database-url "$$url" --redis-url $(BENCH_REDIS_URL); \
	$(BIN)/python scripts/pg_scratch_db.py drop $(PG_TEST_URL) $$scratch; \
	url=$$($(BIN)/python scripts/pg_scratch_db.py create $(PG_TEST_URL) $$scratch); \
	$(BIN)/python -m bench.progress --database-url "$$url"; \
	$(BIN)/python scripts/pg_scratch_db.py drop $(PG_TEST_URL) $$scratch
	$(BIN)/python -m bench.search_latency
	$(BIN)/python -m bench.login_timing
	$(BIN)/python -m bench.report
