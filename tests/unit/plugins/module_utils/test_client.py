# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import json

import httpx
import datetime

import pytest

from ansible_collections.keyops.auth0.plugins.module_utils import _client
from ansible_collections.keyops.auth0.plugins.module_utils._client import Auth0Client, Auth0Error, parse_domain
from ansible_collections.keyops.auth0.tests.unit.utils import CLIENT, CLIENT_PATH, CREDS_PATH, DOMAIN, Api, credential


def make(api, domain=DOMAIN, **kwargs):
    options = dict(client_id='mgmt', client_secret='mgmt-secret', transport=api.transport, sleep=api.sleeps.append,
                   clock=lambda: 1000.0)
    options.update(kwargs)
    return Auth0Client(domain, **options)


def claims_of(assertion):
    payload = assertion.split('.')[1]
    return json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))


NOT_FOUND = {'statusCode': 404, 'error': 'Not Found', 'message': 'The client does not exist',
             'errorCode': 'inexistent_client'}
RATE = {'statusCode': 429, 'error': 'Too Many Requests', 'message': 'Global limit has been reached',
        'errorCode': 'too_many_requests'}


@pytest.mark.parametrize('value, expected', [
    ('acme.eu.auth0.com', ('https://acme.eu.auth0.com', 'acme.eu.auth0.com')),
    ('  login.example.com/ ', ('https://login.example.com', 'login.example.com')),
    ('127.0.0.1:8443', ('https://127.0.0.1:8443', '127.0.0.1:8443')),
    ('https://127.0.0.1:8443/', ('https://127.0.0.1:8443', '127.0.0.1:8443')),
    ('http://localhost:8080', ('http://localhost:8080', 'localhost:8080')),
    ('http://127.9.9.9', ('http://127.9.9.9', '127.9.9.9')),
    ('http://[::1]:9000', ('http://[::1]:9000', '[::1]:9000')),
    # the scheme's default port is no part of the domain: it would leak into the audiences
    ('acme.eu.auth0.com:443', ('https://acme.eu.auth0.com', 'acme.eu.auth0.com')),
    ('https://login.example.com:443/', ('https://login.example.com', 'login.example.com')),
    ('http://localhost:80', ('http://localhost', 'localhost')),
    ('login.example.com:8443', ('https://login.example.com:8443', 'login.example.com:8443')),
])
def test_parse_domain(value, expected):
    assert parse_domain(value) == expected


@pytest.mark.parametrize('value, message', [
    ('', 'empty'),
    (None, 'empty'),
    ('http://acme.eu.auth0.com', 'plain http'),
    ('http://10.0.0.1:80', 'plain http'),
    ('ftp://acme', 'only https'),
    ('https://acme/api/v2', 'no path'),
    ('https://user:pw@acme', 'no path'),
    ('https://acme?x=1', 'no path'),
    ('https://acme:notaport', 'not a host'),
])
def test_parse_domain_refused(value, message):
    with pytest.raises(Auth0Error, match=message):
        parse_domain(value)


@pytest.mark.parametrize('value', ['acme.eu.auth0.com/api/v2/', 'https://login.example.com/tenant', 'acme:8443/x'])
def test_domain_with_a_path_names_the_option_and_the_fix(value):
    api = Api()
    with pytest.raises(Auth0Error) as info:
        make(api, domain=value)
    text = str(info.value)
    assert text.startswith("auth0_domain %r has a path" % value), text
    assert 'with no path' in text and 'auth0_audience' in text
    assert api.requests == []


def test_audiences():
    api = Api()
    client = make(api)
    assert client.management_audience == 'https://%s/api/v2/' % DOMAIN
    assert client.assertion_audience == 'https://%s/' % DOMAIN
    client.close()


CUSTOM = 'login.example.com'
CANONICAL = 'https://acme.eu.auth0.com/api/v2/'


