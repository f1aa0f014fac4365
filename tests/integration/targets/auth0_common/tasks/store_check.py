#!/usr/bin/env python
"""store_check.py STORE PHASE WORK CONFIG: what the secret (STORE vault: secret/apps/billing in OpenBao, VAULT_ADDR
and VAULT_TOKEN; aws: the Secrets Manager secret apps/billing in moto's server, AWS_ENDPOINT_URL) and the client in
the emulator hold after a run of the credential_rotation_vault or credential_rotation_aws target.

The kid of every key is computed from the key read from the store, never taken from the secret's metadata.
Each phase saves what it found in WORK/last.json for the next one to compare with.
"""

import base64
import hashlib
import json
import os
import ssl
import sys
import urllib.request

from cryptography.hazmat.primitives.serialization import load_pem_private_key


def kid_for_public_key(private_pem):
    """The RFC 7638 thumbprint of an RSA key, computed here, independently of the collection."""
    numbers = load_pem_private_key(private_pem.encode(), None).public_key().public_numbers()

    def b64(value):
        raw = value.to_bytes((value.bit_length() + 7) // 8, 'big')
        return base64.urlsafe_b64encode(raw).rstrip(b'=').decode()
    canonical = json.dumps({'e': b64(numbers.e), 'kty': 'RSA', 'n': b64(numbers.n)}, sort_keys=True, separators=(',', ':'))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b'=').decode()


def fail(message):
    sys.exit('check %s: %s' % (sys.argv[1], message))


def emulator(config):
    values = dict(line.split(': ', 1) for line in open(config, encoding='utf-8').read().splitlines() if ': ' in line)
    url, ca = json.loads(values['auth0_emulator_url']), json.loads(values['auth0_emulator_ca_path'])
    with urllib.request.urlopen(url + '/__emulator__/state', context=ssl.create_default_context(cafile=ca)) as answer:
        return json.load(answer)


class Vault:
    """The secret in OpenBao: versions are numbers; the staged key is PATH.next."""

    def __init__(self):
        import hvac  # pylint: disable=import-outside-toplevel
        self.hvac = hvac
        self.client = hvac.Client(url=os.environ['VAULT_ADDR'], token=os.environ['VAULT_TOKEN'])

    def _read(self, path, version=None):
        try:
            answer = self.client.secrets.kv.v2.read_secret_version(path=path, version=version, mount_point='secret',
                                                                   raise_on_deleted_version=False)
        except self.hvac.exceptions.InvalidPath:
            return None, None
        return answer['data']['data'], answer['data']['metadata']['version']

    def current(self):
        return self._read('apps/billing')

    def staged(self):
        return self._read('apps/billing.next')[0]

    def previous(self, version):
        return self._read('apps/billing', version - 1)[0]


class SecretsManager:
    """The secret in Secrets Manager: versions are ids; staged is AWSPENDING on another version than AWSCURRENT."""

    def __init__(self):
        import boto3  # pylint: disable=import-outside-toplevel
        self.client = boto3.client('secretsmanager')

    def _stages(self):
        stages = {}
        for version, labels in self.client.describe_secret(SecretId='apps/billing')['VersionIdsToStages'].items():
            for label in labels:
                stages[label] = version
        return stages

    def _value(self, version):
        return json.loads(self.client.get_secret_value(SecretId='apps/billing', VersionId=version)['SecretString'])

    def current(self):
        version = self._stages()['AWSCURRENT']
        return self._value(version), version

    def staged(self):
        stages = self._stages()
        if stages.get('AWSPENDING') and stages['AWSPENDING'] != stages['AWSCURRENT']:
            return self._value(stages['AWSPENDING'])
        return None

    def previous(self, version):
        stages = self._stages()
        return self._value(stages['AWSPREVIOUS']) if stages.get('AWSPREVIOUS') else None


