# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures: RSA keys, a live TLS emulator (a real subprocess on --port 0) and helpers."""

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'


def public_pem(key, fmt='spki'):
    """The public half of a private key as PEM (SPKI or PKCS#1)."""
    public = key.public_key()
    if fmt == 'pkcs1':
        return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope='session')
def keys():
    """Six RSA 2048 private keys, generated once."""
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for dummy in range(6)]


class Emulator:
    """A running `auth0-emulator serve` subprocess and an HTTP client verified with its CA."""

    def __init__(self, *options, state_file=None, port=0):
        self.options = list(options)
        if state_file:
            self.options += ['--state-file', str(state_file)]
        cmd = [sys.executable, '-m', 'auth0_emulator.cli', 'serve', '--port', str(port)] + self.options
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # pylint: disable=consider-using-with
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError('emulator did not start: %s' % self.proc.stderr.read())
        self.ready = json.loads(line)
        self.url = self.ready['url']
        verify = ssl.create_default_context(cafile=self.ready['ca_path']) if self.ready['ca_path'] else True
        # TCP_NODELAY: httpx writes headers and body separately; Nagle + delayed ACK would add 40 ms per POST
        transport = httpx.HTTPTransport(verify=verify, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self.http = httpx.Client(base_url=self.url, transport=transport, timeout=20)
        self.verify = verify
        self._token = None

    @property
    def management_audience(self):
        """The Management API audience."""
        return self.url + '/api/v2/'

    def stop(self, sig=signal.SIGTERM):
        """Stop the subprocess by its pid; return its exit code."""
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

    def secret_token(self, client_id=None, client_secret=None, audience=None, **extra):
        """POST /oauth/token with a client secret; the raw response."""
        data = {'grant_type': 'client_credentials', 'client_id': client_id or self.ready['management_client_id'],
                'client_secret': client_secret or self.ready['management_client_secret'],
                'audience': audience or self.management_audience}
        data.update(extra)
        return self.http.post('/oauth/token', data=data)

    def token(self, refresh=False):
        """A management token of the management client (cached)."""
        if self._token is None or refresh:
            response = self.secret_token()
            assert response.status_code == 200, response.text
            self._token = response.json()['access_token']
        return self._token

    def api(self, method, path, token=None, **kwargs):
        """A Management API call with the management token."""
        headers = kwargs.pop('headers', {})
        headers.setdefault('Authorization', 'Bearer %s' % (token or self.token()))
        return self.http.request(method, path, headers=headers, **kwargs)

    def admin(self, method, path, **kwargs):
        """An admin call under /__emulator__/."""
        return self.http.request(method, '/__emulator__/' + path.lstrip('/'), **kwargs)

    def assertion(self, key, client_id, kid=None, alg='RS256', aud=None, lifetime=60, iat=None, jti=None, **claims):
        """A client assertion signed with PyJWT (an implementation independent of the emulator)."""
        now = int(time.time()) if iat is None else iat
        body = {'iss': client_id, 'sub': client_id, 'aud': aud or self.url + '/', 'iat': now, 'exp': now + lifetime,
                'jti': jti or uuid.uuid4().hex}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        headers = {'kid': kid} if kid else {}
        return jwt.encode(body, key, algorithm=alg, headers=headers)

    def assertion_token(self, assertion, audience=None, **extra):
        """POST /oauth/token with a client assertion; the raw response."""
        data = {'grant_type': 'client_credentials', 'client_assertion_type': JWT_BEARER, 'client_assertion': assertion,
                'audience': audience or self.management_audience}
        data.update(extra)
        return self.http.post('/oauth/token', data=data)

    def new_client(self, name='app', **body):
        """Create a machine-to-machine client through the API; its JSON."""
        body = dict({'name': name, 'app_type': 'non_interactive'}, **body)
        response = self.api('POST', '/api/v2/clients', json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def add_credential(self, client_id, key, **body):
        """POST a public_key credential; the raw response."""
        body = dict({'credential_type': 'public_key', 'name': 'k', 'pem': public_pem(key)}, **body)
        return self.api('POST', '/api/v2/clients/%s/credentials' % client_id, json=body)

    def enable(self, client_id, *cred_ids):
        """Switch a client to Private Key JWT with these credentials; the raw response."""
        body = {'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': c} for c in cred_ids]}},
                'token_endpoint_auth_method': None}
        return self.api('PATCH', '/api/v2/clients/%s' % client_id, json=body)

    def grant(self, client_id, audience=None, scope=('read:clients',)):
        """A client grant through the API; its JSON."""
        response = self.api('POST', '/api/v2/client-grants',
                            json={'client_id': client_id, 'audience': audience or self.management_audience, 'scope': list(scope)})
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture(scope='session')
def server():
    """One TLS emulator for the session."""
    emu = Emulator('--tls')
    yield emu
    assert emu.stop() == 0


@pytest.fixture
def emu(server):  # pylint: disable=redefined-outer-name
    """The session emulator, reset to the initial tenant with default controls."""
    assert server.admin('POST', 'reset').status_code == 200
    server.admin('POST', 'config', json={'latency_ms': 0, 'rate_limit': None, 'retry_after': False, 'token_ttl': 86400, 'clock_offset': 0})
    server.token(refresh=True)
    yield server


@pytest.fixture
def tmp_state(tmp_path):
    """A state file path in a fresh folder."""
    return tmp_path / 'state.json'


def pytest_configure(config):
    """Keep the emulator's import path usable by subprocesses when run from a source tree."""
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'src')
    os.environ['PYTHONPATH'] = src + os.pathsep + os.environ.get('PYTHONPATH', '')
    config.addinivalue_line('markers', 'slow: a test that waits on real time')
