# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Auth0 steps of a rotation for one client (module_utils/_engine.py), over the declared-calls fake."""

from __future__ import annotations

import base64
import datetime
import json

import pytest

from ansible_collections.keyops.auth0.plugins.module_utils import _engine, _marker
from ansible_collections.keyops.auth0.plugins.module_utils._client import Auth0Client, Auth0Error
from ansible_collections.keyops.auth0.plugins.module_utils._credentials import describe_client
from ansible_collections.keyops.auth0.tests.unit.utils import CLIENT, CLIENT_PATH, CREDS_PATH, DOMAIN, Api, client_with, credential

OLD = credential('cred_old', 'kid_old_0000000001', name='keyops-rotation-20250101T000000Z')
PREV = credential('cred_prev', 'kid_prev_000000001', name='keyops-rotation-20240101T000000Z')
FIELDS = {'fields': 'client_id,name,client_authentication_methods,token_endpoint_auth_method,signed_request_object,'
                    'client_metadata', 'include_fields': 'true'}
MARKER = _marker.make('0123456789abcdef', '2026-06-01T00:00:00Z', 'controller-1', 4242)
INVALID_CLIENT = {'error': 'invalid_client', 'error_description': 'Invalid client assertion signature'}
ACCESS_DENIED = {'error': 'access_denied', 'error_description': 'Client has not been granted scopes: read:things'}
#: Auth0's wording when no client grant covers the audience (auth0/ruby-auth0 issue 610, 2024).
NO_GRANT = {'error': 'access_denied', 'error_description': 'Client is not authorized to access "https://%s/api/v2/". You '
            'need to create a "client-grant" associated to this API. See: '
            'https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants' % DOMAIN}
#: A throttled token request as public SDKs handle it (poap-xyz/poap-sdk pull request 221).
RATE_LIMIT_403 = {'error': 'Rate limit reached', 'error_description': 'Access Denied'}
TOO_MANY = {'error': 'too_many_requests', 'error_description': 'Global limit has been reached'}
NOT_FOUND = {'statusCode': 404, 'error': 'Not Found', 'message': 'The credential does not exist'}


def make(api):
    return Auth0Client(DOMAIN, token='mgmt-token', transport=api.transport, sleep=api.sleeps.append)


def enabled_body(*ids):
    return {'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': i} for i in ids]}}}


def body_is(expected):
    def check(request):
        assert Api.json(request) == expected
    return check


def test_read_client_asks_only_the_fields_it_uses():
    api = Api().expect('GET', CLIENT_PATH, body=dict(client_with(['cred_old']), client_metadata={_marker.KEY: MARKER}),
                       params=FIELDS)
    api.expect('GET', CREDS_PATH, body=[OLD])
    client, credentials = _engine.read_client(make(api), CLIENT)
    assert client['client_id'] == CLIENT and credentials == [OLD]
    assert client['client_metadata'] == {_marker.KEY: MARKER}, 'the run marker is read with the client'
    described = describe_client(client, credentials)
    assert described['authentication_method'] == 'private_key_jwt'
    assert [(c['id'], c['enabled']) for c in described['credentials']] == [('cred_old', True)]
    api.done()


def test_get_client_is_one_get_of_the_same_fields():
    api = Api().expect('GET', CLIENT_PATH, body=client_with(['cred_old']), params=FIELDS)
    assert _engine.get_client(make(api), CLIENT) == client_with(['cred_old'])
    api.done()


def test_write_marker_patches_only_the_marker_and_returns_the_client_auth0_answers():
    after = dict(client_with(['cred_old']), client_metadata={'team': 'billing', _marker.KEY: MARKER})
    api = Api().expect('PATCH', CLIENT_PATH, body=after, check=body_is({'client_metadata': {_marker.KEY: MARKER}}))
    assert _engine.write_marker(make(api), client_with(['cred_old']), MARKER, False) == after
    api.done()


def test_write_marker_none_removes_it_and_an_answer_without_a_client_applies_the_body():
    api = Api().expect('PATCH', CLIENT_PATH, 204, check=body_is({'client_metadata': {_marker.KEY: None}}))
    before = dict(client_with(['cred_old']), client_metadata={_marker.KEY: MARKER})
    after = _engine.write_marker(make(api), before, None, False)
    assert after == dict(client_with(['cred_old']), client_metadata={_marker.KEY: None})
    api.done()


