#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make demo``: the whole rotation story against the Auth0 emulator, then a short report.

It brings up the molecule scenarios' fleet (extensions/molecule/shared/fleet.py): the emulator over
TLS, a tenant with one application client on an old key that expires soon, three hosts (directories
on the local connection) holding that key, and a probe per host that requests tokens with the key
its host holds every 0.3 s. Then it does what the README tells an operator to do: a dry run
(``--check --diff``), then the rotation (``playbooks/rotate.yml``), and gives the verdict: the
credentials before and after, the key each host holds, the probes' token requests (none may have been
refused), the Management API calls made and the wall time. Everything it started is stopped by its PID.
Its own output goes to stdout under three headings (dry run, rotation, verdict); stderr carries only
what a command it ran printed there.
"""

import datetime
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


def days_left(expires_at):
    """Whole days until ``expires_at`` (as the role counts them), or None."""
    if not expires_at:
        return None
    moment = datetime.datetime.strptime(expires_at[:19], '%Y-%m-%dT%H:%M:%S').replace(tzinfo=datetime.timezone.utc)
    return int((moment - datetime.datetime.now(datetime.timezone.utc)).total_seconds() // 86400)


def credentials_table(fleet, client_id):
    """The client's credentials as rows of text, the columns as wide as their longest value."""
    state = fleet.admin('GET', '/state')
    enabled = set(fleet.tenant()[client_id]['enabled'])
    rows = [('NAME', 'KID', 'EXPIRES', 'STATE')]
    for cred in sorted(state['credentials'].values(), key=lambda c: c.get('created_at') or ''):
        if cred.get('client_id') != client_id:
            continue
        days = days_left(cred.get('expires_at'))
        expires = 'never' if days is None else 'in %d day%s' % (days, '' if days == 1 else 's')
        rows.append((cred.get('name') or '-', cred.get('kid') or '-', expires, 'enabled' if cred['id'] in enabled else 'not enabled'))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return ['  %s  %s  %s  %s' % (row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].ljust(widths[2]), row[3])
            for row in rows]


def heading(text):
    print('\n=== %s ===' % text, flush=True)


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
        up = subprocess.run([python, fleet_py, 'up', '--dir', work, '--hosts', ','.join(HOSTS)], capture_output=True, text=True,
                            check=False)
        if up.returncode:
            sys.stderr.write(up.stdout + up.stderr)
            return 1
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
        command = [os.path.join(os.path.dirname(python), 'ansible-playbook'), '-i', inventory, playbook]
        print('Client %s, three hosts holding its key, a probe per host asking for tokens with it all along.' % client_id)
        print('Its credentials:')
        print('\n'.join(before))

        heading('Dry run: ansible-playbook %s --check --diff (what would change; nothing does)' % os.path.basename(playbook))
        dry_rc = subprocess.call(command + ['--check', '--diff'], env=env)
        if credentials_table(fleet, client_id) != before:
            print('DEMO FAILED: the dry run changed the credentials')
            return 1

        heading('Rotation: ansible-playbook %s' % os.path.basename(playbook))
        fleet.admin('POST', '/stats/reset')
        started = time.monotonic()
        rc = subprocess.call(command, env=env)
        wall = time.monotonic() - started
        stats = fleet.admin('GET', '/stats')
        after = credentials_table(fleet, client_id)
        check = subprocess.run([python, fleet_py, 'check', '--dir', work, '--rotated'], capture_output=True, text=True, check=False)
        report = json.loads(check.stdout) if check.stdout.strip() else {'probes': {}, 'problems': [check.stderr]}
        management = sum(row['count'] for row in stats['requests'] if row['route'].startswith('/api/v2/'))
        tokens = sum(row['count'] for row in stats['requests'] if row['route'] == '/oauth/token')

        heading('Verdict')
        print('Credentials of client %s after the rotation:' % client_id)
        print('\n'.join(after))
        print('Hosts:')
        refused = 0
        for host, hinfo in fleet.info['hosts'].items():
            with open(hinfo['key_path'], 'rb') as handle:
                kid = fleetlib.kid_of(handle.read())
            probe = report['probes'].get(host, {})
            refused += probe.get('failed') or 0
            by_kid = ', '.join('%d with %s...' % (count, name[:12])
                               for name, count in sorted((probe.get('kids') or {}).items(), key=lambda i: -i[1]))
            print('  %s holds the key %s; its probe made %s token requests, %s refused (granted: %s)' % (
                host, kid, probe.get('requests', 0), probe.get('failed', 0), by_kid or 'none'))
        print('Management API calls of the rotation: %d, in %.1f s (and %d token requests, the probes\' included)'
              % (management, wall, tokens))
        problems = report.get('problems') or []
        if rc or dry_rc or problems:
            print('DEMO FAILED: dry run rc=%s, rotation rc=%s; %s' % (dry_rc, rc, '; '.join(problems)))
            return 1
        print('Zero token requests refused: every host holds the new key, the old credential is gone.' if not refused
              else 'DEMO FAILED: %d token requests were refused' % refused)
        return 0 if not refused else 1
    finally:
        subprocess.run([python, fleet_py, 'down', '--dir', work], check=False, capture_output=True)
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
