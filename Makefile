# Everything installs from this repository's own files: uv (pinned) from PyPI, then the locked
# environment from pyproject.toml + uv.lock. `make demo` and `make test` each set up first.
# uv goes into a folder of its own in the project (pip --target): the interpreter's own
# site-packages are never written, which a Debian python3 refuses anyway (PEP 668).
PYTHON ?= python3
UV_VERSION := 0.13.8
UV_DIR := .tools/uv-$(UV_VERSION)
UV := $(UV_DIR)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: setup system-deps demo test test-unit test-system lint dagster notebooks dagster-prod bench clean portal

setup: $(STAMP)

$(STAMP): pyproject.toml uv.lock
	@[ -x $(UV) ] || $(PYTHON) -m pip install --quiet --disable-pip-version-check \
		--target $(UV_DIR) "uv==$(UV_VERSION)"
	$(UV) sync --frozen --compile-bytecode
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/dti demo

# Debian packages the system tests drive: Chromium and its WebDriver (the report in a browser,
# through Selenium) and PostgreSQL (the production Dagster instance). Installed when one is missing
# and we are root with apt-get; otherwise those tests skip, each saying why.
SYSTEM_PACKAGES := chromium chromium-driver postgresql
system-deps:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && \
		ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian packages for the system tests: $(SYSTEM_PACKAGES)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		{ apt-get update -qq && \
		  apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; } || \
		echo "apt-get failed: the browser and Postgres tests will skip"; \
	else \
		echo "not root with apt-get: install $(SYSTEM_PACKAGES) (Debian) or the browser and" \
			"Postgres tests will skip"; \
	fi

# The unit tests first, on two workers (fail fast; one worker per module, and per warehouse that
# several modules share: tests/conftest.py), then the system tests (marker `system`: Dagster runs,
# browser, Postgres, crash and backfill), the longest first, idle workers stealing work.
# The few tests that fork worker processes (marker `forks`) run first, in one process without
# parallel workers: a test worker's I/O threads make the code refuse to fork.
PYTEST_WORKERS ?= 2
FORK_TESTS := $(VENV)/bin/pytest -m forks -p no:xdist
UNIT_TESTS := $(VENV)/bin/pytest -m "not system and not forks" -n $(PYTEST_WORKERS) --dist loadfile
SYSTEM_TESTS := $(VENV)/bin/pytest -m system -n $(PYTEST_WORKERS) --dist worksteal
test: setup system-deps
	$(VENV)/bin/ruff check .
	$(FORK_TESTS)
	$(UNIT_TESTS)
	$(SYSTEM_TESTS)

test-unit: setup
	$(FORK_TESTS)
	$(UNIT_TESTS)

test-system: setup system-deps
	$(SYSTEM_TESTS)

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

# Development UI with its own instance in DAGSTER_HOME (default var/dagster, the one `dti` runs
# use; its dagster.yaml is written once, as `dti` writes it). `dagster dev` starts from that
# folder: started here it would find the repository's production dagster.yaml, which is not its
# instance. `make dagster PORT=3311` picks the port.
DEV_HOME ?= $(abspath $(or $(DAGSTER_HOME),$(CURDIR)/var/dagster))
PORT ?= 3000
# `dagster dev` names its successor `dg dev` (package dagster-dg-cli, not installed) on every start
DEV_QUIET := ignore:Function `dev_command` is superseded:FutureWarning
dagster: setup
	mkdir -p $(DEV_HOME)
	test -f $(DEV_HOME)/dagster.yaml || $(VENV)/bin/python -c "import sys; \
		from dti_cli.dagster_runs import LOCAL_INSTANCE; \
		open(sys.argv[1], 'x', encoding='utf-8').write(LOCAL_INSTANCE)" $(DEV_HOME)/dagster.yaml
	cd $(DEV_HOME) && DAGSTER_HOME=$(DEV_HOME) PYTHONWARNINGS='$(DEV_QUIET)' \
		$(CURDIR)/$(VENV)/bin/dagster dev -w $(CURDIR)/workspace.yaml -p $(PORT)

# The analysts' notebooks in JupyterLab, in the browser. JupyterLab is not in the locked
# environment (it would slow every import there): uv lays it over .venv for this command only,
# so the notebooks' kernel sees the project as `dti` does.
NOTEBOOK_PORT ?= 8888
notebooks: setup
	$(UV) run --frozen --with jupyterlab jupyter lab --notebook-dir=notebooks --port=$(NOTEBOOK_PORT)

# Production instance (docs/deployment.md): Postgres storage from DTI_PG_* variables, run queue,
# pool limit 1 for the DuckDB warehouse; starts dagster-daemon and the webserver.
PROD_HOME ?= $(CURDIR)/var/dagster-prod
dagster-prod: setup
	@test -n "$$DTI_PG_HOST" || (echo "set DTI_PG_HOST, DTI_PG_PORT, DTI_PG_USER, DTI_PG_PASSWORD, DTI_PG_DB" && exit 2)
	mkdir -p $(PROD_HOME) && cp dagster.yaml $(PROD_HOME)/dagster.yaml
	DAGSTER_HOME=$(PROD_HOME) $(VENV)/bin/dagster instance migrate
	DAGSTER_HOME=$(PROD_HOME) $(VENV)/bin/dagster instance concurrency set dti_warehouse 1
	DAGSTER_HOME=$(PROD_HOME) $(VENV)/bin/dagster schedule start annual_schedule -w workspace.yaml || true
	set -m; DAGSTER_HOME=$(PROD_HOME) $(VENV)/bin/dagster-daemon run -w workspace.yaml & \
		daemon=$$!; trap 'kill -- -$$daemon' EXIT INT TERM; \
		DAGSTER_HOME=$(PROD_HOME) $(VENV)/bin/dagster-webserver -h 127.0.0.1 -p 3000 -w workspace.yaml

# The web portal (docs/portal.md) on 127.0.0.1: `make portal PORTAL_PORT=8200 PORTAL_YEAR=2024`.
PORTAL_PORT ?= 8100
PORTAL_YEAR ?=
portal: setup
	$(VENV)/bin/dti portal --port $(PORTAL_PORT) $(if $(PORTAL_YEAR),--year $(PORTAL_YEAR))

# National-scale benchmarks: prints every figure with its target (not a test).
bench: setup
	$(VENV)/bin/python benchmarks/generate_national.py
	$(VENV)/bin/python benchmarks/run.py

clean:
	rm -rf var $(VENV) .tools
