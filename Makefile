# Two commands matter: `make run` (the service on the embedded default) and `make test` (the whole suite).
# Both build the environment first; nothing needs to be installed beyond python3 with venv.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
# Never let uv fetch a Python of its own: the project runs on the machine's 3.11.
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint openapi services browser bytecode clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

# Installed with its bytecode: a process loads each module instead of compiling it, which is half of the
# app's start-up wherever Python cannot write __pycache__ itself (PYTHONDONTWRITEBYTECODE, a read-only
# install such as the image's). uv compiles the libraries; `bytecode` compiles the project's own
# sources (editable, so left to us), again before every run or test as they change.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock Makefile
	$(UV) sync --frozen --compile-bytecode
	touch $@

bytecode: $(VENV)/.synced
	$(VENV)/bin/python -m compileall -q server worker storage bench

# `make run PORT=8100` serves on another port.
PORT ?= 8000

run: bytecode
	$(VENV)/bin/fieldcheck demo --port $(PORT)

browser:
	scripts/ensure-browser

services:
	scripts/ensure-services

test: lint services browser
	$(VENV)/bin/pytest

lint: bytecode
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

openapi: $(VENV)/.synced
	$(VENV)/bin/fieldcheck openapi

clean:
	rm -rf $(VENV) .tools .cache instance
