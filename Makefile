# Storefront — the two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
COVERAGE_MIN := 95

.PHONY: setup test lint typecheck pytest demo stop bench lock clean

## setup: install Debian packages, the Python 3.13 venv and test footage (idempotent)
setup:
	@scripts/setup.sh

## test: set up, lint, type-check, run every test with the integration's coverage gate
test: setup lint typecheck pytest

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck:
	$(VENV)/bin/mypy --strict custom_components/storefront

pytest:
	$(PY) -m pytest --cov --cov-report= -p no:cacheprovider
	$(PY) -m coverage report --include='custom_components/storefront/*' --fail-under=$(COVERAGE_MIN)

## lock: re-resolve pinned dependencies after editing requirements/*.in
lock:
	$(VENV)/bin/uv pip compile requirements/test.in --python $(PY) \
	  --python-platform x86_64-unknown-linux-gnu -o requirements/lock.txt

clean:
	rm -rf $(VENV) .assets .run
