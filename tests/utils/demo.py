#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make demo``: the whole rotation story against the Auth0 emulator, then a short report.

It brings up the molecule scenarios' fleet (extensions/molecule/shared/fleet.py): the emulator over
TLS, a tenant with one application client on an old key that expires soon, three hosts (directories
on the local connection) holding that key, and a probe per host that requests tokens with the key
its host holds every 50 ms. Then it runs ``playbooks/rotate.yml`` as an operator would, and reports
the credentials before and after, the key each host holds, the probes' successes and failures, the
Management API calls made and the wall time. Everything it started is stopped by its PID.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'extensions', 'molecule', 'shared'))
import fleet as fleetlib  # noqa: E402  pylint: disable=wrong-import-position,import-error

HOSTS = ('web1', 'web2', 'web3')


def credentials_table(fleet, client_id):
    """The client's credentials as rows of text."""
    state = fleet.admin('GET', '/state')
    enabled = set(fleet.tenant()[client_id]['enabled'])
    rows = []
    for cred in sorted(state['credentials'].values(), key=lambda c: c.get('created_at') or ''):
        if cred.get('client_id') != client_id:
            continue
        state_word = 'enabled' if cred['id'] in enabled else ''
        rows.append('  %-28s %-44s %-26s %s' % (cred.get('name'), cred.get('kid'), cred.get('expires_at') or '-', state_word))
    return rows


def main():
    """Run the demo; exit non-zero when the rotation or its checks failed.

    ``--playbook NAME`` runs another playbook, for example ``keyops.auth0.rotate`` by FQCN from an
    installed collection tarball (``make build-test``), instead of this tree's playbooks/rotate.yml.
    """
    playbook = os.path.join(ROOT, 'playbooks', 'rotate.yml')
    if sys.argv[1:2] == ['--playbook']:
        playbook = sys.argv[2]
    temp = tempfile.mkdtemp(prefix='keyops-demo-')  # this run's own: the fleet, its emulator (on a free port), logs
    work = os.path.join(temp, 'fleet')
    fleet_py = os.path.join(ROOT, 'extensions', 'molecule', 'shared', 'fleet.py')
    python = sys.executable
    try:
        subprocess.run([python, fleet_py, 'up', '--dir', work, '--hosts', ','.join(HOSTS)], check=True)
        fleet = fleetlib.Fleet(work)
        client_id = next(iter(fleet.info['clients']))
        before = credentials_table(fleet, client_id)
        inventory = os.path.join(work, 'inventory.json')
        with open(inventory, 'w', encoding='utf-8') as handle:
            json.dump({'all': {'hosts': {host: {
                'ansible_connection': 'local', 'ansible_python_interpreter': python,
                'credential_rotation_client_id': hinfo['client_id'],
                'credential_rotation_key_path': hinfo['key_path'],
            } for host, hinfo in fleet.info['hosts'].items()}}}, handle, indent=1)
        env = dict(os.environ, AUTH0_DOMAIN=fleet.info['domain'], AUTH0_CA_PATH=fleet.info['ca_path'],
                   AUTH0_CLIENT_ID=fleetlib.MANAGEMENT_CLIENT_ID, AUTH0_CLIENT_SECRET=fleetlib.MANAGEMENT_CLIENT_SECRET,
                   ANSIBLE_PIPELINING='true', ANSIBLE_FORCE_COLOR='0')
        fleet.admin('POST', '/stats/reset')
        print('\n=== ansible-playbook %s (the credential expires in 10 days: rotation due) ===' % playbook, flush=True)
        started = time.monotonic()
        rc = subprocess.call([os.path.join(os.path.dirname(python), 'ansible-playbook'), '-i', inventory, playbook], env=env)
        wall = time.monotonic() - started
        stats = fleet.admin('GET', '/stats')
        after = credentials_table(fleet, client_id)
        check = subprocess.run([python, fleet_py, 'check', '--dir', work, '--rotated'], capture_output=True, text=True, check=False)
        report = json.loads(check.stdout) if check.stdout.strip() else {'probes': {}, 'problems': [check.stderr]}
        management = sum(row['count'] for row in stats['requests'] if row['route'].startswith('/api/v2/'))
        tokens = sum(row['count'] for row in stats['requests'] if row['route'] == '/oauth/token')
        print('\n=== Report ===')
        print('client %s' % client_id)
        print('credentials before (name, kid, expires_at):')
        print('\n'.join(before))
        print('credentials after:')
        print('\n'.join(after))
        print('hosts:')
        for host, hinfo in fleet.info['hosts'].items():
            with open(hinfo['key_path'], 'rb') as handle:
                kid = fleetlib.kid_of(handle.read())
            probe = report['probes'].get(host, {})
            print('  %-6s holds kid %s  probe: %s requests, %s failed, successes by kid %s' % (
                host, kid, probe.get('requests'), probe.get('failed'), probe.get('kids')))
        print('Management API calls during the run: %d (plus %d requests to /oauth/token, probes included)' % (management, tokens))
        print('wall time: %.1f s' % wall)
        problems = report.get('problems') or []
        if rc or problems:
            print('DEMO FAILED: playbook rc=%s; %s' % (rc, '; '.join(problems)))
            return 1
        print('Rotation done: every host holds the new key, the old credential is gone, no probe request failed.')
        return 0
    finally:
        subprocess.run([python, fleet_py, 'down', '--dir', work], check=False)
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
