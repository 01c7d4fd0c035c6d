# The two commands of the README: `make run` and `make test`. Each sets up what it needs first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint lock clean dashboard

# The dashboard (web app front end): npm packages from package-lock.json, built into src/elcaro/web/static.
FRONTEND := src/elcaro/web/frontend
NODE_STAMP := $(FRONTEND)/node_modules/.installed
DASHBOARD_STAMP := src/elcaro/web/static/.built
FRONTEND_SOURCES := $(shell find $(FRONTEND)/src -type f) $(addprefix $(FRONTEND)/,index.html vite.config.ts tsconfig.json)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ElCaro needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

$(NODE_STAMP): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	@command -v npm >/dev/null || { echo "The dashboard needs Node.js 20.19 or newer with npm"; exit 1; }
	cd $(FRONTEND) && npm ci --no-audit --no-fund
	@touch $(NODE_STAMP)

$(DASHBOARD_STAMP): $(NODE_STAMP) $(FRONTEND_SOURCES)
	cd $(FRONTEND) && npm run build
	@touch $(DASHBOARD_STAMP)

dashboard: $(DASHBOARD_STAMP)

run: $(STAMP) $(DASHBOARD_STAMP)
	$(BIN)/elcaro run

lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	cd $(FRONTEND) && npm run --silent check

test: lint $(DASHBOARD_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# Re-pin after changing dependencies in pyproject.toml.
lock:
	uv pip compile pyproject.toml requirements-build.in --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache $(FRONTEND)/node_modules src/elcaro/web/static
