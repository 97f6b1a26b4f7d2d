# Two entry points (see README): `make book` and `make test`. Both create the virtual
# environment first when it is missing or out of date (pinned requirements.txt).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Multi-threaded torch spin-waits; passive waiting avoids 40x slow-downs when processes share cores.
export OMP_WAIT_POLICY := PASSIVE
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: venv chromium book test lint format bench data census clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	@touch $(STAMP)

## Headless Chromium (Debian's package) for the browser test of the built book, when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## Build the book from the stored results in data/ into _build/html (warnings are errors):
## the chapters are executed two at a time into Jupyter Book's cache, then rendered (book/build.py).
book: $(STAMP)
	$(BIN)/python book/build.py

## Lint, unit tests, notebooks in smoke mode, one book build checked in Chromium and by nbval.
## Two pytest workers (pytest-xdist), one per core; test files are the units, so the book's tests
## (tests/book/test_book.py) share one build in one worker.
test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=30

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Speed figures (prints numbers and ratios; never asserts).
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

## Train / analyse the stored results (resumable; computes only what data/ lacks).
data: $(STAMP)
	$(BIN)/python -m lib sweep all --profile paper --workers 2
	OMP_NUM_THREADS=1 $(BIN)/python -m lib sculpt
	OMP_NUM_THREADS=1 $(BIN)/python -m lib weights

clean:
	rm -rf _build
