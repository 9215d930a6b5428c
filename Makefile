# Two commands do everything on a fresh clone with python3 (3.11+) and make:
#   make html   set up .venv, then build the book into _build/html
#   make test   set up .venv with the test tools, then run every test
# Setup is skipped when pyproject.toml and constraints.txt have not changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SPHINXOPTS ?= -W --keep-going -n
PORT ?= 8000
AXE_CORE_VERSION := 4.14.1

.PHONY: html pdf test serve bench clean lint help code-model

# The trained model of the character-model chapter's longer run (book/chapters/char-model.md).
# It is committed, because its training takes minutes that the book's build cannot spend:
# `make code-model` trains it again with exactly this command (one BLAS thread and a fixed
# seed, so the same weights on the same machine), and tests/test_code_model.py checks the
# committed file against the command.  make html trains it only when the file is missing.
CODE_MODEL := book/trained/code-lstm
CODE_MODEL_RUN := _build/code-lstm-run
CODE_MODEL_TRAIN := --corpus large --model lstm --hidden 256 --seq-len 100 --lr 0.004 --steps 4000 --seed 0

help:
	@echo "make html   build the book into _build/html"
	@echo "make pdf    print every chapter and the whole book to PDF (_build/pdf)"
	@echo "make test   run every test"
	@echo "make serve  serve _build/html on http://localhost:$(PORT)"
	@echo "make bench  run the speed benchmark"
	@echo "make clean  remove build outputs (keeps .venv)"
	@echo "make code-model  train the longer run of the character-model chapter again (about 10 min)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

$(VENV)/.book-ready: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book]"
	touch $@

$(VENV)/.test-ready: pyproject.toml constraints.txt Makefile $(VENV)/.book-ready
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	@# axe-core (accessibility checks injected by tests/test_browser.py) comes from npm;
	@# without npm those checks are skipped with the reason.
	@if command -v npm >/dev/null 2>&1; then \
		npm install --silent --no-audit --no-fund --prefix $(VENV)/npm axe-core@$(AXE_CORE_VERSION) \
			|| echo "warning: npm could not install axe-core; accessibility checks will be skipped"; \
	else echo "npm not found: accessibility checks of tests/test_browser.py will be skipped"; fi
	touch $@

$(CODE_MODEL)/checkpoint.npz: | $(VENV)/.book-ready
	rm -rf $(CODE_MODEL_RUN)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/rnnbook train $(CODE_MODEL_TRAIN) --out $(CODE_MODEL_RUN) \
		--print-every 500 --sample-every 1000
	$(BIN)/rnnbook export $(CODE_MODEL_RUN) --weights $(CODE_MODEL)

code-model:
	rm -f $(CODE_MODEL)/checkpoint.npz
	$(MAKE) $(CODE_MODEL)/checkpoint.npz

html: $(VENV)/.book-ready | $(CODE_MODEL)/checkpoint.npz
	$(BIN)/sphinx-build -b html . _build/html $(SPHINXOPTS)

# Every chapter and the whole book as PDF, printed from the built book by headless
# Chromium (/usr/bin/chromium, driven by Playwright of the test extra; pypdf merges the
# book).  Not part of make html, which needs neither.  PDFs: _build/pdf/, copied to
# _build/html/_downloads/pdf/ where each chapter's "Cite this chapter" box links them.
pdf: html $(VENV)/.test-ready
	$(BIN)/python book/_ext/print_pdf.py --html _build/html --out _build/pdf

# Two workers; the book itself is built once, in the background, from the start
# of the run (see tests/conftest.py), reusing the chapters' execution cache of
# make html.  One BLAS thread per process: two workers and the build already
# fill two cores, and more threads would only wait on each other.
test: export OMP_NUM_THREADS := 1
test: export OPENBLAS_NUM_THREADS := 1
test: $(VENV)/.test-ready
	$(BIN)/python -m pytest -n 2

serve: html
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

bench: $(VENV)/.book-ready
	$(BIN)/python benchmarks/bench.py

lint: $(VENV)/.test-ready
	$(BIN)/ruff check rnnbook tests gallery conf.py benchmarks book/_ext

clean:
	rm -rf _build examples jupyter_execute sg_execution_times.rst