def test_write_marker_in_check_mode_makes_no_call():
    api = Api()
    before = client_with(['cred_old'])
    assert _engine.write_marker(make(api), before, MARKER, True) is before
    assert api.requests == []


@pytest.mark.parametrize('client, credential_id, expected', [
    (client_with(['a', 'b']), 'b', True),
    (client_with(['a']), 'b', False),
    (client_with(['b'], method='tls_client_auth'), 'b', False),
    (client_with([]), None, False),
    (client_with(None, secret='client_secret_post'), 'b', False),
])
def test_is_enabled_means_enabled_for_private_key_jwt(client, credential_id, expected):
    assert _engine.is_enabled(client, credential_id) is expected


@pytest.mark.parametrize('client, expected', [
    (client_with(['a', 'b']), ['a', 'b']),
    (client_with(['a'], method='tls_client_auth'), []),
    (client_with(None, secret='client_secret_post'), []),
])
def test_enabled_ids_are_those_of_private_key_jwt(client, expected):
    assert _engine.enabled_ids(client) == expected


def test_set_enabled_patches_the_list_and_switches_from_a_secret():
    api = Api().expect('PATCH', CLIENT_PATH, body={}, check=body_is(dict(enabled_body('cred_new'), token_endpoint_auth_method=None)))
    before = client_with(None, secret='client_secret_post')
    after = _engine.set_enabled(make(api), before, ['cred_new'], False, switch_from_secret=True)
    assert _engine.enabled_ids(after) == ['cred_new'] and after['token_endpoint_auth_method'] is None
    api.done()


def test_set_enabled_returns_the_client_auth0_answers():
    """Auth0 answers a PATCH with the whole client: the next write starts from that, not from what was sent."""
    answer = dict(client_with(['cred_old', 'cred_new']), client_metadata={_marker.KEY: MARKER})
    api = Api().expect('PATCH', CLIENT_PATH, body=answer, check=body_is(enabled_body('cred_old', 'cred_new')))
    assert _engine.set_enabled(make(api), client_with(['cred_old']), ['cred_old', 'cred_new'], False) == answer
    api.done()


def test_set_enabled_can_remove_the_marker_in_the_same_patch():
    api = Api().expect('PATCH', CLIENT_PATH, body={},
                       check=body_is(dict(enabled_body('cred_new'), client_metadata={_marker.KEY: None})))
    after = _engine.set_enabled(make(api), client_with(['cred_old', 'cred_new']), ['cred_new'], False, release_marker=True)
    assert _engine.enabled_ids(after) == ['cred_new'] and _marker.of_client(after) is None
    api.done()


def test_set_enabled_in_check_mode_makes_no_call():
    api = Api()
    after = _engine.set_enabled(make(api), client_with(['cred_old']), ['cred_old', 'cred_new'], True)
    assert _engine.enabled_ids(after) == ['cred_old', 'cred_new']
    assert api.requests == []


def test_free_detaches_an_enabled_credential_before_deleting_it():
    api = Api().expect('PATCH', CLIENT_PATH, body={}, check=body_is(enabled_body('cred_old')))
    api.expect('DELETE', CREDS_PATH + '/cred_prev', 204)
    api.expect('DELETE', CREDS_PATH + '/cred_spare', 204)
    spare = credential('cred_spare', 'kid_spare_00000001')
    client, credentials = _engine.free(make(api), client_with(['cred_old', 'cred_prev']), [OLD, PREV, spare],
                                       [{'id': 'cred_prev'}, {'id': 'cred_spare'}], False)
    assert _engine.enabled_ids(client) == ['cred_old']
    assert credentials == [OLD]
    assert [r.method for r in api.requests] == ['PATCH', 'DELETE', 'DELETE']
    api.done()


