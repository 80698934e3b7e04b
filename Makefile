# bulb-skill: every target sets itself up on a fresh machine (venv, dependencies) and cleans up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
ADAPTER_DIRS := $(wildcard adapters/*/pyproject.toml)

.PHONY: test demo load venv clean invoke lint typecheck

## make venv: .venv with, editable, the runtime (bulb-skill), the conformance kit (kit/), the
## workbench (workbench/, with the test suite's tools) and every adapter
$(STAMP): pyproject.toml kit/pyproject.toml workbench/pyproject.toml $(ADAPTER_DIRS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e . -e ./kit -e './workbench[test]' \
		$(foreach d,$(dir $(ADAPTER_DIRS)),-e ./$(d))
	@touch $(STAMP)

venv: $(STAMP)

## make test: the gates (lint, typecheck), then the whole suite (unit, integration on loopback,
## template lint, browser tests)
test: $(STAMP) lint typecheck sam-check browser
	$(PY) -m pytest -q

## make lint: ruff's rules and its formatting over every Python tree ([tool.ruff] in pyproject.toml)
LINT_PATHS := src workbench kit adapters tests scripts infra
lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

## make typecheck: strict mypy on the runtime package, which ships py.typed ([tool.mypy])
typecheck: $(STAMP)
	$(VENV)/bin/mypy

## make browser: headless Chromium and its driver from the machine's package manager (Debian's
## chromium and chromium-driver), installed once when missing; the browser tests drive them
.PHONY: browser
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "make browser: install chromium and chromedriver (Debian: apt-get install chromium chromium-driver)" >&2; exit 1; fi

## make demo: start the local stack on loopback and play every sample directive in events/;
## `make demo FAULTS=vendor=0.3,gateway=0.2,lwa=0.2` plays them with injected faults
demo: $(STAMP)
	$(VENV)/bin/skill demo $(if $(FAULTS),--faults $(FAULTS))

## make invoke: send directive files to the local stack and print what Alexa receives (JSON
## lines); `make invoke FILES="events/Discover.json events/TurnOn.sync.json" ARGS="--faults
## vendor=0.3"` (ARGS: any option of `skill invoke --help`); FILES defaults to a Discover
invoke: $(STAMP)
	$(VENV)/bin/skill invoke $(or $(FILES),events/Discover.json) $(ARGS)

## make load: a bounded load run of the local stack, 50 users x 20 mixed directives at 4/s, once
## without faults, once with vendor and gateway faults, once with LWA faults too (about 5 min
## each), then a vendor outage (the circuit breaker opening and closing, about 40 s); prints
## answered, errors by type, late drops, lost, duplicates and p50/p99 latency, and fails when a
## run lost a directive or answered one twice (docs/reliability.md, section 6)
LOAD_ARGS ?= --users 50 --per-user 20 --rate 4 --faults none --faults vendor=0.2,gateway=0.2 \
	--faults vendor=0.2,gateway=0.2,lwa=0.2 --outage
load: $(STAMP)
	$(VENV)/bin/skill load $(LOAD_ARGS)

clean:
	rm -rf $(VENV) .aws-sam build dist

## make sam: aws-sam-cli in its own tool environment (.tools/sam); run it as scripts/sam.sh ARGS
## make build: sam build (python3.13 arm64 bundle with bytecode, see infra/README.md)
## make sam-check: sam validate --lint on every template, then sam build (part of make test)
.PHONY: sam build sam-check
sam:
	PYTHON=$(PYTHON) scripts/sam.sh install

build: sam
	scripts/sam.sh build

sam-check: sam
	scripts/sam.sh check

## make bench: the performance suite (cold start vs the boto3 floor, warm CPU, end-to-end latency,
## cost per directive, the scale run), not part of make test; prints a table, writes docs/benchmarks.md
.PHONY: bench
bench: $(STAMP)
	$(PY) -m bulb_workbench.bench.run
