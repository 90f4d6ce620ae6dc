# Interview Room: `make run` to try it, `make test` to test it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/interview_room_test
PYTEST_ARGS ?=

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

## The whole suite, on PostgreSQL and then on SQLite (both with the real Redis on 127.0.0.1).
test: test-postgres test-sqlite

test-postgres: $(STAMP)
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

test-sqlite: $(STAMP)
	TEST_DATABASE_URL= $(BIN)/python -m pytest $(PYTEST_ARGS)

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
