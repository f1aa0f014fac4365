# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The serve command: ready line, TLS, signals, state file, flags."""

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request

import httpx
import pytest

from conftest import Emulator, public_pem


def test_ready_line_and_tls_verified_with_the_printed_ca(server):
    ready = server.ready
    assert set(ready) == {'url', 'domain', 'ca_path', 'management_client_id', 'management_client_secret', 'custom_domains',
                          'management_audience'}
    assert ready['custom_domains'] == [] and ready['management_audience'] == ready['url'] + '/api/v2/'
    port = int(ready['domain'].rsplit(':', 1)[1])
    assert port > 0 and ready['url'] == 'https://127.0.0.1:%d' % port and ready['domain'] == '127.0.0.1:%d' % port
    with open(ready['ca_path'], encoding='ascii') as handle:
        ca_text = handle.read()
    assert 'BEGIN CERTIFICATE' in ca_text and 'PRIVATE' not in ca_text
    context = ssl.create_default_context(cafile=ready['ca_path'])
    for host in ('127.0.0.1', 'localhost'):
        with urllib.request.urlopen('https://%s:%d/__emulator__/info' % (host, port), context=context, timeout=10) as response:
            assert json.load(response)['url'] == ready['url']
    # without the CA the certificate is not trusted
    with pytest.raises(httpx.ConnectError):
        httpx.get(ready['url'] + '/__emulator__/info', timeout=10)


def test_plain_http_and_sigint():
    emu = Emulator()
    assert emu.ready['url'].startswith('http://127.0.0.1:') and emu.ready['ca_path'] is None
    assert emu.secret_token().status_code == 200
    assert emu.stop(signal.SIGINT) == 0


def test_custom_domain(keys):
    """A custom domain (localhost, the same server): an assertion may name it as aud, the Management API keeps the
    canonical identifier, and asking a token for the custom domain's /api/v2/ finds no service."""
    emu = Emulator('--tls', '--custom-domain', 'localhost')
    try:
        port = int(emu.ready['domain'].rsplit(':', 1)[1])
        custom = 'https://localhost:%d' % port
        assert emu.ready['custom_domains'] == ['localhost:%d' % port]
        assert emu.admin('GET', 'info').json()['custom_domains'] == ['localhost:%d' % port]
        through = httpx.Client(base_url=custom, verify=emu.verify, timeout=20)
        try:
            wrong = through.post('/oauth/token', data={'grant_type': 'client_credentials', 'audience': custom + '/api/v2/',
                                                       'client_id': emu.ready['management_client_id'],
                                                       'client_secret': emu.ready['management_client_secret']})
            assert wrong.status_code == 403 and wrong.json()['error_description'] == 'Service not found: %s/api/v2/' % custom
            client_id = emu.new_client('behind-custom-domain')['client_id']
            credential = emu.add_credential(client_id, keys[0]).json()
            assert emu.enable(client_id, credential['id']).status_code == 200
            emu.grant(client_id)
            for aud in (custom + '/', emu.url + '/'):
                answer = through.post('/oauth/token', data={
                    'grant_type': 'client_credentials', 'audience': emu.management_audience,
                    'client_assertion_type': 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
                    'client_assertion': emu.assertion(keys[0], client_id, aud=aud)})
                assert answer.status_code == 200, answer.text
            other = through.post('/oauth/token', data={
                'grant_type': 'client_credentials', 'audience': emu.management_audience,
                'client_assertion_type': 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
                'client_assertion': emu.assertion(keys[0], client_id, aud='https://localhost:%d/' % (port + 1))})
            assert other.status_code == 401
        finally:
            through.close()
    finally:
        assert emu.stop() == 0


def test_given_management_client_and_short_token_ttl():
    emu = Emulator('--token-ttl', '1', '--management-client-id', 'M' * 32, '--management-client-secret', 's' * 64)
    try:
        assert emu.ready['management_client_id'] == 'M' * 32 and emu.ready['management_client_secret'] == 's' * 64
        response = emu.secret_token()
        assert response.json()['expires_in'] == 1
        token = response.json()['access_token']
        assert emu.api('GET', '/api/v2/clients', token=token).status_code == 200
        time.sleep(1.1)
        expired = emu.api('GET', '/api/v2/clients', token=token)
        assert expired.status_code == 401
        assert expired.json()['message'] == 'Expired token received for JSON Web Token validation'
    finally:
        assert emu.stop() == 0


