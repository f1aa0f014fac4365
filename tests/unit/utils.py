# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helpers: a declared-calls HTTP fake (httpx.MockTransport) and API object builders.

Tests declare the calls they expect, in order, with their answers; any other call fails the test.
No network, no sleeps.
"""

from __future__ import annotations

import contextlib
import json
import re
from urllib.parse import parse_qs

import httpx

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:
    # the tests import patch_module_args from here
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=unused-import
except ImportError:  # ansible-core < 2.19 (make core-floor): set the arguments as AnsibleModule reads them there

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


DOMAIN = 'tenant.example.auth0.com'
CLIENT = 'app_client_1'


class Call:
    def __init__(self, method, path, status=200, body=None, headers=None, exc=None, params=None, check=None):
        self.method, self.path, self.status, self.body = method, path, status, body
        self.headers, self.exc, self.params, self.check = headers or {}, exc, params, check


class Api:
    """Ordered expectations of HTTP calls, served through httpx.MockTransport."""

    def __init__(self):
        self.expected = []
        self.requests = []
        self.sleeps = []

    def expect(self, method, path, status=200, body=None, **kwargs):
        self.expected.append(Call(method, path, status, body, **kwargs))
        return self

    def token(self, token='mgmt-token', **kwargs):
        body = {'access_token': token, 'token_type': 'Bearer', 'expires_in': 86400, 'scope': 'read:clients'}
        return self.expect('POST', '/oauth/token', 200, body, **kwargs)

    def handler(self, request):
        self.requests.append(request)
        if not self.expected:
            raise AssertionError('unexpected call %s %s' % (request.method, request.url))
        call = self.expected.pop(0)
        path = request.url.raw_path.decode().split('?')[0]
        assert (request.method, path) == (call.method, call.path), \
            'expected %s %s, got %s %s' % (call.method, call.path, request.method, path)
        if call.params is not None:
            query = dict((k, v[0]) for k, v in parse_qs(request.url.query.decode()).items())
            assert query == call.params, query
        if call.check:
            call.check(request)
        if call.exc is not None:
            raise call.exc
        kwargs = {'headers': call.headers}
        if call.body is not None:
            kwargs['json'] = call.body
        return httpx.Response(call.status, **kwargs)

    @property
    def transport(self):
        return httpx.MockTransport(self.handler)

    def done(self):
        assert not self.expected, 'calls not made: %s' % [(c.method, c.path) for c in self.expected]

    @staticmethod
    def json(request):
        return json.loads(request.content.decode())

    @staticmethod
    def form(request):
        return dict((k, v[0]) for k, v in parse_qs(request.content.decode()).items())


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super().__init__(result)
        self.result = result
        self.failed = failed


def credential(cid, kid, name=None, alg='RS256', expires_at=None, ctype='public_key'):
    return {'id': cid, 'kid': kid, 'name': name or cid, 'alg': alg, 'credential_type': ctype,
            'created_at': '2026-01-01T00:00:00.000Z', 'updated_at': '2026-01-01T00:00:00.000Z',
            'expires_at': expires_at}


def client_with(ids, method='private_key_jwt', secret=None):
    body = {'client_id': CLIENT, 'name': 'app'}
    if ids is None:
        body['client_authentication_methods'] = None
    else:
        body['client_authentication_methods'] = {method: {'credentials': [{'id': i} for i in ids]}}
    if secret:
        body['token_endpoint_auth_method'] = secret
    return body


CREDS_PATH = '/api/v2/clients/%s/credentials' % CLIENT
CLIENT_PATH = '/api/v2/clients/%s' % CLIENT
NO_SECRET = re.compile(r'mgmt-secret|PRIVATE KEY')