def test_audience_option_is_the_management_token_audience():
    api = Api().token(check=lambda r: Api.form(r)['audience'] == CANONICAL or pytest.fail(Api.form(r)['audience']))
    api.expect('GET', CREDS_PATH, body=[])
    client = make(api, domain=CUSTOM, audience='  %s ' % CANONICAL)
    assert client.management_audience == CANONICAL
    assert client.assertion_audience == 'https://%s/' % CUSTOM
    assert client.list_credentials(CLIENT) == []
    assert api.requests[0].url.host == CUSTOM
    api.done()


def test_audience_default_is_unchanged_and_an_empty_one_is_unset():
    for value in (None, '', '  '):
        client = make(Api(), audience=value)
        assert client.management_audience == 'https://%s/api/v2/' % DOMAIN


def test_assertion_aud_is_the_custom_domain_not_the_audience(keys):
    """Behind a custom domain the assertion's aud is https://CUSTOM/ (where it is sent), the token's audience the
    canonical Management API identifier (auth0_audience)."""
    seen = []
    api = Api().token(check=lambda r: seen.append(Api.form(r)))
    client = make(api, domain='https://%s:443' % CUSTOM, client_secret=None, private_key=keys['one']['private'],
                  audience=CANONICAL)
    assert client.token == 'mgmt-token'
    (form,) = seen
    assert form['audience'] == CANONICAL
    claims = claims_of(form['client_assertion'])
    assert claims['aud'] == 'https://%s/' % CUSTOM and claims['iss'] == claims['sub'] == 'mgmt'
    api.done()


SERVICE_NOT_FOUND = {'error': 'access_denied', 'error_description': 'Service not found: https://%s/api/v2/' % CUSTOM}


def test_a_custom_domain_without_audience_says_to_set_it():
    """Through a custom domain the derived https://CUSTOM/api/v2/ is no API of the tenant: the error says what to set."""
    api = Api().expect('POST', '/oauth/token', 403, SERVICE_NOT_FOUND)
    with pytest.raises(Auth0Error) as info:
        make(api, domain=CUSTOM).list_credentials(CLIENT)
    text = str(info.value)
    assert text.startswith('Auth0 API call POST /oauth/token failed: 403 access_denied: Service not found: https://%s/api/v2/ '
                           '(no API of this tenant has the identifier https://%s/api/v2/, derived from auth0_domain %s.'
                           % (CUSTOM, CUSTOM, CUSTOM)), text
    assert 'set auth0_audience (or AUTH0_AUDIENCE)' in text
    # with the audience given, Auth0's answer is passed on as it is: the setting is there, its value is wrong
    api = Api().expect('POST', '/oauth/token', 403, SERVICE_NOT_FOUND)
    with pytest.raises(Auth0Error) as info:
        make(api, domain=CUSTOM, audience='https://%s/api/v2/' % CUSTOM).list_credentials(CLIENT)
    assert 'AUTH0_AUDIENCE' not in str(info.value)
    api.done()


def test_an_explicit_443_leaks_into_no_audience(keys):
    seen = []
    api = Api().token(check=lambda r: seen.append(Api.form(r)))
    client = make(api, domain='%s:443' % CUSTOM, client_secret=None, private_key=keys['one']['private'])
    assert client.management_audience == 'https://%s/api/v2/' % CUSTOM
    assert client.token == 'mgmt-token'
    assert seen[0]['audience'] == 'https://%s/api/v2/' % CUSTOM
    assert claims_of(seen[0]['client_assertion'])['aud'] == 'https://%s/' % CUSTOM
    assert api.requests[0].url.host == CUSTOM and api.requests[0].url.port is None
    api.done()


