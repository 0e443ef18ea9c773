# Kamqor verbs. `make help` lists them.
SHELL := /bin/bash
# uv comes from PyPI when the machine lacks it, so a fresh machine needs only Python 3.11 and make.
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
PY := $(UV) run --frozen
SERVICES := intake plans registry shelter notify
PROTO_FILES := $(shell find protos/kamqor -name '*.proto' | sort)
STUB_OUT := libs/kamqor

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: .venv/.synced node_modules/.installed ## Install Python (uv workspace) and Node (buf) dependencies

$(UV):
	python3 -m pip install --quiet --user uv

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	touch $@

node_modules/.installed: package-lock.json
	# `npm ci` installs exactly the lock and never rewrites it. The lock lists buf's optional
	# binaries for every platform (npm installs only this machine's): regenerate it with
	# `npm install --package-lock-only` after changing package.json.
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

protos: setup ## Generate Python stubs (+ typed .pyi) from protos/ into libs/kamqor
	find $(STUB_OUT)/kamqor -path '*/v1/*_pb2*' -delete
	$(PY) python -m grpc_tools.protoc -I protos \
	  --python_out=$(STUB_OUT) --grpc_python_out=$(STUB_OUT) \
	  --plugin=protoc-gen-mypy=.venv/bin/protoc-gen-mypy --mypy_out=quiet:$(STUB_OUT) \
	  --plugin=protoc-gen-mypy_grpc=.venv/bin/protoc-gen-mypy_grpc --mypy_grpc_out=quiet:$(STUB_OUT) \
	  $(PROTO_FILES)
	for d in $$(find $(STUB_OUT)/kamqor -type d -path '*/v1'); do touch $$d/__init__.py $$(dirname $$d)/__init__.py; done

protos-check: ## Fail when the committed stubs are stale
	$(MAKE) --no-print-directory protos
	git diff --exit-code --stat -- $(STUB_OUT) || { echo "stubs are stale: run 'make protos' and commit"; exit 1; }
	test -z "$$(git status --porcelain -- $(STUB_OUT))" || { git status --porcelain -- $(STUB_OUT); echo "untracked stubs: run 'make protos' and commit"; exit 1; }

lint: setup ## ruff format check, ruff check, mypy, buf lint
	$(PY) ruff format --check .
	$(PY) ruff check .
	$(PY) mypy libs/kamqor/kamqor $(foreach s,$(SERVICES),services/$(s)/$(s)) gateway/gateway console/console tools/devstack/devstack bench
	cd protos && ../node_modules/.bin/buf lint

test: setup ## Start PostgreSQL, NATS JetStream and Keycloak for the tests, then run every suite
	$(PY) pytest

run: setup ## The whole suite on this machine: embedded PostgreSQL, NATS and Keycloak, demo data
	$(PY) python -m devstack.run

console-messages: setup ## Extract the console's strings and merge them into the ru/kk/en catalogs
	$(PY) pybabel extract -F console/babel.cfg -k N_ --no-location --sort-output \
	  --project "Kamqor console" --copyright-holder Kamqor -o console/console/locales/messages.pot console/console
	$(PY) pybabel update -i console/console/locales/messages.pot -d console/console/locales \
	  --width=100 --ignore-obsolete --ignore-pot-creation-date

bench: setup ## Benchmarks: ratios against a baseline measured in the same run (FULL=1: the long run)
	$(PY) python -m bench $(if $(FULL),--full)

k8s-check: setup ## Build every kustomize overlay, validate it offline (CRDs too), policy gate, hadolint
	$(PY) python -m devstack.k8s_check deploy/k8s

k8s-sync: setup ## Rewrite deploy/k8s's generated copies (production realm import, NATS users)
	$(PY) python -m devstack.k8s_check deploy/k8s --write-generated

.PHONY: help setup protos protos-check lint test run console-messages bench k8s-check k8s-sync
