# One command per job; each creates .venv on first use (Python 3.11).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
EXTRACT ?= data/synthetic
YEAR   ?=
# make report and make extract-example write to separate folders (neither inside the other), so
# neither run can replace the other's output; the delivery log lives next to the key store
# (delivery-log.csv beside keys/, git-ignored).
OUT    ?= _output/report
DELIVERIES ?= _output/extracts
# Quarto 1.7.27 built from source by the shared installer (make quarto). Once installed, make report
# and make test use it (QUARTO_PATH) unless QUARTO_PATH is set already.
QUARTO_TOOLS ?= ../shared/tools/quarto
QUARTO_DEST  ?= $(HOME)/.local/opr-quarto
QUARTO_PATH  ?= $(wildcard $(QUARTO_DEST)/bin/quarto)
ifneq ($(QUARTO_PATH),)
export QUARTO_PATH
endif
# Python writes its bytecode caches (git-ignored __pycache__/) even where the environment says not to:
# every notebook kernel and `opr` process of a run would otherwise compile the package again, and pytest
# its rewritten test modules (about 5 s per test worker).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help venv lint test report data lab bench extract-example experiment-example audit lock docs clean quarto reference-docx

help:
	@echo "make report          render the annual report from the synthetic registry into $(OUT)/"
	@echo "make test            lint (ruff) and run the test suite"
	@echo "make data            write the synthetic registry to data/synthetic/"
	@echo "make lab             open JupyterLab on notebooks/"
	@echo "make bench           run the performance benchmark (bench/)"
	@echo "make extract-example deliver the example research extract into $(DELIVERIES)/"
	@echo "make experiment-example plan, allocate and analyse the example response-rate experiment into $(EXPERIMENT_OUT)/"
	@echo "make audit           check the locked dependencies for known vulnerabilities"
	@echo "make docs            regenerate docs/codebook.md, docs/tables.md and the report notebook's table cells"
	@echo "make quarto          install Quarto 1.7.27 from $(QUARTO_TOOLS) into $(QUARTO_DEST) (HTML, Word and PDF)"
	@echo "make reference-docx  regenerate the Word reference document of the report (needs Quarto)"

# uv installs the locked set in about 10 s where pip takes about 45 s (its resolver reads every index page);
# where uv cannot be installed or fails, pip installs the same set.
UV_SPEC ?= uv==0.13.9

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	if $(BIN)/python -m pip install --quiet '$(UV_SPEC)' && \
	   $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -c requirements.lock -e '.[test]'; \
	then :; else $(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'; fi
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP)

# Lint and format check (ruff, configured in pyproject.toml); part of make test.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=15

data: $(STAMP)
	@test -f $(EXTRACT)/patients.csv || $(BIN)/opr synth --out $(EXTRACT)

report: data
	$(BIN)/opr report --extract $(EXTRACT) --out $(OUT) $(if $(YEAR),--year $(YEAR),)

EXAMPLE_SPEC ?= reports/extracts/examples/sovn-og-smerte.yaml
EXAMPLE_PROJECT = $(basename $(notdir $(EXAMPLE_SPEC)))

extract-example: data
	$(BIN)/opr extract $(EXAMPLE_SPEC) --extract $(EXTRACT) --out $(DELIVERIES)/$(EXAMPLE_PROJECT)

# Response-rate experiment (issue 18): a synthetic registry with the example experiment (planted
# effect) in its own folder, then plan, allocate and analyse it into $(EXPERIMENT_OUT)/ only.
EXPERIMENT_SPEC ?= reports/experiments/examples/kort-skjema-2025.yaml
EXPERIMENT_DATA ?= data/synthetic-experiment
EXPERIMENT_OUT  ?= _output/experiment
EXPERIMENT_AS_OF ?= 2025-12-31

experiment-example: $(STAMP)
	@test -f $(EXPERIMENT_DATA)/allocations.csv || $(BIN)/opr synth --experiment $(EXPERIMENT_SPEC) --out $(EXPERIMENT_DATA)
	$(BIN)/opr experiment plan $(EXPERIMENT_SPEC) --extract $(EXPERIMENT_DATA) --as-of $(EXPERIMENT_AS_OF) --out $(EXPERIMENT_OUT)/plan
	$(BIN)/opr experiment allocate $(EXPERIMENT_SPEC) --extract $(EXPERIMENT_DATA) --as-of $(EXPERIMENT_AS_OF) --out $(EXPERIMENT_OUT)/allocation
	$(BIN)/opr experiment analyse $(EXPERIMENT_SPEC) --extract $(EXPERIMENT_DATA) --as-of $(EXPERIMENT_AS_OF) --out $(EXPERIMENT_OUT)/analysis

# Benchmark at scales 1, 10 and 100 (about 15-25 minutes on 2 cores); writes bench/results.json
# and bench/scaling.png. BENCH_ARGS=--quick for scales 1 and 10 with one run each.
BENCH_ARGS ?= --scales 1,10,100 --repeats 3
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lab: data
	$(BIN)/jupyter lab notebooks/

# Re-pin requirements.lock from pyproject.toml (needs the dev extra: pip-tools).
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test,dev]'
	$(BIN)/pip-compile --quiet --extra test --strip-extras --no-emit-index-url --no-emit-find-links \
	  --no-header --annotation-style line --output-file requirements.lock pyproject.toml
	printf '%s\n' '# Exact versions for reproducible installs (make uses it as a constraints file).' \
	  '# Regenerate after changing pyproject.toml: make lock' | cat - requirements.lock > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock

# Known vulnerabilities in the locked dependency set. Needs the PyPI JSON API (or OSV);
# --strict makes a run that could not look a package up fail instead of passing vacuously.
audit: $(STAMP)
	$(BIN)/python -m pip install --quiet 'pip-audit>=2.7,<2.11'
	$(BIN)/pip-audit --strict --requirement requirements.lock --no-deps --disable-pip

docs: $(STAMP)
	$(BIN)/opr codebook --out docs/codebook.md
	$(BIN)/python -c "from opr_analysis.stats.table_registry import tables_markdown; print(tables_markdown(), end='')" > docs/tables.md
	$(BIN)/python -c "from opr_analysis.report.publication import sync_notebook; sync_notebook('notebooks/annual_report.ipynb')"

# Quarto from its public source (../shared/tools/quarto/README.md); install.sh returns at once when
# $(QUARTO_DEST) already holds a complete install of the same version.
quarto:
	@test -x $(QUARTO_TOOLS)/install.sh || { echo "fant ikke $(QUARTO_TOOLS)/install.sh (QUARTO_TOOLS=...)"; exit 1; }
	$(QUARTO_TOOLS)/install.sh $(QUARTO_DEST)
	@echo "Quarto: export QUARTO_PATH=$(QUARTO_DEST)/bin/quarto (make report and make test find it themselves)"

# The Word reference document (page, styles) from pandoc's default, reproducibly; a test compares.
reference-docx: $(STAMP)
	$(BIN)/python -m opr_analysis.report.reference_docx

clean:
	rm -rf $(VENV) $(OUT) _build