@pytest.mark.parametrize('value', [
    'http://acme.eu.auth0.com/api/v2/',
    'acme.eu.auth0.com/api/v2/',
    'https:///api/v2/',
    'https://acme.eu.auth0.com:notaport/api/v2/',
    'https://user:pw@acme.eu.auth0.com/api/v2/',
    'https://acme.eu.auth0.com/api v2/',
    'urn:auth0:management',
    42,
])
def test_an_audience_that_is_not_an_https_url_is_refused_before_any_call(value):
    api = Api()
    with pytest.raises(Auth0Error) as info:
        make(api, audience=value)
    text = str(info.value)
    assert text.startswith('auth0_audience %r is not an https URL' % (value,)), text
    assert 'AUTH0_AUDIENCE' in text and '/api/v2/' in text and 'leave it unset' in text
    assert api.requests == []


def test_one_token_for_many_calls_and_fields():
    api = Api().token(check=lambda r: Api.form(r) == {
        'grant_type': 'client_credentials', 'audience': 'https://%s/api/v2/' % DOMAIN,
        'client_id': 'mgmt', 'client_secret': 'mgmt-secret'} or pytest.fail('form'))
    api.expect('GET', CLIENT_PATH, body={'client_id': CLIENT},
               params={'fields': 'client_id,name', 'include_fields': 'true'},
               check=lambda r: r.headers['authorization'] == 'Bearer mgmt-token' or pytest.fail('auth'))
    api.expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1234567890')])
    client = make(api)
    assert client.get_client(CLIENT, fields=['client_id', 'name']) == {'client_id': CLIENT}
    assert client.list_credentials(CLIENT)[0]['id'] == 'cred_1'
    assert client.token_requests == 1
    api.done()


def test_given_token_means_no_token_request():
    api = Api().expect('GET', CREDS_PATH, body=[],
                       check=lambda r: r.headers['authorization'] == 'Bearer given' or pytest.fail('auth'))
    client = make(api, client_id=None, client_secret=None, token='given')
    assert client.list_credentials(CLIENT) == []
    assert client.token_requests == 0
    api.done()


def test_given_token_401_is_not_renewed():
    api = Api().expect('GET', CREDS_PATH, 401, {'statusCode': 401, 'error': 'Unauthorized', 'message': 'Invalid token.'})
    client = make(api, token='given')
    with pytest.raises(Auth0Error, match='401 Unauthorized: Invalid token') as info:
        client.list_credentials(CLIENT)
    assert info.value.status == 401 and 'given' not in str(info.value)
    api.done()


def test_expired_token_is_renewed_once():
    api = Api().token('first').expect('GET', CREDS_PATH, 401, {'statusCode': 401, 'message': 'Expired token.'})
    api.token('second').expect('GET', CREDS_PATH, body=[],
                               check=lambda r: r.headers['authorization'] == 'Bearer second' or pytest.fail('auth'))
    api.expect('GET', CREDS_PATH, 401, {'statusCode': 401, 'message': 'Expired token.'})
    client = make(api)
    assert client.list_credentials(CLIENT) == []
    with pytest.raises(Auth0Error, match='401'):
        client.list_credentials(CLIENT)
    assert client.token_requests == 2
    api.done()


def test_no_management_access():
    client = make(Api(), client_id='mgmt', client_secret=None)
    with pytest.raises(Auth0Error, match='No management access'):
        client.list_credentials(CLIENT)


def test_private_key_management_access(keys):
    def check(request):
        form = Api.form(request)
        assert form['client_assertion_type'] == _client.CLIENT_ASSERTION_TYPE
        assert 'client_secret' not in form and form['client_id'] == 'mgmt'
        assert keys['one']['private'] not in request.content.decode()
        seen.append(form['client_assertion'])

    seen = []
    api = Api().expect('POST', '/oauth/token', 503, {'error': 'unavailable'}, check=check)
    api.token(check=check).expect('GET', CREDS_PATH, body=[])
    client = make(api, client_secret=None, private_key=keys['one']['private'], signing_alg='PS256')
    assert client.list_credentials(CLIENT) == []
    assert len(set(seen)) == 2, 'a new assertion (new jti) for every attempt'
    api.done()


