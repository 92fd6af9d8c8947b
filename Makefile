# Every target sets itself up: a fresh clone needs only Python 3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The development set, pinned: what `make` installs, so a fresh clone gets the versions that were
# tested. The published package keeps the ranges in pyproject.toml.
LOCK := requirements/dev.txt
EXTRAS := test,lint,docs,hypothesis
DIST_CHECK := build/dist-check
# Arguments for nox, e.g. `make matrix NOX_ARGS="-s lowest newest"`.
NOX_ARGS ?=

.PHONY: test quick lint typecheck unit docs demo explore bench generate dist matrix mutation \
	lock lock-upgrade clean conformance

test: lint typecheck unit docs

# Redone whenever pyproject.toml or the lock changes. pip shows what it downloads and installs.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "Installing pytest-spectron (editable) with its extras ($(EXTRAS)) at the versions in $(LOCK)"
	$(BIN)/python -m pip install -r $(LOCK) -e '.[$(EXTRAS)]' \
		|| { echo "If pyproject.toml and $(LOCK) disagree, run: make lock"; exit 1; }
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/unasync.py --check
	$(BIN)/python scripts/generate_models.py --check

# Strict, tests and tools included: a test's wrong type hides a test that cannot fail.
typecheck: $(STAMP)
	$(BIN)/mypy pytest_spectron tests conftest.py examples scripts noxfile.py

# With the package's line and branch coverage, failing under the floor ([tool.coverage] in
# pyproject.toml): the report lists the lines and branches no test reached.
unit: $(STAMP)
	$(BIN)/pytest -n 2 --cov
	cd examples && ../$(BIN)/pytest -q

# The inner loop: the suite without its heavy tests (real sockets, processes, pytester runs:
# the markers tests/conftest.py sets), no coverage, no lint. `make test` runs everything.
quick: $(STAMP)
	$(BIN)/pytest -n 2 -q -m "not socket and not subprocess and not pytester" --hypothesis-profile=quick

# The documentation site, built strictly: a broken link or reference fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# Spectron's OpenAPI document against `serve`, by schemathesis (seeded, every check; what the
# document allows is listed in scripts/conformance.py and docs/fake.md). Skipped with a message
# where ../shared/spectron/openapi.json is absent, except under CI=true. Three to four minutes.
conformance: $(STAMP)
	$(BIN)/python scripts/conformance.py

# The example application's test suite against the embedded fake, verbosely.
demo: $(STAMP)
	cd examples && ../$(BIN)/pytest -v

# The example suite explored (docs/explore.md): each passing test again under each failure of each
# Spectron call it makes; the findings it did not survive are listed, and written to explore.json.
# Only reported: the example app has known findings, which the page explains.
explore: $(STAMP)
	cd examples && ../$(BIN)/pytest -q --spectron-explore --spectron-explore-fail=never \
		--spectron-explore-json=explore.json

# Side-by-side timings against the alternatives (see benchmarks/README.md); not part of `test`.
bench: $(STAMP)
	cd benchmarks && ../$(BIN)/python suite_cost.py
	cd benchmarks && ../$(BIN)/python client_overhead.py
	cd benchmarks && ../$(BIN)/python startup.py
	cd benchmarks && ../$(BIN)/python floor.py
	cd benchmarks && ../$(BIN)/python server_throughput.py
	cd benchmarks && ../$(BIN)/python state_cost.py
	cd benchmarks && ../$(BIN)/python server_floor.py
	cd benchmarks && ../$(BIN)/python explore_cost.py

# Mutation testing of the shared validators, the retry policy, the client's errors and the fault
# modules ([tool.mutmut] in pyproject.toml names them and the tests run against them); not part
# of `test`. A fresh run each time: mutmut keeps a survivor's verdict until its function
# changes, even when a new test would kill it. Then the score of each module, failing under 95 % or on a surviving mutant not
# listed with its reason in tests/mutation/equivalent.txt (see docs/benchmarks.md).
mutation: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python scripts/mutation_scores.py --check

# Regenerate the derived sources: the models from Spectron's OpenAPI document, the sync client
# from the async one.
generate: $(STAMP)
	$(BIN)/python scripts/generate_models.py
	$(BIN)/python scripts/unasync.py

# The release files, checked as a user gets them. Into dist/: the sdist, and the wheel built from
# it; a second wheel straight from the tree must hold the same files. Then, in a fresh venv with
# the wheel installed (not editable) and nothing of this tree importable: the example suite and
# the installed-package checks of tests/packaging (entry point, py.typed, version, the CLI, the
# README's example).
dist: $(STAMP)
	rm -rf dist $(DIST_CHECK)
	$(BIN)/python -m build --installer uv
	$(BIN)/python -m build --installer uv --wheel --outdir $(DIST_CHECK)/from-tree
	$(BIN)/twine check --strict dist/*
	$(BIN)/uv venv --quiet --python $(PYTHON) $(DIST_CHECK)/venv
	$(BIN)/uv pip install --python $(DIST_CHECK)/venv/bin/python --constraint $(LOCK) \
		"pytest-spectron[test] @ file://$(CURDIR)/$$(ls dist/*.whl)" trove-classifiers
	cp -R examples tests/packaging $(DIST_CHECK)/
	cd $(DIST_CHECK)/examples && ../venv/bin/pytest -q -p no:randomly
	cd $(DIST_CHECK)/packaging && SPECTRON_DIST=$(CURDIR)/dist \
		SPECTRON_TREE_WHEELS=$(CURDIR)/$(DIST_CHECK)/from-tree ../venv/bin/pytest -q

# The test suite on every CPython the classifiers name, and at the lowest and the newest versions
# the dependency bounds allow (noxfile.py; `$(BIN)/nox -l` lists the sessions).
matrix: $(STAMP)
	$(BIN)/nox $(NOX_ARGS)

# Re-pin the development set from pyproject.toml (every extra) and requirements/tools.in, for
# every Python from 3.10 and every platform. `make lock` keeps the pins that still fit and adds
# or drops what pyproject.toml changed; `make lock-upgrade` moves every pin to the newest release.
# Both need only uv, so they work while the lock and pyproject.toml disagree, and they leave the
# file untouched when nothing changed (so `make` does not reinstall).
define compile_lock
	cp $(LOCK) $(LOCK).new
	$(BIN)/uv pip compile pyproject.toml requirements/tools.in --all-extras --universal \
		--python-version 3.10 --custom-compile-command "make lock" --quiet \
		--output-file $(LOCK).new $(1)
	if cmp -s $(LOCK).new $(LOCK); then rm $(LOCK).new; echo "$(LOCK): unchanged"; \
	else mv $(LOCK).new $(LOCK); echo "$(LOCK): updated"; fi
endef

lock: $(BIN)/uv
	$(call compile_lock)

lock-upgrade: $(BIN)/uv
	$(call compile_lock,--upgrade)

$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$$(grep '^uv==' $(LOCK))"

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .nox build dist site .coverage .coverage.*
