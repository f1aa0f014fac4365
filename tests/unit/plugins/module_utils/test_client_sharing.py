# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Auth0Client shared by the steps and threads of a rotation: a token handed on, one token, one pause on 429."""

from __future__ import annotations

import concurrent.futures

import pytest

from ansible_collections.keyops.auth0.plugins.module_utils._client import Auth0Client, Auth0Error
from ansible_collections.keyops.auth0.tests.unit.utils import CLIENT, CREDS_PATH, DOMAIN, Api

RATE = {'statusCode': 429, 'error': 'Too Many Requests', 'message': 'Global limit has been reached',
        'errorCode': 'too_many_requests'}


class Clock:
    """A clock that only moves when the client sleeps; every sleep is recorded in api.sleeps."""

    def __init__(self, api, now=1000.0):
        self.api = api
        self.now = now

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.api.sleeps.append(seconds)
        self.now += seconds


def make(api, **kwargs):
    clock = Clock(api)
    options = dict(client_id='mgmt', client_secret='mgmt-secret', transport=api.transport, sleep=clock.sleep, clock=clock)
    options.update(kwargs)
    return Auth0Client(DOMAIN, **options)


def bearer(token):
    def check(request):
        assert request.headers['authorization'] == 'Bearer ' + token
    return check


def test_use_token_avoids_a_token_request():
    api = Api().expect('GET', CREDS_PATH, body=[], check=bearer('earlier-token'))
    client = make(api)
    client.use_token('earlier-token')
    client.use_token(None)  # no token: the one given stays
    assert client.list_credentials(CLIENT) == []
    assert client.token == 'earlier-token'
    assert client.token_requests == 0
    api.done()


def test_a_token_handed_on_is_still_renewed_when_it_expired():
    api = Api().expect('GET', CREDS_PATH, 401, {'statusCode': 401, 'error': 'Unauthorized', 'message': 'Expired token.'})
    api.token('fresh-token').expect('GET', CREDS_PATH, body=[], check=bearer('fresh-token'))
    client = make(api)
    client.use_token('stale-token')
    assert client.list_credentials(CLIENT) == []
    assert client.token_requests == 1
    api.done()


def test_token_property_obtains_one_token_for_all_threads():
    api = Api().token('the-token')
    client = make(api)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        tokens = list(pool.map(lambda dummy: client.token, range(8)))
    assert tokens == ['the-token'] * 8
    assert client.token_requests == 1
    api.done()


def test_a_429_pauses_the_next_new_request():
    api = Api().token()
    api.expect('GET', CREDS_PATH, 429, RATE, headers={'Retry-After': '3'})
    api.expect('GET', CREDS_PATH, body=[])
    api.expect('GET', CREDS_PATH, body=[])
    client = make(api, retries=0)
    with pytest.raises(Auth0Error, match='429'):
        client.list_credentials(CLIENT)
    assert api.sleeps == []
    # another call (another client of the run, another thread) waits as Auth0 asked, once
    assert client.list_credentials(CLIENT) == []
    assert api.sleeps == [3.0]
    assert client.list_credentials(CLIENT) == []
    assert api.sleeps == [3.0]
    api.done()


def test_a_request_that_already_waited_out_the_pause_does_not_wait_again():
    api = Api().token()
    api.expect('GET', CREDS_PATH, 429, RATE, headers={'Retry-After': '2'})
    api.expect('GET', CREDS_PATH, body=[])
    api.expect('GET', CREDS_PATH, body=[])
    client = make(api)
    assert client.list_credentials(CLIENT) == []
    assert client.list_credentials(CLIENT) == []
    assert api.sleeps == [2.0], 'only the retry waited'
    api.done()


def test_the_pause_holds_requests_from_the_same_instant():
    """With the clock standing still (requests of other threads sent at once), each new request waits."""
    api = Api().token()
    api.expect('GET', CREDS_PATH, 429, RATE, headers={'x-ratelimit-reset': '1004'})
    api.expect('GET', CREDS_PATH, body=[])
    api.expect('GET', CREDS_PATH, body=[])
    client = make(api, sleep=api.sleeps.append, clock=lambda: 1000.0)
    assert client.list_credentials(CLIENT) == []
    assert client.list_credentials(CLIENT) == []
    assert api.sleeps == [4.0, 4.0], 'the retry, then the new request'
    api.done()


def test_ratelimit_remaining_zero_pauses_until_the_reset():
    api = Api().token()
    api.expect('GET', CREDS_PATH, body=[], headers={'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1005'})
    api.expect('GET', CREDS_PATH, body=[])
    client = make(api)
    assert client.list_credentials(CLIENT) == []
    assert api.sleeps == [], 'a successful answer is not retried'
    assert client.list_credentials(CLIENT) == []
    assert api.sleeps == [5.0]
    api.done()


@pytest.mark.parametrize('headers', [
    {'x-ratelimit-remaining': '0', 'x-ratelimit-reset': 'soon'},
    {'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '900'},
    {'x-ratelimit-remaining': '0'},
    {'x-ratelimit-remaining': '3', 'x-ratelimit-reset': '1005'},
])
def test_no_pause_without_a_future_reset(headers):
    api = Api().token()
    api.expect('GET', CREDS_PATH, body=[], headers=headers)
    api.expect('GET', CREDS_PATH, body=[])
    client = make(api)
    assert client.list_credentials(CLIENT) == []
    assert client.list_credentials(CLIENT) == []
    assert api.sleeps == []
    api.done()


def test_a_long_pause_is_capped():
    api = Api().token()
    api.expect('GET', CREDS_PATH, 429, RATE, headers={'Retry-After': '3600'})
    api.expect('GET', CREDS_PATH, body=[])
    client = make(api, retries=0, max_retry_wait=30)
    with pytest.raises(Auth0Error):
        client.list_credentials(CLIENT)
    assert client.list_credentials(CLIENT) == []
    assert api.sleeps == [30.0]
    api.done()


def test_requests_are_paced_by_the_bucket_auth0_describes():
    """50 tokens refilled at 16/s (reset 3 s away with 48 used): with 2 left, the third request after that
    answer waits for a token (1/16 s) instead of meeting a 429; the emulator's headers have this shape."""
    api = Api().token()
    api.expect('GET', CREDS_PATH, body=[], headers={'x-ratelimit-limit': '50', 'x-ratelimit-remaining': '2',
                                                    'x-ratelimit-reset': '1003'})
    for dummy in range(3):
        api.expect('GET', CREDS_PATH, body=[])
    client = make(api)
    client.list_credentials(CLIENT)
    client.list_credentials(CLIENT)
    client.list_credentials(CLIENT)
    assert api.sleeps == [], 'two tokens were left'
    client.list_credentials(CLIENT)
    assert api.sleeps == [pytest.approx(1 / 16.0)]
    api.done()


def test_a_full_bucket_teaches_no_rate_and_never_waits():
    api = Api().token()
    api.expect('GET', CREDS_PATH, body=[], headers={'x-ratelimit-limit': '50', 'x-ratelimit-remaining': '50',
                                                    'x-ratelimit-reset': '1000'})
    api.expect('GET', CREDS_PATH, body=[])
    client = make(api)
    client.list_credentials(CLIENT)
    client.list_credentials(CLIENT)
    assert api.sleeps == []
    api.done()
