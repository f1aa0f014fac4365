# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures: a declared-calls HTTP fake, a module runner, test keys (see utils.py)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible.module_utils import basic

from ansible_collections.keyops.auth0.plugins.module_utils import _keys
from ansible_collections.keyops.auth0.plugins.module_utils._module import Auth0Module
from ansible_collections.keyops.auth0.tests.unit.utils import DOMAIN, Api, ModuleExit, patch_module_args


_REAL_RSA_GENERATE = rsa.generate_private_key
# RSA keys made once, when the tests are collected. ansible-test runs each unit test in a fork of its own, where a
# fixture's keys, even a session fixture's, would be made again for every test: key generation was most of the
# unit tests' time there (0.3 s a test). A test asking for RSA keys gets these, distinct ones within the test, and
# new ones once they run out. FIXED backs the keys fixture, apart from the pool.
_POOL = dict((size, [_REAL_RSA_GENERATE(public_exponent=65537, key_size=size) for dummy in range(count)])
             for size, count in ((2048, 6), (3072, 2)))
_FIXED = [_REAL_RSA_GENERATE(public_exponent=65537, key_size=2048) for dummy in range(2)]


@pytest.fixture(autouse=True)
def pooled_rsa_keys(monkeypatch):
    """rsa.generate_private_key hands out the pool's keys of that size, each once a test, then new ones."""
    handed = {}

    def generate(public_exponent, key_size, backend=None):  # pylint: disable=unused-argument
        pool = _POOL.get(key_size) if public_exponent == 65537 else None
        index = handed[key_size] = handed.get(key_size, -1) + 1
        if pool and index < len(pool):
            return pool[index]
        return _REAL_RSA_GENERATE(public_exponent=public_exponent, key_size=key_size)

    monkeypatch.setattr(rsa, 'generate_private_key', generate)


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
    for name, key in zip(('one', 'two'), _FIXED):
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode('ascii')
        made[name] = {'private': private, 'public': _keys.public_key_pem(private),
                      'kid': _keys.kid_for_public_key(private)}
    return made
