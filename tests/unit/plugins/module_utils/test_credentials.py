# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import pytest

from ansible_collections.keyops.auth0.plugins.module_utils import _credentials as creds

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize('value, expected', [
    ('2027-01-31', '2027-01-31T00:00:00.000Z'),
    ('2027-01-31T10:20', '2027-01-31T10:20:00.000Z'),
    ('2027-01-31T10:20:30Z', '2027-01-31T10:20:30.000Z'),
    ('2027-01-31 10:20:30.123456z', '2027-01-31T10:20:30.123Z'),
    ('2027-01-31T10:20:30,5+02:00', '2027-01-31T08:20:30.500Z'),
    ('2027-01-31T10:20:30-0130', '2027-01-31T11:50:30.000Z'),
    ('2027-01-31T10:20:30+05', '2027-01-31T05:20:30.000Z'),
    (datetime.datetime(2027, 1, 31, 10, 20), '2027-01-31T10:20:00.000Z'),
])
def test_parse_and_format(value, expected):
    assert creds.format_datetime(creds.parse_datetime(value)) == expected


@pytest.mark.parametrize('value', ['tomorrow', '2027-13-01', '2027-02-30T00:00:00Z', '', None, '2027-01-31T25:00'])
def test_parse_refused(value):
    with pytest.raises(ValueError, match='ISO 8601|not a valid date'):
        creds.parse_datetime(value)


def test_normalize_expires_at():
    assert creds.normalize_expires_at('2027-01-01', now=NOW) == '2027-01-01T00:00:00.000Z'
    with pytest.raises(ValueError, match='not in the future'):
        creds.normalize_expires_at('2026-06-01T11:59:59Z', now=NOW)
    assert creds.normalize_expires_at('2999-01-01')


def test_same_instant():
    assert creds.same_instant('2027-01-01T00:00:00Z', '2027-01-01T00:00:00.000Z')
    assert creds.same_instant(None, None) and creds.same_instant('', None)
    assert not creds.same_instant('2027-01-01', None)
    assert not creds.same_instant('2027-01-01', '2027-01-02')
    assert creds.same_instant('junk', 'junk') and not creds.same_instant('junk', '2027-01-01')


def test_days_until():
    assert creds.days_until(None, NOW) is None
    assert creds.days_until('junk', NOW) is None
    assert creds.days_until('2026-06-11T12:00:00Z', NOW) == 10
    assert creds.days_until('2026-06-11T11:59:59Z', NOW) == 9
    assert creds.days_until('2026-05-31T12:00:00Z', NOW) == -1
    assert isinstance(creds.days_until('2999-01-01'), int)


CREDS = [
    {'id': 'cred_a', 'kid': 'kid_aaaaaaaaaa', 'name': 'same'},
    {'id': 'cred_b', 'kid': 'kid_bbbbbbbbbb', 'name': 'same'},
    {'id': 'cred_c', 'kid': 'cred_a', 'name': 'kid_bbbbbbbbbb'},
]


@pytest.mark.parametrize('ref, expected', [
    ('cred_a', 'cred_a'),                       # id before kid
    ('kid_bbbbbbbbbb', 'cred_b'),               # kid before name
    ({'kid': 'cred_a'}, 'cred_c'),
    ({'name': 'kid_bbbbbbbbbb'}, 'cred_c'),
    ({'id': 'cred_b', 'kid': None}, 'cred_b'),
])
def test_resolve_reference(ref, expected):
    assert creds.resolve_reference(ref, CREDS)['id'] == expected


@pytest.mark.parametrize('ref, message', [
    ('same', 'ambiguous: 2 credentials have the name'),
    ('nothing', 'No credential of the client matches'),
    ({'id': 'x', 'kid': 'y'}, 'exactly one'),
    ({'other': 'x'}, 'exactly one'),
    ({}, 'exactly one'),
    ('', 'non-empty string'),
    (7, 'non-empty string'),
])
def test_resolve_reference_errors(ref, message):
    with pytest.raises(creds.CredentialReferenceError, match=message):
        creds.resolve_reference(ref, CREDS)


