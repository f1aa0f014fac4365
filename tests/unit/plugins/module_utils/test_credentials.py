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
