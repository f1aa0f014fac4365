#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test fleet of the credential_rotation molecule scenarios.

    fleet.py up --dir D [--port P] --hosts host1,host2,... [--clients A,A,B] [--ssh]
    fleet.py down --dir D
    fleet.py check --dir D            # after a successful rotation
    fleet.py snapshot --dir D         # Auth0 credentials and host files, for before/after comparisons
    fleet.py run --dir D [--stop-at TASK[#N]] [--faults FILE] [--expect-fail] -- ansible-playbook args...
    fleet.py matrix --dir D --boundaries ... -- ansible-playbook args...
    fleet.py secrets --dir D --since FILE LOG...

``up`` starts the Auth0 emulator over TLS (on --port, or on a free port it picks and reports in
fleet.json; a fixed management client, and the CA beside its state file), seeds one or more clients
whose first credential expires soon (the rotation trigger) plus a foreign credential that the role
must never touch, writes each host's key file, starts sshd per host with --ssh (127.0.0.2,
127.0.0.3, ... each on a port found free on its address, written to hostvars.json) and one fleet
probe (tests/probe/fleet_probe.py) per host. ``down`` stops all of them by their PIDs. Nothing is
written outside --dir, so fleets of runs side by side share no path and no port.
Every check prints what it found and exits non-zero with the reasons when something is wrong.
"""

import argparse
import base64
import datetime
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
PROBE = os.path.join(ROOT, 'tests', 'probe', 'fleet_probe.py')
MANAGEMENT_CLIENT_ID = 'moleculeManagementClient0000001'
MANAGEMENT_CLIENT_SECRET = 'molecule-test-secret-not-a-real-one-0000000000000000'
JWT = re.compile(r'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}')
STOP_CODE = 42


def log(*parts):
    sys.stderr.write(' '.join(str(p) for p in parts) + '\n')
    sys.stderr.flush()


def new_key(bits=2048):
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def kid_of(pem):
    key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
    numbers = key.public_key().public_numbers()

    def b64(value):
        return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, 'big')).rstrip(b'=').decode()
    canonical = json.dumps({'e': b64(numbers.e), 'kty': 'RSA', 'n': b64(numbers.n)}, sort_keys=True, separators=(',', ':'))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b'=').decode()


def iso(delta_days):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=delta_days)
    return moment.strftime('%Y-%m-%dT%H:%M:%S.000Z')


class Fleet:
    """Paths and state of one scenario's fleet."""

    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        self.info_path = os.path.join(self.dir, 'fleet.json')
        self.info = {}
        if os.path.exists(self.info_path):
            with open(self.info_path, encoding='utf-8') as handle:
                self.info = json.load(handle)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def save(self):
        with open(self.info_path, 'w', encoding='utf-8') as handle:
            json.dump(self.info, handle, indent=1, sort_keys=True)

    # emulator access -------------------------------------------------------------------------
    def admin(self, method, path, body=None):
        context = ssl.create_default_context(cafile=self.info['ca_path'])
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.info['url'] + '/__emulator__' + path, data=data, method=method,
                                         headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, context=context, timeout=30) as response:  # noqa: S310 - loopback test server
            raw = response.read()
        return json.loads(raw) if raw else None

    def tenant(self):
        state = self.admin('GET', '/state')
        clients = {}
        for client_id in self.info['clients']:
            client = state['clients'][client_id]
            methods = client.get('client_authentication_methods') or {}
            enabled = [c['id'] for c in (methods.get('private_key_jwt') or {}).get('credentials', [])]
            creds = [c for c in state['credentials'].values() if c.get('client_id') == client_id] \
                if isinstance(state['credentials'], dict) else []
            clients[client_id] = {'enabled': sorted(enabled), 'credentials': sorted(
                ({'id': c['id'], 'kid': c.get('kid'), 'name': c.get('name')} for c in creds), key=lambda c: c['id'])}
        return clients

    def host_files(self):
        out = {}
        for host in self.info['hosts']:
            directory = self.path('hosts', host)
            entries = {}
            for name in sorted(os.listdir(directory)):
                full = os.path.join(directory, name)
                st = os.stat(full)
                with open(full, 'rb') as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
                entries[name] = {'mode': '%04o' % (st.st_mode & 0o7777), 'uid': st.st_uid, 'gid': st.st_gid, 'sha256': digest}
            out[host] = entries
        return out


