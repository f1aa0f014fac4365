# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import datetime
import hashlib

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.keyops.auth0.plugins.modules import auth0_client_credential as module
from ansible_collections.keyops.auth0.tests.unit.utils import (
    CLIENT, CLIENT_PATH, CREDS_PATH, NO_SECRET, client_with, credential,
)

FUTURE = '2099-01-01T00:00:00.000Z'
#: What the module reads of the client before deleting or replacing: every field that lists credential ids.
USES = {'fields': 'client_authentication_methods,signed_request_object', 'include_fields': 'true'}


#: The certificate of the go-auth0 recording TestClient_CreateAllCredential_Should_create_SelfSignedTLSClientAuth_Credential,
#: which Auth0 gave the thumbprint_sha256 NTkulT-DcSrRSevqZd26aq0DCz8YbOFGjKVs-Expu4w.
RECORDED_CERT = (
    '-----BEGIN CERTIFICATE-----\n'
    'MIIDwTCCAyqgAwIBAgICDh4wDQYJKoZIhvcNAQEFBQAwgZsxCzAJBgNVBAYTAkpQ\n'
    'MQ4wDAYDVQQIEwVUb2t5bzEQMA4GA1UEBxMHQ2h1by1rdTERMA8GA1UEChMIRnJh\n'
    'bms0REQxGDAWBgNVBAsTD1dlYkNlcnQgU3VwcG9ydDEYMBYGA1UEAxMPRnJhbms0\n'
    'REQgV2ViIENBMSMwIQYJKoZIhvcNAQkBFhRzdXBwb3J0QGZyYW5rNGRkLmNvbTAi\n'
    'GA8wMDAwMDEwMTAwMDAwMVoYDzk5OTkxMjMxMjM1OTU5WjCBgTELMAkGA1UEBhMC\n'
    'SlAxDjAMBgNVBAgTBVRva3lvMREwDwYDVQQKEwhGcmFuazRERDEQMA4GA1UECxMH\n'
    'U3VwcG9ydDEiMCAGCSqGSIb3DQEJARYTcHVibGljQGZyYW5rNGRkLmNvbTEZMBcG\n'
    'A1UEAxMQd3d3LmZyYW5rNGRkLmNvbTCBnzANBgkqhkiG9w0BAQEFAAOBjQAwgYkC\n'
    'gYEA4rkBL30FzR2ZHZ1vpF9kGBO0DMwhu2pcrkcLJ0SEuf52ggo+md0tPis8f1KN\n'
    'Tchxj6DtxWT3c7ECW0c1ALpu6mNVE+GaM94KsckSDehoPfbLjT9Apcc/F0mqvDsC\n'
    'N6fPdDixWrjx6xKT7xXi3lCy1yIKRMHA6Ha+T4qPyyCyMPECAwEAAaOCASYwggEi\n'
    'MAwGA1UdEwEB/wQCMAAwCwYDVR0PBAQDAgWgMB0GA1UdDgQWBBRWKE5tXPIyS0pC\n'
    'fE5taGO5Q84gyTCB0AYDVR0jBIHIMIHFgBRi83vtBtSx1Zx/SOXvxckVYf3ZEaGB\n'
    'oaSBnjCBmzELMAkGA1UEBhMCSlAxDjAMBgNVBAgTBVRva3lvMRAwDgYDVQQHEwdD\n'
    'aHVvLWt1MREwDwYDVQQKEwhGcmFuazRERDEYMBYGA1UECxMPV2ViQ2VydCBTdXBw\n'
    'b3J0MRgwFgYDVQQDEw9GcmFuazRERCBXZWIgQ0ExIzAhBgkqhkiG9w0BCQEWFHN1\n'
    'cHBvcnRAZnJhbms0ZGQuY29tggkAxscECbwiW6AwEwYDVR0lBAwwCgYIKwYBBQUH\n'
    'AwEwDQYJKoZIhvcNAQEFBQADgYEAfXCfXcePJwnMKc06qLa336cEPpXEsPed1bw4\n'
    'xiIXfgZ39duBnN+Nv4a49Yl2kbh4JO8tcr5h8WYAI/a/69w8qBFQBUAjTEY/+lcw\n'
    '9/6wU7UA3kh7yexeqDiNTRflnPUv3sfiVdLDTjqLWWAxGS8L26PjVaCUFfJLNiYJ\n'
    'jerREgM=\n'
    '-----END CERTIFICATE-----'
)


