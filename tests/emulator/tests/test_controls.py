# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rate limiting, latency, fault injection and the admin API."""

import concurrent.futures
import threading
import time

import httpx
import pytest

from conftest import public_pem


def test_rate_limit_headers_and_429(emu):
    # one token every 4 s: no refill can happen while the sequence runs, even on a loaded machine
    emu.admin('POST', 'config', json={'rate_limit': '0.25:3'})
    emu.admin('POST', 'stats/reset')
    answers = [emu.api('GET', '/api/v2/clients') for dummy in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    for response in answers:
        assert response.headers['x-ratelimit-limit'] == '3'
        assert int(response.headers['x-ratelimit-reset']) >= int(time.time())
    assert [int(r.headers['x-ratelimit-remaining']) for r in answers] == [2, 1, 0, 0]
    limited = answers[-1]
    assert limited.json() == {'statusCode': 429, 'error': 'Too Many Requests', 'message': 'Global limit has been reached',
                              'errorCode': 'too_many_requests'}
    # Auth0 documents the x-ratelimit-* headers; Retry-After is not always sent, and off by default here
    assert 'retry-after' not in limited.headers
    assert emu.admin('GET', 'stats').json()['rate_limited'] == 1
    # /oauth/token has its own bucket of the same size
    tokens = [emu.secret_token() for dummy in range(4)]
    assert [r.status_code for r in tokens] == [200, 200, 200, 429]
    assert tokens[-1].json() == {'error': 'too_many_requests', 'error_description': 'Global limit has been reached'}
    assert 'retry-after' not in tokens[-1].headers


def test_retry_after_on_429_when_configured(emu):
    config = emu.admin('POST', 'config', json={'rate_limit': '0.25:1', 'retry_after': True})
    assert config.status_code == 200 and config.json()['retry_after'] is True
    answers = [emu.api('GET', '/api/v2/clients') for dummy in range(2)]
    assert [r.status_code for r in answers] == [200, 429]
    assert 1 <= int(answers[-1].headers['retry-after']) <= 4
    assert 'retry-after' not in answers[0].headers
    tokens = [emu.secret_token() for dummy in range(2)]
    assert tokens[-1].status_code == 429 and 1 <= int(tokens[-1].headers['retry-after']) <= 4
    assert emu.admin('POST', 'config', json={'retry_after': 'yes'}).status_code == 400
    assert emu.admin('POST', 'config', json={'retry_after': False}).json()['retry_after'] is False


def test_rate_limit_bucket_refills(emu):
    emu.admin('POST', 'config', json={'rate_limit': '5:1'})
    assert emu.api('GET', '/api/v2/clients').status_code == 200
    time.sleep(0.25)
    refilled = emu.api('GET', '/api/v2/clients')
    assert refilled.status_code == 200 and refilled.headers['x-ratelimit-remaining'] == '0'


def test_latency_overlaps_for_parallel_requests(emu):
    # Latency is an async wait, so parallel requests overlap as against a real tenant. The check is
    # relative, not a speed target: 8 requests with 1 s of latency each take >= 8 s if the waits were
    # serialised, about 1 s (plus the machine's own overhead) when they overlap.
    emu.admin('POST', 'config', json={'latency_ms': 1000})
    token = emu.token()

    def call(dummy):
        started = time.monotonic()
        with httpx.Client(base_url=emu.url, verify=emu.verify) as client:
            status = client.get('/api/v2/clients', headers={'Authorization': 'Bearer ' + token}).status_code
        return status, time.monotonic() - started
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(8)))
    wall = time.monotonic() - started
    assert all(status == 200 and took >= 1.0 for status, took in results)
    assert len(results) == 8 and wall < 6.0, wall  # serialised waits would take >= 8 s
    # the admin API is not slowed down
    started = time.monotonic()
    emu.admin('GET', 'stats')
    assert time.monotonic() - started < 0.25


def test_fault_status_body_headers_and_count(emu, keys):
    client_id = emu.new_client()['client_id']
    fault = {'method': 'POST', 'path': '^/api/v2/clients/[^/]+/credentials$', 'count': 2, 'status': 503,
             'headers': {'Retry-After': '7'}}
    assert emu.admin('POST', 'faults', json=fault).status_code == 201
    assert emu.admin('GET', 'faults').json()[0]['count'] == 2
    assert emu.api('GET', '/api/v2/clients/%s/credentials' % client_id).status_code == 200  # method does not match
    first, second = emu.add_credential(client_id, keys[0]), emu.add_credential(client_id, keys[0])
    for response in (first, second):
        assert response.status_code == 503 and response.headers['retry-after'] == '7'
        assert response.json() == {'statusCode': 503, 'error': 'Service Unavailable', 'message': 'Service Unavailable',
                                   'errorCode': 'service_unavailable'}
    assert emu.admin('GET', 'faults').json() == []
    assert emu.add_credential(client_id, keys[0]).status_code == 201
    # custom body, then clearing
    emu.admin('POST', 'faults', json={'path': '^/oauth/token$', 'count': 5, 'status': 500, 'body': {'error': 'server_error'}})
    response = emu.secret_token()
    assert response.status_code == 500 and response.json() == {'error': 'server_error'}
    assert emu.admin('DELETE', 'faults').status_code == 204
    assert emu.secret_token().status_code == 200
    stats = emu.admin('GET', 'stats').json()
    assert stats['faults_applied'] == 3
    assert {'method': 'POST', 'route': '/api/v2/clients/{id}/credentials', 'status': 503, 'count': 2} in stats['requests']


