# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.keyops.auth0.plugins.modules import auth0_client_auth_methods as module
from ansible_collections.keyops.auth0.tests.unit.utils import CLIENT, CLIENT_PATH, CREDS_PATH, client_with, credential

CREDS = [credential('cred_1', 'kid_1111111111', 'k1'), credential('cred_2', 'kid_2222222222', 'k2'),
         credential('cred_3', 'kid_3333333333', 'k3'), credential('cred_4', 'kid_4444444444', 'k2')]
FIELDS = {'fields': 'client_id,name,client_authentication_methods,token_endpoint_auth_method,signed_request_object',
          'include_fields': 'true'}


def reads(api, client):
    api.token().expect('GET', CLIENT_PATH, body=client, params=FIELDS).expect('GET', CREDS_PATH, body=CREDS)


def patch_body(api, expected):
    return lambda r: api.json(r) == expected or pytest.fail('body %r' % api.json(r))


def test_exact_rotation_four_ways(api, run_module):
    args = {'client_id': CLIENT, 'credentials': ['cred_1', {'kid': 'kid_3333333333'}], 'state': 'exact'}
    reads(api, client_with(['cred_1', 'cred_2']))
    result = run_module(module, args, check=True, diff=True)
    assert result['changed'] and result['method'] == 'private_key_jwt'
    assert result['before'] == [{'id': 'cred_1', 'kid': 'kid_1111111111', 'name': 'k1'},
                                {'id': 'cred_2', 'kid': 'kid_2222222222', 'name': 'k2'}]
    assert [c['id'] for c in result['after']] == ['cred_1', 'cred_3']
    assert result['diff']['before']['method'] == 'private_key_jwt'

    reads(api, client_with(['cred_1', 'cred_2']))
    api.expect('PATCH', CLIENT_PATH, body={}, check=patch_body(api, {'client_authentication_methods': {
        'private_key_jwt': {'credentials': [{'id': 'cred_1'}, {'id': 'cred_3'}]}}}))
    assert run_module(module, args)['changed']
    for check in (False, True):
        reads(api, client_with(['cred_3', 'cred_1']))
        result = run_module(module, args, check=check, diff=True)
        assert not result['changed'] and result['before'] == result['after']
        assert result['diff']['before'] == result['diff']['after']
    api.done()


def test_present_and_absent(api, run_module):
    reads(api, client_with(['cred_1']))
    api.expect('PATCH', CLIENT_PATH, body={}, check=patch_body(api, {'client_authentication_methods': {
        'private_key_jwt': {'credentials': [{'id': 'cred_1'}, {'id': 'cred_3'}]}}}))
    assert run_module(module, {'client_id': CLIENT, 'credentials': ['k3']})['changed']
    reads(api, client_with(['cred_1', 'cred_3']))
    api.expect('PATCH', CLIENT_PATH, body={}, check=patch_body(api, {'client_authentication_methods': {
        'private_key_jwt': {'credentials': [{'id': 'cred_3'}]}}}))
    result = run_module(module, {'client_id': CLIENT, 'credentials': [{'id': 'cred_1'}, 'cred_gone'], 'state': 'absent'})
    assert result['changed'] and [c['id'] for c in result['after']] == ['cred_3']
    reads(api, client_with(['cred_3']))
    assert not run_module(module, {'client_id': CLIENT, 'credentials': ['cred_1'], 'state': 'absent'})['changed']
    api.done()


def test_present_over_cap_fails_before_write(api, run_module):
    reads(api, client_with(['cred_1', 'cred_2']))
    result = run_module(module, {'client_id': CLIENT, 'credentials': ['cred_3']})
    assert result['failed'] and 'at most 2' in result['msg'] and 'state=exact' in result['msg']
    api.done()


def test_three_references_fail_before_any_call(api, run_module):
    result = run_module(module, {'client_id': CLIENT, 'credentials': ['a', {'kid': 'b'}, {'name': 'c'}], 'state': 'exact'})
    assert result['failed'] and '3 credentials were given' in result['msg']
    assert api.requests == []


@pytest.mark.parametrize('refs, message', [
    ([{'id': 'a', 'kid': 'b'}], 'exactly one'),
    ([{'foo': 'a'}], 'exactly one'),
    ([''], 'non-empty string'),
    ([3], 'non-empty string'),
])
def test_bad_reference_shapes(api, run_module, refs, message):
    result = run_module(module, {'client_id': CLIENT, 'credentials': refs})
    assert result['failed'] and message in result['msg']
    assert api.requests == []


def test_empty_exact_refused_before_any_call(api, run_module):
    result = run_module(module, {'client_id': CLIENT, 'credentials': [], 'state': 'exact'})
    assert result['failed'] and 'allow_empty' in result['msg'] and api.requests == []


def test_absent_emptying_refused(api, run_module):
    reads(api, client_with(['cred_1']))
    result = run_module(module, {'client_id': CLIENT, 'credentials': ['cred_1'], 'state': 'absent'})
    assert result['failed'] and 'allow_empty' in result['msg']
    reads(api, client_with(['cred_1']))
    api.expect('PATCH', CLIENT_PATH, body={}, check=patch_body(api, {'client_authentication_methods': {
        'private_key_jwt': {'credentials': []}}}))
    result = run_module(module, {'client_id': CLIENT, 'credentials': ['cred_1'], 'state': 'absent', 'allow_empty': True})
    assert result['changed'] and result['after'] == []
    api.done()


