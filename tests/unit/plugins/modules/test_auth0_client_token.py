# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.keyops.auth0.plugins.modules import auth0_client_token as module
from ansible_collections.keyops.auth0.tests.unit.utils import CLIENT, DOMAIN


def jwt_part(token, index):
    part = token.split('.')[index]
    return json.loads(base64.urlsafe_b64decode(part + '=' * (-len(part) % 4)))


def test_private_key(api, run_module, keys):
    def check(request):
        form = api.form(request)
        assert form['audience'] == 'https://%s/api/v2/' % DOMAIN and form['client_id'] == CLIENT
        assert jwt_part(form['client_assertion'], 0) == {'alg': 'PS256', 'typ': 'JWT'}
        assert jwt_part(form['client_assertion'], 1)['aud'] == 'https://%s/' % DOMAIN

    api.token('app-token', check=check)
    result = run_module(module, {'client_id': CLIENT, 'private_key': keys['one']['private'], 'alg': 'PS256'},
                        check=True)
    assert not result['changed'] and result['kid'] == keys['one']['kid']
    assert result['token_type'] == 'Bearer' and 'access_token' not in result
    assert result['granted'] is True and result['attempts'] == 1
    assert 'app-token' not in json.dumps(result)
    api.done()


def test_secret_with_audience_and_return_token(api, run_module):
    api.token('app-token', check=lambda r: api.form(r)['audience'] == 'https://api.example.com/' or pytest.fail('aud'))
    result = run_module(module, {'client_id': CLIENT, 'client_secret': 's3cr3t', 'audience': 'https://api.example.com/',
                                 'return_token': True, 'auth0_token': 'ignored'})
    assert result['access_token'] == 'app-token' and 'kid' not in result
    assert result['audience'] == 'https://api.example.com/'
    api.done()


def test_without_client_id_the_management_client_of_the_connection_options(api, run_module):
    """ansible localhost -m keyops.auth0.auth0_client_token -a return_token=true with only AUTH0_* set."""
    def check(request):
        form = api.form(request)
        assert form['client_id'] == 'mgmt' and form['client_secret'] == 'mgmt-secret'
        assert form['audience'] == 'https://%s/api/v2/' % DOMAIN

    api.token('mgmt-token', check=check)
    result = run_module(module, {'return_token': True})
    assert result['client_id'] == 'mgmt' and result['access_token'] == 'mgmt-token' and result['granted'] is True
    assert 'mgmt-secret' not in json.dumps(result)
    api.done()


def test_without_client_id_a_management_private_key_signs(api, run_module, keys):
    def check(request):
        form = api.form(request)
        assert form['client_id'] == 'mgmt' and 'client_secret' not in form
        assert jwt_part(form['client_assertion'], 0)['alg'] == 'PS256'

    api.token('mgmt-token', check=check)
    result = run_module(module, {'auth0_client_secret': None, 'auth0_client_assertion_private_key': keys['one']['private'],
                                 'auth0_client_assertion_signing_alg': 'PS256'})
    assert result['client_id'] == 'mgmt' and result['kid'] == keys['one']['kid'] and 'access_token' not in result
    api.done()


@pytest.mark.parametrize('args, message', [
    ({'auth0_client_id': None}, 'client_id is not given, so the token is for the management client of the connection '
                                'options, and they name none'),
    ({'auth0_client_secret': None}, 'client_id is not given, so the token is for the management client'),
    ({'client_secret': 'x'}, 'client_secret needs client_id, the application it belongs to.'),
    ({'client_id': CLIENT}, 'client_id %s is given without its credentials' % CLIENT),
    ({'kid': 'custom_kid_1'}, 'kid is for the key of client_id; without client_id the management client'),
    ({'auth0_client_id': None, 'auth0_client_secret': None, 'auth0_token': 'eyJ.mgmt.token'},
     'client_id is not given, so the token is for the management client of the connection options; they give '
     'auth0_token (AUTH0_API_TOKEN), a Management API token, which names no client and cannot be exchanged'),
], ids=['no-management-client', 'no-management-secret', 'secret-without-client', 'client-without-credentials',
        'kid-without-client', 'only-a-management-token'])
def test_who_the_token_is_for_is_checked_before_any_request(api, run_module, args, message):
    result = run_module(module, args)
    assert result['failed'] and message in result['msg'] and api.requests == []


def test_a_bad_kid_is_named_as_the_kid_not_the_key(api, run_module, keys):
    result = run_module(module, {'client_id': CLIENT, 'private_key': keys['one']['private'], 'kid': 'short'})
    assert result['failed'] and result['msg'].startswith('kid: ') and api.requests == []