def test_fault_default_bodies_are_auth0_shaped(emu):
    # Management API: {statusCode, error, message, errorCode}, as Auth0 answers (and as the rate limiter does)
    emu.admin('POST', 'faults', json=[{'method': 'GET', 'path': '^/api/v2/clients$', 'count': 1, 'status': 429},
                                      {'method': 'GET', 'path': '^/api/v2/clients$', 'count': 1, 'status': 503}])
    limited, unavailable = emu.api('GET', '/api/v2/clients'), emu.api('GET', '/api/v2/clients')
    assert limited.status_code == 429
    assert limited.json() == {'statusCode': 429, 'error': 'Too Many Requests', 'message': 'Global limit has been reached',
                              'errorCode': 'too_many_requests'}
    assert unavailable.status_code == 503
    assert unavailable.json() == {'statusCode': 503, 'error': 'Service Unavailable', 'message': 'Service Unavailable',
                                  'errorCode': 'service_unavailable'}
    # /oauth/token: OAuth-shaped {error, error_description}, no errorCode
    emu.admin('POST', 'faults', json=[{'path': '^/oauth/token$', 'count': 1, 'status': 429},
                                      {'path': '^/oauth/token$', 'count': 1, 'status': 503}])
    limited, unavailable = emu.secret_token(), emu.secret_token()
    assert limited.status_code == 429
    assert limited.json() == {'error': 'too_many_requests', 'error_description': 'Global limit has been reached'}
    assert unavailable.status_code == 503
    assert unavailable.json() == {'error': 'server_error', 'error_description': 'Service Unavailable'}
    assert emu.secret_token().status_code == 200


def test_fault_delay_then_normal_answer(emu):
    emu.admin('POST', 'faults', json={'method': 'GET', 'path': '^/api/v2/clients$', 'delay_ms': 400})
    started = time.monotonic()
    response = emu.api('GET', '/api/v2/clients')
    assert response.status_code == 200 and time.monotonic() - started >= 0.4
    started = time.monotonic()
    assert emu.api('GET', '/api/v2/clients').status_code == 200
    assert time.monotonic() - started < 0.3


def test_a_client_gone_during_a_delay_is_logged_not_raised(emu):
    """A client that timed out during a delay fault: nothing applied, the log says so (it was an ASGI traceback)."""
    emu.admin('POST', 'faults', json={'method': 'POST', 'path': '^/api/v2/clients$', 'delay_ms': 600})
    with pytest.raises(httpx.TimeoutException):
        emu.api('POST', '/api/v2/clients', json={'name': 'gone'}, timeout=0.2)
    time.sleep(0.8)
    entries = [e for e in emu.admin('GET', 'log').json() if e['method'] == 'POST' and e['path'] == '/api/v2/clients']
    assert entries and entries[-1]['status'] == 'client gone'
    assert 'gone' not in [c['name'] for c in emu.api('GET', '/api/v2/clients').json()]


def test_fault_hold_keeps_requests_until_all_arrived(emu):
    """hold: N keeps each matching request until N have arrived, then serves them all (two readers, no writer between)."""
    emu.admin('POST', 'faults', json={'method': 'GET', 'path': '^/api/v2/clients$', 'hold': 2, 'count': 2})
    done = []
    first = threading.Thread(target=lambda: done.append(('first', emu.api('GET', '/api/v2/clients').status_code,
                                                         time.monotonic())))
    first.start()
    time.sleep(0.6)
    assert not done  # still held: the second reader has not arrived
    second_started = time.monotonic()
    assert emu.api('GET', '/api/v2/clients').status_code == 200
    first.join(10)
    assert done and done[0][1] == 200 and done[0][2] >= second_started
    assert emu.admin('GET', 'faults').json() == []
    started = time.monotonic()
    assert emu.api('GET', '/api/v2/clients').status_code == 200 and time.monotonic() - started < 0.3


def test_fault_after_lets_the_first_requests_through(emu):
    emu.admin('POST', 'faults', json={'method': 'GET', 'path': '^/api/v2/clients$', 'after': 2, 'status': 503})
    assert [emu.api('GET', '/api/v2/clients').status_code for dummy in range(4)] == [200, 200, 503, 200]
    assert emu.admin('POST', 'faults', json={'status': 500, 'after': -1}).status_code == 400


