# Everything installs from this repository's own files: uv (pinned) from PyPI, then the locked
# environment from pyproject.toml + uv.lock. `make demo` and `make test` each set up first.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(PYTHON) -m uv
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: setup demo test lint dagster clean

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

clean:
	rm -rf var $(VENV)