def cmd_up(args):
    fleet = Fleet(args.dir)
    hosts = args.hosts.split(',')
    client_names = (args.clients or ','.join(['app'] * len(hosts))).split(',')
    shutil.rmtree(fleet.dir, ignore_errors=True)
    for sub in ('emulator', 'hosts', 'probes', 'logs'):
        os.makedirs(fleet.path(sub))
    with open(fleet.path('start-marker'), 'w', encoding='utf-8') as handle:
        handle.write('%f\n' % time.time())
    emulator = os.path.join(os.path.dirname(sys.executable), 'auth0-emulator')
    ready_path = fleet.path('emulator', 'ready.json')
    with open(ready_path, 'w', encoding='utf-8') as out, open(fleet.path('logs', 'emulator.log'), 'w', encoding='utf-8') as err:
        # localhost is the tenant's custom domain: ssh_fleet reaches Auth0 through it (AUTH0_DOMAIN) with the canonical
        # Management API identifier in AUTH0_AUDIENCE, as a tenant behind a custom domain needs
        proc = subprocess.Popen([emulator, 'serve', '--port', str(args.port), '--tls', '--custom-domain', 'localhost',  # pylint: disable=consider-using-with
                                 '--state-file', fleet.path('emulator', 'state.json'),
                                 '--management-client-id', MANAGEMENT_CLIENT_ID,
                                 '--management-client-secret', MANAGEMENT_CLIENT_SECRET],
                                stdout=out, stderr=err, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        with open(ready_path, encoding='utf-8') as handle:
            line = handle.readline()
        if line.strip():
            break
        if proc.poll() is not None:
            sys.exit('the emulator exited with %s; see %s' % (proc.returncode, fleet.path('logs', 'emulator.log')))
        time.sleep(0.2)
    else:
        sys.exit('the emulator did not become ready')
    ready = json.loads(line)
    fleet.info.update(url=ready['url'], domain=ready['domain'], ca_path=ready['ca_path'], emulator_pid=proc.pid,
                      hosts={}, clients={}, probes={}, sshd={})
    fleet.save()

    seeds = {}
    for name in sorted(set(client_names)):
        private, public = new_key()
        dummy, foreign_public = new_key()
        answer = fleet.admin('POST', '/seed', {'clients': [{
            'name': 'molecule-%s' % name,
            'credentials': [
                {'credential_type': 'public_key', 'name': 'initial-%s' % name, 'pem': public,
                 'expires_at': iso(10), 'created_at': iso(-200)},
                {'credential_type': 'public_key', 'name': 'partner-%s' % name, 'pem': foreign_public},
            ],
            'private_key_jwt': [0],
            'grants': [{'scope': []}],
        }]})['clients'][0]
        seeds[name] = {'client_id': answer['client_id'], 'private': private}
        fleet.info['clients'][answer['client_id']] = {
            'name': name, 'initial_kid': kid_of(private), 'initial_credential': answer['credentials'][0],
            'foreign_credential': answer['credentials'][1]}

    for index, (host, name) in enumerate(zip(hosts, client_names)):
        directory = fleet.path('hosts', host)
        os.makedirs(directory)
        key_path = os.path.join(directory, 'app.key')
        with open(os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600), 'w', encoding='ascii') as handle:
            handle.write(seeds[name]['private'])
        fleet.info['hosts'][host] = {'client_id': seeds[name]['client_id'], 'key_path': key_path,
                                     'address': '127.0.0.%d' % (index + 2)}
    fleet.save()
    if args.ssh:
        start_sshd(fleet, hosts)
    start_probes(fleet)
    write_inventory_vars(fleet)
    log('fleet up:', json.dumps({h: v['client_id'] for h, v in fleet.info['hosts'].items()}))


def write_inventory_vars(fleet):
    """Per-host variables the scenario inventory reads (client id, key path, address)."""
    with open(fleet.path('hostvars.json'), 'w', encoding='utf-8') as handle:
        json.dump(fleet.info['hosts'], handle, indent=1, sort_keys=True)


def start_probes(fleet):
    for host, hinfo in fleet.info['hosts'].items():
        out = fleet.path('probes', '%s.json' % host)
        with open(fleet.path('logs', 'probe-%s.log' % host), 'w', encoding='utf-8') as err:
            argv = [sys.executable, PROBE, '--key', hinfo['key_path'], '--client-id', hinfo['client_id'],
                    '--url', fleet.info['url'], '--ca', fleet.info['ca_path'], '--name', host,
                    '--audience', fleet.info['url'] + '/api/v2/', '--out', out, '--send-kid',
                    # a request every 0.3 s per host: an outage of 0.3 s or more is seen for certain, and three
                    # fleets side by side (make test) leave the CPU to the runs under test (the probes and their
                    # emulators took half a core at 0.2 s)
                    '--interval', '0.3', '--duration', '3000']
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)  # pylint: disable=consider-using-with
        fleet.info['probes'][host] = proc.pid
    fleet.save()
    deadline = time.time() + 30
    for host in fleet.info['hosts']:
        while not os.path.exists(fleet.path('probes', '%s.json' % host)) and time.time() < deadline:
            time.sleep(0.2)


