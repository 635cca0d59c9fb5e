# Two commands on a fresh machine:
#   make run    set up .venv and start the ctxchat TUI
#   make test   set up .venv (with dev tools) and run ruff and the test suite
PYTHON ?= python3
VENV ?= .venv
# Users get the torch their platform needs; CI pins the CPU build (see .ci/run).
TORCH_SPEC ?= torch
BIN := $(VENV)/bin
STAMP := $(VENV)/.ctxchat-installed

.PHONY: run test lint bench build dist-check clean setup setup-dev train

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip wheel setuptools

# Dependencies are installed once per pyproject change; the project itself is
# always re-linked (cheap) so a cached venv follows the current checkout.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/python -m pip install -q --no-deps -e .

run: setup
	$(BIN)/ctxchat

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check app engines ctxchat tests benchmarks packaging devkit

test: lint
	$(BIN)/python -m pytest -q

# Retrain the default compressor (assets/compressor) from scratch, offline (~30 min on 2 cores,
# most of it the llama.cpp surprisal pass of the teacher).
train: setup
	nice -n 10 $(BIN)/python -m ctxchat.engines.training

bench: setup
	$(BIN)/python -m benchmarks.run_all

build: setup
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

dist-check: build
	$(BIN)/python packaging/check_dist.py dist

clean:
	rm -rf $(VENV) dist build *.egg-info .pytest_cache .ruff_cache
