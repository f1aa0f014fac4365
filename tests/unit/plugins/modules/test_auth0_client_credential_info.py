# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import yaml

from ansible_collections.keyops.auth0.plugins.module_utils._credentials import CLIENT_FIELDS
from ansible_collections.keyops.auth0.plugins.modules import auth0_client_credential_info as module
from ansible_collections.keyops.auth0.tests.unit.utils import CLIENT, CLIENT_PATH, CREDS_PATH, client_with, credential


def test_one_client(api, run_module):
    creds = [credential('cred_1', 'kid_1111111111', expires_at='2099-01-01T00:00:00.000Z'),
             credential('cred_2', 'kid_2222222222')]
    assert CLIENT_FIELDS[:4] == ('client_id', 'name', 'client_authentication_methods', 'token_endpoint_auth_method')
    api.token().expect('GET', CLIENT_PATH, body=client_with(['cred_1']), params={
        'fields': ','.join(CLIENT_FIELDS), 'include_fields': 'true'})
    api.expect('GET', CREDS_PATH, body=creds)
    result = run_module(module, {'client_id': CLIENT}, check=True)
    assert not result['changed']
    (client,) = result['clients']
    assert client['client_id'] == CLIENT and client['authentication_method'] == 'private_key_jwt'
    first, second = client['credentials']
    assert first['enabled'] and first['method'] == 'private_key_jwt' and first['days_until_expiry'] > 20000
    assert not second['enabled'] and second['method'] is None and second['days_until_expiry'] is None
    # exactly the documented keys (no PEM, nothing undocumented)
    documented = yaml.safe_load(module.RETURN)['clients']['contains']['credentials']['contains']
    assert set(first) == set(documented) - {'thumbprint_sha256', 'subject_dn'}  # those two: certificate credentials
    assert {'id', 'name', 'kid', 'alg', 'credential_type', 'created_at', 'updated_at', 'expires_at', 'enabled', 'method',
            'days_until_expiry'} <= set(first)
    api.done()


def test_certificate_credentials_carry_what_identifies_them(api, run_module):
    """x509_cert credentials have no kid: their thumbprint_sha256 is what identifies them (and cert_subject_dn's
    subject_dn); the certificate itself is not returned."""
    creds = [dict(credential('cred_x', None, ctype='x509_cert'), thumbprint_sha256='5qa1m4q0h1RQ2ZbOT8d7hWq0jX7D9p5pRk0i4Vx9Qyo',
                  pem='-----BEGIN CERTIFICATE-----'),
             dict(credential('cred_s', None, ctype='cert_subject_dn'), subject_dn='CN=billing.example.com')]
    api.token().expect('GET', CLIENT_PATH, body=client_with([]), params={
        'fields': ','.join(CLIENT_FIELDS), 'include_fields': 'true'})
    api.expect('GET', CREDS_PATH, body=creds)
    (client,) = run_module(module, {'client_id': CLIENT})['clients']
    x509, subject = client['credentials']
    assert x509['thumbprint_sha256'] == '5qa1m4q0h1RQ2ZbOT8d7hWq0jX7D9p5pRk0i4Vx9Qyo' and 'pem' not in x509
    assert subject['subject_dn'] == 'CN=billing.example.com' and 'thumbprint_sha256' not in subject
    api.done()


def test_every_client(api, run_module):
    api.token().expect('GET', '/api/v2/clients', body={'total': 2, 'clients': [
        client_with(None, secret='client_secret_post'), dict(client_with(None), client_id='other')]})
    api.expect('GET', CREDS_PATH, body=[]).expect('GET', '/api/v2/clients/other/credentials', body=[])
    result = run_module(module, {})
    assert [c['authentication_method'] for c in result['clients']] == ['client_secret_post', None]
    api.done()


def test_every_client_skips_the_global_client_and_copes_with_every_app_type(api, run_module):
    """The global client ("All Applications") is not listed and its credentials are not read; a resource server
    client, or any client lacking name and methods, is listed with what it has; an entry without client_id is
    not asked about."""
    fields = ','.join(CLIENT_FIELDS)
    clients = [
        {'client_id': 'global1', 'name': 'All Applications', 'is_global': True},
        {'client_id': 'rs1', 'app_type': 'resource_server', 'is_global': False},
        {'name': 'no id'},
        dict(client_with(['cred_1']), is_global=False),
    ]
    api.token().expect('GET', '/api/v2/clients', body={'total': 4, 'clients': clients}, params={
        'page': '0', 'per_page': '100', 'include_totals': 'true', 'fields': fields + ',is_global',
        'include_fields': 'true'})
    api.expect('GET', '/api/v2/clients/rs1/credentials', body=[])
    api.expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1111111111')])
    result = run_module(module, {}, check=True)
    assert not result.get('failed'), result
    assert [c['client_id'] for c in result['clients']] == ['rs1', CLIENT]
    assert result['clients'][0] == {'client_id': 'rs1', 'name': None, 'authentication_method': None, 'credentials': []}
    assert result['clients'][1]['credentials'][0]['enabled']
    api.done()


def test_an_unexpected_credential_answer_fails_instead_of_listing_none(api, run_module):
    api.token().expect('GET', CLIENT_PATH, body=client_with(['cred_1'])).expect('GET', CREDS_PATH, body={'oops': 1})
    result = run_module(module, {'client_id': CLIENT})
    assert result['failed'] and 'clients' not in result
    assert 'unexpected answer: expected a list of credentials' in result['msg']
    assert result['api_error']['path'] == CREDS_PATH
    api.done()