def test_given_kid_is_sent(api, run_module, keys):
    api.token(check=lambda r: jwt_part(api.form(r)['client_assertion'], 0)['kid'] == 'custom_kid_1' or pytest.fail('k'))
    result = run_module(module, {'client_id': CLIENT, 'private_key': keys['one']['private'], 'kid': 'custom_kid_1'})
    assert result['kid'] == 'custom_kid_1'


@pytest.mark.parametrize('which, message', [('public', 'private key'), ('bad_kid', 'kid must be')])
def test_bad_private_key(api, run_module, keys, which, message):
    args = {'client_id': CLIENT, 'private_key': keys['one']['private']}
    if which == 'public':
        args['private_key'] = keys['one']['public']
    else:
        args['kid'] = 'x'
    result = run_module(module, args)
    assert result['failed'] and message in result['msg'] and api.requests == []


def test_refused_exchange(api, run_module, keys):
    """A refused key is tried again (a new credential may take a moment to be seen), then fails."""
    for dummy in range(4):
        api.expect('POST', '/oauth/token', 401, {'error': 'invalid_client', 'error_description': 'Invalid signature'})
    result = run_module(module, {'client_id': CLIENT, 'private_key': keys['one']['private']})
    assert result['failed'] and 'invalid_client: Invalid signature' in result['msg']
    assert 'no proof after 4 attempts' in result['msg'] and 'throttl' not in result['msg']
    assert result['api_error']['error_code'] == 'invalid_client' and result['attempts'] == 4
    assert result['throttled'] is False and result['key_accepted'] is False
    assert api.sleeps == [2.0, 4.0, 8.0]
    assert keys['one']['private'] not in json.dumps(result)
    api.done()


@pytest.mark.parametrize('attempts, sleeps', [(1, []), (2, [2.0]), (5, [2.0, 4.0, 8.0, 16.0]), (7, [2.0, 4.0, 8.0, 16.0, 30.0, 30.0])])
def test_attempts_sets_how_many_token_requests_a_refused_key_gets(api, run_module, keys, attempts, sleeps):
    """attempts: 1 checks that a key is refused without waiting 14 s for nothing."""
    for dummy in range(attempts):
        api.expect('POST', '/oauth/token', 401, {'error': 'invalid_client', 'error_description': 'Invalid signature'})
    result = run_module(module, {'client_id': CLIENT, 'private_key': keys['one']['private'], 'attempts': attempts})
    assert result['failed'] and result['attempts'] == attempts and api.sleeps == sleeps
    assert 'no proof after %d attempt%s' % (attempts, '' if attempts == 1 else 's') in result['msg']
    api.done()


@pytest.mark.parametrize('attempts', [0, -3])
def test_attempts_below_one_is_refused_before_any_request(api, run_module, keys, attempts):
    result = run_module(module, {'client_id': CLIENT, 'private_key': keys['one']['private'], 'attempts': attempts})
    assert result['failed'] and result['msg'] == 'attempts is %d: give 1 or more (1 makes a single token request).' % attempts
    assert api.requests == []


def test_an_audience_no_api_has_fails_at_once(api, run_module, keys):
    api.expect('POST', '/oauth/token', 403, {'error': 'access_denied', 'error_description': 'Service not found: https://x/'})
    result = run_module(module, {'client_id': CLIENT, 'private_key': keys['one']['private'], 'audience': 'https://x/'})
    assert result['failed'] and result['attempts'] == 1 and api.sleeps == [] and result['key_accepted'] is False
    assert 'Service not found: https://x/. No API of the tenant has the identifier https://x/' in result['msg']
    api.done()


def test_a_refused_secret_fails_at_once(api, run_module):
    api.expect('POST', '/oauth/token', 401, {'error': 'access_denied', 'error_description': 'Unauthorized'})
    result = run_module(module, {'client_id': CLIENT, 'client_secret': 'wrong'})
    assert result['failed'] and result['attempts'] == 1 and api.sleeps == []
    api.done()


RATE_LIMIT_403 = {'error': 'Rate limit reached', 'error_description': 'Access Denied'}  # poap-xyz/poap-sdk PR 221
NO_GRANT = {'error': 'access_denied', 'error_description': 'Client is not authorized to access "https://api.example.com/". '
            'You need to create a "client-grant" associated to this API.'}