def cred_path(cid):
    return '%s/%s' % (CREDS_PATH, cid)


def certificate(key, days=30):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'test')])
    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_create_four_ways(api, run_module, keys):
    """check+diff, real, again, check again: the create case."""
    args = {'client_id': CLIENT, 'name': 'k1', 'pem': keys['one']['public'], 'alg': 'RS256', 'expires_at': '2099-01-01'}
    kid = keys['one']['kid']
    created = credential('cred_1', kid, 'k1', expires_at=FUTURE)

    api.token().expect('GET', CREDS_PATH, body=[])
    result = run_module(module, args, check=True, diff=True)
    assert result['changed'] and result['diff']['before'] == {}
    assert result['diff']['after']['kid'] == kid and result['credential']['id'] is None
    assert result['credential']['expires_at'] == FUTURE

    def body(request):
        # no kid: Auth0 gives the credential the key's RFC 7638 thumbprint, the kid it is found by afterwards
        assert api.json(request) == {'credential_type': 'public_key', 'name': 'k1', 'pem': keys['one']['public'],
                                     'alg': 'RS256', 'expires_at': FUTURE}

    api.token().expect('GET', CREDS_PATH, body=[]).expect('POST', CREDS_PATH, 201, created, check=body)
    result = run_module(module, args, diff=True)
    assert result['changed'] and result['credential']['id'] == 'cred_1'
    assert 'pem' not in result['credential'] and not NO_SECRET.search(str(result))

    for check in (False, True):
        api.token().expect('GET', CREDS_PATH, body=[created])
        result = run_module(module, args, check=check, diff=True)
        assert not result['changed'] and result['diff']['before'] == result['diff']['after']
    api.done()


def test_no_change_with_token_is_one_read(api, run_module, keys):
    api.expect('GET', CREDS_PATH, body=[credential('cred_1', keys['one']['kid'])])
    result = run_module(module, {'client_id': CLIENT, 'pem': keys['one']['public'], 'auth0_token': 'tok'})
    assert not result['changed']
    assert len(api.requests) == 1
    api.done()


def test_given_kid_is_used(api, run_module, keys):
    created = credential('cred_1', 'my_custom_kid')
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_0', keys['one']['kid'])])
    api.expect('POST', CREDS_PATH, 201, created,
               check=lambda r: api.json(r)['kid'] == 'my_custom_kid' or pytest.fail('kid'))
    result = run_module(module, {'client_id': CLIENT, 'pem': keys['one']['public'], 'kid': 'my_custom_kid'})
    assert result['changed'] and result['credential']['kid'] == 'my_custom_kid'
    api.done()


def test_expires_at_change_is_a_patch(api, run_module, keys):
    current = credential('cred_1', keys['one']['kid'], expires_at='2098-01-01T00:00:00.000Z')
    args = {'client_id': CLIENT, 'kid': keys['one']['kid'], 'expires_at': '2099-01-01T01:00:00+01:00'}
    api.token().expect('GET', CREDS_PATH, body=[current])
    result = run_module(module, args, check=True, diff=True)
    assert result['changed'] and result['diff']['after']['expires_at'] == FUTURE
    api.token().expect('GET', CREDS_PATH, body=[current])
    api.expect('PATCH', cred_path('cred_1'), 200, dict(current, expires_at=FUTURE),
               check=lambda r: api.json(r) == {'expires_at': FUTURE} or pytest.fail('body'))
    result = run_module(module, args)
    assert result['changed'] and result['credential']['expires_at'] == FUTURE
    api.done()


def test_patch_without_body_in_answer(api, run_module, keys):
    current = credential('cred_1', keys['one']['kid'])
    api.token().expect('GET', CREDS_PATH, body=[current]).expect('PATCH', cred_path('cred_1'), 204)
    result = run_module(module, {'client_id': CLIENT, 'credential_id': 'cred_1', 'expires_at': '2099-01-01'})
    assert result['changed'] and result['credential']['expires_at'] == FUTURE


