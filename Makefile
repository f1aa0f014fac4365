# keyops.auth0 development tasks. `make demo` and `make test` work on a fresh machine:
# each bootstraps .venv from the pinned requirements-dev.txt first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
BUILD := $(CURDIR)/build
TREE := $(BUILD)/ansible_collections/keyops/auth0
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(BUILD)
ANSIBLE_TEST := cd $(TREE) && $(BIN)/ansible-test

.PHONY: help venv tree test sanity units coverage emulator-test integration molecule lint build-test demo bench changelog clean

help:
	@echo "make demo   - rotate a fleet's key against the Auth0 emulator and report"
	@echo "make test   - every test: sanity, units (+coverage), emulator, integration, molecule, lint, build"
	@echo "make venv   - only bootstrap .venv (with the auth0-emulator console script)"
	@echo "make bench  - the rotation benchmark (see docs/performance.md)"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt constraints-dev.txt tests/emulator/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints-dev.txt -e tests/emulator
	touch $@

# ansible-test fetches a get-pip bootstrap script from a host this machine cannot reach:
# seed its cache with an offline stand-in for the pip version it pins (see tests/utils/get_pip_standin.py).
ansible-test-bootstrap: venv
	@version=$$($(BIN)/python -c "import re, ansible_test._internal.python_requirements as m, inspect; print(re.search(r\"pip='([^']+)'\", inspect.getsource(m.get_venv_packages)).group(1))"); \
	cache=$$HOME/.ansible/test/cache/get_pip_$${version//./_}.py; \
	mkdir -p $$(dirname $$cache); cp tests/utils/get_pip_standin.py $$cache; echo "ansible-test pip $$version bootstrap: $$cache"
	@command -v shellcheck >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }

tree: venv
	@$(BIN)/python tests/utils/collection_tree.py $(BUILD) >/dev/null

sanity: ansible-test-bootstrap tree
	$(ANSIBLE_TEST) sanity --python 3.11 --venv --color no

units: ansible-test-bootstrap tree
	$(ANSIBLE_TEST) units --python 3.11 --venv --color no

# ansible-test reports line coverage only; branch coverage of plugins/ comes from pytest-cov.
coverage: tree
	cd $(TREE) && PYTHONPATH=$(BUILD) $(BIN)/pytest -q -p no:cacheprovider tests/unit \
	  --cov=plugins --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=90

emulator-test: venv
	$(BIN)/pytest -q -p no:cacheprovider tests/emulator/tests

integration: ansible-test-bootstrap tree
	cd $(TREE) && $(BIN)/python tests/utils/with_emulator.py --config tests/integration/integration_config.yml --tls -- \
	  $(BIN)/ansible-test integration --local --python-interpreter $(BIN)/python --color no

molecule: tree
	@command -v sshd >/dev/null || test -x /usr/sbin/sshd || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null; }
	@if [ -d $(TREE)/extensions/molecule ] && ls $(TREE)/extensions/molecule/*/molecule.yml >/dev/null 2>&1; then \
	  cd $(TREE)/extensions && for s in $$(ls molecule/*/molecule.yml | cut -d/ -f2 | grep -v '^default$$'); do $(BIN)/molecule test -s $$s; done; \
	else echo "no molecule scenarios yet"; fi

lint: tree
	cd $(TREE) && $(BIN)/ansible-lint --profile production

# What is shipped is what is tested: build the tarball, install it in a temporary path, check the
# execution environment definition against it, and run the rotation from there by FQCN.
build-test: tree
	rm -rf $(BUILD)/dist $(BUILD)/installed $(BUILD)/ee && mkdir -p $(BUILD)/dist $(BUILD)/ee
	cd $(TREE) && $(BIN)/ansible-galaxy collection build --output-path $(BUILD)/dist
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed $(BIN)/ansible-galaxy collection install --offline --force -p $(BUILD)/installed $(BUILD)/dist/keyops-auth0-*.tar.gz
	cp $(TREE)/docs/awx/execution-environment.yml $(TREE)/docs/awx/requirements.yml $(BUILD)/dist/keyops-auth0-*.tar.gz $(BUILD)/ee/
	cd $(BUILD)/ee && $(BIN)/ansible-builder create -f execution-environment.yml -c context --output-filename Containerfile >/dev/null
	grep -q 'keyops-auth0-1.0.0.tar.gz' $(BUILD)/ee/context/_build/requirements.yml
	grep -q 'ansible-galaxy' $(BUILD)/ee/context/Containerfile
	$(BIN)/ansible-builder introspect --sanitize $(BUILD)/installed | tee $(BUILD)/ee/introspect.txt | grep -q httpx
	grep -q cryptography $(BUILD)/ee/introspect.txt
	cd $(TREE) && ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed $(BIN)/python tests/utils/demo.py --playbook keyops.auth0.rotate
	cd $(TREE) && ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed $(BIN)/python tests/utils/awx_runner_check.py

test: sanity units coverage emulator-test integration molecule lint build-test
	@echo "make test: all suites passed"

demo: tree
	cd $(TREE) && $(BIN)/python tests/utils/demo.py

# The benchmark (issue 6): the role against a hand-written uri playbook, 400 ms latency, 16/s limit.
# make bench BENCH_ARGS=--quick measures 1 and 10 clients only. See docs/performance.md.
bench: venv
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

# CHANGELOG.md from changelogs/fragments (antsibull-changelog reads the plugins' docs through ansible-doc).
changelog: tree
	ANSIBLE_COLLECTIONS_PATH=$(BUILD) $(BIN)/antsibull-changelog generate

clean:
	rm -rf $(BUILD) tests/output
