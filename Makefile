# nenguide - two commands on a fresh machine:
#   make run    set up, assess the bundled demo case (English and Simplified Chinese), then start
#               the MDT service on http://127.0.0.1:8000 with demo data (Ctrl+C stops it)
#   make test   set up, then run every check and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test serve bench lint clean lock audit screenshots mutate

$(BIN)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "nenguide needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,api,batch,spark,fhir]"
	@touch $@

run: $(BIN)/.installed
	$(BIN)/nenguide demo pnet-g2-liver --lang en
	$(BIN)/nenguide demo pnet-g2-liver --lang zh-CN
	$(BIN)/nenguide serve --demo

serve: $(BIN)/.installed
	$(BIN)/nenguide serve --demo

test: $(BIN)/.installed
	VENV=$(VENV) ./scripts/test

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/nenguide knowledge lint

# screenshots of each page (docs/screenshots/, shown in the README) from the browser test
screenshots: $(BIN)/.installed
	NENGUIDE_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider tests/web/test_browser.py

# full mutation run of the knowledge tables (issue 13); the fast sample runs inside `make test`
mutate: $(BIN)/.installed
	$(BIN)/nenguide knowledge mutate --jobs 2 --report docs/mutation-report.md --no-fail-on-survivor $(MUTATE_ARGS)

bench: $(BIN)/.installed
	$(BIN)/pip install -q -c constraints.txt -e ".[bench]"
	$(BIN)/python benchmarks/bench_assess.py

# Regenerate constraints.txt (exact versions of every dependency, all extras) after changing
# dependencies in pyproject.toml; needs only pip and the package index.
lock:
	$(PYTHON) scripts/lock.py

# Known vulnerabilities in the locked versions (pip-audit queries the PyPI/OSV advisory data).
audit: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -c constraints.txt pip-audit
	$(BIN)/pip-audit --requirement constraints.txt --no-deps --disable-pip --strict --progress-spinner off

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
