# IAM Warden — every entry point a user or CI needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo replay test lint format bench readme clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## demo: the sandbox: the whole bot against a local AWS (moto) and a Slack-like page; open the printed address
demo: $(STAMP)
	$(BIN)/python bot.py demo

## replay: replay the bundled sample CloudTrail file and print every alert as Slack would show it
replay: $(STAMP)
	$(BIN)/python bot.py replay samples/cloudtrail-sample.json

## test: lint and run the whole test suite
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: run the benchmarks under bench/ and print their figures
bench: $(STAMP)
	$(BIN)/python bench/replay.py
	$(BIN)/python bench/hunt.py
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/fuzz.py
	$(BIN)/python bench/poison.py
	$(BIN)/python bench/app_home.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

## readme: regenerate the README's tables from the registries
readme: $(STAMP)
	$(BIN)/python scripts/readme_tables.py
