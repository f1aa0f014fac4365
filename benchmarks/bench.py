#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make bench``: the collection's rotation against a hand-written baseline, on the Auth0 emulator.

    bench.py [--clients 1,10,50] [--quick] [--forks 30] [--hosts-per-client 3] [--out benchmarks/results]

One emulator (``--tls --latency-ms 400 --rate-limit 16:50``) is started on a free port; before each
run the tenant is reset and seeded: N clients whose key expires in 10 days, 3 hosts per client
(directories on the local connection, holding the client's key). For each N it runs
playbooks/rotate.yml (the collection, from a copy of the tree) and benchmarks/baseline_rotate.yml,
then a second run of each on the rotated fleet. Per run: wall time, Management API calls by route
per client, /oauth/token requests, 429s, tasks and module invocations (callback
benchmarks/callback_plugins/bench_counter.py), and the exit code. Writes results/bench.json and
results/bench.png, prints a table and the targets as MET / NOT MET. Everything it starts is stopped
by its PID.
"""

import argparse
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'extensions', 'molecule', 'shared'))
import fleet as fleetlib  # noqa: E402  pylint: disable=wrong-import-position,import-error

BIN = os.path.dirname(sys.executable)
LATENCY_MS = 400
RATE_LIMIT = '16:50'


class Emulator:
    """One auth0-emulator process, over TLS, on a free port."""

    def __init__(self, work):
        self.work = work
        self.log = open(os.path.join(work, 'emulator.log'), 'w', encoding='utf-8')  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [os.path.join(BIN, 'auth0-emulator'), 'serve', '--port', '0', '--tls', '--latency-ms', str(LATENCY_MS),
             '--rate-limit', RATE_LIMIT, '--log-level', 'warning'],
            stdout=subprocess.PIPE, stderr=self.log, text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        if not line.strip():
            raise SystemExit('the emulator did not start; see %s' % self.log.name)
        self.info = json.loads(line)

    def admin(self, method, path, body=None):
        context = ssl.create_default_context(cafile=self.info['ca_path'])
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.info['url'] + '/__emulator__' + path, data=data, method=method,
                                         headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, context=context, timeout=60) as response:  # noqa: S310 - loopback
            raw = response.read()
        return json.loads(raw) if raw else None

    def stop(self):
        fleetlib.stop_pid(self.proc.pid)
        self.log.close()


def seed_fleet(emu, work, clients, hosts_per_client):
    """Reset the tenant, seed the clients and write the hosts' key files; return the inventory path."""
    emu.admin('POST', '/reset')
    keys, spec = [], []
    for index in range(clients):
        private, public = fleetlib.new_key()
        dummy, foreign = fleetlib.new_key()
        keys.append(private)
        spec.append({'name': 'bench-%03d' % index,
                     'credentials': [
                         {'credential_type': 'public_key', 'name': 'initial-%03d' % index, 'pem': public,
                          'expires_at': fleetlib.iso(10), 'created_at': fleetlib.iso(-200)},
                         {'credential_type': 'public_key', 'name': 'partner-%03d' % index, 'pem': foreign}],
                     'private_key_jwt': [0], 'grants': [{'scope': []}]})
    answer = emu.admin('POST', '/seed', {'clients': spec})
    shutil.rmtree(os.path.join(work, 'hosts'), ignore_errors=True)
    hosts = {}
    for index, (created, private) in enumerate(zip(answer['clients'], keys)):
        for number in range(hosts_per_client):
            name = 'c%03dh%d' % (index, number)
            directory = os.path.join(work, 'hosts', name)
            os.makedirs(directory)
            key_path = os.path.join(directory, 'app.key')
            with open(os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600), 'w', encoding='ascii') as handle:
                handle.write(private)
            hosts[name] = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
                           'credential_rotation_client_id': created['client_id'],
                           'credential_rotation_key_path': key_path}
    inventory = os.path.join(work, 'inventory.json')
    with open(inventory, 'w', encoding='utf-8') as handle:
        json.dump({'all': {'hosts': hosts}}, handle, indent=1)
    return inventory


