# ARIA: `make run` (install, prepare data, serve) and `make test` (install, ruff, mypy, pytest), from nothing.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DO_NOT_TRACK := 1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run test lint typecheck pytest clean browser sandbox ocr

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: the CPU build lies on disk; a looser pin would pull GBs of CUDA wheels.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	# llama-cpp-python builds from source: the native CPU build crashes here (AMX), and it must not download.
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_CURL=OFF" $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/nexus init
	$(BIN)/nexus serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The browser tests drive Debian's chromium (never `playwright install`, which downloads a browser of its own).
browser:
	@test -x /usr/bin/chromium || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# Graded code runs in bubblewrap (tutor/practice/sandbox.py); Debian's package, no setuid, user namespaces.
sandbox:
	@test -x /usr/bin/bwrap || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap; }

# Scanned PDFs are read by Tesseract in French (ingest/ocr.py), pages rendered by poppler's pdftoppm.
ocr:
	@test -x /usr/bin/tesseract -a -x /usr/bin/pdftoppm -a -f /usr/share/tesseract-ocr/5/tessdata/fra.traineddata || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q tesseract-ocr tesseract-ocr-fra poppler-utils; }

pytest: install browser sandbox ocr
	$(BIN)/pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
