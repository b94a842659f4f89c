# Two commands matter: `make run` (the service on the embedded default) and `make test` (the whole suite).
# Both build the environment first; nothing needs to be installed beyond python3 with venv.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
# Never let uv fetch a Python of its own: the project runs on the machine's 3.11.
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint openapi services browser clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	touch $@

# `make run PORT=8100` serves on another port.
PORT ?= 8000

run: $(VENV)/.synced
	$(VENV)/bin/fieldcheck demo --port $(PORT)

browser:
	scripts/ensure-browser

services:
	scripts/ensure-services

test: lint services browser
	$(VENV)/bin/pytest

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

openapi: $(VENV)/.synced
	$(VENV)/bin/fieldcheck openapi

clean:
	rm -rf $(VENV) .tools .cache instance
