# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.keyops.auth0.plugins.modules import auth0_client_credential_info as module
from ansible_collections.keyops.auth0.tests.unit.utils import CLIENT, CLIENT_PATH, CREDS_PATH, client_with, credential


def test_one_client(api, run_module):
    creds = [credential('cred_1', 'kid_1111111111', expires_at='2099-01-01T00:00:00.000Z'),
             credential('cred_2', 'kid_2222222222')]
    api.token().expect('GET', CLIENT_PATH, body=client_with(['cred_1']), params={
        'fields': 'client_id,name,client_authentication_methods,token_endpoint_auth_method', 'include_fields': 'true'})
    api.expect('GET', CREDS_PATH, body=creds)
    result = run_module(module, {'client_id': CLIENT}, check=True)
    assert not result['changed']
    (client,) = result['clients']
    assert client['client_id'] == CLIENT and client['authentication_method'] == 'private_key_jwt'
    first, second = client['credentials']
    assert first['enabled'] and first['method'] == 'private_key_jwt' and first['days_until_expiry'] > 20000
    assert not second['enabled'] and second['method'] is None and second['days_until_expiry'] is None
    assert set(first) == {'id', 'name', 'kid', 'alg', 'credential_type', 'created_at', 'updated_at', 'expires_at',
                          'enabled', 'method', 'days_until_expiry'}
    api.done()


def test_every_client(api, run_module):
    api.token().expect('GET', '/api/v2/clients', body={'total': 2, 'clients': [
        client_with(None, secret='client_secret_post'), dict(client_with(None), client_id='other')]})
    api.expect('GET', CREDS_PATH, body=[]).expect('GET', '/api/v2/clients/other/credentials', body=[])
    result = run_module(module, {})
    assert [c['authentication_method'] for c in result['clients']] == ['client_secret_post', None]
    api.done()
