#!/usr/bin/env python
"""check.py PHASE WORK CONFIG: what the secret in OpenBao and the client in the emulator hold after a run.

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

import hvac
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


def secret(client, path, version=None):
    try:
        answer = client.secrets.kv.v2.read_secret_version(path=path, version=version, mount_point='secret',
                                                          raise_on_deleted_version=False)
    except hvac.exceptions.InvalidPath:
        return None, 0
    data = answer['data']['data']
    return data, answer['data']['metadata']['version']


def main():
    phase, work, config = sys.argv[1:4]
    saved = json.load(open(os.path.join(work, 'client.json'), encoding='utf-8'))
    last_path = os.path.join(work, 'last.json')
    last = json.load(open(last_path, encoding='utf-8')) if os.path.exists(last_path) else {}
    vault = hvac.Client(url=os.environ['VAULT_ADDR'], token=os.environ['VAULT_TOKEN'])
    current, version = secret(vault, 'apps/billing')
    staged, dummy = secret(vault, 'apps/billing.next')
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
        if current.get('credential_id') != cred['id'] or current.get('client_id') != saved['client_id']:
            fail('the metadata of the secret does not name the credential %s: %s' % (cred['id'], {
                k: v for k, v in current.items() if k != 'private_key'}))
        previous, dummy = secret(vault, 'apps/billing', version - 1)
        if kid_for_public_key(previous['private_key']) != current.get('previous_kid'):
            fail('the previous version of the secret does not hold the previous key %s' % current.get('previous_kid'))
    if phase == 'rotated' and current.get('previous_kid') != saved['first_kid']:
        fail('previous_kid is %s, not the first key %s' % (current.get('previous_kid'), saved['first_kid']))
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
    if phase in ('waiting', 'in-window'):
        # the hosts' (the secret's) key is the new one; the old credential stays enabled beside it until the window ends
        cred = [c for c in credentials if c['kid'] == current_kid]
        if len(found['kids']) != 2 or current_kid not in enabled_kids or len(enabled_kids) != 2 or staged is not None:
            fail('inside the overlap window the secret should hold the new key and both credentials stay enabled: %s' % found)
        if not cred or current.get('credential_id') != cred[0]['id']:
            fail('the secret does not name the new credential')
        if (client.get('client_metadata') or {}).get('keyops_rotation'):
            fail('a run marker is left on the client while the rotation waits in its window')
    if phase == 'in-window' and (version != last.get('version') or found['kids'] != last.get('kids')):
        fail('a run inside the window changed something: %s, was %s' % (found, last))
    if phase == 'after-window' and (current_kid != last.get('current_kid') or version != last.get('version')):
        fail('the run after the window wrote the secret again')
    if phase == 'denied' and (found['kids'] != last.get('kids') or version != last.get('version') or staged is not None):
        fail('the refused run changed something: %s, was %s' % (found, last))
    json.dump(found, open(last_path, 'w', encoding='utf-8'))
    print('check %s: ok (%s)' % (phase, json.dumps(found)))


if __name__ == '__main__':
    main()