def test_bad_private_key_and_alg(keys):
    with pytest.raises(Auth0Error, match='assertion_private_key: .*private key'):
        make(Api(), private_key=keys['one']['public'])
    with pytest.raises(Auth0Error, match='signing_alg'):
        make(Api(), private_key=keys['one']['private'], signing_alg='HS256')


def test_ca_path_and_verify(tmp_path):
    with pytest.raises(Auth0Error, match='auth0_ca_path'):
        Auth0Client(DOMAIN, token='t', ca_path=str(tmp_path / 'missing.pem'))
    Auth0Client(DOMAIN, token='t', validate_certs=False).close()
    Auth0Client(DOMAIN, token='t').close()


def test_ca_path_ok(tmp_path):
    import certifi
    Auth0Client(DOMAIN, token='t', ca_path=certifi.where()).close()


def test_retry_after_and_ratelimit_reset():
    api = Api().token()
    api.expect('GET', CREDS_PATH, 429, RATE, headers={'Retry-After': '2'})
    api.expect('GET', CREDS_PATH, 429, RATE, headers={'x-ratelimit-reset': '1003'})
    api.expect('GET', CREDS_PATH, 429, RATE, headers={'Retry-After': 'Thu, 01 Jan 1970 00:16:45 GMT'})
    api.expect('GET', CREDS_PATH, 429, RATE, headers={'Retry-After': '3600'})
    api.expect('GET', CREDS_PATH, 503, {'message': 'down'}, headers={'x-ratelimit-reset': 'x', 'Retry-After': 'soon'})
    api.expect('GET', CREDS_PATH, body=[])
    client = make(api, max_retry_wait=30)
    assert client.list_credentials(CLIENT) == []
    assert api.sleeps[:4] == [2.0, 3.0, 5.0, 30.0]
    assert 0 < api.sleeps[4] <= 30
    api.done()


def test_a_ratelimit_reset_in_the_past_backs_off_instead_of_retrying_at_once(monkeypatch):
    """The controller's clock ahead of Auth0's: x-ratelimit-reset (990) is past by our clock (1000), and 429s come
    without Retry-After. Each retry waits the exponential back-off, never 0."""
    monkeypatch.setattr(_client.random, 'uniform', lambda low, high: 0.0)
    api = Api().token()
    past = {'x-ratelimit-limit': '50', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '990'}
    for dummy in range(3):
        api.expect('GET', CREDS_PATH, 429, RATE, headers=past)
    api.expect('GET', CREDS_PATH, 429, RATE, headers={'Retry-After': 'Thu, 01 Jan 1970 00:16:30 GMT'})  # 990: past too
    api.expect('GET', CREDS_PATH, body=[])
    client = make(api)
    assert client.list_credentials(CLIENT) == []
    assert api.sleeps == [0.5, 1.0, 2.0, 4.0]
    api.done()


def test_retry_after_in_seconds_still_wins_over_a_past_reset():
    api = Api().token()
    api.expect('GET', CREDS_PATH, 429, RATE, headers={'Retry-After': '3', 'x-ratelimit-reset': '990'})
    api.expect('GET', CREDS_PATH, body=[])
    assert make(api).list_credentials(CLIENT) == []
    assert api.sleeps == [3.0]
    api.done()


def test_gives_up_after_retries():
    api = Api().token()
    for dummy in range(3):
        api.expect('GET', CREDS_PATH, 429, RATE)
    client = make(api, retries=2)
    with pytest.raises(Auth0Error) as info:
        client.list_credentials(CLIENT)
    err = info.value
    assert (err.status, err.error_code, err.attempts) == (429, 'too_many_requests', 3)
    assert str(err).startswith('Auth0 API call GET %s failed after 3 attempts: 429 Too Many Requests' % CREDS_PATH)
    assert len(api.sleeps) == 2
    api.done()


@pytest.mark.parametrize('exc', [httpx.ConnectError('refused'), httpx.ReadTimeout('slow'),
                                 httpx.RemoteProtocolError('dropped')])
