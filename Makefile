# nenguide - two commands on a fresh machine:
#   make run    set up, assess the bundled demo case (English and Simplified Chinese), then start
#               the MDT service on http://127.0.0.1:8000 with demo data (Ctrl+C stops it)
#   make test   set up, then run every check and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test serve bench lint clean mutate

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "nenguide needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,api]"
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
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/nenguide knowledge lint

# full mutation run of the knowledge tables (issue 13); the fast sample runs inside `make test`
mutate: $(BIN)/.installed
	$(BIN)/nenguide knowledge mutate --jobs 2 --report docs/mutation-report.md --no-fail-on-survivor $(MUTATE_ARGS)

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_assess.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