def test_free_each_detaching_patch_starts_from_the_answer_of_the_previous_one():
    """Auth0's answer to the first PATCH says another writer enabled cred_x meanwhile: the second PATCH keeps it."""
    spare = credential('cred_spare', 'kid_spare_00000001')
    api = Api().expect('PATCH', CLIENT_PATH, body=client_with(['cred_spare', 'cred_x']), check=body_is(enabled_body('cred_spare')))
    api.expect('DELETE', CREDS_PATH + '/cred_prev', 204)
    api.expect('PATCH', CLIENT_PATH, body={}, check=body_is(enabled_body('cred_x')))
    api.expect('DELETE', CREDS_PATH + '/cred_spare', 204)
    client, credentials = _engine.free(make(api), client_with(['cred_prev', 'cred_spare']), [OLD, PREV, spare],
                                       [{'id': 'cred_prev'}, {'id': 'cred_spare'}], False)
    assert _engine.enabled_ids(client) == ['cred_x'] and credentials == [OLD]
    api.done()


def test_free_of_a_credential_the_fresh_client_does_not_enable_needs_no_patch():
    api = Api().expect('DELETE', CREDS_PATH + '/cred_prev', 204)
    client, credentials = _engine.free(make(api), client_with(['cred_old']), [OLD, PREV], [{'id': 'cred_prev', 'enabled': True}],
                                       False)
    assert credentials == [OLD] and _engine.enabled_ids(client) == ['cred_old']
    api.done()


def test_free_in_check_mode_makes_no_call():
    api = Api()
    client, credentials = _engine.free(make(api), client_with(['cred_old', 'cred_prev']), [OLD, PREV],
                                       [{'id': 'cred_prev'}], True)
    assert _engine.enabled_ids(client) == ['cred_old'] and credentials == [OLD]
    assert api.requests == []


def test_register_returns_an_existing_credential_with_the_same_kid_without_a_call():
    api = Api()
    found, credentials = _engine.register(make(api), client_with(['cred_old']), [OLD], 'keyops-rotation-x', 'PEM',
                                          OLD['kid'], 'RS256', 365, False)
    assert found is OLD and credentials == [OLD]
    assert api.requests == []


def test_register_posts_the_public_key_with_its_expiry():
    now = datetime.datetime(2026, 6, 1, 12, 30, tzinfo=datetime.timezone.utc)
    expected = {'credential_type': 'public_key', 'name': 'keyops-rotation-20260601T123000Z', 'pem': 'PUBLIC PEM',
                'kid': 'kid_new_0000000001', 'alg': 'PS256', 'expires_at': '2026-07-01T12:30:00.000Z'}
    created_body = credential('cred_new', 'kid_new_0000000001', name=expected['name'], alg='PS256')
    api = Api().expect('POST', CREDS_PATH, 201, created_body, check=body_is(expected))
    created, credentials = _engine.register(make(api), client_with(['cred_old']), [OLD], expected['name'], 'PUBLIC PEM',
                                            'kid_new_0000000001', 'PS256', '30', False, now=now)
    assert created == created_body and credentials == [OLD, created_body]
    api.done()


@pytest.mark.parametrize('days', [0, None])
def test_register_without_expiry(days):
    expected = {'credential_type': 'public_key', 'name': 'n', 'pem': 'P', 'kid': 'kid_new_0000000001', 'alg': 'RS256'}
    api = Api().expect('POST', CREDS_PATH, 201, credential('cred_new', 'kid_new_0000000001'), check=body_is(expected))
    created, dummy = _engine.register(make(api), client_with([]), [], 'n', 'P', 'kid_new_0000000001', 'RS256', days, False)
    assert created['id'] == 'cred_new'
    api.done()


def test_register_leaves_out_a_kid_that_is_the_thumbprint_of_the_key(keys):
    """Auth0 names a credential sent without a kid by its RFC 7638 thumbprint: no real client sends it."""
    expected = {'credential_type': 'public_key', 'name': 'n', 'pem': keys['one']['public'], 'alg': 'RS256'}
    answer = credential('cred_new', keys['one']['kid'])
    api = Api().expect('POST', CREDS_PATH, 201, answer, check=body_is(expected))
    created, credentials = _engine.register(make(api), client_with([]), [], 'n', keys['one']['public'],
                                            keys['one']['kid'], 'RS256', None, False)
    assert created['kid'] == keys['one']['kid'] and credentials == [answer]
    api.done()
    # and matched by that kid afterwards: a second registration of the same key makes no call
    again, dummy = _engine.register(make(Api()), client_with([]), credentials, 'n', keys['one']['public'],
                                    keys['one']['kid'], 'RS256', None, False)
    assert again is credentials[0]


