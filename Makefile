# Canal — the README's commands. Everything a fresh machine needs happens here.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
STAMP := $(VENV)/.installed
MO := marketplace/translations/zh_CN/LC_MESSAGES/messages.mo
PO := marketplace/translations/zh_CN/LC_MESSAGES/messages.po

.PHONY: run test test-deps test-unit test-integration test-browser bench lint translations extract-messages chromium clean-db help

help:
	@echo "make run    - install, migrate, load demo data and serve http://127.0.0.1:5000"
	@echo "make test   - the whole test suite (SQLite; PostgreSQL when DATABASE_URL is set)"
	@echo "make bench  - benchmarks (prints BENCH lines)"
	@echo "make lint   - ruff"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

$(MO): $(PO) $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d marketplace/translations -D messages -l zh_CN 2>&1 | grep -v '^compiling' || true

translations: $(MO)

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --ignore-dirs='.* .venv' -k _l -k lazy_gettext -o marketplace/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i marketplace/translations/messages.pot -d marketplace/translations -l zh_CN --no-fuzzy-matching --ignore-obsolete

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Chromium from Debian (needed by the browser tests)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

run: $(STAMP) translations
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) serve --host 127.0.0.1 --port 5000

# The suite runs in parallel (pytest-xdist): TEST_WORKERS processes (default: one per CPU), each with a database of
# its own; tests that share a group (an access-matrix row, a module-wide fixture) run on the same worker.
# TEST_WORKERS=0 runs everything in this one process (for pdb); PYTEST_ARGS adds pytest options.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

test: test-deps
	$(PYTEST) --durations=10 $(PYTEST_ARGS)

test-deps: $(STAMP) translations chromium

test-unit: $(STAMP) translations
	$(PYTEST) tests/unit $(PYTEST_ARGS)

test-integration: $(STAMP) translations
	$(PYTEST) tests/integration $(PYTEST_ARGS)

test-browser: $(STAMP) translations chromium
	$(PYTEST) tests/browser $(PYTEST_ARGS)

bench: $(STAMP) translations
	@command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ]; then S=""; else S="sudo"; fi; $$S apt-get install -y -qq wrk >/dev/null || { $$S apt-get update -qq && $$S apt-get install -y -qq wrk >/dev/null; }; }
	$(BIN)/python -m bench $(BENCH)

bench-%: $(STAMP) translations
	@$(MAKE) --no-print-directory bench BENCH=$*

lint: $(STAMP)
	$(BIN)/ruff check marketplace tests bench

clean-db:
	rm -f instance/canal.db instance/canal.db-wal instance/canal.db-shm