def test_fault_drop_closes_without_answer_and_does_nothing(emu):
    emu.admin('POST', 'faults', json={'method': 'POST', 'path': '^/api/v2/clients$', 'drop': True})
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        emu.api('POST', '/api/v2/clients', json={'name': 'dropped'})
    names = [c['name'] for c in emu.api('GET', '/api/v2/clients').json()]
    assert 'dropped' not in names
    assert emu.api('POST', '/api/v2/clients', json={'name': 'kept'}).status_code == 201
    assert any(e['status'] == 'dropped' for e in emu.admin('GET', 'log').json())


LOST_STATUS = {'POST': 201, 'PATCH': 200, 'DELETE': 204}


@pytest.mark.parametrize('method', ['POST', 'PATCH', 'DELETE'])
def test_fault_lose_answer_applies_the_write_then_drops_the_connection(emu, keys, method):
    """lose_answer: the request is applied, then the connection closes before any answer ("applied, answer lost")."""
    client_id = emu.new_client()['client_id']
    base = '/api/v2/clients/%s/credentials' % client_id
    cred = emu.add_credential(client_id, keys[0], name='first').json()
    path = {'POST': '^/api/v2/clients/[^/]+/credentials$', 'PATCH': '^/api/v2/clients/[^/]+$',
            'DELETE': '^/api/v2/clients/[^/]+/credentials/[^/]+$'}[method]
    fault = emu.admin('POST', 'faults', json={'method': method, 'path': path, 'lose_answer': True})
    assert fault.status_code == 201 and fault.json()['lose_answer'] is True
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        if method == 'POST':
            emu.add_credential(client_id, keys[1], name='lost')
        elif method == 'PATCH':
            emu.api('PATCH', '/api/v2/clients/%s' % client_id, json={'description': 'answer lost'})
        else:
            emu.api('DELETE', '%s/%s' % (base, cred['id']))
    names = [c['name'] for c in emu.api('GET', base).json()]
    expected = {'POST': ['first', 'lost'], 'PATCH': ['first'], 'DELETE': []}[method]
    assert names == expected
    if method == 'PATCH':
        assert emu.api('GET', '/api/v2/clients/%s' % client_id).json()['description'] == 'answer lost'
    entry = [e for e in emu.admin('GET', 'log').json() if e['fault']][-1]
    assert entry['status'] == 'dropped' and entry['lost_status'] == LOST_STATUS[method] and entry['method'] == method
    assert emu.admin('GET', 'faults').json() == []


def test_fault_validation(emu):
    assert emu.admin('POST', 'faults', json={'lose_answer': True, 'status': 500}).status_code == 400
    assert emu.admin('POST', 'faults', json={'lose_answer': True, 'drop': True}).status_code == 400
    assert emu.admin('POST', 'faults', json={'lose_answer': 'yes'}).status_code == 400
    assert emu.admin('POST', 'faults', json={'path': '(', 'status': 500}).status_code == 400
    assert emu.admin('POST', 'faults', json={'path': '.*'}).status_code == 400
    assert emu.admin('POST', 'faults', json={'status': 500, 'what': 1}).status_code == 400
    assert emu.admin('POST', 'faults', json={'hold': -1}).status_code == 400
    assert emu.admin('POST', 'faults', json={'hold': True}).status_code == 400


def test_admin_refuses_tokens_and_reset_keeps_management_client(emu):
    assert emu.admin('GET', 'stats', headers={'Authorization': 'Bearer ' + emu.token()}).status_code == 400
    emu.new_client('to-be-reset')
    assert emu.admin('POST', 'reset').status_code == 200
    state = emu.admin('GET', 'state').json()
    assert list(state['clients']) == [emu.ready['management_client_id']]
    assert 'signing_key' not in state
    assert emu.secret_token().status_code == 200


def test_seed_over_http(emu, keys):
    spec = {'clients': [{'name': 'fleet-1', 'credentials': [
        {'credential_type': 'public_key', 'name': 'old', 'pem': public_pem(keys[0]), 'created_at': '2024-01-01T00:00:00Z'},
        {'credential_type': 'public_key', 'name': 'spare', 'pem': public_pem(keys[1])}],
        'private_key_jwt': [0], 'grants': [{'scope': ['read:clients']}]},
        {'name': 'secret-app'}]}
    response = emu.admin('POST', 'seed', json=spec)
    assert response.status_code == 201
    out = response.json()
    seeded = out['clients'][0]
    assert len(seeded['credentials']) == 2 and len(seeded['grants']) == 1
    creds = emu.api('GET', '/api/v2/clients/%s/credentials' % seeded['client_id']).json()
    assert creds[0]['created_at'] == '2024-01-01T00:00:00.000Z'
    assert emu.assertion_token(emu.assertion(keys[0], seeded['client_id'])).status_code == 200
    assert emu.assertion_token(emu.assertion(keys[1], seeded['client_id'])).status_code == 401
    assert emu.admin('POST', 'seed', json={'clients': [{'name': 'x', 'credentials': [{'pem': 'junk'}]}]}).status_code == 400