def test_register_sends_a_kid_that_is_not_the_thumbprint(keys):
    expected = {'credential_type': 'public_key', 'name': 'n', 'pem': keys['one']['public'], 'alg': 'RS256',
                'kid': 'custom_kid_0000001'}
    api = Api().expect('POST', CREDS_PATH, 201, credential('cred_new', 'custom_kid_0000001'), check=body_is(expected))
    _engine.register(make(api), client_with([]), [], 'n', keys['one']['public'], 'custom_kid_0000001', 'RS256', None, False)
    api.done()


def test_register_finds_the_credential_a_lost_answer_created(keys):
    """No kid in the body: the read-back after an unknown outcome matches the thumbprint all the same."""
    created = credential('cred_new', keys['one']['kid'])
    api = Api().expect('POST', CREDS_PATH, 503, {'statusCode': 503, 'error': 'Service Unavailable', 'message': 'x'})
    api.expect('GET', CREDS_PATH, body=[OLD, created])
    found, credentials = _engine.register(make(api), client_with(['cred_old']), [OLD], 'n', keys['one']['public'],
                                          keys['one']['kid'], 'RS256', None, False)
    assert found == created and credentials == [OLD, created]
    api.done()


def test_register_raises_the_post_error_when_the_read_back_finds_nothing(keys):
    refused = {'statusCode': 400, 'error': 'Bad Request', 'message': 'Invalid pem', 'errorCode': 'invalid_body'}
    api = Api().expect('POST', CREDS_PATH, 400, refused)
    api.expect('GET', CREDS_PATH, body=[OLD])
    with pytest.raises(Auth0Error, match='Invalid pem'):
        _engine.register(make(api), client_with(['cred_old']), [OLD], 'n', keys['one']['public'], keys['one']['kid'],
                         'RS256', None, False)
    api.done()


def test_register_in_check_mode_makes_no_call():
    api = Api()
    created, credentials = _engine.register(make(api), client_with(['cred_old']), [OLD], 'n', 'P', 'kid_new_0000000001',
                                            'RS256', 365, True)
    assert created['id'] is None and created['kid'] == 'kid_new_0000000001' and created['expires_at'].endswith('Z')
    assert credentials == [OLD, created]
    assert api.requests == []


def token_with_key(kid, audience):
    """A token request of the client itself, signed by the key ``kid``."""
    def check(request):
        form = Api.form(request)
        assert form['client_id'] == CLIENT and form['audience'] == audience and 'client_secret' not in form
        head = form['client_assertion'].split('.')[0]
        assert json.loads(base64.urlsafe_b64decode(head + '=' * (-len(head) % 4)))['kid'] == kid
    return check


def test_verify_retries_invalid_client_then_succeeds(keys):
    api = Api()
    for dummy in range(2):
        api.expect('POST', '/oauth/token', 401, INVALID_CLIENT, check=token_with_key(keys['one']['kid'], 'https://api.example'))
    api.token('app-token', check=token_with_key(keys['one']['kid'], 'https://api.example'))
    slept = []
    reason = _engine.verify(make(api), CLIENT, keys['one']['private'], 'RS256', keys['one']['kid'], 'https://api.example',
                            delay=0.5, sleep=slept.append)
    assert reason is None
    assert slept == [0.5, 1.0], 'the wait doubles between attempts'
    api.done()


def test_verify_returns_the_reason_after_the_last_attempt(keys):
    api = Api()
    for dummy in range(3):
        api.expect('POST', '/oauth/token', 401, INVALID_CLIENT, check=token_with_key(keys['one']['kid'], 'https://%s/api/v2/' % DOMAIN))
    reason = _engine.verify(make(api), CLIENT, keys['one']['private'], 'RS256', keys['one']['kid'], '', attempts=3)
    assert 'invalid_client' in reason and 'Invalid client assertion signature' in reason
    assert 'no proof after 3 attempts' in reason and 'throttl' not in reason
    assert api.sleeps == [2.0, 4.0], 'the client\'s own sleep is used between attempts'
    api.done()


