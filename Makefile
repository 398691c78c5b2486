# Beacon: the two set-up commands are `make run` and `make test`.
# Both create .venv and install the locked dependencies on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install run serve test test-fast test-sqlite lint format check audit bench clean

$(STAMP): pyproject.toml requirements.lock requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Beacon needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## run: embedded mode on http://$(HOST):$(PORT)/ (SQLite + in-process jobs and realtime), with demo data
run: install
	DATABASE_URL= REDIS_URL= $(BIN)/python manage.py migrate --noinput
	DATABASE_URL= REDIS_URL= $(BIN)/python manage.py seed_demo
	DATABASE_URL= REDIS_URL= $(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

## test: the whole suite with the current environment (CI sets DATABASE_URL/REDIS_URL),
## then the core suite and the browser journeys again in embedded mode (SQLite + in-process
## layers) when a server database was used
test: install check
	$(BIN)/pytest $(PYTEST_ARGS)
ifneq ($(strip $(DATABASE_URL)),)
	DATABASE_URL= REDIS_URL= $(BIN)/pytest -m "not slow and not postgres and not redis" $(PYTEST_ARGS)
endif

## test-fast: everything except slow suites and browser journeys (local iteration)
test-fast: install
	$(BIN)/pytest -m "not slow and not browser" $(PYTEST_ARGS)

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DATABASE_URL= REDIS_URL= $(BIN)/python manage.py makemigrations --check --dry-run
	DATABASE_URL= REDIS_URL= $(BIN)/python manage.py check

lint: check

## audit: known vulnerabilities in the pinned dependencies (pip-audit over both lock files; needs
## PyPI's vulnerability data: without it a loud warning, and a failure with BEACON_AUDIT_STRICT=1)
## and medium/high findings of bandit in Beacon's own code (docs/security.md)
audit: install
	$(BIN)/python scripts/audit_dependencies.py requirements.lock requirements-dev.lock
	$(BIN)/bandit -c pyproject.toml -r . -q -ll

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: benchmarks that print figures (see docs/benchmarks.md); add PostgreSQL with
## BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432/beacon_bench (the database is dropped and re-created)
BENCH_POSTGRES ?=
## Push latency (scripts/bench_push.py) needs PostgreSQL and Redis on 127.0.0.1 (scratch database
## beacon_bench_push, Redis db 9); BENCH_NO_PUSH=1 skips it
## Analysis benchmark: BENCH_SIZES (synthetic calls; the default is the full issue #4 set, ~5 min for the
## analyses in nightly mode on 2 cores, most of it loading the data), BENCH_MODE=both|separate|nightly,
## BENCH_NO_SA=1 skips the San Antonio file
BENCH_SIZES ?= 100k,250k,500k,1M
BENCH_MODE ?= nightly
bench: install
	$(BIN)/python scripts/bench_import.py $(if $(BENCH_POSTGRES),--postgres $(BENCH_POSTGRES))
	$(BIN)/python scripts/bench_analyses.py --sizes $(BENCH_SIZES) --mode $(BENCH_MODE) $(if $(BENCH_NO_SA),--no-sa) $(if $(BENCH_POSTGRES),--postgres $(BENCH_POSTGRES))
	$(BIN)/python scripts/bench_dosage.py
	$(if $(BENCH_NO_PUSH),,$(BIN)/python scripts/bench_push.py)

## soak: the production deployment under steady peak load for SOAK_SECONDS (default 300), loopback
## only (scripts/soak.py): its own server (2 workers), Celery worker and beat on a scratch PostgreSQL
## database beacon_soak (dropped and re-created; SOAK_POSTGRES) and Redis db 11 (flushed;
## SOAK_REDIS_DB); 20 calls/s, 200 AVL devices every 5 s, 50 consoles, assignments and analyses.
## Prints progress every 10 s and replaces the Soak section of docs/benchmarks.md (SOAK_DOCS= keeps
## the docs as they are); exits non-zero on any error or lost push. Other knobs: --help.
.PHONY: soak
SOAK_SECONDS ?= 300
soak: install
	SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/python scripts/soak.py

## lock: re-resolve the pins: requirements.lock (runtime, what production installs) and
## requirements-dev.lock (tests, lint, validation; includes the runtime file)
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet --upgrade pip
	.lockvenv/bin/pip install --quiet .
	.lockvenv/bin/pip freeze --exclude beacon | grep -v '^-e' > .lock-runtime
	.lockvenv/bin/pip install --quiet '.[dev]'
	.lockvenv/bin/pip freeze --exclude beacon | grep -v '^-e' > .lock-all
	{ echo "# Runtime pins (what production installs); 'make lock' regenerates this and requirements-dev.lock."; cat .lock-runtime; } > requirements.lock
	{ echo "# Test, lint and validation tools on top of the runtime pins; 'make lock' regenerates both files."; echo "-r requirements.lock"; grep -vxFf .lock-runtime .lock-all; } > requirements-dev.lock
	rm -rf .lockvenv .lock-runtime .lock-all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
