# Everything installs from this repository's own files: uv (pinned) from PyPI, then the locked
# environment from pyproject.toml + uv.lock. `make demo` and `make test` each set up first.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(PYTHON) -m uv
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: setup demo test lint dagster dagster-prod bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml uv.lock
	@$(PYTHON) -m uv --version 2>/dev/null | grep -q "$(UV_VERSION)" || \
		$(PYTHON) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) sync --frozen --compile-bytecode
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/dti demo

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

dagster: setup
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/var/dagster} $(VENV)/bin/dagster dev -w workspace.yaml

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

# National-scale benchmarks (issue #7): prints every figure with its target (not a test).
bench: setup
	$(VENV)/bin/python benchmarks/generate_national.py
	$(VENV)/bin/python benchmarks/run.py

clean:
	rm -rf var $(VENV)
