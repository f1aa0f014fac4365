# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Auth0 steps of a rotation for one client (module_utils/_engine.py), over the declared-calls fake."""

from __future__ import annotations

import base64
import datetime
import json

import pytest

from ansible_collections.keyops.auth0.plugins.module_utils import _engine
from ansible_collections.keyops.auth0.plugins.module_utils._client import Auth0Client, Auth0Error
from ansible_collections.keyops.auth0.plugins.module_utils._credentials import CLIENT_FIELDS, describe_client
from ansible_collections.keyops.auth0.tests.unit.utils import CLIENT, CLIENT_PATH, CREDS_PATH, DOMAIN, Api, client_with, credential

OLD = credential('cred_old', 'kid_old_0000000001', name='keyops-rotation-20250101T000000Z')
PREV = credential('cred_prev', 'kid_prev_000000001', name='keyops-rotation-20240101T000000Z')
FIELDS = {'fields': ','.join(CLIENT_FIELDS), 'include_fields': 'true'}
INVALID_CLIENT = {'error': 'invalid_client', 'error_description': 'Invalid client assertion signature'}
ACCESS_DENIED = {'error': 'access_denied', 'error_description': 'Client has not been granted scopes'}
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
    api = Api().expect('GET', CLIENT_PATH, body=client_with(['cred_old']), params=FIELDS)
    api.expect('GET', CREDS_PATH, body=[OLD])
    client, credentials = _engine.read_client(make(api), CLIENT)
    assert client['client_id'] == CLIENT and credentials == [OLD]
    described = describe_client(client, credentials)
    assert described['authentication_method'] == 'private_key_jwt'
    assert [(c['id'], c['enabled']) for c in described['credentials']] == [('cred_old', True)]
    api.done()


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
                                       [{'id': 'cred_prev'}, {'id': 'cred_spare'}], False, False)
    assert _engine.enabled_ids(client) == ['cred_old']
    assert credentials == [OLD]
    assert [r.method for r in api.requests] == ['PATCH', 'DELETE', 'DELETE']
    api.done()


def test_free_rereads_before_each_write_when_asked():
    api = Api().expect('GET', CLIENT_PATH, body=client_with(['cred_old']), params=FIELDS)
    api.expect('DELETE', CREDS_PATH + '/cred_prev', 204)
    # the enabled list read a moment ago says cred_prev is no longer enabled: no PATCH
    client, credentials = _engine.free(make(api), client_with(['cred_old', 'cred_prev']), [OLD, PREV],
                                       [{'id': 'cred_prev', 'enabled': True}], False, True)
    assert _engine.enabled_ids(client) == ['cred_old'] and credentials == [OLD]
    api.done()


def test_free_of_a_disabled_credential_needs_no_reread():
    api = Api().expect('DELETE', CREDS_PATH + '/cred_prev', 204)
    client, credentials = _engine.free(make(api), client_with(['cred_old']), [OLD, PREV], [{'id': 'cred_prev', 'enabled': False}],
                                       False, True)
    assert credentials == [OLD]
    api.done()


def test_free_in_check_mode_makes_no_call():
    api = Api()
    client, credentials = _engine.free(make(api), client_with(['cred_old', 'cred_prev']), [OLD, PREV],
                                       [{'id': 'cred_prev'}], True, True)
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
    assert slept == [0.5, 0.5]
    api.done()


def test_verify_returns_the_reason_after_the_last_attempt(keys):
    api = Api()
    for dummy in range(3):
        api.expect('POST', '/oauth/token', 401, INVALID_CLIENT, check=token_with_key(keys['one']['kid'], 'https://%s/api/v2/' % DOMAIN))
    reason = _engine.verify(make(api), CLIENT, keys['one']['private'], 'RS256', keys['one']['kid'], '', attempts=3)
    assert 'invalid_client' in reason and 'Invalid client assertion signature' in reason
    assert api.sleeps == [2.0, 2.0], 'the client\'s own sleep is used between attempts'
    api.done()


def test_verify_counts_access_denied_as_success(keys):
    api = Api().expect('POST', '/oauth/token', 403, ACCESS_DENIED)
    assert _engine.verify(make(api), CLIENT, keys['one']['private'], 'RS256', keys['one']['kid'], None) is None
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
    assert _engine.retire(make(api), client_with(['cred_old']), [OLD], [], False, True) == []
    assert api.requests == []


def test_retire_disables_all_in_one_patch_then_deletes_each():
    api = Api().expect('PATCH', CLIENT_PATH, body={}, check=body_is(enabled_body('cred_new')))
    api.expect('DELETE', CREDS_PATH + '/cred_old', 204)
    api.expect('DELETE', CREDS_PATH + '/cred_prev', 404, NOT_FOUND)  # gone already: that is the goal
    new = credential('cred_new', 'kid_new_0000000001')
    done = _engine.retire(make(api), client_with(['cred_old', 'cred_prev', 'cred_new']), [OLD, PREV, new],
                          [{'id': 'cred_old'}, {'id': 'cred_prev'}], False, False)
    assert [c['id'] for c in done] == ['cred_old', 'cred_prev']
    api.done()


def test_retire_rereads_and_skips_the_patch_when_nothing_retired_is_enabled():
    api = Api().expect('GET', CLIENT_PATH, body=client_with(['cred_new']), params=FIELDS)
    api.expect('DELETE', CREDS_PATH + '/cred_old', 204)
    done = _engine.retire(make(api), client_with(['cred_old', 'cred_new']), [OLD], [{'id': 'cred_old'}], False, True)
    assert [c['id'] for c in done] == ['cred_old']
    api.done()


def test_retire_stops_on_an_error_other_than_not_found():
    api = Api().expect('DELETE', CREDS_PATH + '/cred_old', 403, {'statusCode': 403, 'error': 'Forbidden',
                                                                 'message': 'Insufficient scope', 'errorCode': 'insufficient_scope'})
    with pytest.raises(Auth0Error, match='403 Forbidden') as info:
        _engine.retire(make(api), client_with(['cred_new']), [OLD], [{'id': 'cred_old'}, {'id': 'cred_prev'}], False, False)
    assert info.value.status == 403
    api.done()


def test_retire_in_check_mode_makes_no_call():
    api = Api()
    done = _engine.retire(make(api), client_with(['cred_old', 'cred_new']), [OLD], [{'id': 'cred_old'}], True, True)
    assert done == [{'id': 'cred_old'}]
    assert api.requests == []
