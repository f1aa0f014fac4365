# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures: a declared-calls HTTP fake, a module runner, test keys (see utils.py)."""

from __future__ import annotations

import pytest

from ansible.module_utils import basic

from ansible_collections.keyops.auth0.plugins.module_utils import _keys
from ansible_collections.keyops.auth0.plugins.module_utils._module import Auth0Module
from ansible_collections.keyops.auth0.tests.unit.utils import DOMAIN, Api, ModuleExit, patch_module_args


@pytest.fixture
def api(monkeypatch):
    fake = Api()
    monkeypatch.setattr(Auth0Module, 'client_options', {'transport': fake.transport, 'sleep': fake.sleeps.append})
    for name in ('AUTH0_DOMAIN', 'AUTH0_CLIENT_ID', 'AUTH0_CLIENT_SECRET', 'AUTH0_API_TOKEN',
                 'AUTH0_CLIENT_ASSERTION_PRIVATE_KEY', 'AUTH0_CLIENT_ASSERTION_SIGNING_ALG', 'AUTH0_CA_PATH',
                 'AUTH0_AUDIENCE'):
        monkeypatch.delenv(name, raising=False)
    yield fake


@pytest.fixture
def run_module(monkeypatch):
    """run_module(module, args, check=False, diff=False) -> result dict (``failed`` set on fail_json)."""

    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def fail_json(self, **kwargs):
        raise ModuleExit(kwargs, True)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)

    def run(module, args, check=False, diff=False, connection=True):
        full = dict(args)
        if connection:
            full.setdefault('auth0_domain', DOMAIN)
            if 'auth0_token' not in full:
                full.setdefault('auth0_client_id', 'mgmt')
                full.setdefault('auth0_client_secret', 'mgmt-secret')
        full['_ansible_check_mode'] = check
        full['_ansible_diff'] = diff
        with patch_module_args(full):
            with pytest.raises(ModuleExit) as info:
                module.main()
        result = dict(info.value.result)
        if info.value.failed:
            result['failed'] = True
        return result

    return run


@pytest.fixture(scope='session')
def keys():
    """A few keys, made once: private/public PEM and kid of two 2048-bit RSA keys."""
    made = {}
    for name in ('one', 'two'):
        private = _keys.generate_private_key_pem(2048)
        made[name] = {'private': private, 'public': _keys.public_key_pem(private),
                      'kid': _keys.kid_for_public_key(private)}
    return made