def test_transport_errors_are_retried_for_reads(exc):
    api = Api().token().expect('GET', CREDS_PATH, exc=exc).expect('GET', CREDS_PATH, body=[])
    assert make(api).list_credentials(CLIENT) == []
    api.done()


def test_transport_errors_give_up():
    api = Api().token()
    for dummy in range(2):
        api.expect('GET', CREDS_PATH, exc=httpx.ReadTimeout('slow'))
    with pytest.raises(Auth0Error, match='after 2 attempts: timeout: No answer \\(ReadTimeout\\); giving up') as info:
        make(api, retries=1).list_credentials(CLIENT)
    assert info.value.error == 'timeout'
    api.expect('GET', CREDS_PATH, exc=httpx.ConnectError('refused'))
    with pytest.raises(Auth0Error) as info:
        make(api, retries=0, token='t').list_credentials(CLIENT)
    assert info.value.error == 'connection error'


def test_error_bodies():
    api = Api().token()
    api.expect('GET', CREDS_PATH, 404, NOT_FOUND)
    api.expect('GET', CREDS_PATH, 400, None)
    api.expect('GET', CREDS_PATH, 403, ['not', 'a', 'dict'])
    api.expect('GET', CREDS_PATH, 200, None)
    client = make(api)
    with pytest.raises(Auth0Error) as info:
        client.list_credentials(CLIENT)
    assert info.value.to_dict() == {'status': 404, 'error': 'Not Found', 'error_code': 'inexistent_client',
                                    'message': 'The client does not exist', 'method': 'GET', 'path': CREDS_PATH}
    with pytest.raises(Auth0Error, match='400 Bad Request$'):
        client.list_credentials(CLIENT)
    with pytest.raises(Auth0Error, match='403 Forbidden: \\["not"'):
        client.list_credentials(CLIENT)
    with pytest.raises(Auth0Error, match='unexpected answer: expected a list of credentials, got an empty body'):
        client.list_credentials(CLIENT)


def test_non_json_success():
    def handler(request):
        if request.url.path == '/oauth/token':
            return httpx.Response(200, json={'access_token': 't'})
        return httpx.Response(200, text='<html>')
    client = Auth0Client(DOMAIN, client_id='a', client_secret='b', transport=httpx.MockTransport(handler))
    with pytest.raises(Auth0Error, match='not JSON'):
        client.get_client(CLIENT)


def test_token_errors():
    api = Api().expect('POST', '/oauth/token', 401, {'error': 'invalid_client',
                                                     'error_description': 'Invalid client credentials'})
    with pytest.raises(Auth0Error) as info:
        make(api).list_credentials(CLIENT)
    assert str(info.value) == 'Auth0 API call POST /oauth/token failed: 401 invalid_client: Invalid client credentials'
    assert 'mgmt-secret' not in str(info.value.to_dict())
    api.expect('POST', '/oauth/token', 200, {'token_type': 'Bearer'})
    with pytest.raises(Auth0Error, match='without an access_token'):
        make(api).list_credentials(CLIENT)
    with pytest.raises(Auth0Error, match='secret or a private key'):
        make(api).request_token('x')


def test_token_non_json_answer():
    def handler(request):
        return httpx.Response(200, text='nope')
    client = Auth0Client(DOMAIN, transport=httpx.MockTransport(handler))
    with pytest.raises(Auth0Error, match='without an access_token'):
        client.request_token('x', client_secret='y')


def test_list_clients_pages():
    page0 = {'start': 0, 'limit': 100, 'total': 101, 'clients': [{'client_id': str(i)} for i in range(100)]}
    page1 = {'start': 100, 'limit': 100, 'total': 101, 'clients': [{'client_id': '100'}]}
    api = Api().token()
    api.expect('GET', '/api/v2/clients', body=page0, params={
        'page': '0', 'per_page': '100', 'include_totals': 'true', 'fields': 'client_id,is_global', 'include_fields': 'true'})
    api.expect('GET', '/api/v2/clients', body=page1)
    api.expect('GET', '/api/v2/clients', body=[{'client_id': 'a'}])
    client = make(api)
    assert len(client.list_clients(fields=['client_id'])) == 101
    assert client.list_clients() == [{'client_id': 'a'}]
    api.done()


