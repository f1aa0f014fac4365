#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the rotation through ansible-runner the way AWX does, then check its job events.

AWX hands ansible-runner a private data directory: ``env/envvars`` holds what the credential
type's injectors render (docs/awx/credential_type.yml, unused fields as empty strings),
``env/extravars`` the survey's answers (docs/awx/survey_spec.json, booleans as the text choices it
offers), ``inventory/`` the hosts and ``project/`` the project (docs/awx/project, whose playbooks import the
installed collection's by FQCN). This check builds one against the molecule fleet (emulator over TLS,
three hosts, probes), runs ``playbooks/rotate.yml``, and asserts from the
job events that the rotation happened (the summary published with set_stats names a new kid) and
that no event, nor the job's stdout, holds the management secret, a private key, an assertion or a
token. Finally the fleet's own check (probes never failed, old credential gone) must pass.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'extensions', 'molecule', 'shared'))
import fleet as fleetlib  # noqa: E402  pylint: disable=wrong-import-position,import-error

JWT = re.compile(r'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}')


def survey_answers():
    """The survey's defaults, with 'Rotate now' answered true, as AWX passes them (text choices stay text)."""
    with open(os.path.join(ROOT, 'docs', 'awx', 'survey_spec.json'), encoding='utf-8') as handle:
        spec = json.load(handle)
    answers = {question['variable']: question['default'] for question in spec['spec']}
    answers['credential_rotation_force'] = 'true'
    answers['credential_rotation_key_size'] = 2048
    return answers


def main():
    """Build the private data directory, run ansible-runner, check the events; non-zero on failure."""
    work = tempfile.mkdtemp(prefix='keyops-awx-runner-')  # this run's own: fleet, private data dir, artifacts
    fleet_py = os.path.join(ROOT, 'extensions', 'molecule', 'shared', 'fleet.py')
    python = sys.executable
    problems = []
    try:
        subprocess.run([python, fleet_py, 'up', '--dir', os.path.join(work, 'fleet'), '--hosts', 'app1,app2,app3'], check=True)
        fleet = fleetlib.Fleet(os.path.join(work, 'fleet'))
        pdd = os.path.join(work, 'pdd')
        shutil.rmtree(pdd, ignore_errors=True)
        for sub in ('env', 'inventory', 'project'):
            os.makedirs(os.path.join(pdd, sub))
        # the project AWX is given: docs/awx/project, whose playbooks import the installed collection's by FQCN
        shutil.rmtree(os.path.join(pdd, 'project'))
        shutil.copytree(os.path.join(ROOT, 'docs', 'awx', 'project'), os.path.join(pdd, 'project'))
        envvars = {  # what the injectors of docs/awx/credential_type.yml render for a secret-based credential
            'AUTH0_DOMAIN': fleet.info['domain'], 'AUTH0_AUDIENCE': '', 'AUTH0_CLIENT_ID': fleetlib.MANAGEMENT_CLIENT_ID,
            'AUTH0_CLIENT_SECRET': fleetlib.MANAGEMENT_CLIENT_SECRET, 'AUTH0_CLIENT_ASSERTION_PRIVATE_KEY': '',
            'AUTH0_CLIENT_ASSERTION_SIGNING_ALG': 'RS256', 'AUTH0_API_TOKEN': '',
            # not part of the credential type: the emulator's CA, which a real tenant does not need
            'AUTH0_CA_PATH': fleet.info['ca_path'],
            'ANSIBLE_COLLECTIONS_PATH': os.environ.get('ANSIBLE_COLLECTIONS_PATH', ''),
            'ANSIBLE_PIPELINING': 'true',
        }
        with open(os.path.join(pdd, 'env', 'envvars'), 'w', encoding='utf-8') as handle:
            json.dump(envvars, handle)
        with open(os.path.join(pdd, 'env', 'extravars'), 'w', encoding='utf-8') as handle:
            json.dump(survey_answers(), handle)
        with open(os.path.join(pdd, 'inventory', 'hosts.json'), 'w', encoding='utf-8') as handle:
            json.dump({'all': {'hosts': {host: {
                'ansible_connection': 'local', 'ansible_python_interpreter': python,
                'credential_rotation_client_id': hinfo['client_id'], 'credential_rotation_key_path': hinfo['key_path'],
            } for host, hinfo in fleet.info['hosts'].items()}}}, handle)
        runner = os.path.join(os.path.dirname(python), 'ansible-runner')
        env = dict(os.environ, PATH=os.path.dirname(python) + os.pathsep + os.environ.get('PATH', ''))
        result = subprocess.run([runner, 'run', pdd, '-p', 'playbooks/rotate.yml', '--ident', 'job1'], capture_output=True, text=True,
                                check=False, env=env)
        artifacts = os.path.join(pdd, 'artifacts', 'job1')
        with open(os.path.join(artifacts, 'status'), encoding='utf-8') as handle:
            status = handle.read().strip()
        print('ansible-runner status: %s (rc %s)' % (status, result.returncode))
        if status != 'successful':
            problems.append('job status %s' % status)
            print(result.stdout[-4000:])
        events = []
        for path in sorted(glob.glob(os.path.join(artifacts, 'job_events', '*.json'))):
            with open(path, encoding='utf-8') as handle:
                events.append(handle.read())
        stats = [json.loads(e) for e in events if '"playbook_on_stats"' in e]
        custom = stats[-1]['event_data'].get('artifact_data', {}) if stats else {}
        summary = custom.get('credential_rotation')
        print('set_stats artifact credential_rotation: %s' % json.dumps(summary)[:600])
        client_id = next(iter(fleet.info['clients']))
        initial_kid = fleet.info['clients'][client_id]['initial_kid']
        entry = (summary or {}).get(client_id) or {}
        new_kid = (entry.get('new') or {}).get('kid')
        if entry.get('action') != 'rotate' or not new_kid or new_kid == initial_kid:
            problems.append('the job events hold no rotation of %s to a new kid' % client_id)
        with open(os.path.join(artifacts, 'stdout'), encoding='utf-8', errors='replace') as handle:
            text = '\n'.join(events) + handle.read()
        needles = {'management secret': fleetlib.MANAGEMENT_CLIENT_SECRET, 'private key': 'PRIVATE KEY-----'}
        for what, needle in needles.items():
            if needle in text:
                problems.append('the job events or stdout hold the %s' % what)
        if JWT.search(text):
            problems.append('the job events or stdout hold a JWT (assertion or token)')
        print('%d job events scanned for secrets; the initial kid was %s' % (len(events), initial_kid))
        check = subprocess.run([python, fleet_py, 'check', '--dir', fleet.dir, '--rotated'], capture_output=True, text=True, check=False)
        if check.returncode:
            problems.append(check.stderr.strip()[-1500:])
    finally:
        subprocess.run([python, fleet_py, 'down', '--dir', os.path.join(work, 'fleet')], check=False)
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        print('AWX runner check FAILED:\n- ' + '\n- '.join(problems))
        return 1
    print('AWX runner check passed: rotated through ansible-runner, no secret in any job event.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
