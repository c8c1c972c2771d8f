# The two commands: `make run` (the main job) and `make test` (the whole suite).
# Each creates .venv if missing and (re)installs the package when setup.cfg changes.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bankml-installed
CONFIG ?= configs/wealth_propensity.yaml

.PHONY: run test test-main test-pandas2 test-spark bench bench-deps bench-real venv clean ui browser

# Run pytest with the given interpreter; pytest exits 5 when it collected no test, and
# that must fail, not pass silently.
define pytest
	@$(1) -m pytest $(2) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: pytest collected no tests -- failing" >&2; exit 1; fi; \
	exit $$rc
endef

# Create a venv if missing and install the package editable with what follows -e; the stamp
# ($@) makes it happen again only when the package metadata changes.
define venv
	@test -x $(1)/bin/python || $(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip
	$(1)/bin/python -m pip install --quiet -e $(2)
	@touch $@
endef

$(STAMP): setup.cfg pyproject.toml
	$(call venv,$(VENV),".[test]")

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/bankml run $(CONFIG)

# The whole suite on pandas 3 (the main venv), again on pandas 2, and the Spark path: the
# three legs run side by side (each leg's output is printed whole when it ends), so CI's wall
# time is about the longest leg, not the sum; `make test-main` etc. run one leg.
test:
	@$(MAKE) --no-print-directory --output-sync=target -j3 test-main test-pandas2 test-spark

# The Spark tests (files test_spark*.py) run in their own leg; the others leave them out
# rather than skip them, so that under CI every skip is a real one.
NO_SPARK := -m "not spark" --ignore-glob="*/test_spark*.py"

test-main: $(STAMP) browser
	$(call pytest,$(BIN)/python,$(NO_SPARK))

# The run report is tested in a real headless browser (tests/test_report_browser.py): install
# Debian's chromium where it is missing and we are root; otherwise that test skips, saying
# so, and under CI=true such a skip is a failure.
CHROMIUM ?= /usr/bin/chromium

browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "make: $(CHROMIUM) not installed and cannot install it (not root or no apt-get)" >&2; \
	  fi; \
	fi

# The same suite on pandas 2 (the main venv has pandas 3, whose default string dtype differs).
VENV2  ?= .venv-pandas2
STAMP2 := $(VENV2)/.bankml-installed

PANDAS2 := "pandas>=2.1,<3"

$(STAMP2): setup.cfg pyproject.toml
	$(call venv,$(VENV2),".[test]" $(PANDAS2))

test-pandas2: $(STAMP2) browser
	$(call pytest,$(VENV2)/bin/python,$(NO_SPARK))

# The Spark path (bankml.spark) against local Spark; its tests skip, saying so, without Java 17+.
# PySpark supports pandas 2 only.
VENV_SPARK ?= .venv-spark
STAMP_SPARK := $(VENV_SPARK)/.bankml-installed

SPARK_EXTRAS := ".[test,spark]" $(PANDAS2)

$(STAMP_SPARK): setup.cfg pyproject.toml
	$(call venv,$(VENV_SPARK),$(SPARK_EXTRAS))

test-spark: $(STAMP_SPARK)
	$(call pytest,$(VENV_SPARK)/bin/python,-m spark)

# bench_spark.py needs pyspark, hence the Spark venv; the others run in the main one
bench: $(STAMP) $(STAMP_SPARK) bench-deps
	@for b in benchmarks/bench_*.py; do echo "== $$b"; \
	  case $$b in *bench_spark.py) py=$(VENV_SPARK)/bin/python;; *) py=$(BIN)/python;; esac; \
	  $$py $$b || exit 1; done

# The real-data benchmark's data sets ship in pip packages: statsmodels, and ISLP's CSV files
# (ISLP itself pulls in torch; its files are read without importing it, hence --no-deps).
bench-deps: $(STAMP)
	$(BIN)/python -m pip install --quiet statsmodels imodels
	$(BIN)/python -m pip install --quiet --no-deps ISLP

bench-real: bench-deps
	$(BIN)/python benchmarks/bench_real_data.py --out benchmarks/results/real_data.md

ui: $(STAMP)
	$(BIN)/bankml ui

clean:
	rm -rf $(VENV) $(VENV2) $(VENV_SPARK) build *.egg-info .pytest_cache