@pytest.mark.parametrize('args, message', [
    ({'pem': 'PRIVATE'}, 'private key'),
    ({'pem': 'RSA1024'}, '1024 bits'),
    ({'pem': 'EC'}, 'EC key'),
    ({'pem': 'garbage'}, 'not PEM'),
    ({'name': 'x', 'kid': 'bad kid'}, 'kid must be'),
    ({'name': 'x', 'expires_at': '2001-01-01'}, 'not in the future'),
    ({'name': 'x', 'expires_at': 'next week'}, 'ISO 8601'),
    ({'name': 'x' * 129}, '1 to 128'),
    ({'name': 'x', 'credential_type': 'public_key', 'subject_dn': 'CN=x'}, 'only for credential_type cert_subject_dn'),
    ({'pem': 'PUBLIC', 'parse_expiry_from_cert': True}, 'needs a certificate'),
    ({'name': 'x', 'expires_at': '2099-01-01', 'parse_expiry_from_cert': True}, 'mutually exclusive'),
    ({'pem': 'PUBLIC', 'credential_type': 'cert_subject_dn'}, 'takes subject_dn'),
    ({'pem': 'PUBLIC', 'credential_type': 'x509_cert'}, 'BEGIN CERTIFICATE'),
    ({'name': 'x', 'alg': 'HS256'}, 'alg must be one of'),
])
def test_bad_input_fails_before_any_call(api, run_module, keys, args, message):
    pems = {
        'PRIVATE': keys['one']['private'],
        'PUBLIC': keys['one']['public'],
        'RSA1024': rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        'EC': ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        'garbage': 'garbage',
    }
    if 'pem' in args:
        args = dict(args, pem=pems[args['pem']])
    result = run_module(module, dict(args, client_id=CLIENT))
    assert result['failed'] and message in result['msg'], result['msg']
    assert api.requests == []
    assert keys['one']['private'] not in str(result)


def test_unknown_credential_id(api, run_module):
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1111111111')])
    result = run_module(module, {'client_id': CLIENT, 'credential_id': 'cred_9'})
    assert result['failed'] and 'has no credential cred_9' in result['msg']


def test_absent_unknown_credential_id_is_unchanged(api, run_module):
    api.token().expect('GET', CREDS_PATH, body=[])
    result = run_module(module, {'client_id': CLIENT, 'credential_id': 'cred_9', 'state': 'absent'}, diff=True)
    assert not result['changed'] and result['credential'] is None and result['diff'] == {'before': {}, 'after': {}}


def test_ambiguous_name(api, run_module):
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1111111111', 'n'),
                                                credential('cred_2', 'kid_2222222222', 'n')])
    result = run_module(module, {'client_id': CLIENT, 'name': 'n'})
    assert result['failed'] and 'are named' in result['msg']


def test_found_by_name_unchanged(api, run_module):
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1111111111', 'n')])
    result = run_module(module, {'client_id': CLIENT, 'name': 'n'})
    assert not result['changed'] and result['credential']['id'] == 'cred_1'


def test_create_needs_pem(api, run_module):
    api.token().expect('GET', CREDS_PATH, body=[])
    result = run_module(module, {'client_id': CLIENT, 'name': 'n'})
    assert result['failed'] and 'needs pem' in result['msg']


def test_four_credentials_cap(api, run_module, keys):
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_%d' % i, 'kid_%010d' % i) for i in range(4)])
    result = run_module(module, {'client_id': CLIENT, 'pem': keys['one']['public']})
    assert result['failed'] and 'maximum' not in result['msg'] and '4 credentials' in result['msg']
    api.done()


def test_unknown_client(api, run_module, keys):
    api.token().expect('GET', CREDS_PATH, 404, {'statusCode': 404, 'error': 'Not Found', 'errorCode': 'inexistent_client',
                                                'message': 'The client does not exist'})
    result = run_module(module, {'client_id': CLIENT, 'pem': keys['one']['public']})
    assert result['failed'] and result['api_error']['error_code'] == 'inexistent_client'