def run_playbook(emu, work, label, playbook, inventory, forks, tree, profile=False, extra=()):
    """Run one playbook; return its measurements."""
    counter = os.path.join(work, label + '.counter.json')
    if os.path.exists(counter):
        os.remove(counter)
    env = dict(os.environ, AUTH0_DOMAIN=emu.info['domain'], AUTH0_CA_PATH=emu.info['ca_path'],
               AUTH0_CLIENT_ID=emu.info['management_client_id'], AUTH0_CLIENT_SECRET=emu.info['management_client_secret'],
               ANSIBLE_PIPELINING='true', ANSIBLE_FORCE_COLOR='0', ANSIBLE_HOST_KEY_CHECKING='false',
               ANSIBLE_COLLECTIONS_PATH=tree, ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'),
               ANSIBLE_CALLBACKS_ENABLED='bench_counter', BENCH_COUNTER_OUT=counter,
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false',
               ANSIBLE_LOCAL_TEMP=os.path.join(work, 'ansible-tmp'), ANSIBLE_REMOTE_TEMP=os.path.join(work, 'ansible-tmp'))
    emu.admin('POST', '/stats/reset')
    log_path = os.path.join(work, label + '.log')
    started = time.monotonic()
    with open(log_path, 'w', encoding='utf-8') as log:
        # --profile: the ansible-playbook process itself under cProfile (its forked workers exit without
        # writing), to see where the strategy loop spends its time.
        prefix = [sys.executable, os.path.join(HERE, 'profile_run.py'), os.path.join(work, label + '.prof')] if profile else []
        rc = subprocess.call(prefix + [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, '-f', str(forks), playbook]
                             + list(extra),
                             env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    wall = time.monotonic() - started
    stats = emu.admin('GET', '/stats')
    counts = {}
    if os.path.exists(counter):
        with open(counter, encoding='utf-8') as handle:
            counts = json.load(handle)
    management = {}
    for row in stats['requests']:
        if row['route'].startswith('/api/v2/'):
            key = '%s %s' % (row['method'], row['route'])
            management[key] = management.get(key, 0) + row['count']
    tokens = sum(row['count'] for row in stats['requests'] if row['route'] == '/oauth/token')
    statuses_429 = sum(row['count'] for row in stats['requests'] if str(row['status']) == '429')
    return {'label': label, 'rc': rc, 'failed': rc != 0, 'wall_s': round(wall, 2), 'log': log_path,
            'management_calls': sum(management.values()), 'management_by_route': management,
            'token_requests': tokens, 'token_grants_accepted': stats['token_grants']['accepted'],
            'management_tokens': stats['token_grants']['by_client'].get(emu.info['management_client_id'], {}).get('accepted', 0),
            'http_429': max(statuses_429, stats.get('rate_limited', 0)),
            'tasks': counts.get('tasks'), 'module_invocations': counts.get('invocations'),
            'task_results': sum(counts.get(k) or 0 for k in ('ok', 'failed', 'skipped', 'unreachable')),
            'cpu_s': round(sum((counts.get('cpu_seconds') or {}).values()), 1),
            'callback': counts}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--clients', default='1,10,50', help='comma separated client counts (default 1,10,50)')
    parser.add_argument('--quick', action='store_true', help='1 and 10 clients only, no serial or Free-plan runs')
    parser.add_argument('--no-extras', action='store_true', help='skip the serial-1 runs (30 and 60 hosts) and the Free-plan run')
    parser.add_argument('--extras-only', action='store_true', help='only the serial-1 runs and the Free-plan run')
    parser.add_argument('--free-plan-clients', type=int, default=20,
                        help='clients of the Free-plan run (default 20: 16 at once exceed its burst of 10)')
    parser.add_argument('--forks', type=int, default=30)
    parser.add_argument('--hosts-per-client', type=int, default=3)
    parser.add_argument('--only', choices=['collection', 'baseline'], help='run one playbook only (no comparison targets)')
    parser.add_argument('--profile', action='store_true',
                        help='run ansible-playbook under cProfile, writing <label>.prof in the work directory (slower)')
    parser.add_argument('--out', default=os.path.join(HERE, 'results'))
    parser.add_argument('--report', metavar='BENCH_JSON', help='only print the table and targets of an earlier (even partial) run')
    args = parser.parse_args()
    if args.report:
        with open(args.report, encoding='utf-8') as handle:
            runs = json.load(handle)['runs']
        print_table(runs)
        print('\nTargets:')
        for target in targets(runs, None):
            print('  %-8s %s: %s' % (target['status'], target['target'], target['measured']))
        plot(runs, os.path.splitext(args.report)[0] + '.png')
        return 0
    sizes = [1, 10] if args.quick else [int(n) for n in args.clients.split(',') if n.strip()]
    if args.extras_only:
        sizes = []
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix='bench-')
    tree = os.path.join(work, 'tree')
    subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'utils', 'collection_tree.py'), tree],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    playbooks = {'collection': os.path.join(tree, 'ansible_collections', 'keyops', 'auth0', 'playbooks', 'rotate.yml'),
                 'baseline': os.path.join(HERE, 'baseline_rotate.yml')}
    emu = Emulator(work)
    results = {'machine': {'cpus': os.cpu_count(), 'loadavg_start': os.getloadavg()},
               'settings': {'latency_ms': LATENCY_MS, 'rate_limit': RATE_LIMIT, 'forks': args.forks,
                            'hosts_per_client': args.hosts_per_client, 'pipelining': True},
               'runs': []}
    try:
        for clients in sizes:
            for kind in [args.only] if args.only else ['collection', 'baseline']:
                inventory = seed_fleet(emu, work, clients, args.hosts_per_client)
                for phase in ('rotate', 'second'):
                    label = '%s-%d-%s' % (kind, clients, phase)
                    print('running %s ...' % label, flush=True)
                    run = run_playbook(emu, work, label, playbooks[kind], inventory, args.forks, tree, args.profile)
                    run.update(kind=kind, clients=clients, phase=phase, hosts=clients * args.hosts_per_client,
                               management_per_client=round(run['management_calls'] / clients, 2),
                               management_by_route_per_client={k: round(v / clients, 2) for k, v in run['management_by_route'].items()})
                    results['runs'].append(run)
                    print('  %s: %.1f s, rc %s, %d Management API calls, %d token requests, %d x 429' % (
                        label, run['wall_s'], run['rc'], run['management_calls'], run['token_requests'], run['http_429']),
                        flush=True)
                    with open(os.path.join(args.out, 'bench.json'), 'w', encoding='utf-8') as handle:
                        json.dump(results, handle, indent=1, sort_keys=True)
        if not (args.quick or args.no_extras or args.only == 'baseline'):
            run_extras(emu, work, tree, playbooks['collection'], args, results)
    finally:
        emu.stop()
    results['machine']['loadavg_end'] = os.getloadavg()
    results['targets'] = targets(results['runs'], sizes)
    with open(os.path.join(args.out, 'bench.json'), 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=1, sort_keys=True)
    print_table(results['runs'])
    print('\nTargets:')
    for target in results['targets']:
        print('  %-8s %s: %s' % (target['status'], target['target'], target['measured']))
    plot(results['runs'], os.path.join(args.out, 'bench.png'))
    print('\nwrote %s and %s (work files in %s)' % (os.path.join(args.out, 'bench.json'), os.path.join(args.out, 'bench.png'), work))
    return 0


