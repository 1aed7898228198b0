# The two commands: `make run` (the platform on embedded stores) and `make test`
# (everything, on real servers that hack/testbed installs and starts).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# What running needs, then the dev tools on top (tests, lint, benchmarks, clusters).
RUN_STAMP := $(VENV)/.run-stamp
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-pure lint bench testbed-up testbed-down testbed-status clean kind-up local-cluster local-cluster-down

$(RUN_STAMP): pyproject.toml
	@echo "make: installing what the platform needs into $(VENV) (once; the dev tools come with make test)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar on -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	@echo "make: installing the dev tools into $(VENV) (once)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/quckchat run

# Servers come up first; the suite runs (hack/run-suite: on both cores, then what must run
# alone); the servers stop whatever the result.
test: $(STAMP)
	@hack/testbed up || echo "make test: some real servers did not start (see above); their tests fail under CI=true"
	@hack/testbed up node || echo "make test: the real node did not start (see above); the real-pod suite fails under CI=true"
	@set -a; . $${QUCKCHAT_TESTBED_DIR:-$$HOME/.cache/quckchat/testbed}/env 2>/dev/null; set +a; \
	VENV=$(VENV) hack/run-suite $(PYTEST_ARGS); status=$$?; \
	hack/testbed down; exit $$status

# The tests that need no server, on both cores: the quick loop while coding. Files stay whole
# on one worker, and the suites on the platform's fixed ports one after another (tests/conftest.py).
test-pure: $(STAMP)
	$(BIN)/pytest -m "not server" -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check services operator tests bench
	$(BIN)/ruff format --check services operator tests bench
	$(BIN)/mypy services/quckchat operator/quckchat_operator
	$(BIN)/shellcheck -x $$(grep -rlE '^#!/usr/bin/env bash' hack) $$(find hack -name '*.sh')

bench: $(STAMP)
	@hack/testbed up || true
	@hack/testbed up node || true
	$(BIN)/python -m bench

# QuckChat on a kind cluster, from images built from this tree (needs docker, kind, helm, kubectl).
kind-up:
	hack/kind-up

# The same without Docker, on hack/testbed's Kubernetes and its real node (KWOK=1: fake nodes).
local-cluster: $(STAMP)
	hack/local-cluster up

local-cluster-down:
	hack/local-cluster down

testbed-up:
	hack/testbed up

testbed-down:
	hack/testbed down

testbed-status:
	hack/testbed status

clean:
	rm -rf $(VENV) .quckchat .pytest_cache .mypy_cache .ruff_cache