@pytest.mark.parametrize('answer', [ACCESS_DENIED, NO_GRANT, dict(NO_GRANT, error_description=NO_GRANT[
    'error_description'].replace('You need to', 'You might probably want to'))], ids=['scopes', 'no-grant', 'older-wording'])
def test_verify_counts_a_missing_grant_as_proof(keys, answer):
    api = Api().expect('POST', '/oauth/token', 403, answer)
    assert _engine.verify(make(api), CLIENT, keys['one']['private'], 'RS256', keys['one']['kid'], None) is None
    api.done()


@pytest.mark.parametrize('answer', [
    {'error': 'access_denied', 'error_description': 'Unauthorized'},  # auth0/node-auth0 issue 682
    {'error': 'access_denied', 'error_description': 'Access Denied'},
    {'error': 'access_denied'},
], ids=['unauthorized', 'access-denied', 'no-description'])
def test_verify_an_access_denied_that_names_no_missing_grant_is_no_proof(keys, answer):
    api = Api()
    for dummy in range(3):
        api.expect('POST', '/oauth/token', 403, answer)
    reason = _engine.verify(make(api), CLIENT, keys['one']['private'], 'RS256', keys['one']['kid'], None, attempts=3)
    assert reason is not None and 'no proof after 3 attempts' in reason and 'access_denied' in reason
    assert api.sleeps == [2.0, 4.0]
    api.done()


def test_verify_an_audience_no_api_has_fails_at_once_saying_what_to_set(keys):
    """Behind a custom domain without auth0_audience: "Service not found" will not change by asking again."""
    api = Api().expect('POST', '/oauth/token', 403, {'error': 'access_denied',
                                                     'error_description': 'Service not found: https://%s/api/v2/' % DOMAIN})
    reason = _engine.verify(make(api), CLIENT, keys['one']['private'], 'RS256', keys['one']['kid'], None)
    assert reason.startswith('Auth0 API call POST /oauth/token failed: 403 access_denied: Service not found: ')
    assert 'No API of the tenant has the identifier https://%s/api/v2/' % DOMAIN in reason
    assert 'set auth0_audience (or AUTH0_AUDIENCE)' in reason and api.sleeps == []
    api.done()


def test_verify_a_throttled_403_is_retried_and_never_proof(keys):
    """The 403 "Rate limit reached" passed the old check (any 403 but invalid_client): no more."""
    api = Api()
    for dummy in range(4):
        api.expect('POST', '/oauth/token', 403, RATE_LIMIT_403)
    reason = _engine.verify(make(api), CLIENT, keys['one']['private'], 'RS256', keys['one']['kid'], None)
    assert reason is not None
    assert 'throttled the request (rate limit) on every attempt' in reason and 'Rate limit reached' in reason
    assert 'no proof after 4 attempts' in reason
    assert api.sleeps == [2.0, 4.0, 8.0]
    api.done()


def test_verify_throttled_then_a_token_is_proof(keys):
    api = Api().expect('POST', '/oauth/token', 403, RATE_LIMIT_403)
    api.token('app-token')
    assert _engine.verify(make(api), CLIENT, keys['one']['private'], 'RS256', keys['one']['kid'], None) is None
    assert api.sleeps == [2.0]
    api.done()


def test_verify_429_until_the_retries_run_out_names_the_throttling(keys):
    api = Api()
    auth0 = Auth0Client(DOMAIN, token='mgmt-token', transport=api.transport, sleep=api.sleeps.append, retries=1)
    for dummy in range(2 * 2):  # the client's own retry of each 429, then verify's attempts
        api.expect('POST', '/oauth/token', 429, TOO_MANY)
    reason = _engine.verify(auth0, CLIENT, keys['one']['private'], 'RS256', keys['one']['kid'], None, attempts=2)
    assert 'throttled' in reason and 'rate limit' in reason and '429' in reason and 'Global limit' in reason
    api.done()


def test_verify_names_throttling_that_came_before_the_last_answer(keys):
    api = Api().expect('POST', '/oauth/token', 403, RATE_LIMIT_403)
    api.expect('POST', '/oauth/token', 401, INVALID_CLIENT)
    reason = _engine.verify(make(api), CLIENT, keys['one']['private'], 'RS256', keys['one']['kid'], None, attempts=2)
    assert '1 of them throttled by the rate limit' in reason and 'invalid_client' in reason
    api.done()


