# Interview Room: `make run` to try it, `make test` to test it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/interview_room_test
PYTEST_ARGS ?=
# One Redis database per pass, so that the two can run at once; TEST_REDIS_URL overrides both.
POSTGRES_PASS_REDIS ?= redis://127.0.0.1:6379/13
SQLITE_PASS_REDIS ?= redis://127.0.0.1:6379/14

.PHONY: run test test-postgres test-sqlite lint venv clean-instance bench

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt bench/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## Start the app with demo data: SQLite + embedded Redis unless DATABASE_URL / REDIS_URL are set.
run: $(STAMP)
	PORT=$(PORT) $(BIN)/python -m app.devserver

## The whole suite on PostgreSQL and on SQLite, both passes at once (with the real Redis on
## 127.0.0.1: POSTGRES_PASS_REDIS, SQLITE_PASS_REDIS). Each pass writes a log, printed when
## both are done, then each one's summary line; fails if either fails. A TEST_REDIS_URL set for
## both runs them one by one.
test: $(STAMP)
	@logs=$$(mktemp -d); \
	if [ -n "$(TEST_REDIS_URL)" ]; then \
	  $(MAKE) --no-print-directory test-postgres >$$logs/postgres.log 2>&1; pg=$$?; \
	  $(MAKE) --no-print-directory test-sqlite >$$logs/sqlite.log 2>&1; lite=$$?; \
	else \
	  $(MAKE) --no-print-directory test-postgres >$$logs/postgres.log 2>&1 & pgpid=$$!; \
	  $(MAKE) --no-print-directory test-sqlite >$$logs/sqlite.log 2>&1 & litepid=$$!; \
	  wait $$pgpid; pg=$$?; wait $$litepid; lite=$$?; \
	fi; \
	echo "===== PostgreSQL pass ====="; cat $$logs/postgres.log; \
	echo "===== SQLite pass ====="; cat $$logs/sqlite.log; \
	echo "===== summary ====="; \
	for pass in postgres sqlite; do \
	  echo "$$pass: $$(grep -E \
	    '(passed|failed|errors?|skipped|deselected|no tests ran).* in [0-9.]+s' \
	    $$logs/$$pass.log | tail -n 1)"; \
	done; \
	rm -rf $$logs; \
	[ $$pg -eq 0 ] && [ $$lite -eq 0 ]

test-postgres: $(STAMP)
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) \
	  TEST_REDIS_URL=$(or $(TEST_REDIS_URL),$(POSTGRES_PASS_REDIS)) $(BIN)/python -m pytest $(PYTEST_ARGS)

test-sqlite: $(STAMP)
	TEST_DATABASE_URL= TEST_REDIS_URL=$(or $(TEST_REDIS_URL),$(SQLITE_PASS_REDIS)) $(BIN)/python -m pytest $(PYTEST_ARGS)

## Lint and type check: ruff (rules and format), mypy on app/, ESLint on app/static/js.
## ESLint comes from package.json: run `npm ci` once first (.ci/run does).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	npx --no-install eslint app/static/js

clean-instance:
	rm -rf instance

## Exam-day load on this machine: 2,000 candidates seeded, 1,000 polling every 2 s (README "Benchmark").
## Recreates the PostgreSQL database BENCH_DATABASE_URL (default ir_bench) and flushes Redis db 8.
bench: $(STAMP)
	$(BIN)/python -m bench.run