def test_list_clients_exact_page_then_empty():
    full = [{'client_id': str(i)} for i in range(100)]
    api = Api().token().expect('GET', '/api/v2/clients', body={'clients': full})
    api.expect('GET', '/api/v2/clients', body={'clients': []})
    assert len(make(api).list_clients()) == 100
    api.done()


@pytest.mark.parametrize('body, shape', [
    ({'credentials': []}, 'an object \\(keys: credentials\\)'),
    ({}, 'an object \\(keys: none\\)'),
    ('nothing', 'a JSON string'),
    (None, 'an empty body'),
])
def test_a_credential_list_that_is_not_a_list_is_an_error_not_an_empty_list(body, shape):
    api = Api().token().expect('GET', CREDS_PATH, body=body)
    with pytest.raises(Auth0Error, match='unexpected answer: expected a list of credentials, got %s' % shape) as info:
        make(api).list_credentials(CLIENT)
    assert (info.value.method, info.value.path, info.value.error) == ('GET', CREDS_PATH, 'unexpected answer')
    assert str(info.value).startswith('Auth0 API call GET %s failed: unexpected answer' % CREDS_PATH)
    api.done()


@pytest.mark.parametrize('body', [{'total': 3}, {'clients': {'a': 1}}, None, 'clients', [['not', 'a', 'client']]])
def test_a_client_list_that_is_not_a_list_is_an_error(body):
    api = Api().token().expect('GET', '/api/v2/clients', body=body)
    with pytest.raises(Auth0Error, match='unexpected answer: expected ') as info:
        make(api).list_clients()
    assert info.value.path == '/api/v2/clients'
    api.done()


GLOBAL = {'client_id': 'global1', 'name': 'All Applications', 'is_global': True}
RESOURCE_SERVER = {'client_id': 'rs1', 'app_type': 'resource_server', 'is_global': False,
                   'resource_server_identifier': 'https://api.example.com/'}


def test_list_clients_leaves_out_the_global_client_and_keeps_every_app_type():
    page = {'total': 6, 'clients': [
        GLOBAL, RESOURCE_SERVER,
        {'client_id': 'm2m', 'name': 'm2m', 'app_type': 'non_interactive', 'is_global': False},
        {'client_id': 'spa', 'name': 'spa', 'app_type': 'spa'},
        {'client_id': 'old', 'name': 'no app_type', 'is_global': None},
        {'client_id': 'native', 'app_type': 'native', 'is_global': False, 'client_authentication_methods': None}]}
    api = Api().token().expect('GET', '/api/v2/clients', body=page, params={
        'page': '0', 'per_page': '100', 'include_totals': 'true', 'fields': 'client_id,name,is_global',
        'include_fields': 'true'})
    api.expect('GET', '/api/v2/clients', body=dict(page, clients=[GLOBAL, RESOURCE_SERVER]), params={
        'page': '0', 'per_page': '100', 'include_totals': 'true', 'fields': 'client_id,is_global',
        'include_fields': 'true'})
    api.expect('GET', '/api/v2/clients', body=[GLOBAL, RESOURCE_SERVER])
    client = make(api)
    listed = client.list_clients(fields=['client_id', 'name'])
    assert [c['client_id'] for c in listed] == ['rs1', 'm2m', 'spa', 'old', 'native']
    assert not any('is_global' in c for c in listed), 'is_global was not asked for'
    assert listed[0] == {'client_id': 'rs1', 'app_type': 'resource_server',
                         'resource_server_identifier': 'https://api.example.com/'}
    # asked for: kept
    assert client.list_clients(fields=['client_id', 'is_global']) == [RESOURCE_SERVER]
    assert client.list_clients() == [RESOURCE_SERVER]
    api.done()


