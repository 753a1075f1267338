PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# test processes (pytest-xdist); CI machines have 2 cores
TEST_WORKERS ?= 2

.PHONY: demo test bench lint install

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,hf,plot]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/zklora demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --durations=25

bench: $(STAMP)
	mkdir -p .benchmarks
	$(BIN)/python -m pytest -q -m bench --benchmark-enable --benchmark-json=.benchmarks/last.json tests/bench
	$(BIN)/python tests/bench/report.py .benchmarks/last.json

lint: $(STAMP)
	$(BIN)/ruff check zklora tests
