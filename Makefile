# Promethium developer commands. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.promethium-installed

.PHONY: setup demo test lint typecheck unit bench clean frontend frontend-deps frontend-client frontend-client-check frontend-test chromium

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

## The main job on embedded defaults: generate a survey, damage it, write SEG-Y and Zarr, draw figures.
demo: setup frontend
	$(BIN)/promethium demo --output demo-output --serve

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -q -n 2 --dist loadfile
	# the API suite again with every test on PostgreSQL (127.0.0.1:5432) instead of SQLite
	PROMETHIUM_TEST_DATABASE=postgresql $(BIN)/pytest -q -n 2 --dist loadfile tests/api

## The whole test suite: lint, type check, Python tests, then the web app's checks and tests.
test: lint typecheck unit frontend-test

## The web app (frontend/): Angular, built into frontend/dist/frontend/browser and served by `promethium serve`.
FRONTEND   = frontend
NPM_STAMP  = $(FRONTEND)/node_modules/.promethium-installed
CHROME_BIN ?= /usr/bin/chromium
SHARED_DATA ?= $(abspath ../shared/data)

frontend-deps: $(NPM_STAMP)

$(NPM_STAMP): $(FRONTEND)/package-lock.json $(FRONTEND)/package.json
	cd $(FRONTEND) && timeout 600 npm ci --no-audit --no-fund
	touch $(NPM_STAMP)

frontend: frontend-deps
	cd $(FRONTEND) && timeout 300 npx ng build

## Regenerate the typed API client from the backend's OpenAPI schema (after adding or changing endpoints).
frontend-client: setup frontend-deps
	$(BIN)/python scripts/dump_openapi.py $(FRONTEND)/openapi.json
	cd $(FRONTEND) && timeout 120 npx ng-openapi-gen -c ng-openapi-gen.json

## Fails when the committed client differs from what the current schema generates.
frontend-client-check: frontend-client
	git diff --exit-code --stat -- $(FRONTEND)/src/app/api || \
	  (echo "frontend/src/app/api is stale: run 'make frontend-client' and commit it" >&2; exit 1)
	test -z "$$(git status --porcelain -- $(FRONTEND)/src/app/api)" || \
	  (echo "frontend/src/app/api has new files: run 'make frontend-client' and commit them" >&2; exit 1)

chromium:
	test -x $(CHROME_BIN) || (apt-get update && apt-get install -y chromium)

frontend-test: frontend-client-check chromium frontend
	cd $(FRONTEND) && CHROME_BIN=$(CHROME_BIN) timeout 300 npx ng test --no-watch --runner-config vitest.config.ts
	cd $(FRONTEND) && CHROME_BIN=$(CHROME_BIN) E2E_PROMETHIUM=$(abspath $(BIN))/promethium \
	  E2E_PYTHON=$(abspath $(BIN))/python E2E_SEGY=$(SHARED_DATA)/segy/seisplot_31_81_PR.sgy \
	  timeout 420 npx playwright test

bench: setup
	$(BIN)/python benchmarks/run_io.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-output \
	  $(FRONTEND)/node_modules $(FRONTEND)/dist $(FRONTEND)/.angular $(FRONTEND)/test-artefacts $(FRONTEND)/test-results