def test_create_timeout_reads_back(api, run_module, keys):
    created = credential('cred_1', keys['one']['kid'])
    api.token().expect('GET', CREDS_PATH, body=[])
    api.expect('POST', CREDS_PATH, exc=httpx.ReadTimeout('slow')).expect('GET', CREDS_PATH, body=[created])
    result = run_module(module, {'client_id': CLIENT, 'pem': keys['one']['public']})
    assert result['changed'] and result['credential']['id'] == 'cred_1'
    api.done()


def test_rename_unused_credential_replaces_it(api, run_module, keys):
    kid = keys['one']['kid']
    current = credential('cred_1', kid, 'old', alg='RS384')
    args = {'client_id': CLIENT, 'pem': keys['one']['public'], 'name': 'new'}
    api.token().expect('GET', CREDS_PATH, body=[current])
    api.expect('GET', CLIENT_PATH, body=client_with(['cred_2']))
    result = run_module(module, args, check=True, diff=True)
    assert result['changed'] and result['diff']['after']['name'] == 'new' and result['diff']['after']['alg'] == 'RS384'

    def body(request):
        assert api.json(request) == {'credential_type': 'public_key', 'name': 'new', 'pem': keys['one']['public'],
                                     'alg': 'RS384'}

    api.token().expect('GET', CREDS_PATH, body=[current]).expect('GET', CLIENT_PATH, body=client_with(None))
    api.expect('DELETE', cred_path('cred_1'), 204)
    api.expect('POST', CREDS_PATH, 201, credential('cred_3', kid, 'new', alg='RS384'), check=body)
    result = run_module(module, args)
    assert result['changed'] and result['credential']['id'] == 'cred_3'
    api.done()


def test_rename_enabled_credential_fails(api, run_module, keys):
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_1', keys['one']['kid'], 'old')])
    api.expect('GET', CLIENT_PATH, body=client_with(['cred_1']), params=USES)
    result = run_module(module, {'client_id': CLIENT, 'pem': keys['one']['public'], 'name': 'new'})
    assert result['failed'] and 'is enabled (private_key_jwt)' in result['msg']
    api.done()


def test_create_without_the_thumbprint_kid_is_found_by_it_after_a_lost_answer(api, run_module, keys):
    """The body has no kid; the POST's answer is lost (a 503 after it landed): the read-back by the key's
    thumbprint finds the credential created, and nothing is created twice."""
    created = credential('cred_1', keys['one']['kid'], 'k1')
    api.token().expect('GET', CREDS_PATH, body=[])
    api.expect('POST', CREDS_PATH, 503, {'statusCode': 503, 'error': 'Service Unavailable', 'message': 'x'},
               check=lambda r: 'kid' not in api.json(r) or pytest.fail('kid sent'))
    api.expect('GET', CREDS_PATH, body=[created])
    result = run_module(module, {'client_id': CLIENT, 'name': 'k1', 'pem': keys['one']['public']})
    assert result['changed'] and result['credential']['id'] == 'cred_1' and result['credential']['kid'] == keys['one']['kid']
    api.done()


def test_a_failed_create_that_read_back_does_not_find_fails(api, run_module, keys):
    api.token().expect('GET', CREDS_PATH, body=[])
    api.expect('POST', CREDS_PATH, 400, {'statusCode': 400, 'error': 'Bad Request', 'errorCode': 'invalid_body',
                                         'message': 'Payload validation error'})
    api.expect('GET', CREDS_PATH, body=[])
    result = run_module(module, {'client_id': CLIENT, 'name': 'k1', 'pem': keys['one']['public']})
    assert result['failed'] and 'Payload validation error' in result['msg']
    assert result['api_error']['error_code'] == 'invalid_body'
    api.done()


JAR_CLIENT = dict(client_with(['cred_2']), signed_request_object={'required': True, 'credentials': [{'id': 'cred_1'}]})


def test_absent_never_deletes_a_credential_jar_uses(api, run_module):
    """A credential listed in signed_request_object is in use, enabled or not, detach or not."""
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1111111111')])
    api.expect('GET', CLIENT_PATH, body=JAR_CLIENT, params=USES)
    result = run_module(module, {'client_id': CLIENT, 'credential_id': 'cred_1', 'state': 'absent', 'detach': True})
    assert result['failed'] and 'signed_request_object' in result['msg'] and 'nothing was changed' in result['msg']
    api.done()


