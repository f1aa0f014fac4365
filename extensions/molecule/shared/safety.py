#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The misuse cases of the rotation (issue "Safe under misuse"), each through ansible-playbook.

    safety.py run --dir D -- ansible-playbook -i INVENTORY converge.yml
    safety.py tamper --dir D --client CLIENT_ID     # detach and delete the client's newest credential

The fleet (fleet.py up) has host1 and host2 on client A (promoted one host a batch) and host3 on
client B, each with a probe asking for a token with its host's key all along. Each case checks what
a user would notice: the run's exit code and output, the credentials in the emulator and the key
files on the hosts. The cases whose guard keeps the applications up (a refused run, a credential
deleted before the first batch, two runs at once) come first; the probes must then have seen no
refused token request, up to 10 s after the last of them. The cases that break a host's key on
purpose (bad key files) or expect a short outage (a credential deleted after the first batch) come
after that check.
"""

import argparse
import glob
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fleet import (JWT, MANAGEMENT_CLIENT_ID, MANAGEMENT_CLIENT_SECRET, Fleet, kid_of, log,  # noqa: E402  pylint: disable=wrong-import-position
                   new_key, run_playbook, tenant_problems)

MARKER = 'keyops_rotation'
FORCE = ['-e', 'credential_rotation_force=true']
SWITCH_TASK = 'Switch the hosts to the new key'
RETIRE_TASK = 'Check that every host holds the new key'


class Cases:
    """One fleet, its run command, and the problems found so far."""

    def __init__(self, args):
        self.fleet = Fleet(args.dir)
        self.command = args.command
        self.problems = []
        hosts = self.fleet.info['hosts']
        self.a = hosts['host1']['client_id']
        self.b = hosts['host3']['client_id']
        self.me = os.path.abspath(__file__)

    # -- looking -------------------------------------------------------------------------------------
    def problem(self, case, text):
        log('PROBLEM %s: %s' % (case, text))
        self.problems.append('%s: %s' % (case, text))

    def state(self):
        """Credentials and enabled lists of the fleet's clients, and every file in the hosts' directories."""
        return {'tenant': self.fleet.tenant(), 'files': self.fleet.host_files()}

    def raw_client(self, client_id):
        return self.fleet.admin('GET', '/state')['clients'][client_id]

    def live_kid(self, host):
        with open(self.fleet.info['hosts'][host]['key_path'], 'rb') as handle:
            return kid_of(handle.read())

    def probe_failures(self, hosts):
        out = {}
        for host in hosts:
            with open(self.fleet.path('probes', '%s.json' % host), encoding='utf-8') as handle:
                out[host] = json.load(handle)['failed']
        return out

    def run(self, case, extra, ok, says=(), **kwargs):
        code, dummy, text = run_playbook(self.fleet, self.command + extra, label=case, **kwargs)
        if ok and code != 0:
            self.problem(case, 'the run failed (rc %s); see logs/%s.log' % (code, case))
        if not ok and code == 0:
            self.problem(case, 'the run succeeded; it should have been refused')
        for text_part in says:
            if text_part not in text:
                self.problem(case, 'the output does not say %r' % text_part)
        return code, text

    def refused(self, case, extra, says, **kwargs):
        """A refused run changes nothing: the client's credentials and every key file, byte for byte."""
        before = self.state()
        code, text = self.run(case, extra, False, says, **kwargs)
        if self.state() != before:
            self.problem(case, 'the refused run changed Auth0 or the host files')
        return code, text

    def no_marker(self, case, client_id):
        metadata = self.raw_client(client_id).get('client_metadata') or {}
        if MARKER in metadata:
            self.problem(case, 'the run marker is still on client %s: %s' % (client_id, metadata[MARKER]))

    def discarded(self, case, hosts):
        """The key of a credential someone removed is gone from the hosts (never registered again later)."""
        for host in hosts:
            staged = self.fleet.info['hosts'][host]['key_path'] + '.next'
            if os.path.exists(staged):
                self.problem(case, '%s still holds the staged key of the removed credential' % host)

    def consistent(self, case):
        for text in tenant_problems(self.fleet):
            self.problem(case, text)

    # -- the cases ----------------------------------------------------------------------------------
    def case3_4_9_bad_settings(self):
        """An empty staged suffix (case 3), the metadata path on the key path (case 4), a name Auth0 refuses and a
        negative backup count (case 9): one run, refused before any change, naming every one of them."""
        self.refused('case3-4-9-bad-settings', FORCE + [
            '-e', 'credential_rotation_staged_suffix=',
            '-e', json.dumps({'credential_rotation_metadata_path': '{{ credential_rotation_key_path }}'}),
            '-e', 'credential_rotation_credential_name=keyops-rotation-' + 'x' * 120,
            '-e', 'credential_rotation_keep_backups=-1'],
            ['credential_rotation_staged_suffix on host1 is empty',
             'credential_rotation_metadata_path on host1 is %s' % self.fleet.info['hosts']['host1']['key_path'],
             'credential_rotation_credential_name on host1 is 136 characters long',
             'credential_rotation_keep_backups on host2 is -1'])

    def case7_symlink(self):
        key_path = self.fleet.info['hosts']['host1']['key_path']
        real = self.fleet.path('real-host1')
        os.makedirs(real, exist_ok=True)
        target = os.path.join(real, 'app.key')
        shutil.move(key_path, target)
        os.symlink(target, key_path)
        try:
            self.refused('case7-symlink', FORCE + ['-e', 'rotation_clients=%s' % self.a], ['%s on host1 is a symbolic link to %s' % (key_path, target)])
        finally:
            os.unlink(key_path)
            shutil.move(target, key_path)

    def case2_deleted_before_first_batch(self):
        case = 'case2-deleted-before-batch'
        before = {h: self.live_kid(h) for h in ('host1', 'host2')}
        old = self.fleet.tenant()[self.a]['enabled']
        # rotation_clients puts the hosts of the client in inventory order (host1 first): the promotion batches, and
        # so which host fails first, are the same on every run (they followed the order group_by happened to end in)
        self.run(case, FORCE + ['-e', 'rotation_clients=%s' % self.a], False,
                 ['is no longer enabled in Auth0', '(hosts host1, host2)'],
                 run_at=(SWITCH_TASK, [sys.executable, self.me, 'tamper', '--dir', self.fleet.dir, '--client', self.a]))
        after = {h: self.live_kid(h) for h in ('host1', 'host2')}
        if after != before:
            self.problem(case, 'hosts switched to a credential that was gone: %s -> %s' % (before, after))
        if self.fleet.tenant()[self.a]['enabled'] != old:
            self.problem(case, 'the enabled credentials changed: %s -> %s' % (old, self.fleet.tenant()[self.a]['enabled']))
        self.discarded(case, ['host1'])  # host2 (second batch) failed on host1's failed record, before any check
        self.no_marker(case, self.a)
        self.consistent(case)

    def case1_race(self, rounds):
        """Two runs of client B at once; the emulator holds the first read of the client until the other run's
        arrives (fault hold: 2), so that both have read it before either writes. One finishes; the other is
        refused (or finishes after it)."""
        client_path = '/api/v2/clients/%s' % self.b
        for number in range(rounds):
            case = 'case1-race-%d' % (number + 1)
            seq = max([e['seq'] for e in self.fleet.admin('GET', '/log')] or [0])
            self.fleet.admin('POST', '/faults', {'method': 'GET', 'path': '^%s$' % re.escape(client_path), 'count': 2,
                                                 'hold': 2})
            before = set(c['id'] for c in self.fleet.tenant()[self.b]['credentials'])
            runs = []
            for side in ('x', 'y'):
                log_path = self.fleet.path('logs', '%s-%s.log' % (case, side))
                out = open(log_path, 'w', encoding='utf-8')  # pylint: disable=consider-using-with
                proc = subprocess.Popen(self.command + FORCE + ['-e', 'rotation_clients=%s' % self.b],  # pylint: disable=consider-using-with
                                        stdout=out, stderr=subprocess.STDOUT)
                runs.append((proc, out, log_path))
            codes, texts = [], []
            for proc, out, log_path in runs:
                codes.append(proc.wait())
                out.close()
                with open(log_path, encoding='utf-8') as handle:
                    texts.append(handle.read())
            self.fleet.admin('DELETE', '/faults')
            log('%-28s rc=%s' % (case, codes))
            entries = [e for e in self.fleet.admin('GET', '/log') if e['seq'] > seq and e['path'].startswith(client_path)]
            reads = [e for e in entries if e['method'] == 'GET' and e['path'] == client_path][:2]
            writes = [e for e in entries if e['method'] in ('PATCH', 'POST', 'DELETE')]
            if len(reads) < 2 or not writes or max(r['time'] for r in reads) > min(w['time'] for w in writes):
                self.problem(case, 'the emulator did not hold both runs: both reads must end before the first write '
                                   '(reads %s, first write %s)' % ([r['time'] for r in reads],
                                                                   writes[0]['time'] if writes else None))
            if 0 not in codes:
                self.problem(case, 'neither run finished (rc %s)' % codes)
            for code, text in zip(codes, texts):
                if code != 0 and 'Another run wrote its marker' not in text and 'is writing to this client' not in text:
                    self.problem(case, 'a run failed without being refused by the marker (rc %s)' % code)
            after = self.fleet.tenant()[self.b]
            created = set(c['id'] for c in after['credentials']) - before
            if len(created) != 1:
                self.problem(case, 'expected one new credential, found %s' % sorted(created))
            self.no_marker(case, self.b)
            self.consistent(case)

    def case5_management_client(self):
        case = 'case5-management-client'
        directory = self.fleet.path('hosts', 'mgmt1')
        os.makedirs(directory, exist_ok=True)
        key_path = os.path.join(directory, 'app.key')
        private, dummy = new_key()
        with open(os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600), 'w', encoding='ascii') as handle:
            handle.write(private)
        inventory = self.fleet.path('management-host.yml')
        with open(inventory, 'w', encoding='utf-8') as handle:
            json.dump({'all': {'hosts': {'mgmt1': {'credential_rotation_client_id': MANAGEMENT_CLIENT_ID,
                                                   'credential_rotation_key_path': key_path}}}}, handle)
        before = (self.raw_client(MANAGEMENT_CLIENT_ID), open(key_path, 'rb').read())  # pylint: disable=consider-using-with
        self.run(case, FORCE + ['-i', inventory, '-e', 'rotation_clients=%s' % MANAGEMENT_CLIENT_ID,
                                '-e', 'credential_rotation_allow_secret_switch=true'], False,
                 ['is the management client of this run'])
        after = (self.raw_client(MANAGEMENT_CLIENT_ID), open(key_path, 'rb').read())  # pylint: disable=consider-using-with
        if after != before:
            self.problem(case, 'the management client or the key file changed')
        if not self.management_token():
            self.problem(case, 'the management client secret no longer obtains a token')
        shutil.rmtree(directory)

    def management_token(self):
        context = ssl.create_default_context(cafile=self.fleet.info['ca_path'])
        data = urllib.parse.urlencode({'grant_type': 'client_credentials', 'client_id': MANAGEMENT_CLIENT_ID,
                                       'client_secret': MANAGEMENT_CLIENT_SECRET,
                                       'audience': self.fleet.info['url'] + '/api/v2/'}).encode()
        try:
            with urllib.request.urlopen(urllib.request.Request(self.fleet.info['url'] + '/oauth/token', data=data),  # noqa: S310
                                        context=context, timeout=30) as response:
                return json.loads(response.read()).get('access_token')
        except OSError:
            return None

    def case6_11_unquoted_mode_under_ansible_debug(self):
        """Case 6: the key mode given as the integer 384 (an unquoted 0600) rotates, and the key files are 0600.
        Case 11: ANSIBLE_DEBUG prints task arguments: neither the client secret (environment) nor a management
        token given in credential_rotation_auth0_token (read from the variables by the action plugin) may be among
        them. One forced rotation of client A checks both."""
        case = 'case6-11-mode-384-ansible-debug'
        token = self.management_token()
        code, text = self.run(case, FORCE + ['-e', 'rotation_clients=%s' % self.a,
                                             '-e', json.dumps({'credential_rotation_key_mode': 384}),
                                             '-e', 'credential_rotation_auth0_token={{ lookup("ansible.builtin.env", '
                                                   '"KEYOPS_TEST_TOKEN") }}'],
                              True, env_extra={'ANSIBLE_DEBUG': '1', 'KEYOPS_TEST_TOKEN': token or ''})
        state = self.fleet.tenant()[self.a]
        live = self.live_kid('host1')
        kept = [c for c in state['credentials'] if c['kid'] != live and c['id'] != self.fleet.info['clients'][self.a]['foreign_credential']]
        if kept:
            self.problem(case, 'the old credential was not retired: %s' % kept)
        for host in ('host1', 'host2'):
            mode = self.fleet.host_files()[host]['app.key']['mode']
            if mode != '0600':
                self.problem(case, '%s: key mode %s, expected 0600' % (host, mode))
        if not token:
            self.problem(case, 'no management token to give the run')
        if token and token in text:
            self.problem(case, 'the management token given in credential_rotation_auth0_token is in the ANSIBLE_DEBUG output')
        if MANAGEMENT_CLIENT_SECRET in text:
            self.problem(case, 'the management client secret is in the ANSIBLE_DEBUG output')
        if JWT.search(text):
            self.problem(case, 'a token or an assertion is in the ANSIBLE_DEBUG output')
        self.consistent(case)

    def case8_unusable_key_files(self):
        case = 'case8-unusable-keys'
        paths = dict((h, self.fleet.info['hosts'][h]['key_path']) for h in ('host1', 'host2', 'host3'))
        saved = dict((h, open(p, 'rb').read()) for h, p in paths.items())  # pylint: disable=consider-using-with
        ec_key = ec.generate_private_key(ec.SECP256R1())
        rsa_private, rsa_public = new_key()
        encrypted = serialization.load_pem_private_key(rsa_private.encode(), None).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b'pw'))
        kinds = [
            ({'host1': ec_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()),
              'host2': rsa_public.encode(), 'host3': encrypted},
             {'host1': 'an EC private key', 'host2': 'a public key', 'host3': 'an encrypted private key'}),
            ({'host1': b'this is not a key\n', 'host3': b'database:\n  host: db.internal\n  port: 5432\n'},
             {'host1': 'not a PEM file', 'host3': 'not a PEM file'}),
        ]
        try:
            for number, (contents, found) in enumerate(kinds):
                for host, data in contents.items():
                    with open(paths[host], 'wb') as handle:
                        handle.write(data)
                self.refused('%s-%d' % (case, number + 1), FORCE, ['%s on %s holds %s' % (paths[h], h, f) for h, f in found.items()]
                             + ['RS256, RS384 and PS256'])
                for host, data in saved.items():
                    with open(paths[host], 'wb') as handle:
                        handle.write(data)
            # the explicit option replaces the YAML file on host3 and keeps it as a backup
            yaml_text = b'database:\n  host: db.internal\n'
            with open(paths['host3'], 'wb') as handle:
                handle.write(yaml_text)
            self.run('%s-replace' % case, ['-e', 'rotation_clients=%s' % self.b, '-e', 'credential_rotation_replace_unusable_key=true'],
                     True)
            backups = [p for p in glob.glob(paths['host3'] + '.*.bak') if open(p, 'rb').read() == yaml_text]  # pylint: disable=consider-using-with
            if not backups:
                self.problem(case, 'the replaced file was not kept as a backup')
            try:
                self.live_kid('host3')
            except ValueError:
                self.problem(case, 'host3 holds no key after the replacement')
            self.consistent(case)
        finally:
            for host in ('host1', 'host2'):
                with open(paths[host], 'wb') as handle:
                    handle.write(saved[host])

    def case9_missing_directory(self):
        inventory = self.fleet.path('missing-directory.yml')
        missing = self.fleet.path('hosts', 'host2-missing', 'app.key')
        with open(inventory, 'w', encoding='utf-8') as handle:
            json.dump({'all': {'hosts': {'host2': {'credential_rotation_key_path': missing}}}}, handle)
        self.refused('case9-missing-directory', FORCE + ['-i', inventory, '-e', 'rotation_clients=%s' % self.a],
                     ['The directory %s of credential_rotation_key_path does not exist on host2' % os.path.dirname(missing)])

    def case10_leftovers(self):
        case = 'case10-leftovers'
        directory = os.path.dirname(self.fleet.info['hosts']['host1']['key_path'])
        staged = os.path.join(directory, 'app.key.next')
        temp = os.path.join(directory, '.app.key.k1ll3d.tmp')
        private, dummy = new_key()
        for path, data in ((staged, private), (temp, private[:100])):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), 'w', encoding='ascii') as handle:
                handle.write(data)
        # a killed run's temporary file is old; a fresh one may be another run's write in progress, and is kept
        moment = time.time() - 600
        os.utime(temp, (moment, moment))
        before = self.fleet.tenant()
        self.run(case, [], True, ['Removed on host1 what an interrupted run left'])
        for path in (staged, temp):
            if os.path.exists(path):
                self.problem(case, '%s was left' % path)
        if self.fleet.tenant() != before:
            self.problem(case, 'a run with no rotation due changed Auth0')

    def case12_force_finishes_first(self):
        case = 'case12-force-finishes-first'
        code, dummy, text = run_playbook(self.fleet, self.command + FORCE + ['-e', 'rotation_clients=%s' % self.a],
                                         stop_at=RETIRE_TASK, label=case + '-killed')
        state = self.fleet.tenant()[self.a]
        if code != 42 or len(state['enabled']) != 2:
            self.problem(case, 'the first run did not stop with two enabled credentials (rc %s, %s)' % (code, state))
        before = set(c['id'] for c in state['credentials'])
        live = self.live_kid('host1')
        self.run(case, FORCE + ['-e', 'rotation_clients=%s' % self.a], True, ['unfinished'])
        after = self.fleet.tenant()[self.a]
        if set(c['id'] for c in after['credentials']) - before:
            self.problem(case, 'a forced run started a new rotation before finishing the one under way')
        if self.live_kid('host1') != live or len(after['enabled']) != 1:
            self.problem(case, 'the unfinished rotation was not finished: %s' % after)
        self.no_marker(case, self.a)
        self.consistent(case)

    def case2_deleted_after_first_batch(self):
        case = 'case2-deleted-after-batch'
        before = {h: self.live_kid(h) for h in ('host1', 'host2')}
        old = self.fleet.tenant()[self.a]['enabled']
        tamper = [sys.executable, self.me, 'tamper', '--dir', self.fleet.dir, '--client', self.a]
        health = ('{{ %s if inventory_hostname == "host1" else ["/bin/true"] }}' % json.dumps(tamper))
        self.run(case, FORCE + ['-e', 'rotation_clients=%s' % self.a, '-e', json.dumps(
            {'credential_rotation_health_check_command': health})], False, ['get their previous key back'])
        after = {h: self.live_kid(h) for h in ('host1', 'host2')}
        if after != before:
            self.problem(case, 'the hosts are not back on the old key: %s -> %s' % (before, after))
        if self.fleet.tenant()[self.a]['enabled'] != old:
            self.problem(case, 'the old credential is not the one enabled: %s -> %s' % (old, self.fleet.tenant()[self.a]['enabled']))
        self.discarded(case, ['host1', 'host2'])
        self.no_marker(case, self.a)
        self.consistent(case)