def run_extras(emu, work, tree, playbook, args, results):
    """One client with 30 and with 60 hosts promoted one at a time (task results must grow linearly),
    and 10 clients at the Free plan's rate limit (2 calls/s, burst 10: 429s must be absorbed)."""
    extra_runs = [('serial1', 1, hosts, ['-e', 'credential_rotation_serial=1']) for hosts in (30, 60)]
    extra_runs.append(('free-plan', args.free_plan_clients, args.hosts_per_client, []))
    for phase, clients, hosts, extra in extra_runs:
        label = 'collection-%d-%s-%dhosts' % (clients, phase, hosts)
        if phase == 'free-plan':
            emu.admin('POST', '/config', {'rate_limit': '2:10'})
        inventory = seed_fleet(emu, work, clients, hosts)
        print('running %s ...' % label, flush=True)
        run = run_playbook(emu, work, label, playbook, inventory, args.forks, tree, args.profile, extra=extra)
        if phase == 'free-plan':
            emu.admin('POST', '/config', {'rate_limit': RATE_LIMIT})
        run.update(kind='collection', clients=clients, phase=phase, hosts=hosts,
                   management_per_client=round(run['management_calls'] / clients, 2),
                   management_by_route_per_client={k: round(v / clients, 2) for k, v in run['management_by_route'].items()})
        results['runs'].append(run)
        print('  %s: %.1f s, rc %s, %d task results, %d x 429' % (label, run['wall_s'], run['rc'], run['task_results'],
                                                                  run['http_429']), flush=True)
        with open(os.path.join(args.out, 'bench.json'), 'w', encoding='utf-8') as handle:
            json.dump(results, handle, indent=1, sort_keys=True)