def main():
    kind, phase, work, config = sys.argv[1:5]
    sys.argv[1:] = sys.argv[2:]  # fail() names the phase
    saved = json.load(open(os.path.join(work, 'client.json'), encoding='utf-8'))
    last_path = os.path.join(work, 'last.json')
    # before the first run, the secret holds the first key (setup.yml)
    last = json.load(open(last_path, encoding='utf-8')) if os.path.exists(last_path) else {'current_kid': saved['first_kid']}
    store = Vault() if kind == 'vault' else SecretsManager()
    current, version = store.current()
    staged = store.staged()
    current_kid = kid_for_public_key(current['private_key'])
    staged_kid = kid_for_public_key(staged['private_key']) if staged else None
    state = emulator(config)
    client = state['clients'][saved['client_id']]
    credentials = [c for c in state['credentials'].values() if c['client_id'] == saved['client_id']]
    enabled = [c['id'] for c in ((client.get('client_authentication_methods') or {}).get('private_key_jwt') or {}).get('credentials', [])]
    by_id = dict((c['id'], c) for c in credentials)
    enabled_kids = sorted(by_id[i]['kid'] for i in enabled)
    found = {'current_kid': current_kid, 'version': version, 'staged_kid': staged_kid, 'enabled_kids': enabled_kids,
             'kids': sorted(c['kid'] for c in credentials)}
    if phase in ('rotated', 'resumed', 'unchanged', 'after-window'):
        if current_kid == saved['first_kid'] and phase not in ('unchanged', 'after-window'):
            fail('the secret still holds the first key')
        if found['kids'] != [current_kid] or enabled_kids != [current_kid]:
            fail('Auth0 should hold exactly the current key %s, enabled; it holds %s (enabled %s)'
                 % (current_kid, found['kids'], enabled_kids))
        if staged is not None:
            fail('a staged key is left in the store: %s' % staged_kid)
        cred = [c for c in credentials if c['kid'] == current_kid][0]
        if kind == 'vault' and (current.get('credential_id') != cred['id'] or current.get('client_id') != saved['client_id']):
            fail('the metadata of the secret does not name the credential %s: %s' % (cred['id'], {
                k: v for k, v in current.items() if k != 'private_key'}))
        previous = store.previous(version)
        if phase not in ('unchanged', 'after-window') and (not previous or kid_for_public_key(previous['private_key']) != last.get('current_kid')):
            fail('the previous version of the secret does not hold the key it held before (%s)' % last.get('current_kid'))
    if phase == 'unchanged' and (version != last.get('version') or current_kid != last.get('current_kid')):
        fail('a run with nothing to do wrote the secret (version %s, was %s)' % (version, last.get('version')))
    if phase == 'stopped':
        if current_kid != last.get('current_kid') or version != last.get('version'):
            fail('the stopped run changed the current version of the secret')
        if not staged_kid or staged_kid not in enabled_kids or current_kid not in enabled_kids:
            fail('the stopped run should leave the new key staged %s and enabled beside the current one: %s'
                 % (staged_kid, found))
    if phase == 'resumed' and current_kid != last.get('staged_kid'):
        fail('the resumed run made %s current, not the key the stopped run staged (%s)' % (current_kid, last.get('staged_kid')))
    if phase == 'waiting-recorded':
        recorded = (client.get('client_metadata') or {}).get('keyops_overlap_until') or ''
        if not recorded.startswith(current_kid + ' '):
            fail('the end of the window of %s is not recorded on the client: %r' % (current_kid, recorded))
    if phase in ('waiting', 'in-window', 'waiting-recorded'):
        # the hosts' (the secret's) key is the new one; the old credential stays enabled beside it until the window ends
        cred = [c for c in credentials if c['kid'] == current_kid]
        if len(found['kids']) != 2 or current_kid not in enabled_kids or len(enabled_kids) != 2 or staged is not None:
            fail('inside the overlap window the secret should hold the new key and both credentials stay enabled: %s' % found)
        if not cred or (kind == 'vault' and current.get('credential_id') != cred[0]['id']):
            fail('the secret does not hold the key of the new credential')
        if (client.get('client_metadata') or {}).get('keyops_rotation'):  # the run marker
            fail('a run marker is left on the client while the rotation waits in its window')
    if phase == 'in-window' and (version != last.get('version') or found['kids'] != last.get('kids')):
        fail('a run inside the window changed something: %s, was %s' % (found, last))
    if phase == 'after-window' and (current_kid != last.get('current_kid') or version != last.get('version')):
        fail('the run after the window wrote the secret again')
    if phase == 'staged-only':
        # stopped at the registration: the new key is staged in the store, Auth0 knows nothing of it
        if current_kid != last.get('current_kid') or version != last.get('version') or found['kids'] != last.get('kids'):
            fail('the run stopped at the registration changed the current key or Auth0: %s, was %s' % (found, last))
        if not staged_kid or staged_kid in found['kids']:
            fail('the new key should be staged in the store and unknown to Auth0: %s' % found)
    if phase == 'promoted-not-retired':
        # stopped at the retirement: the store holds the new key as current, both credentials are still enabled
        if current_kid == last.get('current_kid') or staged is not None or len(enabled_kids) != 2 or current_kid not in enabled_kids:
            fail('after a stop at the retirement the store should hold the new key and both credentials stay: %s' % found)
    if phase == 'denied' and (found['kids'] != last.get('kids') or version != last.get('version') or staged is not None):
        fail('the refused run changed something: %s, was %s' % (found, last))
    json.dump(found, open(last_path, 'w', encoding='utf-8'))
    print('check %s: ok (%s)' % (phase, json.dumps(found)))


if __name__ == '__main__':
    main()
