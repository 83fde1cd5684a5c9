# Two commands do all the set-up on a fresh machine: `make dev` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: dev test lint bench deps clean widget

$(BIN)/linkback: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# DynamoDB Local is a Java program; install a headless JRE only when none is on PATH.
.PHONY: .java
.java:
	@command -v java >/dev/null 2>&1 || { $(SUDO) apt-get update && \
	  $(SUDO) apt-get install -y --no-install-recommends default-jre-headless; }

# The browser tests drive Debian's Chromium (never a browser download of Playwright's own).
.PHONY: .chromium
.chromium:
	@[ -x /usr/bin/chromium ] || { $(SUDO) apt-get update && \
	  $(SUDO) apt-get install -y --no-install-recommends chromium fonts-liberation; }

deps: $(BIN)/linkback node_modules/.package-lock.json .java

# The local stack: sources on loopback are allowed, since development sources are local pages.
dev: deps
	$(BIN)/linkback dev --allow-private-sources $(ARGS)

test: deps .chromium
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Rebuild functions/linkback/read/static/widget.js from widget/src (the build is committed; a test checks it).
widget: node_modules/.package-lock.json
	npm run build:widget

bench: deps
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) node_modules .linkback