def test_rename_never_replaces_a_credential_jar_uses(api, run_module, keys):
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_1', keys['one']['kid'], 'old')])
    api.expect('GET', CLIENT_PATH, body=JAR_CLIENT, params=USES)
    result = run_module(module, {'client_id': CLIENT, 'pem': keys['one']['public'], 'name': 'new'})
    assert result['failed'] and 'signed_request_object' in result['msg'] and 'replacing' in result['msg']
    api.done()


def test_rename_without_pem_fails(api, run_module):
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1111111111', 'old')])
    api.expect('GET', CLIENT_PATH, body=client_with(None))
    result = run_module(module, {'client_id': CLIENT, 'kid': 'kid_1111111111', 'alg': 'PS256'})
    assert result['failed'] and 'give pem' in result['msg']


def test_absent_four_ways(api, run_module, keys):
    current = credential('cred_1', keys['one']['kid'])
    args = {'client_id': CLIENT, 'pem': keys['one']['public'], 'state': 'absent'}
    api.token().expect('GET', CREDS_PATH, body=[current]).expect('GET', CLIENT_PATH, body=client_with(['cred_2']))
    result = run_module(module, args, check=True, diff=True)
    assert result['changed'] and result['diff']['after'] == {} and result['diff']['before']['id'] == 'cred_1'
    api.token().expect('GET', CREDS_PATH, body=[current]).expect('GET', CLIENT_PATH, body=client_with(None))
    api.expect('DELETE', cred_path('cred_1'), 204)
    assert run_module(module, args)['changed']
    for check in (False, True):
        api.token().expect('GET', CREDS_PATH, body=[])
        assert not run_module(module, args, check=check)['changed']
    api.done()


def test_absent_enabled_needs_detach(api, run_module):
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1111111111')])
    api.expect('GET', CLIENT_PATH, body=client_with(['cred_1', 'cred_2']))
    result = run_module(module, {'client_id': CLIENT, 'credential_id': 'cred_1', 'state': 'absent'})
    assert result['failed'] and 'detach=true' in result['msg']
    api.done()


def test_absent_detach(api, run_module):
    args = {'client_id': CLIENT, 'credential_id': 'cred_1', 'state': 'absent', 'detach': True}
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1111111111')])
    api.expect('GET', CLIENT_PATH, body=client_with(['cred_1', 'cred_2']))
    result = run_module(module, args, check=True)
    assert result['changed'] and result['detached_from'] == 'private_key_jwt'
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1111111111')])
    api.expect('GET', CLIENT_PATH, body=client_with(['cred_1', 'cred_2']))
    api.expect('PATCH', CLIENT_PATH, body={}, check=lambda r: api.json(r) == {
        'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': 'cred_2'}]}}} or pytest.fail('b'))
    api.expect('DELETE', cred_path('cred_1'), 204)
    assert run_module(module, args)['changed']
    api.done()


def test_absent_detach_never_empties(api, run_module):
    args = {'client_id': CLIENT, 'credential_id': 'cred_1', 'state': 'absent', 'detach': True}
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1111111111')])
    api.expect('GET', CLIENT_PATH, body=client_with(['cred_1']))
    result = run_module(module, args)
    assert result['failed'] and 'allow_empty' in result['msg']
    api.token().expect('GET', CREDS_PATH, body=[credential('cred_1', 'kid_1111111111')])
    api.expect('GET', CLIENT_PATH, body=client_with(['cred_1']))
    api.expect('PATCH', CLIENT_PATH, body={}, check=lambda r: api.json(r) == {
        'client_authentication_methods': {'private_key_jwt': {'credentials': []}}} or pytest.fail('b'))
    api.expect('DELETE', cred_path('cred_1'), 204)
    assert run_module(module, dict(args, allow_empty=True))['changed']
    api.done()


def thumbprint_sha256(pem):
    """What Auth0 gives an x509_cert credential: base64url SHA-256 of the DER certificate, no padding."""
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b'=').decode()


