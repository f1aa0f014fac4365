# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""POST /oauth/token: client secrets and Private Key JWT assertions, each claim rule."""

import base64
import json
import time
import uuid

import jwt
import pytest


@pytest.fixture
def pk(emu, keys):
    """A client with credentials A (RS256, enabled), B (PS256, enabled) and C (RS256, not enabled)."""
    client = emu.new_client('pkjwt')
    client_id = client['client_id']
    creds = [emu.add_credential(client_id, keys[0], name='A').json(),
             emu.add_credential(client_id, keys[1], name='B', alg='PS256').json(),
             emu.add_credential(client_id, keys[2], name='C').json()]
    assert emu.enable(client_id, creds[0]['id'], creds[1]['id']).status_code == 200
    emu.grant(client_id, scope=['read:clients', 'read:client_credentials'])
    return {'client_id': client_id, 'secret': client['client_secret'], 'creds': creds, 'keys': keys[:3]}


def refused(response, status=401, error='invalid_client'):
    """True when the answer is the token endpoint's error of that status."""
    body = response.json()
    return response.status_code == status and body['error'] == error and set(body) == {'error', 'error_description'}


def test_assertion_with_and_without_kid_gives_a_working_token(emu, pk):
    for kid in (pk['creds'][0]['kid'], None):
        response = emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id'], kid=kid))
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {'access_token', 'token_type', 'expires_in', 'scope'}
        assert body['token_type'] == 'Bearer' and body['expires_in'] == 86400
        assert body['scope'] == 'read:clients read:client_credentials'
        assert emu.api('GET', '/api/v2/clients', token=body['access_token']).status_code == 200
        assert emu.api('POST', '/api/v2/clients', token=body['access_token'], json={'name': 'x'}).status_code == 403


def test_ps256_credential_and_json_body(emu, pk):
    assertion = emu.assertion(pk['keys'][1], pk['client_id'], kid=pk['creds'][1]['kid'], alg='PS256')
    response = emu.http.post('/oauth/token', json={'grant_type': 'client_credentials', 'audience': emu.management_audience,
                                                   'client_assertion_type': 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
                                                   'client_assertion': assertion, 'client_id': pk['client_id']})
    assert response.status_code == 200, response.text


