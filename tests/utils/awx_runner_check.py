#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the rotation through ansible-runner the way AWX does, then check its job events.

AWX hands ansible-runner a private data directory: ``env/envvars`` holds what the credential
type's injectors render (docs/awx/credential_type.yml, unused fields as empty strings),
``env/extravars`` the survey's answers (docs/awx/survey_spec.json, booleans as the text choices it
offers), ``inventory/`` the hosts and ``project/`` the project (docs/awx/project, whose playbooks import the
installed collection's by FQCN). This check builds one against the molecule fleet (emulator over TLS,
three hosts, probes) with two more entries of the same client whose key lives in secret stores (an
OpenBao dev server, destination vault, and moto's Secrets Manager server, destination aws_secretsmanager,
each started on a free loopback port with credentials as AWX's credential types inject them), runs
``playbooks/rotate.yml``, and asserts from the job events that the rotation happened (the summary published
with set_stats names a new kid, both stores hold it) and that no event, nor the job's stdout, holds the
management secret, a private key, the store's token, the AWS secret key, an assertion or a token. Finally the
fleet's own check (probes never failed, old credential gone) must pass.
"""

import glob
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

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


def leaks(text, needles):
    """What of ``needles`` ({what: secret}) ``text`` holds, and whether it holds a JWT, as problems."""
    problems = ['the job events or stdout hold the %s' % what for what, needle in needles.items() if needle and needle in text]
    if JWT.search(text):
        problems.append('the job events or stdout hold a JWT (assertion or token)')
    return problems


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def start(argv, url, log):
    """Start a server (its own process, stopped by its PID) and wait until ``url`` answers."""
    with open(log, 'w', encoding='utf-8') as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)  # pylint: disable=consider-using-with
    for dummy in range(150):
        try:
            urllib.request.urlopen(url, timeout=1).read()  # pylint: disable=consider-using-with
            return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    with open(log, encoding='utf-8', errors='replace') as handle:
        raise RuntimeError('%s did not start: %s' % (argv[0], handle.read()[-1000:]))


def store_problems(envvars, new_kid):
    """Whether both stores hold the new key as their current version (kids computed from the keys)."""
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration', 'targets', 'auth0_common', 'tasks'))
    import store_check  # pylint: disable=import-outside-toplevel,import-error
    import hvac  # pylint: disable=import-outside-toplevel
    import boto3  # pylint: disable=import-outside-toplevel
    vault = hvac.Client(url=envvars['VAULT_ADDR'], token=envvars['VAULT_TOKEN'])
    key = vault.secrets.kv.v2.read_secret_version(path='apps/awx-check', mount_point='secret',
                                                  raise_on_deleted_version=True)['data']['data']['private_key']
    aws = boto3.client('secretsmanager', region_name=envvars['AWS_REGION'], endpoint_url=envvars['AWS_ENDPOINT_URL'],
                       aws_access_key_id=envvars['AWS_ACCESS_KEY_ID'], aws_secret_access_key=envvars['AWS_SECRET_ACCESS_KEY'])
    other = json.loads(aws.get_secret_value(SecretId='apps/awx-check')['SecretString'])['private_key']
    out = []
    for what, private in (('the vault secret', key), ('the Secrets Manager secret', other)):
        if store_check.kid_for_public_key(private) != new_kid:
            out.append('%s does not hold the new key %s' % (what, new_kid))
    return out


def main():
    """Build the private data directory, run ansible-runner, check the events; non-zero on failure."""
    work = tempfile.mkdtemp(prefix='keyops-awx-runner-')  # this run's own: fleet, private data dir, artifacts
    fleet_py = os.path.join(ROOT, 'extensions', 'molecule', 'shared', 'fleet.py')
    python = sys.executable
    problems = []
    servers = []
    try:
        bindir = os.path.dirname(python)
        vault_port, aws_port = free_port(), free_port()
        vault_token = 'root-' + secrets.token_urlsafe(18)
        aws_secret = 'aws-secret-' + secrets.token_urlsafe(24)
        servers.append(start([os.path.join(bindir, 'bao'), 'server', '-dev', '-dev-root-token-id=' + vault_token,
                              '-dev-listen-address=127.0.0.1:%d' % vault_port],
                             'http://127.0.0.1:%d/v1/sys/health' % vault_port, os.path.join(work, 'bao.log')))
        servers.append(start([os.path.join(bindir, 'moto_server'), '-H', '127.0.0.1', '-p', str(aws_port)],
                             'http://127.0.0.1:%d/moto-api/' % aws_port, os.path.join(work, 'moto.log')))
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
            # what a Vault credential type (docs/awx/credential_type_vault.yml) and AWX's built-in Amazon Web
            # Services type inject; the region and the endpoint of the test server are extra
            'VAULT_ADDR': 'http://127.0.0.1:%d' % vault_port, 'VAULT_TOKEN': vault_token, 'VAULT_ROLE_ID': '',
            'VAULT_SECRET_ID': '', 'VAULT_NAMESPACE': '',
            'AWS_ACCESS_KEY_ID': 'AKIAKEYOPSAWXCHECK01', 'AWS_SECRET_ACCESS_KEY': aws_secret, 'AWS_SECURITY_TOKEN': '',
            'AWS_REGION': 'eu-west-1', 'AWS_ENDPOINT_URL': 'http://127.0.0.1:%d' % aws_port,
            'AWS_CONFIG_FILE': os.devnull, 'AWS_SHARED_CREDENTIALS_FILE': os.devnull,
            'ANSIBLE_COLLECTIONS_PATH': os.environ.get('ANSIBLE_COLLECTIONS_PATH', ''),
            'ANSIBLE_PIPELINING': 'true',
        }
        with open(os.path.join(pdd, 'env', 'envvars'), 'w', encoding='utf-8') as handle:
            json.dump(envvars, handle)
        with open(os.path.join(pdd, 'env', 'extravars'), 'w', encoding='utf-8') as handle:
            json.dump(survey_answers(), handle)
        client_id = next(iter(fleet.info['clients']))
        hosts = dict((host, {
            'ansible_connection': 'local', 'ansible_python_interpreter': python,
            'credential_rotation_client_id': hinfo['client_id'], 'credential_rotation_key_path': hinfo['key_path'],
        }) for host, hinfo in fleet.info['hosts'].items())
        for host, destination in (('app_vault', 'vault'), ('app_secretsmanager', 'aws_secretsmanager')):
            # the same client's key also in a store, for applications that read it there
            hosts[host] = {'ansible_connection': 'local', 'ansible_python_interpreter': python,
                           'credential_rotation_client_id': client_id, 'credential_rotation_destination': destination,
                           'credential_rotation_key_path': 'apps/awx-check'}
        with open(os.path.join(pdd, 'inventory', 'hosts.json'), 'w', encoding='utf-8') as handle:
            json.dump({'all': {'hosts': hosts}}, handle)
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
        initial_kid = fleet.info['clients'][client_id]['initial_kid']
        entry = (summary or {}).get(client_id) or {}
        new_kid = (entry.get('new') or {}).get('kid')
        if entry.get('action') != 'rotate' or not new_kid or new_kid == initial_kid:
            problems.append('the job events hold no rotation of %s to a new kid' % client_id)
        with open(os.path.join(artifacts, 'stdout'), encoding='utf-8', errors='replace') as handle:
            text = '\n'.join(events) + handle.read()
        problems.extend(leaks(text, {'management secret': fleetlib.MANAGEMENT_CLIENT_SECRET, 'private key': 'PRIVATE KEY-----',
                                     'Vault token': vault_token, 'AWS secret access key': aws_secret}))
        problems.extend(store_problems(envvars, new_kid))
        print('%d job events scanned for secrets; the initial kid was %s' % (len(events), initial_kid))
        check = subprocess.run([python, fleet_py, 'check', '--dir', fleet.dir, '--rotated'], capture_output=True, text=True, check=False)
        if check.returncode:
            problems.append(check.stderr.strip()[-1500:])
    finally:
        subprocess.run([python, fleet_py, 'down', '--dir', os.path.join(work, 'fleet')], check=False)
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        print('AWX runner check FAILED:\n- ' + '\n- '.join(problems))
        return 1
    print('AWX runner check passed: rotated through ansible-runner, no secret in any job event.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
