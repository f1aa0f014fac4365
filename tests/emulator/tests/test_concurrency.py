# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many token requests in parallel while the enabled credentials change."""

import concurrent.futures
import threading
import time

import httpx

from conftest import JWT_BEARER


def possible_states(toggles, start, end):
    """The enabled sets that may have been in force at some instant of [start, end].

    ``toggles`` is the ordered list of (sent, answered, enabled set), the first being the state
    before the test; a toggle takes effect at an unknown instant between sent and answered.
    """
    out = []
    for i, (sent, _answered, state) in enumerate(toggles):
        nxt = toggles[i + 1] if i + 1 < len(toggles) else None
        may_start_before_end = sent <= end
        may_last_until_start = nxt is None or nxt[1] >= start
        if may_start_before_end and may_last_until_start:
            out.append(state)
    return out


def test_parallel_token_requests_while_toggling(emu, keys):
    client_id = emu.new_client('busy')['client_id']
    creds = {name: emu.add_credential(client_id, key, name=name).json() for name, key in (('A', keys[0]), ('B', keys[1]))}
    emu.grant(client_id, scope=['read:clients'])
    assert emu.enable(client_id, creds['A']['id']).status_code == 200
    toggles = [(0.0, 0.0, frozenset('A'))]
    stop = threading.Event()
    assertions = [(name, emu.assertion(keys[0] if name == 'A' else keys[1], client_id, lifetime=120))
                  for name in ('A', 'B') * 100]

    def toggler():
        cycle = [frozenset('B'), frozenset('AB'), frozenset('A'), frozenset('AB')]
        i = 0
        while not stop.is_set() and i < 400:
            state = cycle[i % len(cycle)]
            sent = time.monotonic()
            response = emu.api('PATCH', '/api/v2/clients/%s' % client_id, json={
                'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': creds[n]['id']} for n in sorted(state)]}}})
            answered = time.monotonic()
            assert response.status_code == 200, response.text
            toggles.append((sent, answered, state))
            i += 1

    local = threading.local()
    opened = []

    def request(item):
        name, assertion = item
        if not hasattr(local, 'client'):
            local.client = httpx.Client(base_url=emu.url, verify=emu.verify, timeout=30)
            opened.append(local.client)
        start = time.monotonic()
        response = local.client.post('/oauth/token', data={'grant_type': 'client_credentials', 'client_assertion_type': JWT_BEARER,
                                                           'client_assertion': assertion, 'audience': emu.management_audience})
        return name, start, time.monotonic(), response.status_code, response.json()

    worker = threading.Thread(target=toggler)
    worker.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(request, assertions))
    finally:
        stop.set()
        worker.join()
        for client in opened:
            client.close()
    assert len(toggles) > 5, 'the toggler did not overlap the requests'
    statuses = [r[3] for r in results]
    assert all(s in (200, 401) for s in statuses), statuses
    accepted = refused = 0
    for name, start, end, status, body in results:
        states = possible_states(toggles, start, end)
        if status == 200:
            accepted += 1
            assert any(name in s for s in states), (name, states)
            assert body['token_type'] == 'Bearer'
        else:
            refused += 1
            assert body['error'] == 'invalid_client'
            assert any(name not in s for s in states), (name, states)
    assert accepted + refused == 200 and accepted > 0 and refused > 0
    print('accepted %d refused %d toggles %d' % (accepted, refused, len(toggles)))
    stats = emu.admin('GET', 'stats').json()
    assert not [k for k in stats['by_status'] if k.startswith('5')]
    grants = stats['token_grants']['by_client'][client_id]
    assert (grants['accepted'], grants['refused']) == (accepted, refused)