def test_views():
    assert creds.reference_view({'id': 'a', 'kid': 'b', 'name': 'c', 'alg': 'RS256'}) == {'id': 'a', 'kid': 'b', 'name': 'c'}
    assert creds.describe_reference({'kid': 'k', 'name': None}) == 'kid=k'


def test_enabled_credentials():
    assert creds.enabled_credentials({}) == (None, [])
    assert creds.enabled_credentials(None) == (None, [])
    assert creds.enabled_credentials({'client_authentication_methods': {'foo': {}}}) == (None, [])
    body = {'client_authentication_methods': {'tls_client_auth': {'credentials': [{'id': 'a'}, 'junk']}}}
    assert creds.enabled_credentials(body) == ('tls_client_auth', ['a'])


def test_describe_client_round_trip():
    client = {'client_id': 'c1', 'name': 'app', 'token_endpoint_auth_method': None,
              'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': 'cred_b'}]}}}
    listed = [{'id': 'cred_a', 'kid': 'ka', 'name': 'a', 'expires_at': '2026-06-11T12:00:00.000Z', 'pem': 'x'},
              {'id': 'cred_b', 'kid': 'kb', 'name': 'b'}]
    described = creds.describe_client(client, listed, now=NOW)
    assert described['authentication_method'] == 'private_key_jwt'
    assert [(c['id'], c['enabled'], c['method'], c['days_until_expiry']) for c in described['credentials']] == [
        ('cred_a', False, None, 10), ('cred_b', True, 'private_key_jwt', None)]
    assert 'pem' not in described['credentials'][0]
    rebuilt, credentials = creds.client_from_description(described, 'c1')
    assert creds.enabled_credentials(rebuilt) == ('private_key_jwt', ['cred_b'])
    assert [c['id'] for c in credentials] == ['cred_a', 'cred_b'] and 'enabled' not in credentials[0]
    assert creds.describe_client(rebuilt, credentials, now=NOW) == described


def test_client_from_description_secret_and_empty_list():
    secret = {'client_id': 'c1', 'authentication_method': 'client_secret_post', 'credentials': [{'id': 'cred_a'}]}
    client, dummy = creds.client_from_description(secret, 'c1')
    assert client['client_authentication_methods'] is None
    assert client['token_endpoint_auth_method'] == 'client_secret_post'
    empty = {'client_id': 'c1', 'authentication_method': 'private_key_jwt', 'credentials': []}
    client, dummy = creds.client_from_description(empty, 'c1')
    assert creds.enabled_credentials(client) == ('private_key_jwt', [])


@pytest.mark.parametrize('described, message', [
    ('text', 'A client description must be a client as auth0_client_credential_info returns it'),
    ({'client_id': 'c1'}, 'A client description must be a client'),
    ({'client_id': 'other', 'credentials': []}, "The client description is of client 'other', not c1"),
    ({'client_id': 'c1', 'credentials': [{'name': 'x'}]}, 'The client description has a credential without an id'),
    ({'client_id': 'c1', 'authentication_method': 'client_secret_post', 'credentials': [{'id': 'a', 'enabled': True}]},
     'lists enabled credentials but its authentication_method is'),
])
def test_client_from_description_rejects(described, message):
    with pytest.raises(ValueError, match=message):
        creds.client_from_description(described, 'c1')


# -- credentials used elsewhere (issue 15, item 8) -------------------------------------------------------------

def test_client_fields_carry_every_field_that_lists_credential_ids():
    """Management API v2 reference: the client fields whose schema holds CredentialId items are the three
    credential methods of client_authentication_methods and signed_request_object (JAR)."""
    assert set(creds.CREDENTIAL_USES) == {'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth',
                                          'signed_request_object'}
    assert {'client_authentication_methods', 'signed_request_object'} <= set(creds.CLIENT_FIELDS)


def test_credential_uses_looks_at_every_list():
    client = {'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': 'a'}, {'id': 'b'}]},
                                                'tls_client_auth': {'credentials': [{'id': 'c'}, 'junk', {}]}},
              'signed_request_object': {'required': True, 'credentials': [{'id': 'b'}, {'id': 'd'}]}}
    assert creds.credential_uses(client) == {'a': ['private_key_jwt'], 'b': ['private_key_jwt', 'signed_request_object'],
                                             'c': ['tls_client_auth'], 'd': ['signed_request_object']}
    assert creds.credential_uses({'client_authentication_methods': None, 'signed_request_object': None}) == {}
    assert creds.credential_uses({'signed_request_object': {'required': False}}) == {}
    assert creds.credential_uses(None) == {}