def find(runs, kind, clients, phase):
    for run in runs:
        if (run['kind'], run['clients'], run['phase']) == (kind, clients, phase):
            return run
    return None


def targets(runs, sizes):
    out = []

    def add(name, ok, measured):
        out.append({'target': name, 'status': 'MET' if ok else 'NOT MET', 'measured': measured})

    extras = [r for r in runs if r['phase'] in ('serial1', 'free-plan')]
    runs = [r for r in runs if r not in extras]
    coll = [r for r in runs if r['kind'] == 'collection']
    rotate = [r for r in coll if r['phase'] == 'rotate']
    second = [r for r in coll if r['phase'] == 'second']
    # A failed run proves nothing: its few calls must not pass for a cheap rotation.
    ok = not any(r['failed'] for r in coll)
    worst = max((r['management_per_client'] for r in rotate), default=None)
    # The budget of a rotated client (issue 9): 6 calls (GET client, GET credentials, POST, PATCH enable, PATCH
    # disable, DELETE) + 1 read per promotion batch (these runs: one batch) + the marker's write (its removal
    # rides on the disabling PATCH) + the two reads that make every PATCH of the enabled list start from a
    # fresh state: the marker read back before enabling, and the read right before retiring.
    budget = 6 + 1 + 1 + 2
    add('Management API calls per rotated client <= %d (6 + 1 batch read + 1 marker write + 2 fresh reads)' % budget,
        ok and worst is not None and 0 < worst <= budget,
        ', '.join('%d clients: %s' % (r['clients'], r['management_per_client']) for r in rotate))
    worst = max((r['management_per_client'] for r in second), default=None)
    add('Management API calls per client in a no-change run <= 2', ok and worst is not None and worst <= 2,
        ', '.join('%d clients: %s' % (r['clients'], r['management_per_client']) for r in second))
    add('management tokens per run == 1', bool(coll) and all(r['management_tokens'] == 1 for r in coll),
        ', '.join('%s: %d' % (r['label'], r['management_tokens']) for r in coll)
        + ' (all /oauth/token requests, key checks by the application clients included: %s)'
        % [r['token_requests'] for r in coll])
    for clients in (10, 50):
        mine, base = find(runs, 'collection', clients, 'rotate'), find(runs, 'baseline', clients, 'rotate')
        if mine and base:
            add('wall time below the baseline at %d clients' % clients, not mine['failed'] and mine['wall_s'] < base['wall_s'],
                'collection %.1f s vs baseline %.1f s' % (mine['wall_s'], base['wall_s']))
        else:
            out.append({'target': 'wall time below the baseline at %d clients' % clients, 'status': 'NOT MEASURED',
                        'measured': '-'})
    ten, fifty = find(runs, 'collection', 10, 'rotate'), find(runs, 'collection', 50, 'rotate')
    if ten and fifty:
        add('wall(50) <= 5 x wall(10)', not (ten['failed'] or fifty['failed']) and fifty['wall_s'] <= 5 * ten['wall_s'],
            '%.1f s vs 5 x %.1f s = %.1f s' % (fifty['wall_s'], ten['wall_s'], 5 * ten['wall_s']))
    else:
        out.append({'target': 'wall(50) <= 5 x wall(10)', 'status': 'NOT MEASURED', 'measured': '-'})
    fifty, ten_base = find(runs, 'collection', 50, 'rotate'), find(runs, 'baseline', 10, 'rotate')
    if fifty:
        add('50 clients x 3 hosts: controller CPU <= 350 CPU-s', not fifty['failed'] and fifty['cpu_s'] <= 350,
            '%.1f CPU-s' % fifty['cpu_s'])
        add('50 clients x 3 hosts: wall < 200 s', not fifty['failed'] and fifty['wall_s'] < 200, '%.1f s' % fifty['wall_s'])
    if ten and ten_base:
        add('10 clients: wall < half the baseline', not ten['failed'] and ten['wall_s'] < ten_base['wall_s'] / 2,
            '%.1f s vs %.1f s / 2 = %.1f s' % (ten['wall_s'], ten_base['wall_s'], ten_base['wall_s'] / 2))
    serial = dict((r['hosts'], r) for r in extras if r['phase'] == 'serial1')
    if 30 in serial and 60 in serial:
        ratio = serial[60]['task_results'] / max(1, serial[30]['task_results'])
        add('serial 1, task results(60 hosts) / task results(30 hosts) <= 2.1',
            not (serial[30]['failed'] or serial[60]['failed']) and ratio <= 2.1,
            '%d / %d = %.2f (wall %.1f s and %.1f s)' % (serial[60]['task_results'], serial[30]['task_results'], ratio,
                                                         serial[30]['wall_s'], serial[60]['wall_s']))
    free = [r for r in extras if r['phase'] == 'free-plan']
    if free:
        add('Free plan limit (2 calls/s, burst 10): 429s met and absorbed, rc 0', free[0]['http_429'] > 0 and free[0]['rc'] == 0,
            '%d x 429, rc %d, %.1f s, %.2f Management API calls per client' % (
                free[0]['http_429'], free[0]['rc'], free[0]['wall_s'], free[0]['management_per_client']))
    failed_429 = [r['label'] for r in coll if r['failed'] and r['http_429']]
    add('no collection run fails on a 429', not failed_429,
        'collection runs meeting 429s: %s; failed: %s' % (
            {r['label']: r['http_429'] for r in coll if r['http_429']} or 'none',
            [r['label'] for r in coll if r['failed']] or 'none'))
    base = [r for r in runs if r['kind'] == 'baseline']
    out.append({'target': 'baseline and 429s (information)', 'status': 'INFO',
                'measured': 'baseline runs meeting 429s: %s; failed: %s' % (
                    {r['label']: r['http_429'] for r in base if r['http_429']} or 'none',
                    [r['label'] for r in base if r['failed']] or 'none')})
    return out


