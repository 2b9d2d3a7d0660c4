# The two commands (see README.md):  make book   and   make test
# Both create (or reuse) the project virtual environment .venv first.

PYTHON    ?= python3
VENV      ?= .venv
PY        := $(VENV)/bin/python
# The tested torch, pinned only here; requirements.txt keeps a range that Colab's torch satisfies.
TORCH_SPEC ?= torch==2.13.0
# Parallel test workers; notebooks of one file stay on one worker (--dist loadfile).
WORKERS   ?= 2
PYTEST    := OMP_NUM_THREADS=1 $(PY) -m pytest -p no:cacheprovider

.PHONY: setup book test test-fast test-float64 test-site exercises grade tables bench notebooks-tidy clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=23.2"
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m pip check
	@touch $@

## Build the online book into _build/html, executing every notebook in full mode on the digits.
## The chapters run first, two at a time, one CPU thread each (jupyter-cache's parallel executor);
## the build then takes their outputs from that cache. The cache is cleared first, so every build
## executes every notebook; a chapter that failed there runs again inside the build and fails it.
CHAPTERS   = $(filter $(wildcard book/*.ipynb),$(patsubst %,%.ipynb,$(shell grep -o 'book/[0-9][0-9]_[A-Za-z0-9_]*' _toc.yml)))
NB_CACHE  := _build/.jupyter_cache
book: setup
	rm -rf $(NB_CACHE) && mkdir -p _build
	yes | JUPYTERCACHE=$(NB_CACHE) $(VENV)/bin/jcache notebook add $(CHAPTERS) > /dev/null
	JUPYTERCACHE=$(NB_CACHE) OMP_NUM_THREADS=1 TQDM_DISABLE=1 $(VENV)/bin/jcache project execute \
		--executor local-parallel --timeout 1200
	TQDM_DISABLE=1 $(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The book: file://$(CURDIR)/_build/html/index.html"

## Every test: dgmlib (float32), the graders, every notebook under nbval in quick mode,
## then the dgmlib tests again in float64.
test: setup
	DGMLIB_QUICK=1 TQDM_DISABLE=1 $(PYTEST) -n $(WORKERS) --dist loadfile --durations=8 \
		--nbval-lax tests book
	$(MAKE) --no-print-directory test-float64

test-float64: setup
	$(PYTEST) -n $(WORKERS) --dist loadfile -q --dtype float64 tests/lib

## The built book in headless Chromium (after `make book`; needs chromium and chromium-driver):
## math typeset, images loaded, no error boxes, Colab links; screenshots in _build/screenshots.
test-site: setup
	DGMLIB_REQUIRE_BROWSER=1 $(PYTEST) -q tests/book/test_site.py

## dgmlib tests only (tests/lib, seconds to a few minutes)
test-fast: setup
	$(PYTEST) -q tests/lib

## Regenerate the student notebooks and autograders from the exercise masters.
exercises: setup
	$(PY) exercises/build.py

## Grade a folder of submitted notebooks of one set into one CSV, with a time limit per notebook
## (exercises/README.md): make grade SET=02_elbo SUBMISSIONS=submissions/ [OUT=grades.csv TIMEOUT=300]
SET         ?= 02_elbo
SUBMISSIONS ?= submissions
OUT         ?= grades.csv
TIMEOUT     ?= 300
grade: setup
	$(PY) exercises/build.py exercises/$(SET)/*-master.ipynb
	OMP_NUM_THREADS=1 $(PY) exercises/grade.py $(SUBMISSIONS) --set $(SET) --out $(OUT) --timeout $(TIMEOUT) --jobs $(WORKERS)

## Recompute the book's expensive results tables into dgmlib/experiments/results/*.json (about 1 h
## on 2 cores) and write them, with the papers' numbers, to the appendix page book/results.md.
## DATASET=mnist5k runs the tables that have 784-pixel settings into <name>-mnist5k.json (hours on
## 2 cores); DATASET=mnist the same on full MNIST (torchvision downloads it: Colab, a GPU machine,
## with DEVICE=cuda). TABLES=iwae limits the run to some tables.
DATASET ?=
DEVICE  ?= cpu
TABLES  ?=
## UPCOMING=1: the papers' protocol where a table has settings for it (dynamic binarization, early
## stopping, a K sweep; the seed-0 models kept in dgmlib/experiments/trained_models/).
UPCOMING ?=
tables: setup
	OMP_NUM_THREADS=1 $(PY) tools/tables.py run $(TABLES) --workers $(WORKERS) --device $(DEVICE) \
		$(if $(DATASET),--dataset $(DATASET)) $(if $(UPCOMING),--upcoming)
	$(PY) tools/tables.py publish

## Speed measurements into benchmarks/out/*.md, assembled into the appendix book/performance.md
bench: setup
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_eval.py
	$(PY) benchmarks/bench_book.py
	$(PY) benchmarks/publish.py

## Stamp the canonical setup cell into every notebook and strip outputs.
notebooks-tidy: setup
	$(PY) tools/notebooks.py sync && $(PY) tools/notebooks.py strip

clean:
	rm -rf _build exercises/*/dist