GUARDED = ('case3_4_9_bad_settings', 'case7_symlink', 'case2_deleted_before_first_batch', 'case1_race')
OTHERS = ('case5_management_client', 'case6_11_unquoted_mode_under_ansible_debug', 'case9_missing_directory',
          'case10_leftovers', 'case12_force_finishes_first', 'case2_deleted_after_first_batch', 'case8_unusable_key_files')


def cmd_run(args):
    cases = Cases(args)

    def run(name):
        try:
            method = getattr(cases, name)
            method(args.rounds) if name == 'case1_race' else method()  # pylint: disable=expression-not-assigned
        except Exception as error:  # pylint: disable=broad-except  # one broken case must not hide the others
            cases.problem(name, 'the case stopped: %s: %s' % (type(error).__name__, error))

    if args.only:
        for name in args.only.split(','):
            run(name)
        print(json.dumps({'problems': cases.problems}, indent=1))
        sys.exit(1 if cases.problems else 0)
    hosts = ['host1', 'host2', 'host3']
    start = cases.probe_failures(hosts)
    for name in GUARDED:
        run(name)
    time.sleep(10)
    failed = cases.probe_failures(hosts)
    if failed != start:
        cases.problem('probes', 'token requests were refused during the guarded cases: %s -> %s' % (start, failed))
    for name in OTHERS:
        run(name)
    print(json.dumps({'problems': cases.problems}, indent=1))
    if cases.problems:
        sys.exit('safety checks failed:\n- ' + '\n- '.join(cases.problems))