def x509_credential(cid, cert, name='c'):
    """An x509_cert credential as Auth0 answers it (go-auth0 recording
    TestClient_CreateAllCredential_Should_create_SelfSignedTLSClientAuth_Credential): no kid, no alg."""
    return {'id': cid, 'name': name, 'credential_type': 'x509_cert', 'created_at': '2026-01-01T00:00:00.000Z',
            'updated_at': '2026-01-01T00:00:00.000Z', 'expires_at': '2030-01-31T00:00:00Z',
            'thumbprint_sha256': thumbprint_sha256(cert)}


def test_thumbprint_matches_the_recorded_one():
    """The thumbprint of the certificate of the go-auth0 recording is the one Auth0 gave it."""
    assert module.certificate_thumbprint(x509.load_pem_x509_certificate(RECORDED_CERT.encode())) == \
        'NTkulT-DcSrRSevqZd26aq0DCz8YbOFGjKVs-Expu4w'


def test_x509_cert_create_sends_no_kid_alg_or_expiry(api, run_module):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = certificate(key)
    args = {'client_id': CLIENT, 'credential_type': 'x509_cert', 'pem': cert, 'name': 'c'}
    api.token().expect('GET', CREDS_PATH, body=[])
    result = run_module(module, args, check=True, diff=True)
    assert result['changed'] and result['credential']['id'] is None
    assert result['credential']['kid'] is None and result['credential']['alg'] is None
    assert result['credential']['thumbprint_sha256'] == thumbprint_sha256(cert)
    assert result['credential']['expires_at'] == '2030-01-31T00:00:00.000Z'

    def body(request):
        assert api.json(request) == {'credential_type': 'x509_cert', 'name': 'c', 'pem': cert}

    created = x509_credential('cred_1', cert)
    api.token().expect('GET', CREDS_PATH, body=[]).expect('POST', CREDS_PATH, 201, created, check=body)
    result = run_module(module, args)
    assert result['changed'] and result['credential']['id'] == 'cred_1'
    assert result['credential']['thumbprint_sha256'] == thumbprint_sha256(cert)
    api.done()


@pytest.mark.parametrize('extra', [{}, {'parse_expiry_from_cert': True}])
def test_x509_cert_rerun_finds_it_by_thumbprint(api, run_module, extra):
    """No kid in Auth0's answer: the credential is found by thumbprint_sha256, nothing is created or patched."""
    cert = certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    args = dict({'client_id': CLIENT, 'credential_type': 'x509_cert', 'pem': cert, 'name': 'c'}, **extra)
    other = x509_credential('cred_0', certificate(ec.generate_private_key(ec.SECP256R1())), name='other')
    for check in (False, True):
        api.token().expect('GET', CREDS_PATH, body=[other, x509_credential('cred_1', cert)])
        result = run_module(module, args, check=check, diff=True)
        assert not result['changed'] and result['credential']['id'] == 'cred_1'
        assert result['diff']['before'] == result['diff']['after']
    api.done()


def test_x509_cert_absent_by_pem(api, run_module):
    cert = certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    args = {'client_id': CLIENT, 'credential_type': 'x509_cert', 'pem': cert, 'state': 'absent'}
    api.token().expect('GET', CREDS_PATH, body=[x509_credential('cred_1', cert)])
    api.expect('GET', CLIENT_PATH, body=client_with(None), params=USES)
    api.expect('DELETE', cred_path('cred_1'), 204)
    result = run_module(module, args, diff=True)
    assert result['changed'] and result['diff']['before']['id'] == 'cred_1' and result['credential'] is None
    api.token().expect('GET', CREDS_PATH, body=[])
    assert not run_module(module, args)['changed']
    api.done()


def test_x509_cert_absent_without_type_finds_it_by_thumbprint(api, run_module):
    cert = certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    api.token().expect('GET', CREDS_PATH, body=[x509_credential('cred_1', cert)])
    api.expect('GET', CLIENT_PATH, body=client_with(['cred_1'], method='self_signed_tls_client_auth'), params=USES)
    result = run_module(module, {'client_id': CLIENT, 'pem': cert, 'state': 'absent'})
    assert result['failed'] and 'still enabled (self_signed_tls_client_auth)' in result['msg']
    api.done()


