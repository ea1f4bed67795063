# PIB: every target installs what it needs into .venv by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
CHROMIUM := /usr/bin/chromium

.PHONY: help install run demo test lint format bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -e 's|$$(PG_URL)|$(PG_URL)|g' \
		| awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install PIB with its development tools

run: $(STAMP)  ## the service on the embedded default (SQLite in var/, emails in var/outbox, links on 127.0.0.1:8000)
	$(BIN)/pib serve

demo: $(STAMP)  ## the whole loop offline: replay server, crawl, sample cluster, match, emails in var/demo/outbox, then the portal over it
	$(BIN)/pib demo --serve

# The browser tests drive Debian's chromium (Playwright's own browser download is not reachable).
$(CHROMIUM):
	@(apt-get install -y chromium || sudo -n apt-get install -y chromium) >/dev/null 2>&1 \
		|| { echo "make test: the browser tests need Debian's package chromium ($(CHROMIUM)): apt-get install chromium"; exit 1; }

test: $(STAMP) $(CHROMIUM)  ## all tests, on SQLite and on PostgreSQL ($(PG_URL))
	PIB_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/pytest -q

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy config crawlers watch consortium notifications pib

format: $(STAMP)  ## format the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)  ## benchmarks, as ratios against baselines measured in the same run
	PIB_BENCH_POSTGRES_URL=$(PG_URL) $(BIN)/python -m bench

clean:  ## remove the virtual environment and local data
	rm -rf $(VENV) var
