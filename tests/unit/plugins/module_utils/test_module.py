# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.keyops.auth0.plugins.module_utils import _module
from ansible_collections.keyops.auth0.plugins.modules import auth0_client_credential_info as info
from ansible_collections.keyops.auth0.tests.unit.utils import CLIENT, CLIENT_PATH, CREDS_PATH, client_with


def test_argument_spec_secrets_are_no_log_and_have_env():
    spec = _module.auth0_argument_spec()
    for name in ('auth0_client_secret', 'auth0_client_assertion_private_key', 'auth0_token'):
        assert spec[name]['no_log'] is True
    envs = sorted(spec[n]['fallback'][1][0] for n in spec if 'fallback' in spec[n])
    assert envs == sorted(['AUTH0_DOMAIN', 'AUTH0_CLIENT_ID', 'AUTH0_CLIENT_SECRET', 'AUTH0_API_TOKEN',
                           'AUTH0_CLIENT_ASSERTION_PRIVATE_KEY', 'AUTH0_CLIENT_ASSERTION_SIGNING_ALG', 'AUTH0_CA_PATH',
                           'AUTH0_AUDIENCE'])
    assert 'no_log' not in spec['auth0_audience'] and spec['auth0_audience']['type'] == 'str'


def test_environment_fallbacks(api, run_module, monkeypatch, keys):
    monkeypatch.delenv('AUTH0_AUDIENCE', raising=False)
    monkeypatch.setenv('AUTH0_DOMAIN', 'env.example.com:8443')
    monkeypatch.setenv('AUTH0_CLIENT_ID', 'env-id')
    monkeypatch.setenv('AUTH0_CLIENT_ASSERTION_PRIVATE_KEY', keys['two']['private'])
    monkeypatch.setenv('AUTH0_CLIENT_ASSERTION_SIGNING_ALG', 'RS384')

    def check(request):
        assert request.url.host == 'env.example.com' and request.url.port == 8443
        form = api.form(request)
        assert form['client_id'] == 'env-id' and form['audience'] == 'https://env.example.com:8443/api/v2/'
        assert 'client_assertion' in form

    api.token(check=check).expect('GET', CLIENT_PATH, body=client_with(None)).expect('GET', CREDS_PATH, body=[])
    result = run_module(info, {'client_id': CLIENT}, connection=False)
    assert result['clients'][0]['credentials'] == []
    assert keys['two']['private'] not in str(result)
    api.done()


def test_env_token_wins(api, run_module, monkeypatch):
    monkeypatch.setenv('AUTH0_API_TOKEN', 'env-token')
    api.expect('GET', CLIENT_PATH, body=client_with(None),
               check=lambda r: r.headers['authorization'] == 'Bearer env-token' or pytest.fail('auth'))
    api.expect('GET', CREDS_PATH, body=[])
    args = {'client_id': CLIENT, 'auth0_domain': 'tenant.example.com', 'auth0_client_id': 'x', 'auth0_client_secret': 'y'}
    result = run_module(info, args, connection=False)
    assert not result.get('failed')
    api.done()


CANONICAL = 'https://acme.eu.auth0.com/api/v2/'


def test_auth0_audience_from_the_environment_behind_a_custom_domain(api, run_module, monkeypatch, keys):
    monkeypatch.setenv('AUTH0_DOMAIN', 'login.example.com:443')
    monkeypatch.setenv('AUTH0_AUDIENCE', CANONICAL)
    monkeypatch.setenv('AUTH0_CLIENT_ID', 'env-id')
    monkeypatch.setenv('AUTH0_CLIENT_ASSERTION_PRIVATE_KEY', keys['one']['private'])
    seen = []
    api.token(check=lambda r: seen.append(api.form(r))).expect('GET', CLIENT_PATH, body=client_with(None))
    api.expect('GET', CREDS_PATH, body=[])
    result = run_module(info, {'client_id': CLIENT}, connection=False)
    assert not result.get('failed'), result
    assert seen[0]['audience'] == CANONICAL
    assert all(r.url.host == 'login.example.com' and r.url.port is None for r in api.requests)
    api.done()


def test_auth0_audience_option_wins_over_the_environment(api, run_module, monkeypatch):
    monkeypatch.setenv('AUTH0_AUDIENCE', 'https://from-env.example.com/api/v2/')
    api.token(check=lambda r: api.form(r)['audience'] == CANONICAL or pytest.fail(api.form(r)['audience']))
    api.expect('GET', CLIENT_PATH, body=client_with(None)).expect('GET', CREDS_PATH, body=[])
    result = run_module(info, {'client_id': CLIENT, 'auth0_audience': CANONICAL})
    assert not result.get('failed'), result
    api.done()