@pytest.mark.parametrize('ref, message', [('k2', 'ambiguous'), ('nope', 'No credential')])
def test_unresolvable_references(api, run_module, ref, message):
    reads(api, client_with(['cred_1']))
    result = run_module(module, {'client_id': CLIENT, 'credentials': [ref]})
    assert result['failed'] and message in result['msg']
    api.done()


def test_ambiguous_is_an_error_for_absent_too(api, run_module):
    reads(api, client_with(['cred_1']))
    result = run_module(module, {'client_id': CLIENT, 'credentials': ['k2'], 'state': 'absent'})
    assert result['failed'] and 'ambiguous' in result['msg']


def test_secret_switch_needs_flag(api, run_module):
    args = {'client_id': CLIENT, 'credentials': ['cred_1'], 'state': 'exact'}
    reads(api, client_with(None, secret='client_secret_post'))
    result = run_module(module, args)
    assert result['failed'] and 'allow_secret_switch' in result['msg'] and 'client_secret_post' in result['msg']
    reads(api, client_with(None, secret='client_secret_post'))
    result = run_module(module, dict(args, allow_secret_switch=True), check=True, diff=True)
    assert result['changed'] and result['diff']['before'] == {'method': 'client_secret_post', 'credentials': []}
    reads(api, client_with(None, secret='client_secret_post'))
    api.expect('PATCH', CLIENT_PATH, body={}, check=patch_body(api, {
        'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': 'cred_1'}]}},
        'token_endpoint_auth_method': None}))
    assert run_module(module, dict(args, allow_secret_switch=True))['changed']
    reads(api, {'client_id': CLIENT, 'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': 'cred_1'}]}}})
    assert not run_module(module, dict(args, allow_secret_switch=True))['changed']
    api.done()


def test_other_method_switch_needs_flag(api, run_module):
    reads(api, client_with(['cred_2'], method='tls_client_auth'))
    result = run_module(module, {'client_id': CLIENT, 'credentials': ['cred_1']})
    assert result['failed'] and 'tls_client_auth' in result['msg']
    reads(api, client_with(['cred_2'], method='tls_client_auth'))
    result = run_module(module, {'client_id': CLIENT, 'credentials': ['cred_2'], 'method': 'tls_client_auth',
                                 'state': 'present'})
    assert not result['changed'] and result['method'] == 'tls_client_auth'


def test_nothing_to_remove_when_not_enabled(api, run_module):
    reads(api, client_with(None, secret='client_secret_basic'))
    result = run_module(module, {'client_id': CLIENT, 'credentials': ['cred_1'], 'state': 'absent'})
    assert not result['changed'] and result['before'] == [] and result['method'] == 'client_secret_basic'


def test_switch_back_to_secret(api, run_module):
    args = {'client_id': CLIENT, 'token_endpoint_auth_method': 'client_secret_post'}
    api.token().expect('GET', CLIENT_PATH, body=client_with(['cred_1'])).expect('GET', CREDS_PATH, body=CREDS)
    result = run_module(module, args, check=True, diff=True)
    assert result['changed'] and result['before'][0]['id'] == 'cred_1' and result['after'] == []
    assert result['diff']['after'] == {'method': 'client_secret_post', 'credentials': []}
    api.token().expect('GET', CLIENT_PATH, body=client_with(['cred_1'])).expect('GET', CREDS_PATH, body=CREDS)
    api.expect('PATCH', CLIENT_PATH, body={}, check=patch_body(api, {
        'client_authentication_methods': None, 'token_endpoint_auth_method': 'client_secret_post'}))
    assert run_module(module, args)['changed']
    api.token().expect('GET', CLIENT_PATH, body=client_with(None, secret='client_secret_post'))
    api.expect('GET', CREDS_PATH, body=CREDS)
    result = run_module(module, args)
    assert not result['changed'] and result['before'] == [] and result['method'] == 'client_secret_post'
    assert result['client']['authentication_method'] == 'client_secret_post'
    assert not any(c['enabled'] for c in result['client']['credentials'])
    api.done()


def test_credentials_and_secret_are_exclusive(api, run_module):
    result = run_module(module, {'client_id': CLIENT, 'credentials': ['a'], 'token_endpoint_auth_method': 'client_secret_post'})
    assert result['failed'] and 'mutually exclusive' in result['msg']


def test_a_credential_jar_uses_is_reported_as_used(api, run_module):
    """Removed from private_key_jwt, a credential that signed_request_object (JAR) lists is still in use."""
    jar = dict(client_with(['cred_1', 'cred_2']), signed_request_object={'required': False, 'credentials': [{'id': 'cred_2'}]})
    reads(api, jar)
    api.expect('PATCH', CLIENT_PATH, body={}, check=patch_body(api, {'client_authentication_methods': {
        'private_key_jwt': {'credentials': [{'id': 'cred_1'}]}}}))
    result = run_module(module, {'client_id': CLIENT, 'credentials': ['cred_2'], 'state': 'absent'})
    described = dict((c['id'], c) for c in result['client']['credentials'])
    assert described['cred_2']['enabled'] is False and described['cred_2']['in_use'] is True
    assert described['cred_2']['used_by'] == ['signed_request_object']
    assert described['cred_1']['used_by'] == ['private_key_jwt'] and described['cred_3']['in_use'] is False
    api.done()