@pytest.mark.parametrize('credentials', ['private_key', 'client_secret'])
def test_throttled_until_the_attempts_run_out_fails_naming_the_throttling(api, run_module, keys, credentials):
    """A 403 "Rate limit reached" is no proof (the host check counted any 403 access_denied-like answer)."""
    for dummy in range(4):
        api.expect('POST', '/oauth/token', 403, RATE_LIMIT_403)
    args = {'client_id': CLIENT, 'private_key': keys['one']['private']} if credentials == 'private_key' else {
        'client_id': CLIENT, 'client_secret': 's3cr3t'}
    result = run_module(module, args)
    assert result['failed'] and result['throttled'] is True and result['key_accepted'] is False
    assert 'throttled the request (rate limit) on every attempt' in result['msg'] and 'Rate limit reached' in result['msg']
    assert result['api_error']['error'] == 'Rate limit reached' and result['attempts'] == 4
    assert api.sleeps == [2.0, 4.0, 8.0]
    api.done()


def test_429_then_a_token(api, run_module, keys):
    api.expect('POST', '/oauth/token', 429, {'error': 'too_many_requests', 'error_description': 'Global limit has been reached'})
    api.token('app-token')
    result = run_module(module, {'client_id': CLIENT, 'private_key': keys['one']['private'], 'retries': 0})
    assert not result.get('failed') and result['granted'] is True and result['attempts'] == 2
    assert result['token_type'] == 'Bearer'
    api.done()


def test_a_missing_grant_fails_at_once_as_a_proven_key(api, run_module, keys):
    api.expect('POST', '/oauth/token', 403, NO_GRANT)
    result = run_module(module, {'client_id': CLIENT, 'private_key': keys['one']['private'],
                                 'audience': 'https://api.example.com/'})
    assert result['failed'] and result['key_accepted'] is True and result['attempts'] == 1
    assert result['api_error']['error'] == 'access_denied' and api.sleeps == []
    api.done()


def test_accept_missing_grant_is_proof_without_a_token(api, run_module, keys):
    api.expect('POST', '/oauth/token', 403, NO_GRANT)
    result = run_module(module, {'client_id': CLIENT, 'private_key': keys['one']['private'], 'return_token': True,
                                 'audience': 'https://api.example.com/', 'accept_missing_grant': True})
    assert not result.get('failed') and not result['changed']
    assert result['granted'] is False and result['refusal'].startswith('Client is not authorized to access')
    assert 'access_token' not in result and 'token_type' not in result
    api.done()


@pytest.mark.parametrize('answer', [{'error': 'access_denied', 'error_description': 'Unauthorized'}, RATE_LIMIT_403],
                         ids=['other-access-denied', 'throttled'])
def test_accept_missing_grant_accepts_nothing_else(api, run_module, keys, answer):
    for dummy in range(4):
        api.expect('POST', '/oauth/token', 403, answer)
    result = run_module(module, {'client_id': CLIENT, 'private_key': keys['one']['private'], 'accept_missing_grant': True})
    assert result['failed'] and result['key_accepted'] is False and result['attempts'] == 4
    api.done()


def test_private_key_path_signs_with_the_file_and_never_echoes_the_key(api, monkeypatch, tmp_path, keys):
    """The module's arguments are echoed back (invocation) with only known secrets masked: a key read from a
    file must be masked too (it was not: -vvvv printed it, found by the ssh_fleet scenario's secret scan)."""
    from ansible.module_utils import basic
    from ansible.module_utils.common.parameters import remove_values
    from ansible_collections.keyops.auth0.tests.unit.utils import ModuleExit, patch_module_args

    key_file = tmp_path / 'app.key'
    key_file.write_text(keys['one']['private'])
    echoed = {}

    def exit_json(self, **kwargs):
        echoed['invocation'] = json.dumps(remove_values(self.params, self.no_log_values))
        raise ModuleExit(kwargs, False)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    api.token('app-token', check=lambda r: jwt_part(api.form(r)['client_assertion'], 1)['sub'] == CLIENT or pytest.fail('sub'))
    with patch_module_args({'client_id': CLIENT, 'private_key_path': str(key_file), 'auth0_domain': DOMAIN,
                            'auth0_token': 'ignored', '_ansible_check_mode': False, '_ansible_diff': False}):
        with pytest.raises(ModuleExit) as info:
            module.main()
    assert info.value.result['kid'] == keys['one']['kid']
    body = keys['one']['private'].splitlines()[1]
    assert body not in echoed['invocation'] and 'PRIVATE KEY' not in echoed['invocation']
    api.done()


def test_private_key_path_that_cannot_be_read(api, run_module, tmp_path):
    result = run_module(module, {'client_id': CLIENT, 'private_key_path': str(tmp_path / 'missing.key')})
    assert result['failed'] and 'private_key_path' in result['msg'] and 'cannot be read' in result['msg']