def test_alg_must_match_the_credential(emu, pk):
    # key A is registered as RS256: the same key signing RS384 or PS256 is refused
    for alg in ('RS384', 'PS256'):
        assert refused(emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id'], kid=pk['creds'][0]['kid'], alg=alg)))
        assert refused(emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id'], alg=alg)))


def test_hs256_and_none_are_refused(emu, pk):
    hs = jwt.encode({'iss': pk['client_id'], 'sub': pk['client_id'], 'aud': emu.url + '/', 'iat': int(time.time()),
                     'exp': int(time.time()) + 60, 'jti': uuid.uuid4().hex}, pk['secret'], algorithm='HS256')
    assert refused(emu.assertion_token(hs))

    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b'=').decode()
    claims = {'iss': pk['client_id'], 'sub': pk['client_id'], 'aud': emu.url + '/', 'iat': int(time.time()),
              'exp': int(time.time()) + 60, 'jti': uuid.uuid4().hex}
    assert refused(emu.assertion_token('%s.%s.' % (part({'alg': 'none'}), part(claims))))
    assert refused(emu.assertion_token('not-a-jwt'))


def test_wrong_kid_disabled_and_expired_credentials(emu, pk):
    assert refused(emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id'], kid='no-such-kid-here')))
    # C is registered but not in private_key_jwt: refused with or without its kid
    assert refused(emu.assertion_token(emu.assertion(pk['keys'][2], pk['client_id'], kid=pk['creds'][2]['kid'])))
    assert refused(emu.assertion_token(emu.assertion(pk['keys'][2], pk['client_id'])))
    # key A announcing B's kid
    assert refused(emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id'], kid=pk['creds'][1]['kid'])))
    past = emu.api('PATCH', '/api/v2/clients/%s/credentials/%s' % (pk['client_id'], pk['creds'][0]['id']),
                   json={'expires_at': '2020-01-01T00:00:00Z'})
    assert past.status_code == 200
    assert refused(emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id'])))
    # B still works
    assert emu.assertion_token(emu.assertion(pk['keys'][1], pk['client_id'], alg='PS256')).status_code == 200


def test_credential_expiring_later_stops_working_when_the_clock_passes(emu, pk):
    future = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() + 3600))
    emu.api('PATCH', '/api/v2/clients/%s/credentials/%s' % (pk['client_id'], pk['creds'][0]['id']), json={'expires_at': future})
    assert emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id'])).status_code == 200
    emu.admin('POST', 'config', json={'clock_offset': 3700})
    now = int(time.time()) + 3700
    assert refused(emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id'], iat=now)))


@pytest.mark.parametrize('aud', ['/oauth/token', '', 'https://elsewhere.example/'])
def test_aud_must_be_the_tenant_url_with_slash(emu, pk, aud):
    value = emu.url + aud if aud.startswith('/') or aud == '' else aud
    assert refused(emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id'], aud=value)))


def test_exp_rules(emu, pk):
    key, client_id = pk['keys'][0], pk['client_id']
    assert emu.assertion_token(emu.assertion(key, client_id, lifetime=300)).status_code == 200
    assert refused(emu.assertion_token(emu.assertion(key, client_id, lifetime=301)))
    assert refused(emu.assertion_token(emu.assertion(key, client_id, iat=int(time.time()) - 120, lifetime=60)))
    now = int(time.time())
    no_exp = jwt.encode({'iss': client_id, 'sub': client_id, 'aud': emu.url + '/', 'iat': now, 'jti': uuid.uuid4().hex}, key, algorithm='RS256')
    assert refused(emu.assertion_token(no_exp))


def test_iat_and_nbf_skew(emu, pk):
    key, client_id = pk['keys'][0], pk['client_id']
    now = int(time.time())
    assert emu.assertion_token(emu.assertion(key, client_id, iat=now + 5)).status_code == 200
    assert refused(emu.assertion_token(emu.assertion(key, client_id, iat=now + 30)))
    assert refused(emu.assertion_token(emu.assertion(key, client_id, nbf=now + 30)))
    assert emu.assertion_token(emu.assertion(key, client_id, nbf=now + 5)).status_code == 200


def test_jti_rules(emu, pk):
    key, client_id = pk['keys'][0], pk['client_id']
    jti = uuid.uuid4().hex
    assert emu.assertion_token(emu.assertion(key, client_id, jti=jti)).status_code == 200
    assert refused(emu.assertion_token(emu.assertion(key, client_id, jti=jti)))
    assert refused(emu.assertion_token(emu.assertion(key, client_id, jti='j' * 65)))
    assert emu.assertion_token(emu.assertion(key, client_id, jti='j' * 64)).status_code == 200
    now = int(time.time())
    no_jti = jwt.encode({'iss': client_id, 'sub': client_id, 'aud': emu.url + '/', 'iat': now, 'exp': now + 60}, key, algorithm='RS256')
    assert refused(emu.assertion_token(no_jti))


def test_iss_sub_and_client_id(emu, pk):
    key, client_id = pk['keys'][0], pk['client_id']
    assert refused(emu.assertion_token(emu.assertion(key, client_id, sub='someone-else')))
    assert refused(emu.assertion_token(emu.assertion(key, client_id), client_id=emu.ready['management_client_id']))
    assert emu.assertion_token(emu.assertion(key, client_id), client_id=client_id).status_code == 200


def test_assertion_size_limit(emu, pk):
    key, client_id = pk['keys'][0], pk['client_id']
    small = emu.assertion(key, client_id)
    pad = 2048 - len(small) - 12  # the "pad" claim adds ~4/3 of its length plus a few bytes

    def with_pad(length):
        return emu.assertion(key, client_id, pad='x' * length)
    length = max(0, pad * 3 // 4)
    while len(with_pad(length)) > 2048:
        length -= 1
    fits = with_pad(length)
    assert len(fits) <= 2048
    assert emu.assertion_token(fits).status_code == 200
    while len(with_pad(length)) <= 2048:
        length += 1
    assert refused(emu.assertion_token(with_pad(length)))


def test_empty_list_means_no_usable_key(emu, pk):
    emu.api('PATCH', '/api/v2/clients/%s' % pk['client_id'], json={'client_authentication_methods': {'private_key_jwt': {'credentials': []}}})
    assert refused(emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id'])))


def test_secret_refused_while_private_key_jwt_is_on(emu, pk):
    assert refused(emu.secret_token(pk['client_id'], pk['secret']))


def test_grant_needed_for_the_audience(emu, pk):
    emu.grant(emu.ready['management_client_id'], 'https://api.example.com/')  # the API exists: another client has a grant
    response = emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id']), audience='https://api.example.com/')
    assert refused(response, 403, 'access_denied')
    assert 'client-grant' in response.json()['error_description']
    # no API has this identifier: not a missing grant, the service is not found
    unknown = emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id']), audience='https://nothing.example.com/api/v2/')
    assert refused(unknown, 403, 'access_denied')
    assert unknown.json()['error_description'] == 'Service not found: https://nothing.example.com/api/v2/'
    no_audience = emu.http.post('/oauth/token', data={'grant_type': 'client_credentials', 'client_id': emu.ready['management_client_id'],
                                                      'client_secret': emu.ready['management_client_secret']})
    assert refused(no_audience, 403, 'access_denied')
    assert refused(emu.secret_token(scope='read:clients create:things'), 403, 'access_denied')
    narrowed = emu.secret_token(scope='read:clients')
    assert narrowed.status_code == 200 and narrowed.json()['scope'] == 'read:clients'


def test_secret_errors(emu):
    assert refused(emu.secret_token(client_secret='wrong' * 13))
    assert refused(emu.secret_token(client_id='nobody'))
    assert refused(emu.http.post('/oauth/token', data={'grant_type': 'password'}), 400, 'unsupported_grant_type')
    assert refused(emu.http.post('/oauth/token', data={}), 400, 'invalid_request')


def test_grants_are_counted_by_client_and_kid(emu, pk):
    emu.admin('POST', 'stats/reset')
    kid_a = pk['creds'][0]['kid']
    emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id']))
    emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id'], kid=kid_a))
    emu.assertion_token(emu.assertion(pk['keys'][0], pk['client_id'], lifetime=999))
    emu.assertion_token(emu.assertion(pk['keys'][2], pk['client_id'], kid=pk['creds'][2]['kid']))
    grants = emu.admin('GET', 'stats').json()['token_grants']
    assert grants['by_client'][pk['client_id']] == {'accepted': 2, 'refused': 2}
    assert grants['by_kid'][kid_a] == {'accepted': 2, 'refused': 1}
    assert grants['by_kid'][pk['creds'][2]['kid']] == {'accepted': 0, 'refused': 1}
    log = emu.admin('GET', 'log').json()
    token_entries = [e for e in log if e['route'] == '/oauth/token']
    assert [e['status'] for e in token_entries] == [200, 200, 401, 401]
    assert all(e['client_id'] == pk['client_id'] for e in token_entries)
    text = json.dumps(log)
    assert 'eyJ' not in text and pk['secret'] not in text
