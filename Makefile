# keyops.auth0 development tasks. `make demo`, `make quick` and `make test` work on a fresh machine:
# each bootstraps .venv from the pinned requirements-dev.txt first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
BUILD := $(CURDIR)/build
export PATH := $(BIN):$(PATH)

# Every suite works in a copy of the collection of its own, build/SUITE/ansible_collections/keyops/auth0
# (the layout ansible-test needs), so suites running side by side share no file.
TREE = $(BUILD)/$@/ansible_collections/keyops/auth0
COLLECTIONS = $(BUILD)/$@
copy-tree = $(BIN)/python tests/utils/collection_tree.py $(BUILD)/$@ >/dev/null

# The oldest ansible-core that meta/runtime.yml claims: the core-floor suite runs the unit tests and a
# rotation through the role on it, from a venv of its own.
CORE_FLOOR := 2.15.13
FLOOR_VENV := $(CURDIR)/.venv-core-floor
SCENARIOS := $(patsubst extensions/molecule/%/molecule.yml,%,$(wildcard extensions/molecule/*/molecule.yml))
# make test runs these side by side, JOBS at once, in this order. On two cores the CPU they need together (940 to
# 1280 s from one run to the next here, the CPU column of make test's table) bounds the wall time, so only less
# work brings it down; the order decides the tail. Measured from fresh clones, three at a time: this order
# (integration, sanity, local_fleet, then integration-stores) took 10:32 of suites for 1077 CPU-s; the store suite
# first (its retries and windows make it a long chain) took 12:26 for 1280 CPU-s, with the fleets started late
# and ending the run; four at a time took 19 minutes on a machine that ran another test run too.
SUITES := integration sanity molecule-local_fleet integration-stores molecule-safety \
          $(filter-out molecule-local_fleet molecule-safety,$(addprefix molecule-,$(SCENARIOS))) \
          build-test core-floor lint units emulator-test
JOBS ?= 3

.PHONY: help venv system-deps ansible-test-bootstrap quick test sanity units emulator-test integration integration-stores molecule \
        lint build-test core-floor demo bench changelog clean

help:
	@echo "make demo     - rotate a fleet's key against the Auth0 emulator and report"
	@echo "make quick    - unit tests (branch coverage >= 90 %) and emulator tests, under a minute"
	@echo "make test     - every suite, $(JOBS) at once, then a table of their times and CPU seconds:"
	@echo "                $(SUITES)"
	@echo "make integration [TARGET=auth0_client_token]   make molecule [SCENARIO=local_fleet]"
	@echo "make venv     - only bootstrap .venv (with the auth0-emulator console script)"
	@echo "make bench    - the rotation benchmark (see docs/performance.md)"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt constraints-dev.txt tests/emulator/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints-dev.txt -e tests/emulator
	touch $@

# in two steps: make test builds the requirements beside .venv, and installs the emulator (editable, which writes
# its egg-info into tests/emulator) only after .venv's own editable install of it
$(FLOOR_VENV)/.requirements: tests/requirements-core-floor.txt
	test -x $(FLOOR_VENV)/bin/python || $(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/requirements-core-floor.txt
	touch $@

$(FLOOR_VENV)/.installed: $(FLOOR_VENV)/.requirements tests/emulator/pyproject.toml $(VENV)/.installed
	$(FLOOR_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e tests/emulator
	touch $@

# What the suites need from the system: shellcheck (sanity) and sshd (the ssh_fleet scenario).
system-deps:
	@missing=""; command -v shellcheck >/dev/null || missing="$$missing shellcheck"; \
	command -v sshd >/dev/null || test -x /usr/sbin/sshd || missing="$$missing openssh-server"; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

# ansible-test fetches a get-pip bootstrap script from a host this machine cannot reach:
# seed its cache with an offline stand-in for the pip version it pins and that pip's wheel (see
# tests/utils/get_pip_standin.py).
ansible-test-bootstrap: venv
	@version=$$($(BIN)/python -c "import re, ansible_test._internal.python_requirements as m, inspect; print(re.search(r\"pip='([^']+)'\", inspect.getsource(m.get_venv_packages)).group(1))"); \
	cache=$$HOME/.ansible/test/cache/get_pip_$${version//./_}.py; \
	mkdir -p $$(dirname $$cache); cp tests/utils/get_pip_standin.py $$cache; \
	wheel=$$(dirname $$cache)/pip-$$version-py3-none-any.whl; \
	$(BIN)/python -m zipfile -t $$wheel >/dev/null 2>&1 || { rm -f $$wheel; \
	  $(BIN)/python -m pip download --quiet --disable-pip-version-check --no-deps -d $$(dirname $$cache) pip==$$version \
	  || echo "no pip $$version wheel: the stand-in will install pip with ensurepip and an upgrade"; }; \
	echo "ansible-test pip $$version bootstrap: $$cache"
	@# the SSH key ansible-test makes on its first integration run: made here, once, so that the two integration
	@# suites that start together do not both make it (the second ssh-keygen would ask to overwrite and fail)
	@key=$$HOME/.ansible/test/id_rsa; test -e $$key || ssh-keygen -m PEM -q -t rsa -N '' -f $$key

# The inner loop: the unit tests with the branch-coverage gate, the emulator's and the test tools' tests.
quick: units emulator-test

# Every suite, side by side; the exit code is non-zero when one failed. The preparations run first,
# once, so that suites running at the same time never install into a shared place (core-floor's venv, which no
# other suite uses, is built beside .venv).
test:
	@# the two venvs and the system packages at once: each install waits on downloads as much as on a core
	$(MAKE) --no-print-directory -j3 venv $(FLOOR_VENV)/.requirements system-deps
	$(MAKE) --no-print-directory $(FLOOR_VENV)/.installed
	$(MAKE) --no-print-directory ansible-test-bootstrap
	$(BIN)/python tests/utils/suites.py --jobs $(JOBS) --make-option=-o --make-option=system-deps \
	  --make-option=-o --make-option=ansible-test-bootstrap $(SUITES)

sanity: venv system-deps ansible-test-bootstrap
	$(copy-tree)
	cd $(TREE) && $(BIN)/ansible-test sanity --python 3.11 --venv --color no

# The unit tests, with the branch-coverage gate, through pytest. They keep ansible-test's layout (ansible-test units
# --python 3.11 --venv runs them too), but ansible-test runs each test in a fork of its own in a venv it builds
# on every call: 1:50 and 150 s of CPU for what pytest does in 25 s. core-floor runs them on the oldest ansible-core.
units: venv
	$(copy-tree)
	cd $(TREE) && PYTHONPATH=$(COLLECTIONS) $(BIN)/pytest -q -p no:cacheprovider tests/unit \
	  --cov=plugins --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=90

emulator-test: venv
	$(BIN)/pytest -q -p no:cacheprovider tests/emulator/tests tests/utils

# make integration TARGET=auth0_client_token runs one target. Without TARGET, every target but the secret-store
# ones, which make integration-stores runs (with an emulator of its own) beside it: the two halves balance make test.
STORE_TARGETS := credential_rotation_vault credential_rotation_aws
integration: venv ansible-test-bootstrap
	$(copy-tree)
	cd $(TREE) && $(BIN)/python tests/utils/with_emulator.py --config tests/integration/integration_config.yml --tls --custom-domain localhost -- \
	  $(BIN)/ansible-test integration --local --python-interpreter $(BIN)/python --color no \
	  $(if $(TARGET),$(TARGET),$(addprefix --exclude ,$(STORE_TARGETS)))

integration-stores: venv ansible-test-bootstrap
	$(copy-tree)
	cd $(TREE) && $(BIN)/python tests/utils/with_emulator.py --config tests/integration/integration_config.yml --tls --custom-domain localhost -- \
	  $(BIN)/ansible-test integration --local --python-interpreter $(BIN)/python --color no $(STORE_TARGETS)

# make molecule SCENARIO=local_fleet runs one scenario; each runs in its own directory, on free ports.
molecule: $(addprefix molecule-,$(or $(SCENARIO),$(SCENARIOS)))

molecule-%: venv system-deps
	$(copy-tree)
	cd $(TREE)/extensions && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/python ../tests/utils/molecule_scenario.py $*

# ansible-lint also looks in ~/.ansible/collections and prefers a copy found there to the tree under test:
# it runs with a HOME of its own, so that only this tree's collection can be found.
lint: venv
	$(copy-tree)
	home=$$(mktemp -d) && trap 'rm -rf "$$home"' EXIT && \
	  cd $(TREE) && HOME=$$home ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/ansible-lint --profile production

# What is shipped is what is tested: build the tarball, install it in a temporary path, check the
# execution environment definition against it, and run the rotation from there through ansible-runner as AWX
# does (docs/awx/project imports keyops.auth0.rotate by FQCN). Then make demo, as a new user runs it: the dry run,
# the rotation and the verdict in that order, and no warning on stderr.
build-test: venv
	$(copy-tree)
	rm -rf $(COLLECTIONS)/dist $(COLLECTIONS)/installed $(COLLECTIONS)/ee && mkdir -p $(COLLECTIONS)/dist $(COLLECTIONS)/ee
	cd $(TREE) && $(BIN)/ansible-galaxy collection build --output-path $(COLLECTIONS)/dist
	$(BIN)/ansible-galaxy collection install --offline --force -p $(COLLECTIONS)/installed $(COLLECTIONS)/dist/keyops-auth0-*.tar.gz
	cp $(TREE)/docs/awx/execution-environment.yml $(TREE)/docs/awx/requirements.yml $(COLLECTIONS)/ee/
	cp $(COLLECTIONS)/dist/keyops-auth0-*.tar.gz $(COLLECTIONS)/ee/keyops-auth0.tar.gz
	cd $(COLLECTIONS)/ee && $(BIN)/ansible-builder create -f execution-environment.yml -c context --output-filename Containerfile >/dev/null
	$(BIN)/ansible-builder introspect --sanitize $(COLLECTIONS)/installed > $(COLLECTIONS)/ee/introspect.txt
	$(BIN)/python tests/utils/check_ee.py --context $(COLLECTIONS)/ee/context --introspect $(COLLECTIONS)/ee/introspect.txt \
	  --galaxy $(TREE)/galaxy.yml --python-requirement httpx --python-requirement cryptography \
	  --python-requirement hvac --python-requirement boto3 \
	  --base-image quay.io/centos/centos:stream9 --system-package openssh-clients --system-package python3.11
	cd $(TREE) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS)/installed $(BIN)/python tests/utils/awx_runner_check.py
	$(BIN)/python tests/utils/check_demo.py -- $(MAKE) --no-print-directory demo

# The unit tests and one rotation through the role (the demo) on the oldest ansible-core claimed.
core-floor: $(FLOOR_VENV)/.installed
	$(copy-tree)
	$(FLOOR_VENV)/bin/python -c 'import ansible.release; print("ansible-core", ansible.release.__version__)'
	cd $(TREE) && PYTHONPATH=$(COLLECTIONS) $(FLOOR_VENV)/bin/pytest -q -p no:cacheprovider tests/unit
	cd $(TREE) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(FLOOR_VENV)/bin/python tests/utils/demo.py

demo: venv
	$(copy-tree)
	cd $(TREE) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/python tests/utils/demo.py

# The benchmark (issue 6): the role against a hand-written uri playbook, 400 ms latency, 16/s limit.
# make bench BENCH_ARGS=--quick measures 1 and 10 clients only. See docs/performance.md.
bench: venv
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

# CHANGELOG.md from changelogs/fragments (antsibull-changelog reads the plugins' docs through ansible-doc).
changelog: venv
	$(copy-tree)
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/antsibull-changelog generate

clean:
	rm -rf $(BUILD) tests/output