def test_verify_a_403_other_than_access_denied_is_a_failure(keys):
    api = Api()
    for dummy in range(2):
        api.expect('POST', '/oauth/token', 403, {'error': 'unauthorized_client', 'error_description': 'Grant type not allowed'})
    reason = _engine.verify(make(api), CLIENT, keys['one']['private'], 'RS256', keys['one']['kid'], None, attempts=2,
                            sleep=lambda s: None)
    assert 'unauthorized_client' in reason
    api.done()


def test_retire_nothing_makes_no_call():
    api = Api()
    assert _engine.retire(make(api), client_with(['cred_old']), [], False) == []
    assert api.requests == []


def test_retire_nothing_but_the_marker_removes_the_marker_alone():
    api = Api().expect('PATCH', CLIENT_PATH, body={}, check=body_is({'client_metadata': {_marker.KEY: None}}))
    assert _engine.retire(make(api), client_with(['cred_old']), [], False, release_marker=True) == []
    api.done()


def test_retire_disables_all_in_one_patch_then_deletes_each():
    api = Api().expect('PATCH', CLIENT_PATH, body={}, check=body_is(enabled_body('cred_new')))
    api.expect('DELETE', CREDS_PATH + '/cred_old', 204)
    api.expect('DELETE', CREDS_PATH + '/cred_prev', 404, NOT_FOUND)  # gone already: that is the goal
    done = _engine.retire(make(api), client_with(['cred_old', 'cred_prev', 'cred_new']),
                          [{'id': 'cred_old'}, {'id': 'cred_prev'}], False)
    assert [c['id'] for c in done] == ['cred_old', 'cred_prev']
    api.done()


def test_retire_removes_the_marker_in_the_disabling_patch():
    api = Api().expect('PATCH', CLIENT_PATH, body={},
                       check=body_is(dict(enabled_body('cred_new'), client_metadata={_marker.KEY: None})))
    api.expect('DELETE', CREDS_PATH + '/cred_old', 204)
    done = _engine.retire(make(api), client_with(['cred_old', 'cred_new']), [{'id': 'cred_old'}], False, release_marker=True)
    assert [c['id'] for c in done] == ['cred_old']
    api.done()


def test_retire_skips_the_patch_when_the_fresh_client_enables_nothing_retired():
    api = Api().expect('DELETE', CREDS_PATH + '/cred_old', 204)
    done = _engine.retire(make(api), client_with(['cred_new']), [{'id': 'cred_old'}], False)
    assert [c['id'] for c in done] == ['cred_old']
    api.done()


def test_retire_with_nothing_retired_enabled_removes_the_marker_in_a_patch_of_its_own():
    api = Api().expect('PATCH', CLIENT_PATH, body={}, check=body_is({'client_metadata': {_marker.KEY: None}}))
    api.expect('DELETE', CREDS_PATH + '/cred_old', 204)
    done = _engine.retire(make(api), client_with(['cred_new']), [{'id': 'cred_old'}], False, release_marker=True)
    assert [c['id'] for c in done] == ['cred_old']
    api.done()


def test_retire_stops_on_an_error_other_than_not_found():
    api = Api().expect('DELETE', CREDS_PATH + '/cred_old', 403, {'statusCode': 403, 'error': 'Forbidden',
                                                                 'message': 'Insufficient scope', 'errorCode': 'insufficient_scope'})
    with pytest.raises(Auth0Error, match='403 Forbidden') as info:
        _engine.retire(make(api), client_with(['cred_new']), [{'id': 'cred_old'}, {'id': 'cred_prev'}], False)
    assert info.value.status == 403
    api.done()


def test_retire_in_check_mode_makes_no_call():
    api = Api()
    done = _engine.retire(make(api), client_with(['cred_old', 'cred_new']), [{'id': 'cred_old'}], True, release_marker=True)
    assert done == [{'id': 'cred_old'}]
    done = _engine.retire(make(api), client_with(['cred_new']), [{'id': 'cred_old'}], True, release_marker=True)
    assert done == [{'id': 'cred_old'}]
    assert api.requests == []