def test_describe_client_reports_a_jar_credential_as_used():
    client = {'client_id': 'c1', 'name': 'app', 'token_endpoint_auth_method': None,
              'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': 'cred_b'}]}},
              'signed_request_object': {'required': False, 'credentials': [{'id': 'cred_j'}, {'id': 'cred_b'}]}}
    listed = [{'id': 'cred_a', 'kid': 'ka'}, {'id': 'cred_b', 'kid': 'kb'}, {'id': 'cred_j', 'kid': 'kj'}]
    described = creds.describe_client(client, listed, now=NOW)
    assert [(c['id'], c['enabled'], c['method'], c['in_use'], c['used_by']) for c in described['credentials']] == [
        ('cred_a', False, None, False, []),
        ('cred_b', True, 'private_key_jwt', True, ['private_key_jwt', 'signed_request_object']),
        ('cred_j', False, None, True, ['signed_request_object'])]
    rebuilt, credentials = creds.client_from_description(described, 'c1')
    assert creds.credential_uses(rebuilt) == creds.credential_uses(client)
    assert creds.describe_client(rebuilt, credentials, now=NOW) == described


# -- what a refusal of the token endpoint proves (issue 15, item 2) ----------------------------------------------

@pytest.mark.parametrize('status, error, description, expected', [
    (403, 'access_denied', 'Client is not authorized to access "https://t.eu.auth0.com/api/v2/". You need to create a '
                           '"client-grant" associated to this API.', 'missing_grant'),
    (403, 'access_denied', 'Client is not authorized to access "https://t/api/v2/". You might probably want to create '
                           'a "client-grant" associated to this API.', 'missing_grant'),
    (403, 'access_denied', 'Client has not been granted scopes: read:things', 'missing_grant'),
    (403, 'access_denied', 'Unauthorized', 'refused'),
    (403, 'access_denied', 'Access Denied', 'refused'),
    (403, 'access_denied', None, 'refused'),
    (403, 'access_denied', 'No audience parameter was provided, and no default audience has been configured', 'refused'),
    (401, 'access_denied', 'Client has not been granted scopes: x', 'refused'),
    (403, 'unauthorized_client', "Grant type 'client_credentials' not allowed for the client.", 'refused'),
    (401, 'invalid_client', 'Invalid client assertion signature', 'refused'),
    (403, 'Rate limit reached', 'Access Denied', 'throttled'),
    (429, 'too_many_requests', 'Global limit has been reached', 'throttled'),
    (429, None, None, 'throttled'),
    (403, 'api_limit', 'x', 'throttled'),
    (503, 'Service Unavailable', 'x', 'refused'),
    (None, 'timeout', 'No answer (ReadTimeout); giving up.', 'refused'),
    (403, 'access_denied', 'Service not found: https://login.example.com/api/v2/', 'no_service'),
    (401, 'invalid_client', 'Service not found: x', 'refused'),
])
def test_token_refusal(status, error, description, expected):
    assert creds.token_refusal(status, error, description) == expected


def test_token_failure_names_the_throttling():
    text = creds.token_failure(['throttled', 'throttled'], 2, '403 Rate limit reached: Access Denied')
    assert text.startswith('no proof after 2 attempts: the token endpoint throttled the request (rate limit) on every attempt')
    assert text.endswith('Last answer: 403 Rate limit reached: Access Denied')
    assert 'on 1 of them, the last included' in creds.token_failure(['refused', 'throttled'], 2, 'x')
    text = creds.token_failure(['throttled', 'refused'], 2, '401 invalid_client')
    assert '(1 of them throttled by the rate limit)' in text and 'missing client grant' in text
    assert 'throttl' not in creds.token_failure(['refused'], 1, 'x') and 'after 1 attempt:' in creds.token_failure(['refused'], 1, 'x')
