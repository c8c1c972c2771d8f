# The two commands: `make run` (the main job) and `make test` (the whole suite).
# Each creates .venv if missing and (re)installs the package when setup.cfg changes.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bankml-installed
CONFIG ?= configs/wealth_propensity.yaml

.PHONY: run test bench venv clean ui

$(STAMP): setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/bankml run $(CONFIG)

# pytest exits 5 when it collected no test: that must fail, not pass silently.
test: $(STAMP)
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests -- failing" >&2; exit 1; fi; \
	exit $$rc

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

ui: $(STAMP)
	$(BIN)/bankml ui

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