def test_list_clients_counts_the_global_client_when_paging():
    """A full page holding the global client is still a full page: the next one is read."""
    page0 = {'total': 101, 'clients': [GLOBAL] + [{'client_id': str(i)} for i in range(99)]}
    page1 = {'total': 101, 'clients': [{'client_id': '99'}]}
    api = Api().token().expect('GET', '/api/v2/clients', body=page0).expect('GET', '/api/v2/clients', body=page1)
    assert [c['client_id'] for c in make(api).list_clients()] == [str(i) for i in range(100)]
    api.done()


def test_paths_are_quoted():
    api = Api().token().expect('PATCH', '/api/v2/clients/a%2Fb/credentials/c%20d', body={'id': 'c d'})
    api.expect('DELETE', '/api/v2/clients/a%2Fb/credentials/c%20d', 204)
    api.expect('PATCH', '/api/v2/clients/a%2Fb', body={'client_id': 'a/b'})
    client = make(api)
    assert client.update_credential('a/b', 'c d', {'expires_at': None}) == {'id': 'c d'}
    assert client.delete_credential('a/b', 'c d') is None
    assert client.update_client('a/b', {'x': 1}) == {'client_id': 'a/b'}
    with pytest.raises(Auth0Error, match='client_id is needed'):
        client.get_client('')


BODY = {'credential_type': 'public_key', 'pem': 'PEM', 'kid': 'kid_1234567890'}


def test_create_credential_plain():
    api = Api().token().expect('POST', CREDS_PATH, 201, credential('cred_1', 'kid_1234567890'),
                               check=lambda r: Api.json(r) == BODY or pytest.fail('body'))
    assert make(api).create_credential(CLIENT, BODY)['id'] == 'cred_1'
    api.done()


def test_create_credential_429_is_retried():
    api = Api().token().expect('POST', CREDS_PATH, 429, RATE)
    api.expect('POST', CREDS_PATH, 201, credential('cred_1', 'kid_1234567890'))
    assert make(api).create_credential(CLIENT, BODY)['id'] == 'cred_1'
    api.done()


def test_create_credential_timeout_reads_back_and_finds():
    api = Api().token().expect('POST', CREDS_PATH, exc=httpx.ReadTimeout('slow'))
    api.expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1234567890')])
    assert make(api).create_credential(CLIENT, BODY)['id'] == 'cred_1'
    api.done()


def test_create_credential_5xx_reads_back_then_creates():
    api = Api().token().expect('POST', CREDS_PATH, 502, {'message': 'bad gateway'})
    api.expect('GET', CREDS_PATH, body=[credential('cred_0', 'other_kid_123')])
    api.expect('POST', CREDS_PATH, 201, credential('cred_1', 'kid_1234567890'))
    assert make(api).create_credential(CLIENT, BODY)['id'] == 'cred_1'
    api.done()


def test_create_credential_already_exists_after_unknown_outcome():
    api = Api().token().expect('POST', CREDS_PATH, exc=httpx.RemoteProtocolError('dropped'))
    api.expect('GET', CREDS_PATH, body=[])
    api.expect('POST', CREDS_PATH, 400, {'statusCode': 400, 'error': 'Bad Request',
                                         'message': 'credentials contains public keys that already exist in client'})
    api.expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1234567890')])
    assert make(api).create_credential(CLIENT, BODY)['id'] == 'cred_1'
    api.done()


def test_create_credential_already_exists_first_time_is_an_error():
    api = Api().token().expect('POST', CREDS_PATH, 400, {'statusCode': 400, 'error': 'Bad Request',
                                                         'message': 'public keys that already exist in client'})
    with pytest.raises(Auth0Error, match='already exist'):
        make(api).create_credential(CLIENT, BODY)


