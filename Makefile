# Two entry points: `make run` and `make test`. Each prepares its own virtual environment.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/mktbot run

lint: $(STAMP)
	$(BIN)/ruff check bot commands jobs storage tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy bot commands jobs storage

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

test: lint typecheck
	$(BIN)/python -m pytest tests

bench: $(STAMP)
	$(BIN)/python benchmarks/ack_latency.py

clean:
	rm -rf $(VENV) *.egg-info
