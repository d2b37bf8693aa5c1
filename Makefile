# Two entry points: `make run` and `make test`. Each prepares its own virtual environment.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run demo test lint typecheck unit bench clean chromium image-test

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/mktbot run

# The playground with a seeded team: three months of data and the channels' recent history.
demo: $(STAMP)
	$(BIN)/mktbot playground --demo

lint: $(STAMP)
	$(BIN)/ruff check bot commands jobs storage tests benchmarks deploy

typecheck: $(STAMP)
	$(BIN)/mypy bot commands jobs storage

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

# Debian's Chromium for tests/browser (skipped when absent; needs root, so a failure here only warns).
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji) \
		|| echo "chromium is not installed: the browser tests will be skipped"

test: lint typecheck chromium
	$(BIN)/python -m pytest -q tests

# Build the Containerfile's image on a local Debian base and run it under chroot (root, podman, debootstrap).
image-test: $(STAMP)
	bash deploy/test-image.sh

bench: $(STAMP)
	$(BIN)/python benchmarks/ack_latency.py

clean:
	rm -rf $(VENV) *.egg-info
