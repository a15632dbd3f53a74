# imagepool: every target does its own set-up; `make test` and `make run` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
DATA ?= var
SPEED ?= 60
PORT ?= 0
AIRFLOW_PORT ?= 8080

.PHONY: setup test lint run up down emulator plan validate lock bench clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: requirements.txt | $(UV)
	[ -x $(PY) ] || $(UV) venv $(VENV) --python $(PYTHON) --quiet
	$(UV) pip sync requirements.txt --python $(PY) --quiet
	touch $@

setup: $(VENV)/.installed

test: setup
	$(PY) -m pytest

# ruff's lint rules and formatting, and mypy on the library and the emulator (settings in pyproject.toml).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The main job: the demo spec's pipeline end to end against the local Azure cloud.
run: setup
	PYTHONPATH=include:plugins $(PY) -m imagepool_local --data-dir $(DATA)/run

# Airflow (UI on AIRFLOW_PORT, or a free port) with the local Azure cloud, in the background until `make down`.
up: setup
	PYTHONPATH=include $(PY) -m imagepool_local.stack up --data-dir $(DATA)/stack --speed $(SPEED) --port $(AIRFLOW_PORT)

# Without the venv nothing can have been started.
down:
	@if [ -x $(PY) ]; then PYTHONPATH=include $(PY) -m imagepool_local.stack down --data-dir $(DATA)/stack; fi

# The browser test drives Debian's Chromium (/usr/bin/chromium); installing it needs root (sudo make chromium).
chromium:
	@[ -x /usr/bin/chromium ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

emulator: setup
	PYTHONPATH=include $(PY) -m azure_emulator --port $(PORT) --data-dir $(DATA)/emulator --speed $(SPEED) \
		--ready-file $(DATA)/emulator/ready.json --log-level info $(if $(CLOUD),--cloud $(CLOUD))

SPEC ?= include/specs/ubuntu-batch.yaml
plan: setup
	PYTHONPATH=plugins $(PY) -m imagepool plan $(SPEC)

validate: setup
	PYTHONPATH=plugins $(PY) -m imagepool validate include/specs/*.yaml

# The pipeline against the emulated critical path and the sequential SDK script, 10 pipelines at once, and
# scale: bench/results/latest.json, latest.md and timeline.png (about 13 minutes; state and logs in var/bench).
bench: setup
	PYTHONPATH=include:plugins $(PY) -m bench

lock: | $(UV)
	$(UV) pip compile requirements.in -o requirements.txt --python-version 3.11 --quiet

clean: down
	rm -rf $(VENV) .uv $(DATA)
