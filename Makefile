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

.PHONY: setup test run emulator plan validate lock clean

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

# The main job: the demo spec's pipeline end to end against the local Azure cloud.
run: setup
	PYTHONPATH=include:plugins $(PY) -m imagepool_local --data-dir $(DATA)/run

emulator: setup
	PYTHONPATH=include $(PY) -m azure_emulator --port $(PORT) --data-dir $(DATA)/emulator --speed $(SPEED) \
		--ready-file $(DATA)/emulator/ready.json --log-level info

SPEC ?= include/specs/ubuntu-batch.yaml
plan: setup
	PYTHONPATH=plugins $(PY) -m imagepool plan $(SPEC)

validate: setup
	PYTHONPATH=plugins $(PY) -m imagepool validate include/specs/*.yaml

lock: | $(UV)
	$(UV) pip compile requirements.in -o requirements.txt --python-version 3.11 --quiet

clean:
	rm -rf $(VENV) .uv $(DATA)