@pytest.mark.parametrize('args, names', [
    ({'auth0_audience': 'acme.eu.auth0.com/api/v2/'}, ['auth0_audience', 'not an https URL', '/api/v2/']),
    ({'auth0_audience': 'http://acme.eu.auth0.com/api/v2/'}, ['auth0_audience', 'not an https URL']),
    ({'auth0_domain': 'https://login.example.com/api/v2/'}, ['auth0_domain', 'has a path', 'with no path']),
    ({'auth0_domain': 'login.example.com/tenant', 'auth0_audience': CANONICAL}, ['auth0_domain', 'has a path']),
])
def test_bad_domain_or_audience_fails_before_any_call(api, run_module, monkeypatch, args, names):
    monkeypatch.delenv('AUTH0_AUDIENCE', raising=False)
    result = run_module(info, dict({'client_id': CLIENT}, **args))
    assert result['failed']
    for name in names:
        assert name in result['msg'], result['msg']
    assert api.requests == []
    assert 'mgmt-secret' not in str(result)


def test_an_empty_audience_variable_counts_as_unset(api, run_module, monkeypatch):
    _awx_env(monkeypatch, AUTH0_AUDIENCE='')
    api.token(check=lambda r: api.form(r)['audience'] == 'https://tenant.example.com/api/v2/' or pytest.fail('aud'))
    api.expect('GET', CLIENT_PATH, body=client_with(None)).expect('GET', CREDS_PATH, body=[])
    result = run_module(info, {'client_id': CLIENT}, connection=False)
    assert not result.get('failed'), result
    api.done()


def test_missing_domain(api, run_module):
    result = run_module(info, {'client_id': CLIENT}, connection=False)
    assert result['failed'] and 'auth0_domain' in result['msg']


@pytest.mark.parametrize('args, message', [
    ({'auth0_domain': 'http://acme.example.com'}, 'plain http'),
    ({'timeout': 0}, 'timeout'),
    ({'retries': -1}, 'retries'),
    ({'auth0_client_secret': None}, 'No management access'),
])
def test_configuration_errors(api, run_module, args, message):
    full = {'client_id': CLIENT, 'auth0_domain': 'tenant.example.com', 'auth0_client_id': 'mgmt',
            'auth0_client_secret': 'mgmt-secret'}
    full.update(args)
    result = run_module(info, full, connection=False)
    assert result['failed'] and message in result['msg']
    assert 'mgmt-secret' not in str(result)
    api.done()


def test_auth0_error_becomes_fail_json(api, run_module):
    api.token().expect('GET', CLIENT_PATH, 404, {'statusCode': 404, 'error': 'Not Found',
                                                 'message': 'The client does not exist', 'errorCode': 'inexistent_client'})
    result = run_module(info, {'client_id': CLIENT})
    assert result['failed']
    assert result['api_error'] == {'status': 404, 'error': 'Not Found', 'error_code': 'inexistent_client',
                                   'message': 'The client does not exist', 'method': 'GET', 'path': CLIENT_PATH}
    assert result['msg'].startswith('Auth0 API call GET %s failed: 404' % CLIENT_PATH)


def _awx_env(monkeypatch, **values):
    """The environment an AWX custom credential injects: every AUTH0_* variable, unused ones empty."""
    env = {'AUTH0_DOMAIN': 'tenant.example.com', 'AUTH0_CLIENT_ID': 'env-id', 'AUTH0_CLIENT_SECRET': 'env-secret',
           'AUTH0_API_TOKEN': '', 'AUTH0_CLIENT_ASSERTION_PRIVATE_KEY': '',
           'AUTH0_CLIENT_ASSERTION_SIGNING_ALG': '', 'AUTH0_CA_PATH': '', 'AUTH0_AUDIENCE': ''}
    env.update(values)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_empty_env_values_count_as_unset_secret_is_used(api, run_module, monkeypatch):
    _awx_env(monkeypatch)

    def check(request):
        form = api.form(request)
        assert form['client_id'] == 'env-id' and form['client_secret'] == 'env-secret'
        assert 'client_assertion' not in form

    api.token(check=check).expect('GET', CLIENT_PATH, body=client_with(None),
                                  check=lambda r: r.headers['authorization'] == 'Bearer mgmt-token' or pytest.fail('auth'))
    api.expect('GET', CREDS_PATH, body=[])
    result = run_module(info, {'client_id': CLIENT}, connection=False)
    assert not result.get('failed'), result
    assert [r.url.path for r in api.requests].count('/oauth/token') == 1
    assert 'env-secret' not in str(result)
    api.done()


def test_empty_env_ca_path_uses_system_cas(api, run_module, monkeypatch):
    _awx_env(monkeypatch, AUTH0_CLIENT_ASSERTION_SIGNING_ALG='RS256')
    seen = {}
    real_init = _module.Auth0Client.__init__

    def spy(self, domain, **kwargs):
        seen.update(kwargs)
        real_init(self, domain, **kwargs)

    monkeypatch.setattr(_module.Auth0Client, '__init__', spy)
    api.token().expect('GET', CLIENT_PATH, body=client_with(None)).expect('GET', CREDS_PATH, body=[])
    result = run_module(info, {'client_id': CLIENT}, connection=False)
    assert not result.get('failed'), result
    assert seen['ca_path'] is None and seen['token'] is None and seen['private_key'] is None
    assert seen['validate_certs'] is True
    api.done()


def test_empty_env_does_not_hide_missing_domain(api, run_module, monkeypatch):
    _awx_env(monkeypatch, AUTH0_DOMAIN='')
    result = run_module(info, {'client_id': CLIENT}, connection=False)
    assert result['failed'] and 'auth0_domain' in result['msg']
