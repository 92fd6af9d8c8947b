# Every target sets itself up: a fresh clone needs only Python 3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck unit docs demo bench generate clean

test: lint typecheck unit docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/unasync.py --check

typecheck: $(STAMP)
	$(BIN)/mypy pytest_spectron

unit: $(STAMP)
	$(BIN)/pytest -n 2
	cd examples && ../$(BIN)/pytest -q

# The documentation site, built strictly: a broken link or reference fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# The example application's test suite against the embedded fake, verbosely.
demo: $(STAMP)
	cd examples && ../$(BIN)/pytest -v

# Side-by-side timings against the alternatives (see benchmarks/README.md); not part of `test`.
bench: $(STAMP)
	cd benchmarks && ../$(BIN)/python suite_cost.py
	cd benchmarks && ../$(BIN)/python client_overhead.py
	cd benchmarks && ../$(BIN)/python startup.py
	cd benchmarks && ../$(BIN)/python server_throughput.py

# Regenerate the derived sources: the models from Spectron's OpenAPI document, the sync client
# from the async one.
generate: $(STAMP)
	$(BIN)/python scripts/generate_models.py
	$(BIN)/python scripts/unasync.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist site
