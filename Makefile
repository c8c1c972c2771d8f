# The two commands: `make run` (the main job) and `make test` (the whole suite).
# Each creates .venv if missing and (re)installs the package when setup.cfg changes.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bankml-installed
CONFIG ?= configs/wealth_propensity.yaml

.PHONY: run test test-pandas2 test-spark bench venv clean ui

# Run pytest with the given interpreter; pytest exits 5 when it collected no test, and
# that must fail, not pass silently.
define pytest
	@$(1) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: pytest collected no tests -- failing" >&2; exit 1; fi; \
	exit $$rc
endef

$(STAMP): setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/bankml run $(CONFIG)

test: $(STAMP)
	$(call pytest,$(BIN)/python)

# The same suite on pandas 2 (the main venv has pandas 3, whose default string dtype differs).
VENV2  ?= .venv-pandas2
STAMP2 := $(VENV2)/.bankml-installed

$(STAMP2): setup.cfg pyproject.toml
	@test -x $(VENV2)/bin/python || $(PYTHON) -m venv $(VENV2)
	$(VENV2)/bin/python -m pip install --quiet --upgrade pip
	$(VENV2)/bin/python -m pip install --quiet -e ".[test]" "pandas>=2.1,<3"
	@touch $(STAMP2)

test-pandas2: $(STAMP2)
	$(call pytest,$(VENV2)/bin/python)

# The Spark path (bankml.spark) against local Spark; needs Java 17+. PySpark supports pandas 2.
VENV_SPARK ?= .venv-spark
STAMP_SPARK := $(VENV_SPARK)/.bankml-installed

$(STAMP_SPARK): setup.cfg pyproject.toml
	@test -x $(VENV_SPARK)/bin/python || $(PYTHON) -m venv $(VENV_SPARK)
	$(VENV_SPARK)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_SPARK)/bin/python -m pip install --quiet -e ".[test,spark]" "pandas>=2.1,<3"
	@touch $(STAMP_SPARK)

test-spark: $(STAMP_SPARK)
	$(call pytest,$(VENV_SPARK)/bin/python) -m spark

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

ui: $(STAMP)
	$(BIN)/bankml ui

clean:
	rm -rf $(VENV) $(VENV2) $(VENV_SPARK) build *.egg-info .pytest_cache