def print_table(runs):
    header = '%-10s %7s %-10s %5s %8s %7s %4s %6s %8s %6s %4s %6s %7s %7s' % (
        'playbook', 'clients', 'run', 'hosts', 'wall s', 'CPU s', 'rc', 'mgmt', 'mgmt/cl', 'token', '429', 'tasks', 'results',
        'modules')
    print('\n' + header)
    print('-' * len(header))
    for r in runs:
        print('%-10s %7d %-10s %5s %8.1f %7s %4d %6d %8.2f %6d %4d %6s %7s %7s' % (
            r['kind'], r['clients'], r['phase'], r.get('hosts', '-'), r['wall_s'], r.get('cpu_s', '-'), r['rc'],
            r['management_calls'], r['management_per_client'], r['token_requests'], r['http_429'], r['tasks'],
            r.get('task_results', '-'), r['module_invocations']))
    print('\nManagement API calls per client by route:')
    for r in runs:
        print('  %-26s %s' % (r['label'], ', '.join('%s %s' % (k, v) for k, v in sorted(r['management_by_route_per_client'].items()))))
    print('\nSlowest tasks (seconds from the start of a task to the start of the next):')
    for r in runs:
        timed = sorted((r.get('callback') or {}).get('task_seconds') or [], key=lambda row: -row[1])[:5]
        print('  %-26s %s' % (r['label'], '; '.join('%s %.1f' % (row[0], row[1]) for row in timed)))


def plot(runs, path):
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    except ImportError:
        print('matplotlib missing: no plot')
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for kind in ('collection', 'baseline'):
        for phase, style in (('rotate', '-o'), ('second', '--x')):
            points = sorted((r['clients'], r['wall_s']) for r in runs if r['kind'] == kind and r['phase'] == phase)
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], style, label='%s (%s run)' % (kind, phase))
    ax.set_xlabel('clients (3 hosts each)')
    ax.set_ylabel('wall time (s)')
    ax.set_title('Rotation wall time, emulator %d ms latency, rate limit %s' % (LATENCY_MS, RATE_LIMIT))
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == '__main__':
    sys.exit(main())