def test_rate_limit_and_latency_flags():
    emu = Emulator('--rate-limit', '0.5:2', '--latency-ms', '150')
    try:
        token = emu.token()
        started = time.monotonic()
        answers = [emu.api('GET', '/api/v2/clients', token=token) for dummy in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert time.monotonic() - started >= 0.45
        assert 'retry-after' not in answers[-1].headers  # off by default
        assert emu.admin('GET', 'config').json()['rate_limit'] == '0.5:2'
    finally:
        emu.stop()


def test_retry_after_flag():
    emu = Emulator('--rate-limit', '0.5:1', '--retry-after')
    try:
        token = emu.token()
        answers = [emu.api('GET', '/api/v2/clients', token=token) for dummy in range(2)]
        assert [a.status_code for a in answers] == [200, 429] and int(answers[-1].headers['retry-after']) >= 1
        assert emu.admin('GET', 'config').json()['retry_after'] is True
    finally:
        emu.stop()


def test_bad_flags_fail_fast():
    result = subprocess.run([sys.executable, '-m', 'auth0_emulator.cli', 'serve', '--port', '0', '--rate-limit', 'fast'],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode != 0 and result.stdout == '' and 'RPS:BURST' in result.stderr


def test_restart_with_state_file_keeps_everything(tmp_state, keys):
    first = Emulator('--tls', state_file=tmp_state)
    port = int(first.ready['domain'].rsplit(':', 1)[1])
    client = first.new_client('persisted')
    client_id = client['client_id']
    cred = first.add_credential(client_id, keys[0], expires_at='2030-01-01T00:00:00Z').json()
    spare = first.add_credential(client_id, keys[1]).json()
    assert first.enable(client_id, cred['id']).status_code == 200
    grant = first.grant(client_id, scope=['read:clients'])
    assertion = first.assertion(keys[0], client_id, lifetime=300)
    assert first.assertion_token(assertion).status_code == 200
    before = {'client': first.api('GET', '/api/v2/clients/%s' % client_id).json(),
              'creds': first.api('GET', '/api/v2/clients/%s/credentials' % client_id).json()}
    ready = first.ready
    old_token = first.token()
    assert first.stop() == 0

    second = Emulator('--tls', state_file=tmp_state, port=port)
    try:
        assert second.ready['management_client_id'] == ready['management_client_id']
        assert second.ready['management_client_secret'] == ready['management_client_secret']
        assert second.ready['ca_path'] == ready['ca_path']  # the CA lives next to the state file and is reused
        assert second.api('GET', '/api/v2/clients/%s' % client_id, token=old_token).json() == before['client']
        assert second.api('GET', '/api/v2/clients/%s/credentials' % client_id).json() == before['creds']
        assert second.api('GET', '/api/v2/client-grants', params={'client_id': client_id}).json() == [grant]
        # the used jti is remembered across the restart
        replay = second.assertion_token(assertion)
        assert replay.status_code == 401 and replay.json()['error'] == 'invalid_client'
        # the public PEM was kept: the key still signs, and a duplicate is still recognised
        assert second.assertion_token(second.assertion(keys[0], client_id)).status_code == 200
        assert second.add_credential(client_id, keys[1]).status_code == 400
        assert second.api('DELETE', '/api/v2/clients/%s/credentials/%s' % (client_id, spare['id'])).status_code == 204
    finally:
        assert second.stop() == 0
    data = json.loads(tmp_state.read_text())
    assert spare['id'] not in data['credentials']
    assert public_pem(keys[0]) in [c['pem'] for c in data['credentials'].values()]


def test_restart_on_another_port_moves_the_management_audience(tmp_state):
    first = Emulator(state_file=tmp_state)
    ready = first.ready
    first.stop()
    second = Emulator(state_file=tmp_state)
    try:
        assert second.ready['management_client_id'] == ready['management_client_id']
        assert second.secret_token().status_code == 200
        assert second.api('GET', '/api/v2/clients').status_code == 200
    finally:
        second.stop()


def test_console_script_is_installed_beside_the_interpreter():
    script = shutil.which('auth0-emulator', path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip('auth0-emulator is not installed in this environment (pip install -e tests/emulator)')
    result = subprocess.run([script, 'serve', '--help'], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0 and '--state-file' in result.stdout
