#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet probe: plays the application of one host while a rotation runs.

Every ``--interval`` seconds it re-reads the host's key file, computes the key's kid itself (RFC 7638
thumbprint; it never trusts the metadata file, which may lag the key), signs a Private Key JWT client
assertion with PyJWT and asks the token endpoint for a token. It counts successes and failures per
kid and rewrites ``--out`` (JSON, atomically) about twice a second and when it stops (SIGTERM/SIGINT
or ``--duration``).

Like a real application it retries a request that met a transient answer (429, 5xx, connection
error) a few times before counting it as failed; any 4xx other than 429 counts as failed at once.
It is independent of the collection's code: only cryptography, PyJWT and httpx (and, to read the key from a
secret store as a consumer would, hvac or boto3). Assertions and tokens are never printed or written.

``--key vault:PATH`` reads the current version of the KV v2 secret PATH (mount ``secret``) from VAULT_ADDR with
VAULT_TOKEN, ``--key aws:NAME`` the AWSCURRENT version of a Secrets Manager secret (AWS_* environment), and
takes its ``private_key``: an application that reads its key from the store.
"""

import argparse
import base64
import hashlib
import json
import os
import signal
import sys
import time
import uuid

import httpx
import jwt
from cryptography.hazmat.primitives import serialization

ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'


def b64url_uint(value):
    data = value.to_bytes(max(1, (value.bit_length() + 7) // 8), 'big')
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def thumbprint(private_key):
    """RFC 7638 JWK thumbprint (SHA-256) of an RSA key."""
    numbers = private_key.public_key().public_numbers()
    if not hasattr(numbers, 'e'):
        raise ValueError('not an RSA key')  # an application given an EC key cannot sign RS256: a failed request
    canonical = json.dumps({'e': b64url_uint(numbers.e), 'kty': 'RSA', 'n': b64url_uint(numbers.n)},
                           sort_keys=True, separators=(',', ':'))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode('ascii')).digest()).rstrip(b'=').decode('ascii')


class Probe:
    """One probe loop and its counters."""

    def __init__(self, args):
        self.args = args
        self.stop = False
        self.cache = None
        self.store = None
        self.stats = {'pid': os.getpid(), 'host': args.name, 'key': args.key, 'client_id': args.client_id,
                      'started': time.time(), 'updated': None, 'stopped': False, 'requests': 0,
                      'succeeded': 0, 'failed': 0, 'retried': 0, 'unreadable_key': 0,
                      'kids': {}, 'last_errors': []}
        verify = args.ca if args.ca else True
        self.http = httpx.Client(base_url=args.url, verify=verify, timeout=args.timeout)
        self.audience_assertion = args.url.rstrip('/') + '/'

    def kid_stats(self, kid):
        return self.stats['kids'].setdefault(kid, {'succeeded': 0, 'failed': 0, 'first_success': None, 'last_success': None})

    def _store_key(self):
        """The private key of the secret's current version (--key vault:PATH or aws:NAME), as bytes."""
        kind, name = self.args.key.split(':', 1)
        if kind == 'vault':
            if self.store is None:
                import hvac  # pylint: disable=import-outside-toplevel
                self.store = hvac.Client(url=os.environ['VAULT_ADDR'], token=os.environ['VAULT_TOKEN'])
            answer = self.store.secrets.kv.v2.read_secret_version(path=name, mount_point='secret',
                                                                  raise_on_deleted_version=True)
            return answer['data']['data']['private_key'].encode('ascii')
        if self.store is None:
            import boto3  # pylint: disable=import-outside-toplevel
            self.store = boto3.client('secretsmanager')
        value = self.store.get_secret_value(SecretId=name, VersionStage='AWSCURRENT')
        return json.loads(value['SecretString'])['private_key'].encode('ascii')

    def read_key(self):
        """Read the key file (or the secret) now; parse it again only when its bytes changed (parsing RSA keys is slow)."""
        if self.args.key.startswith(('vault:', 'aws:')):
            data = self._store_key()
        else:
            with open(self.args.key, 'rb') as handle:
                data = handle.read()
        digest = hashlib.sha256(data).digest()
        if self.cache is None or self.cache[0] != digest:
            key = serialization.load_pem_private_key(data, password=None)
            self.cache = (digest, key, thumbprint(key))
        return self.cache[1], self.cache[2]

    def assertion(self, key, kid):
        now = int(time.time())
        claims = {'iss': self.args.client_id, 'sub': self.args.client_id, 'aud': self.audience_assertion,
                  'iat': now, 'nbf': now, 'exp': now + 60, 'jti': uuid.uuid4().hex}
        headers = {'kid': kid} if self.args.send_kid else {}
        return jwt.encode(claims, key, algorithm=self.args.alg, headers=headers)

    def error(self, kid, text):
        errors = self.stats['last_errors']
        errors.append({'at': round(time.time(), 3), 'kid': kid, 'error': text[:300]})
        del errors[:-20]

    def once(self):
        """One application request: read the key, sign, ask for a token (with retries on transient errors)."""
        self.stats['requests'] += 1
        try:
            key, kid = self.read_key()
        except Exception as exc:  # pylint: disable=broad-except  # a key the application cannot read is a failure
            self.stats['unreadable_key'] += 1
            self.stats['failed'] += 1
            self.error(None, 'cannot read the key: %s' % type(exc).__name__)
            return
        entry = self.kid_stats(kid)
        for attempt in range(self.args.attempts):
            if attempt:
                self.stats['retried'] += 1
                time.sleep(min(2.0, 0.1 * 2 ** attempt))
                if self.stop:
                    break
            data = {'grant_type': 'client_credentials', 'client_id': self.args.client_id,
                    'client_assertion_type': ASSERTION_TYPE, 'client_assertion': self.assertion(key, kid),
                    'audience': self.args.audience}
            try:
                response = self.http.post('/oauth/token', data=data)
            except httpx.HTTPError as exc:
                self.error(kid, 'transport: %s' % type(exc).__name__)
                continue
            if response.status_code == 200:
                now = round(time.time(), 3)
                entry['succeeded'] += 1
                entry['first_success'] = entry['first_success'] or now
                entry['last_success'] = now
                self.stats['succeeded'] += 1
                return
            try:
                body = response.json()
                text = '%s %s: %s' % (response.status_code, body.get('error'), body.get('error_description'))
            except ValueError:
                text = '%s (no JSON)' % response.status_code
            self.error(kid, text)
            if response.status_code != 429 and response.status_code < 500:
                break
        entry['failed'] += 1
        self.stats['failed'] += 1

    def write(self):
        self.stats['updated'] = time.time()
        temp = '%s.%d.tmp' % (self.args.out, os.getpid())
        with open(temp, 'w', encoding='utf-8') as handle:
            json.dump(self.stats, handle, indent=1, sort_keys=True)
        os.replace(temp, self.args.out)

    def run(self):
        deadline = time.monotonic() + self.args.duration
        last_write = 0
        while not self.stop and time.monotonic() < deadline:
            started = time.monotonic()
            self.once()
            if started - last_write >= 0.5:
                self.write()
                last_write = started
            time.sleep(max(0.0, self.args.interval - (time.monotonic() - started)))
        self.stats['stopped'] = True
        self.write()
        self.http.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--key', required=True, help='the key file the application reads, or vault:PATH, aws:NAME')
    parser.add_argument('--client-id', required=True)
    parser.add_argument('--url', required=True, help='tenant base URL, e.g. https://127.0.0.1:8443')
    parser.add_argument('--audience', required=True, help='API audience the client has a grant for')
    parser.add_argument('--ca', default=None, help='CA bundle of the tenant')
    parser.add_argument('--out', required=True, help='JSON stats file')
    parser.add_argument('--name', default=None, help='name of the host, written to the stats')
    parser.add_argument('--alg', default='RS256', choices=('RS256', 'RS384', 'PS256'))
    parser.add_argument('--send-kid', action='store_true', help='send the kid computed from the key')
    parser.add_argument('--interval', type=float, default=0.05)
    parser.add_argument('--attempts', type=int, default=4, help='attempts per request on transient errors')
    parser.add_argument('--timeout', type=float, default=10.0)
    parser.add_argument('--duration', type=float, default=3600.0, help='stop after this many seconds anyway')
    parser.add_argument('--pidfile', default=None)
    args = parser.parse_args(argv)
    probe = Probe(args)

    def stop(_signum, _frame):
        probe.stop = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.pidfile:
        with open(args.pidfile, 'w', encoding='utf-8') as handle:
            handle.write('%d\n' % os.getpid())
    probe.run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