def cmd_tamper(args):
    """What someone else does during a run: detach the client's newest credential and delete it."""
    fleet = Fleet(args.dir)
    context = ssl.create_default_context(cafile=fleet.info['ca_path'])
    data = urllib.parse.urlencode({'grant_type': 'client_credentials', 'client_id': MANAGEMENT_CLIENT_ID,
                                   'client_secret': MANAGEMENT_CLIENT_SECRET, 'audience': fleet.info['url'] + '/api/v2/'}).encode()
    with urllib.request.urlopen(urllib.request.Request(fleet.info['url'] + '/oauth/token', data=data),  # noqa: S310
                                context=context, timeout=30) as response:
        token = json.loads(response.read())['access_token']

    def call(method, path, body=None):
        request = urllib.request.Request(fleet.info['url'] + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, context=context, timeout=30) as response:  # noqa: S310
            raw = response.read()
        return json.loads(raw) if raw else None

    base = '/api/v2/clients/%s' % args.client
    newest = max(call('GET', base + '/credentials'), key=lambda c: c.get('created_at') or '')
    client = call('GET', base)
    enabled = [c['id'] for c in ((client.get('client_authentication_methods') or {}).get('private_key_jwt') or {})
               .get('credentials', [])]
    if newest['id'] in enabled:
        call('PATCH', base, {'client_authentication_methods': {'private_key_jwt': {'credentials': [
            {'id': i} for i in enabled if i != newest['id']]}}})
    call('DELETE', base + '/credentials/' + newest['id'])
    log('tamper: detached and deleted %s of client %s' % (newest['id'], args.client))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    sub = parser.add_subparsers(dest='command_name', required=True)
    run = sub.add_parser('run')
    run.add_argument('--dir', required=True)
    run.add_argument('--rounds', type=int, default=5, help='rounds of the two-runs race (case 1)')
    run.add_argument('--only', default='', help='comma-separated case method names (a development loop)')
    run.add_argument('command', nargs='+')
    tamper = sub.add_parser('tamper')
    tamper.add_argument('--dir', required=True)
    tamper.add_argument('--client', required=True)
    args = parser.parse_args()
    {'run': cmd_run, 'tamper': cmd_tamper}[args.command_name](args)


if __name__ == '__main__':
    main()