def start_sshd(fleet, hosts):
    ssh_dir = fleet.path('ssh')
    os.makedirs(ssh_dir)
    os.makedirs('/run/sshd', exist_ok=True)
    client_key = os.path.join(ssh_dir, 'id_ed25519')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', client_key], check=True)
    shutil.copy(client_key + '.pub', os.path.join(ssh_dir, 'authorized_keys'))
    known = []
    sshd = shutil.which('sshd') or '/usr/sbin/sshd'
    for host in hosts:
        address = fleet.info['hosts'][host]['address']
        host_key = os.path.join(ssh_dir, 'host_%s' % host)
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', host_key], check=True)
        config = os.path.join(ssh_dir, 'sshd_%s.conf' % host)
        for dummy in range(5):  # a port probed free can be taken before sshd binds it: try another
            port = free_port(address)
            with open(config, 'w', encoding='ascii') as handle:
                handle.write('\n'.join([
                    'ListenAddress %s:%d' % (address, port), 'HostKey %s' % host_key,
                    'AuthorizedKeysFile %s' % os.path.join(ssh_dir, 'authorized_keys'), 'PermitRootLogin prohibit-password',
                    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no',
                    'PrintMotd no', 'AcceptEnv LANG LC_*', 'Subsystem sftp internal-sftp', 'MaxStartups 100:30:200',
                    'MaxSessions 50', '']))
            proc = subprocess.Popen([sshd, '-D', '-f', config, '-E', fleet.path('logs', 'sshd-%s.log' % host)],  # pylint: disable=consider-using-with
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            if listening(proc, address, port):
                break
        else:
            sys.exit('sshd for %s did not start; see %s' % (host, fleet.path('logs', 'sshd-%s.log' % host)))
        fleet.info['hosts'][host]['port'] = port
        fleet.info['sshd'][host] = proc.pid
        with open(host_key + '.pub', encoding='ascii') as handle:
            known.append('[%s]:%d %s' % (address, port, ' '.join(handle.read().split()[:2])))
    with open(os.path.join(ssh_dir, 'known_hosts'), 'w', encoding='ascii') as handle:
        handle.write('\n'.join(known) + '\n')
    fleet.info['ssh_key'] = client_key
    fleet.info['known_hosts'] = os.path.join(ssh_dir, 'known_hosts')
    fleet.save()


def free_port(address='127.0.0.1'):
    """A TCP port free on ADDRESS now (the kernel's pick), for a server that cannot report its own."""
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def listening(proc, address, port, wait=10.0):
    """True once PROC accepts connections on ADDRESS:PORT; False when it exited (or never listened)."""
    deadline = time.time() + wait
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((address, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    return False


def stop_pid(pid, wait=15):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + wait
    while time.time() < deadline:
        try:
            done, dummy = os.waitpid(pid, os.WNOHANG)
            if done:
                return
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def cmd_down(args):
    fleet = Fleet(args.dir)
    for pid in list(fleet.info.get('probes', {}).values()) + list(fleet.info.get('sshd', {}).values()):
        stop_pid(pid)
    if fleet.info.get('emulator_pid'):
        stop_pid(fleet.info['emulator_pid'])
    if not args.keep and os.path.isdir(fleet.dir):
        # keep what a person needs to judge the run (no key, no token: the secret scans read these
        # logs): run times, probe counters and the logs of the nested runs
        last = fleet.dir + '-last'
        shutil.rmtree(last, ignore_errors=True)
        os.makedirs(last)
        for name in glob.glob(fleet.path('probes', '*.json')) + [fleet.path('runs.txt')]:
            if os.path.exists(name):
                shutil.copy(name, last)
        if os.path.isdir(fleet.path('logs')):
            shutil.copytree(fleet.path('logs'), os.path.join(last, 'logs'))
        shutil.rmtree(fleet.dir, ignore_errors=True)
    log('fleet down')


def probe_report(fleet, require_current=True, wait=8.0):
    """Probe counters; waits until each probe succeeded with the key its host holds now."""
    problems, report = [], {}
    deadline = time.time() + wait
    for host, hinfo in fleet.info['hosts'].items():
        with open(hinfo['key_path'], 'rb') as handle:
            current = kid_of(handle.read())
        while True:
            with open(fleet.path('probes', '%s.json' % host), encoding='utf-8') as handle:
                stats = json.load(handle)
            ok = stats['kids'].get(current, {}).get('succeeded', 0)
            if ok or not require_current or time.time() > deadline:
                break
            time.sleep(0.3)
        report[host] = {'requests': stats['requests'], 'failed': stats['failed'], 'retried': stats['retried'],
                        'kids': {k: v['succeeded'] for k, v in stats['kids'].items()}}
        if stats['failed']:
            problems.append('probe of %s: %d failed requests: %s' % (host, stats['failed'], stats['last_errors'][-3:]))
        if require_current and not ok:
            problems.append('probe of %s: no success yet with the key it holds now (%s)' % (host, current))
    return report, problems


def cmd_check(args):
    fleet = Fleet(args.dir)
    problems = []
    report, found = probe_report(fleet)
    problems += found
    tenant = fleet.tenant()
    files = fleet.host_files()
    for client_id, cinfo in fleet.info['clients'].items():
        state = tenant[client_id]
        ids = [c['id'] for c in state['credentials']]
        kids = {c['kid']: c['id'] for c in state['credentials']}
        host_kids = set()
        for host, hinfo in fleet.info['hosts'].items():
            if hinfo['client_id'] != client_id:
                continue
            with open(hinfo['key_path'], 'rb') as handle:
                host_kids.add(kid_of(handle.read()))
        if len(host_kids) != 1:
            problems.append('client %s: its hosts hold different keys %s' % (client_id, sorted(host_kids)))
        live = host_kids.pop() if len(host_kids) == 1 else None
        if args.rotated and live == cinfo['initial_kid']:
            problems.append('client %s: the hosts still hold the initial key' % client_id)
        if cinfo['initial_credential'] in ids and args.rotated:
            problems.append('client %s: the initial credential %s is still there' % (client_id, cinfo['initial_credential']))
        if cinfo['foreign_credential'] not in ids:
            problems.append('client %s: the foreign credential %s was deleted' % (client_id, cinfo['foreign_credential']))
        if state['enabled'] != sorted([kids.get(live, '?')]):
            problems.append('client %s: enabled %s, expected only the credential of the live key %s' % (client_id, state['enabled'], live))
        leaked = [c for c in state['credentials'] if c['id'] != cinfo['foreign_credential'] and c['kid'] != live]
        if leaked:
            problems.append('client %s: credentials left behind: %s' % (client_id, leaked))
        if len(ids) > 4 or len(state['enabled']) > 2:
            problems.append('client %s: caps exceeded (%d credentials, %d enabled)' % (client_id, len(ids), len(state['enabled'])))
    for host, entries in files.items():
        for name, entry in entries.items():
            if name.endswith('.tmp') or name.startswith('.'):
                problems.append('%s: temporary file %s left' % (host, name))
            if name.endswith('.next'):
                problems.append('%s: staged key %s left' % (host, name))
        key = entries.get('app.key')
        if not key:
            problems.append('%s: no key file' % host)
            continue
        if key['mode'] != args.mode:
            problems.append('%s: key mode %s, expected %s' % (host, key['mode'], args.mode))
        if args.uid is not None and (key['uid'], key['gid']) != (args.uid, args.gid):
            problems.append('%s: key owner %s:%s, expected %s:%s' % (host, key['uid'], key['gid'], args.uid, args.gid))
        if args.rotated and 'app.key.json' not in entries:
            problems.append('%s: no metadata file' % host)
    result = {'probes': report, 'tenant': tenant, 'problems': problems}
    print(json.dumps(result, indent=1, sort_keys=True))
    if problems:
        sys.exit('check failed:\n- ' + '\n- '.join(problems))


def cmd_snapshot(args):
    fleet = Fleet(args.dir)
    print(json.dumps({'tenant': fleet.tenant(), 'files': fleet.host_files()}, indent=1, sort_keys=True))


def run_playbook(fleet, command, stop_at=None, label='run', stats=None, env_extra=None, run_at=None):
    """Run ansible-playbook; ``run_at``: (task name, argv) run when that task starts (callback run_at_task)."""
    env = dict(os.environ)
    env.update(env_extra or {})
    if run_at:
        env['KEYOPS_TEST_RUN_AT'], command_argv = run_at
        env['KEYOPS_TEST_RUN_COMMAND'] = json.dumps(command_argv)
        env['ANSIBLE_CALLBACK_PLUGINS'] = os.path.join(HERE, 'callback_plugins')
        enabled = [c for c in env.get('ANSIBLE_CALLBACKS_ENABLED', '').split(',') if c]
        env['ANSIBLE_CALLBACKS_ENABLED'] = ','.join(enabled + ['run_at_task'])
    if stats:
        env['KEYOPS_TEST_STATS_FILE'] = stats
        env['ANSIBLE_CALLBACK_PLUGINS'] = os.path.join(HERE, 'callback_plugins')
        enabled = [c for c in env.get('ANSIBLE_CALLBACKS_ENABLED', '').split(',') if c]
        env['ANSIBLE_CALLBACKS_ENABLED'] = ','.join(enabled + ['stats_to_file'])
    if stop_at:
        env['KEYOPS_TEST_STOP_AT'] = stop_at
        env['ANSIBLE_CALLBACK_PLUGINS'] = os.path.join(HERE, 'callback_plugins')
        enabled = [c for c in env.get('ANSIBLE_CALLBACKS_ENABLED', '').split(',') if c]
        env['ANSIBLE_CALLBACKS_ENABLED'] = ','.join(enabled + ['stop_at_task'])
    log_path = fleet.path('logs', '%s.log' % label)
    env['ANSIBLE_LOG_PATH'] = fleet.path('logs', '%s.timed.log' % label)
    started = time.time()
    with open(log_path, 'w', encoding='utf-8') as out:
        code = subprocess.call(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    with open(log_path, encoding='utf-8') as handle:
        text = handle.read()
    recap = text[text.rfind('PLAY RECAP'):] if 'PLAY RECAP' in text else text[-2000:]
    changed = sum(int(n) for n in re.findall(r'changed=(\d+)', recap))
    line = '%-28s rc=%-3s changed=%-3s %6.1fs' % (label, code, changed, time.time() - started)
    log(line)
    with open(fleet.path('runs.txt'), 'a', encoding='utf-8') as handle:
        handle.write(line + '\n')
    return code, changed, text


def tenant_problems(fleet):
    """Invariants that hold at every moment: caps, foreign credential kept, hosts' keys enabled."""
    problems = []
    tenant = fleet.tenant()
    for client_id, cinfo in fleet.info['clients'].items():
        state = tenant[client_id]
        ids = [c['id'] for c in state['credentials']]
        kids = {c['kid']: c['id'] for c in state['credentials']}
        if len(ids) > 4 or len(state['enabled']) > 2:
            problems.append('client %s: caps exceeded %s' % (client_id, state))
        if cinfo['foreign_credential'] not in ids:
            problems.append('client %s: foreign credential deleted' % client_id)
        if cinfo['foreign_credential'] in state['enabled']:
            problems.append('client %s: foreign credential enabled' % client_id)
        for host, hinfo in fleet.info['hosts'].items():
            if hinfo['client_id'] == client_id:
                with open(hinfo['key_path'], 'rb') as handle:
                    live = kid_of(handle.read())
                if kids.get(live) not in state['enabled']:
                    problems.append('%s holds %s, which is not enabled' % (host, live))
    return problems


def cmd_matrix(args):
    """Stop runs at each step boundary in turn, each run resuming what the previous one left.

    The first run is a forced rotation; every later run is a plain run that must resume the
    rotation from the state in Auth0 and on the hosts (never start another one) until the next
    boundary. A boundary is a task name (the controller dies before that task: exit 42) or
    ``fault:METHOD:PATH`` (Auth0 answers 400 there, once per client: the run fails for every client,
    so that each boundary is reached by all of them); in PATH, ``{client}`` makes one fault per client,
    and a final ``#N`` lets the first N-1 matching requests of each through (the Nth fails). After every run the
    tenant invariants must hold; after the last boundary a plain run finishes the rotation.
    """
    fleet = Fleet(args.dir)
    problems = []
    before = {c: {h['kid'] for h in fleet.tenant()[c]['credentials']} for c in fleet.info['clients']}
    for number, boundary in enumerate(args.boundaries.split('|')):
        label = 'stop-%02d' % number
        command = args.command + (['-e', 'credential_rotation_force=true'] if number == 0 else [])
        if boundary.startswith('fault:'):
            dummy, method, path = boundary.split(':', 2)
            path, dummy, nth = path.partition('#')
            paths = [path.replace('{client}', c) for c in fleet.info['clients']] if '{client}' in path else [path]
            for one in paths:
                fleet.admin('POST', '/faults', {'method': method, 'path': one, 'status': 400, 'after': int(nth or 1) - 1,
                                                'count': len(fleet.info['clients']) if len(paths) == 1 else 1,
                                                'body': {'statusCode': 400, 'error': 'Bad Request',
                                                         'message': 'injected by the test', 'errorCode': 'invalid_body'}})
            code, dummy, text = run_playbook(fleet, command, label=label)
            fleet.admin('DELETE', '/faults')
            expected = code == 2
        else:
            code, dummy, text = run_playbook(fleet, command, stop_at=boundary, label=label)
            expected = code == STOP_CODE
        if not expected:
            problems.append('%s: the run was not stopped at %r (rc %s), see %s' % (label, boundary, code, fleet.path('logs', label + '.log')))
        if number and 'credential_rotation_force is set' in text:
            problems.append('%s: a resuming run started a new rotation instead of finishing the one in progress' % label)
        problems += ['%s: %s' % (label, p) for p in tenant_problems(fleet)]
    code, dummy, text = run_playbook(fleet, args.command, label='matrix-finish')
    if code != 0:
        problems.append('the run after the last stop failed (rc %s)' % code)
    if 'credential_rotation_force is set' in text:
        problems.append('the finishing run started a new rotation')
    # That a run after a finished rotation changes nothing is proved by verify's last run, so the matrix does not
    # run it again.
    after = {c: {h['kid'] for h in fleet.tenant()[c]['credentials']} for c in fleet.info['clients']}
    for client_id in before:
        if not after[client_id] - before[client_id]:
            problems.append('client %s was not rotated by the resumed runs' % client_id)
    report, found = probe_report(fleet)
    problems += found
    print(json.dumps({'probes': report, 'problems': problems}, indent=1, sort_keys=True))
    if problems:
        sys.exit('matrix failed:\n- ' + '\n- '.join(problems))


def cmd_failed_host(args):
    """A failing host stops the rotation without breaking anything; the next run finishes it.

    ``--how staging``: the host cannot stage the key (its staged path is a directory); nothing of its
    client may change in Auth0, and the rerun (forced, as the same job would be) rotates.
    ``--how health``: the host's health check fails after its promotion (the inventory's check fails
    while FLEET_DIR/fail-HOST exists); the role must put its previous key back, keep the old
    credential, and a plain (not forced) rerun must resume and finish the same rotation.
    """
    fleet = Fleet(args.dir)
    problems = []
    hinfo = fleet.info['hosts'][args.host]
    if args.how == 'staging':
        blocker = hinfo['key_path'] + '.next'
        os.makedirs(os.path.join(blocker, 'blocked'))
    else:
        blocker = fleet.path('fail-%s' % args.host)
        with open(blocker, 'w', encoding='ascii') as handle:
            handle.write('fail\n')
    before = fleet.tenant()[hinfo['client_id']]
    force = args.command + ['-e', 'credential_rotation_force=true']
    code, dummy, text = run_playbook(fleet, force, label='failed-host-%s' % args.how)
    if code == 0:
        problems.append('the run with a failing host succeeded')
    after = fleet.tenant()[hinfo['client_id']]
    if args.how == 'staging' and before != after:
        problems.append('the client of the failed host changed in Auth0: %s -> %s' % (before, after))
    if args.how == 'health':
        if 'the previous key was put back' not in text:
            problems.append('the previous key was not put back on the failed host')
        if not set(c['id'] for c in before['credentials']) <= set(c['id'] for c in after['credentials']):
            problems.append('a credential was deleted although a host failed')
    problems += ['after the failure: %s' % p for p in tenant_problems(fleet)]
    if os.path.isdir(blocker):
        shutil.rmtree(blocker)
    else:
        os.unlink(blocker)
    rerun = force if args.how == 'staging' else args.command
    code, dummy, text = run_playbook(fleet, rerun, label='failed-host-%s-rerun' % args.how)
    if code != 0:
        problems.append('the run after the host was repaired failed (rc %s)' % code)
    if args.how == 'health' and 'is in progress' not in text:
        problems.append('the rerun did not resume the rotation in progress')
    problems += ['after the rerun: %s' % p for p in tenant_problems(fleet)]
    print(json.dumps({'problems': problems}, indent=1))
    if problems:
        sys.exit('failed-host check failed:\n- ' + '\n- '.join(problems))


def cmd_partial(args):
    """A client with hosts outside the play is refused before any change; the opt-in rotates the others.

    Uses the first client with two hosts (H1, H2). Refused, with nothing changed in Auth0 or on its hosts:
    ``--limit H1``, the play's host pattern H1, H2 unreachable, H2 failed earlier in the play, the play
    keyword serial (use credential_rotation_serial), the client id as an extra variable (it would name
    the client of every inventory host). With credential_rotation_allow_partial, ``--limit H1`` rotates H1 and retires
    nothing, so H2 (outside) still obtains tokens with its key; the next full run brings every host to
    one key. Then H1's key path is unreadable in a play with two clients: the other client is rotated,
    and the set_stats summary names H1 and the reason; the next run succeeds, and after it no later play can read
    the new keys or the management token. Last, two runs select disjoint clients
    (rotation_clients) side by side, as the parallel jobs of an AWX workflow: both rotate.
    """
    fleet = Fleet(args.dir)
    problems = []
    by_client = {}
    for host, hinfo in fleet.info['hosts'].items():
        by_client.setdefault(hinfo['client_id'], []).append(host)
    client, hosts = next((c, h) for c, h in by_client.items() if len(h) >= 2)
    first, second = hosts[0], hosts[1]
    others = [c for c in by_client if c != client]
    force = ['-e', 'credential_rotation_force=true']

    def state():
        tenant = fleet.tenant()[client]
        files = fleet.host_files()
        return {'tenant': tenant, 'files': {h: files[h] for h in hosts}}

    def extra_inventory(name, host_vars):
        path = fleet.path('%s.yml' % name)
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump({'all': {'hosts': host_vars}}, handle)
        return ['-i', path]

    def refused(label, extra, expect, command=None):
        before = state()
        code, dummy, text = run_playbook(fleet, (command or args.command) + extra + force, label=label)
        if code == 0:
            problems.append('%s: the run succeeded although client %s has hosts outside it' % (label, client))
        if before != state():
            problems.append('%s: client %s or its hosts changed although the run was refused' % (label, client))
        if expect not in text:
            problems.append('%s: the output does not say %r' % (label, expect))

    refused('partial-limit', ['--limit', first], 'Host %s uses client %s' % (second, client))
    refused('partial-pattern', ['-e', 'rotation_hosts=%s' % first], 'Host %s uses client %s' % (second, client))
    refused('partial-unreachable', extra_inventory('unreachable', {second: {
        'ansible_connection': 'ssh', 'ansible_host': '127.0.0.1', 'ansible_port': free_port(), 'ansible_user': 'nobody',
        'ansible_ssh_common_args': '-o ConnectTimeout=3 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'}}),
        '%s: unreachable' % second)
    playbook = fleet.path('failed-earlier.yml')
    with open(playbook, 'w', encoding='utf-8') as handle:
        handle.write('- hosts: all\n  gather_facts: false\n  tasks:\n'
                     '    - ansible.builtin.fail:\n        msg: failed before the rotation (test)\n'
                     '      when: inventory_hostname == %r\n'
                     '    - ansible.builtin.include_role:\n        name: keyops.auth0.credential_rotation\n' % second)
    refused('partial-failed-earlier', [], '%s: it failed earlier in the play' % second,
            command=args.command[:-1] + [playbook])
    refused('partial-extra-var-client', ['-e', 'credential_rotation_client_id=%s' % client],
            'credential_rotation_client_id is given as an extra variable')
    serial_playbook = fleet.path('serial-keyword.yml')
    with open(serial_playbook, 'w', encoding='utf-8') as handle:
        handle.write('- hosts: all\n  gather_facts: false\n  serial: 1\n  roles:\n    - keyops.auth0.credential_rotation\n')
    refused('partial-serial-keyword', [], 'play keyword serial', command=args.command[:-1] + [serial_playbook])

    # the opt-in (the refused runs changed nothing: it starts from the fleet as they found it): only the first host
    # is rotated; the second keeps a key that stays enabled
    held = {}
    for host in hosts:
        with open(fleet.info['hosts'][host]['key_path'], 'rb') as handle:
            held[host] = kid_of(handle.read())
    code, dummy, text = run_playbook(fleet, args.command + ['--limit', first, '-e', 'credential_rotation_allow_partial=true']
                                     + force, label='partial-allowed')
    if code != 0:
        problems.append('the partial run with credential_rotation_allow_partial failed (rc %s)' % code)
    with open(fleet.info['hosts'][first]['key_path'], 'rb') as handle:
        if kid_of(handle.read()) == held[first]:
            problems.append('the partial run did not rotate %s' % first)
    with open(fleet.info['hosts'][second]['key_path'], 'rb') as handle:
        if kid_of(handle.read()) != held[second]:
            problems.append('the partial run changed %s, which was outside it' % second)
    problems += ['after the partial run: %s' % p for p in tenant_problems(fleet)]
    time.sleep(3)
    report, found = probe_report(fleet)
    problems += ['after the partial run: %s' % p for p in found]
    code, dummy, text = run_playbook(fleet, args.command, label='partial-then-full')
    if code != 0:
        problems.append('the full run after the partial one failed (rc %s)' % code)
    problems += ['after the full run: %s' % p for p in tenant_problems(fleet)]

    # a failed first host of one client, in a play with two clients
    stats = fleet.path('partial-stats.json')
    code, dummy, text = run_playbook(fleet, args.command + force + extra_inventory('unreadable', {
        first: {'credential_rotation_key_path': fleet.path('hosts')}}), label='partial-failed-first-host', stats=stats)
    if code == 0:
        problems.append('the run with an unreadable key path succeeded')
    try:
        with open(stats, encoding='utf-8') as handle:
            summary = json.load(handle).get('credential_rotation') or {}
    except (OSError, ValueError) as exc:
        summary = {}
        problems.append('no set_stats summary: %s' % exc)
    mine = summary.get(client) or {}
    failed = dict((f['host'], f['reason']) for f in mine.get('hosts_failed') or [])
    if mine.get('outcome') != 'refused' or 'Is a directory' not in failed.get(first, ''):
        problems.append('the summary of client %s does not name %s and its reason: %s' % (client, first, mine))
    for other in others:
        if (summary.get(other) or {}).get('outcome') != 'rotated':
            problems.append('client %s was not rotated beside the failed one: %s' % (other, summary.get(other)))

    # the next run (forced, so that it rotates every client) succeeds; after the role, no later task or play can
    # read the new keys or the management token
    forgotten = fleet.path('keys-forgotten.yml')
    with open(forgotten, 'w', encoding='utf-8') as handle:
        handle.write('- ansible.builtin.import_playbook: keyops.auth0.rotate\n'
                     '- hosts: all\n  gather_facts: false\n  tasks:\n'
                     '    - ansible.builtin.assert:\n        that:\n'
                     # 'keys' not in ...: Jinja reads plan['keys'] of a dict without it as the dict's keys method
                     '          - "\'keys\' not in _credential_rotation_plan"\n'
                     '          - "\'token\' not in _credential_rotation_plan"\n'
                     '          - "\'results\' not in _credential_rotation_read_back"\n'
                     '        fail_msg: the keys or the token of the rotation are still in the host variables\n')
    code, dummy, text = run_playbook(fleet, args.command[:-1] + [forgotten] + force, label='partial-keys-forgotten')
    if code != 0:
        problems.append('the run after the failed first host failed, or after the role its keys or token were still '
                        'readable (rc %s)' % code)
    problems += ['at the end: %s' % p for p in tenant_problems(fleet)]

    # disjoint selections of clients (rotation_clients), side by side as two AWX jobs of a workflow would run
    if others:
        before = dict((c, set(k['kid'] for k in fleet.tenant()[c]['credentials'])) for c in by_client)
        env = dict(os.environ)
        runs = []
        for number, selection in enumerate([[client], others]):
            log = open(fleet.path('logs', 'selection-%d.log' % number), 'w', encoding='utf-8')  # pylint: disable=consider-using-with
            command = args.command + force + ['-e', 'rotation_clients=%s' % ','.join(selection)]
            runs.append((subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT), log, selection))  # pylint: disable=consider-using-with
        for proc, log, selection in runs:
            code = proc.wait()
            log.close()
            if code != 0:
                problems.append('the selection %s run beside the other failed (rc %s)' % (selection, code))
        after = dict((c, set(k['kid'] for k in fleet.tenant()[c]['credentials'])) for c in by_client)
        problems += ['client %s was not rotated by its selection' % c for c in by_client if not after[c] - before[c]]
        problems += ['after the selections: %s' % p for p in tenant_problems(fleet)]
        report, found = probe_report(fleet)
        problems += ['after the selections: %s' % p for p in found]
    print(json.dumps({'problems': problems}, indent=1))
    if problems:
        sys.exit('partial-fleet check failed:\n- ' + '\n- '.join(problems))


def cmd_run(args):
    fleet = Fleet(args.dir)
    if args.faults:
        fleet.admin('DELETE', '/faults')
        with open(args.faults, encoding='utf-8') as handle:
            fleet.admin('POST', '/faults', json.load(handle))
    code, changed, dummy = run_playbook(fleet, args.command, stop_at=args.stop_at, label=args.label)
    left = fleet.admin('GET', '/faults') if args.faults else []
    if args.faults:
        fleet.admin('DELETE', '/faults')
    result = {'rc': code, 'changed': changed, 'faults_left': left}
    print(json.dumps(result, sort_keys=True))
    if args.expect_fail and code == 0:
        sys.exit('the run was expected to fail')
    if not args.expect_fail and code != 0:
        sys.exit('the run failed (rc %s), see %s' % (code, fleet.path('logs', args.label + '.log')))
    if args.expect_unchanged and changed:
        sys.exit('the run reported %d changes, expected none' % changed)
    if args.expect_changed and not changed:
        sys.exit('the run reported no change, expected some')


def secret_needles(fleet):
    """Lines of every private key the fleet ever held (live keys and backups)."""
    needles = set()
    for host in fleet.info['hosts']:
        for path in glob.glob(fleet.path('hosts', host, 'app.key*')):
            if path.endswith('.json'):
                continue
            with open(path, encoding='ascii', errors='replace') as handle:
                lines = [l.strip() for l in handle if l.strip() and not l.startswith('-----')]
            needles.update(l for l in lines if len(l) >= 40)
    return needles


def recent(path, since):
    try:
        return os.path.isfile(path) and os.path.getmtime(path) >= since and os.path.getsize(path) < 50 * 1024 * 1024
    except OSError:
        return False


def cmd_secrets(args):
    fleet = Fleet(args.dir)
    needles = secret_needles(fleet)
    with open(fleet.path('start-marker'), encoding='ascii') as handle:
        since = float(handle.read().strip()) - 1
    candidates = list(args.logs)
    # Where Ansible and its modules leave files on the controller: its local and remote temporary
    # directories, the molecule scenario's directory, the fleet directory (not the hosts' key files
    # nor the emulator, which play the hosts and Auth0), and the temporary directory of this run
    # (molecule_scenario.py points TMPDIR into the run's own directory, where tempfile writes).
    temp = tempfile.gettempdir()
    roots = [os.path.expanduser('~/.ansible/tmp'), os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), fleet.dir, temp]
    skip = (fleet.path('hosts'), fleet.path('emulator'))
    for root in [r for r in roots if r]:
        for base, dirs, names in os.walk(root):
            if base.startswith(skip):
                dirs[:] = []
                continue
            candidates += [os.path.join(base, n) for n in names]
    candidates = [p for p in candidates if recent(p, since)]
    problems = []
    for path in sorted(set(candidates)):
        try:
            with open(path, encoding='utf-8', errors='replace') as handle:
                text = handle.read()
        except OSError:
            continue
        hits = [n for n in needles if n in text]
        if hits:
            problems.append('%s contains %d lines of a private key' % (path, len(hits)))
        if JWT.search(text):
            problems.append('%s contains a JWT (assertion or token)' % path)
    print(json.dumps({'scanned': len(set(candidates)), 'key_lines': len(needles), 'problems': problems}, indent=1))
    if problems:
        sys.exit('secrets found:\n- ' + '\n- '.join(problems))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    sub = parser.add_subparsers(dest='command_name', required=True)
    up = sub.add_parser('up')
    up.add_argument('--dir', required=True)
    up.add_argument('--port', type=int, default=0, help='the emulator port (default: a free one it picks)')
    up.add_argument('--hosts', required=True)
    up.add_argument('--clients', default=None, help='client name per host, comma separated')
    up.add_argument('--ssh', action='store_true')
    down = sub.add_parser('down')
    down.add_argument('--dir', required=True)
    down.add_argument('--keep', action='store_true')
    check = sub.add_parser('check')
    check.add_argument('--dir', required=True)
    check.add_argument('--rotated', action='store_true')
    check.add_argument('--mode', default='0600')
    check.add_argument('--uid', type=int, default=None)
    check.add_argument('--gid', type=int, default=None)
    snapshot = sub.add_parser('snapshot')
    snapshot.add_argument('--dir', required=True)
    partial = sub.add_parser('partial')
    partial.add_argument('--dir', required=True)
    partial.add_argument('command', nargs='+')
    run = sub.add_parser('run')
    run.add_argument('--dir', required=True)
    run.add_argument('--label', default='run')
    run.add_argument('--stop-at', default=None)
    run.add_argument('--faults', default=None)
    run.add_argument('--expect-fail', action='store_true')
    run.add_argument('--expect-unchanged', action='store_true')
    run.add_argument('--expect-changed', action='store_true')
    run.add_argument('command', nargs='+')
    matrix = sub.add_parser('matrix')
    matrix.add_argument('--dir', required=True)
    matrix.add_argument('--boundaries', required=True, help='task names (TASK or TASK#N), separated by |')
    matrix.add_argument('command', nargs='+')
    failed = sub.add_parser('failed-host')
    failed.add_argument('--dir', required=True)
    failed.add_argument('--host', required=True)
    failed.add_argument('--how', choices=('staging', 'health'), default='staging')
    failed.add_argument('command', nargs='+')
    secrets = sub.add_parser('secrets')
    secrets.add_argument('--dir', required=True)
    secrets.add_argument('logs', nargs='*')
    args = parser.parse_args()
    {'up': cmd_up, 'down': cmd_down, 'check': cmd_check, 'snapshot': cmd_snapshot, 'run': cmd_run,
     'matrix': cmd_matrix, 'failed-host': cmd_failed_host, 'secrets': cmd_secrets,
     'partial': cmd_partial}[args.command_name](args)


if __name__ == '__main__':
    main()