def test_x509_cert_lost_answer_reads_back_by_thumbprint(api, run_module):
    cert = certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    api.token().expect('GET', CREDS_PATH, body=[])
    api.expect('POST', CREDS_PATH, exc=httpx.ReadError('lost'))
    api.expect('GET', CREDS_PATH, body=[x509_credential('cred_1', cert)])
    result = run_module(module, {'client_id': CLIENT, 'credential_type': 'x509_cert', 'pem': cert, 'name': 'c'})
    assert result['changed'] and result['credential']['id'] == 'cred_1'
    api.done()


def test_x509_cert_rename_replaces_without_kid_or_alg(api, run_module):
    cert = certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    args = {'client_id': CLIENT, 'credential_type': 'x509_cert', 'pem': cert, 'name': 'new'}
    api.token().expect('GET', CREDS_PATH, body=[x509_credential('cred_1', cert, name='old')])
    api.expect('GET', CLIENT_PATH, body=client_with(None), params=USES)
    api.expect('DELETE', cred_path('cred_1'), 204)
    api.expect('POST', CREDS_PATH, 201, x509_credential('cred_2', cert, name='new'), check=lambda r: api.json(r) == {
        'credential_type': 'x509_cert', 'name': 'new', 'pem': cert} or pytest.fail('body %r' % api.json(r)))
    result = run_module(module, args)
    assert result['changed'] and result['credential']['id'] == 'cred_2'
    api.done()


@pytest.mark.parametrize('extra', [{'kid': 'my_custom_kid'}, {'alg': 'RS256'}, {'expires_at': '2099-01-01'}])
def test_x509_cert_refuses_kid_alg_expiry(api, run_module, extra):
    cert = certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    result = run_module(module, dict({'client_id': CLIENT, 'credential_type': 'x509_cert', 'pem': cert}, **extra))
    assert result['failed'] and 'not for credential_type x509_cert' in result['msg'] and list(extra)[0] in result['msg']
    assert api.requests == []


def test_x509_ec_certificate(api, run_module):
    cert = certificate(ec.generate_private_key(ec.SECP384R1()))
    api.token().expect('GET', CREDS_PATH, body=[])
    result = run_module(module, {'client_id': CLIENT, 'credential_type': 'x509_cert', 'pem': cert}, check=True)
    assert result['changed'] and result['credential']['credential_type'] == 'x509_cert'


def test_public_key_type_with_certificate(api, run_module):
    cert = certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    api.token().expect('GET', CREDS_PATH, body=[])
    result = run_module(module, {'client_id': CLIENT, 'pem': cert, 'parse_expiry_from_cert': True}, check=True)
    assert result['credential']['expires_at'] == '2030-01-31T00:00:00.000Z'


def test_cert_subject_dn(api, run_module):
    args = {'client_id': CLIENT, 'credential_type': 'cert_subject_dn', 'subject_dn': 'CN=app', 'name': 'dn'}
    created = dict(credential('cred_1', None, 'dn', alg=None, ctype='cert_subject_dn'), subject_dn='CN=app')
    api.token().expect('GET', CREDS_PATH, body=[])
    api.expect('POST', CREDS_PATH, 201, created, check=lambda r: api.json(r) == {
        'credential_type': 'cert_subject_dn', 'name': 'dn', 'subject_dn': 'CN=app'} or pytest.fail('body'))
    assert run_module(module, args)['changed']
    api.token().expect('GET', CREDS_PATH, body=[created])
    assert not run_module(module, args)['changed']
    api.token().expect('GET', CREDS_PATH, body=[created]).expect('GET', CLIENT_PATH, body=client_with(None))
    api.expect('DELETE', cred_path('cred_1'), 204)
    api.expect('POST', CREDS_PATH, 201, dict(created, subject_dn='CN=other'))
    assert run_module(module, dict(args, subject_dn='CN=other'))['changed']
    api.done()


def test_cert_subject_dn_needs_subject(api, run_module):
    api.token().expect('GET', CREDS_PATH, body=[])
    result = run_module(module, {'client_id': CLIENT, 'credential_type': 'cert_subject_dn', 'name': 'dn'})
    assert result['failed'] and 'needs subject_dn' in result['msg']