def test_create_credential_of_a_public_key_without_kid_reads_back_by_its_thumbprint(keys):
    """The collection leaves out a kid equal to the thumbprint (Auth0 sets that one): a lost answer is still found."""
    body = {'credential_type': 'public_key', 'pem': keys['one']['public']}
    api = Api().token().expect('POST', CREDS_PATH, exc=httpx.ReadTimeout('slow'))
    api.expect('GET', CREDS_PATH, body=[credential('cred_0', keys['two']['kid']), credential('cred_1', keys['one']['kid'])])
    assert make(api).create_credential(CLIENT, body)['id'] == 'cred_1'
    api.done()


def test_create_credential_without_kid_does_not_retry():
    api = Api().token().expect('POST', CREDS_PATH, exc=httpx.ReadTimeout('slow'))
    with pytest.raises(Auth0Error, match='outcome is unknown. Read the credential list'):
        make(api).create_credential(CLIENT, {'credential_type': 'cert_subject_dn', 'subject_dn': 'CN=x'})
    api.done()


def test_create_credential_gives_up():
    api = Api().token()
    for dummy in range(2):
        api.expect('POST', CREDS_PATH, exc=httpx.WriteTimeout('slow'))
        api.expect('GET', CREDS_PATH, body=[])
    with pytest.raises(Auth0Error, match='after 2 attempts; the last outcome was unknown') as info:
        make(api, retries=1).create_credential(CLIENT, BODY)
    assert info.value.error == 'timeout'
    api.done()


def test_error_str_variants():
    assert str(Auth0Error('plain')) == 'plain'
    assert str(Auth0Error('', status=500, method='GET', path='/x')) == 'Auth0 API call GET /x failed: 500'
    assert str(Auth0Error('m', error_code='code', method='GET', path='/x')) == 'Auth0 API call GET /x failed: code: m'
    assert json.dumps(Auth0Error('m').to_dict())


def test_empty_ca_path_means_system_cas(monkeypatch):
    real = _client.ssl.create_default_context
    cafiles = []

    def spy(*args, **kwargs):
        cafiles.append(kwargs.get('cafile'))
        return real(*args, **kwargs)

    monkeypatch.setattr(_client.ssl, 'create_default_context', spy)
    Auth0Client(DOMAIN, token='t', ca_path='').close()
    assert '' not in cafiles  # httpx's own default context (certifi) only


def test_server_now_is_auth0s_date_plus_the_time_since():
    """The overlap window of a rotation is measured by Auth0's clock: the Date of its last answer."""
    api = Api().token()
    api.expect('GET', CREDS_PATH, body=[], headers={'Date': 'Mon, 01 Jun 2026 10:00:00 GMT'})
    client = make(api)
    assert client.server_now() is None
    client.list_credentials(CLIENT)
    now = client.server_now()
    assert now.tzinfo is not None and 0 <= (now - datetime.datetime(2026, 6, 1, 10, tzinfo=datetime.timezone.utc)).total_seconds() < 5
    api.done()


def test_an_audience_without_its_trailing_slash_gets_a_hint():
    """Auth0 compares the audience with the API identifier character for character: https://TENANT/api/v2 (no slash)
    is no API. The error names the identifier with the slash; an audience that ends with one gets no such hint."""
    given = CANONICAL.rstrip('/')
    api = Api().expect('POST', '/oauth/token', 403, {'error': 'access_denied', 'error_description': 'Service not found: ' + given})
    with pytest.raises(Auth0Error) as info:
        make(api, domain=CUSTOM, audience=given).list_credentials(CLIENT)
    assert str(info.value).endswith(
        'Service not found: %s (the Management API identifier ends with a slash: set auth0_audience (or AUTH0_AUDIENCE) '
        'to %s/ as the dashboard shows it under Applications > APIs > Auth0 Management API.)' % (given, given)), str(info.value)
    api.done()
