# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model's rules, called directly (no HTTP)."""

import base64
import datetime
import hashlib
import json
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from auth0_emulator.model import ApiError, Tenant

from conftest import public_pem

URL = 'https://127.0.0.1:4443'


@pytest.fixture
def tenant():
    """A fresh in-memory tenant."""
    return Tenant(URL)


@pytest.fixture
def client_id(tenant):  # pylint: disable=redefined-outer-name
    """A machine-to-machine client of the tenant."""
    return tenant.create_client({'name': 'app', 'app_type': 'non_interactive'})['client_id']


def error_of(call, *args, **kwargs):
    """The ApiError body a call raises."""
    with pytest.raises(ApiError) as info:
        call(*args, **kwargs)
    return info.value.body()


def cert_for(key, days=30, subject='app.example'):
    """A self-signed certificate of an RSA key."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    not_after = datetime.datetime(2031, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_after - datetime.timedelta(days=days))
            .not_valid_after(not_after).sign(key, hashes.SHA256()))


def independent_thumbprint(key):
    """RFC 7638 thumbprint computed from the JWK that PyJWT produces."""
    from jwt.algorithms import RSAAlgorithm  # pylint: disable=import-outside-toplevel
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    canonical = json.dumps({'e': jwk['e'], 'kty': 'RSA', 'n': jwk['n']}, separators=(',', ':'), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b'=').decode()


def test_initial_tenant_has_management_client_with_all_scopes(tenant):  # pylint: disable=redefined-outer-name
    grants = tenant.list_grants(client_id=tenant.management_client_id)
    assert [g['audience'] for g in grants] == [URL + '/api/v2/']
    for scope in ('read:clients', 'create:clients', 'update:clients', 'delete:clients', 'read:client_credentials',
                  'create:client_credentials', 'update:client_credentials', 'delete:client_credentials',
                  'read:client_grants', 'create:client_grants', 'delete:client_grants'):
        assert scope in grants[0]['scope']


def test_credential_response_shape_and_thumbprint_kid(tenant, client_id, keys):  # pylint: disable=redefined-outer-name
    cred = tenant.create_credential(client_id, {'credential_type': 'public_key', 'name': 'k1', 'pem': public_pem(keys[0])})
    assert re.fullmatch(r'cred_[0-9A-Za-z]{22}', cred['id'])
    assert cred['kid'] == independent_thumbprint(keys[0])
    assert cred['alg'] == 'RS256'
    rendered = tenant.render_credential(cred)
    # newer Auth0 answers omit an unset expires_at (the 2023 recordings carried null: omit_unset_expiry=False)
    assert set(rendered) == {'id', 'name', 'credential_type', 'kid', 'alg', 'created_at', 'updated_at'}
    assert tenant.render_credential(cred, omit_unset_expiry=False)['expires_at'] is None
    assert 'pem' not in tenant.render_credential(cred)
    # an unset name is omitted too
    unnamed = tenant.create_credential(client_id, {'credential_type': 'public_key', 'pem': public_pem(keys[1])})
    assert 'name' not in tenant.render_credential(unnamed)
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z', cred['created_at'])


def test_pkcs1_and_certificate_pem_are_accepted_and_same_key_gets_same_kid(tenant, keys):  # pylint: disable=redefined-outer-name
    one = tenant.create_client({'name': 'one'})['client_id']
    two = tenant.create_client({'name': 'two'})['client_id']
    three = tenant.create_client({'name': 'three'})['client_id']
    a = tenant.create_credential(one, {'credential_type': 'public_key', 'pem': public_pem(keys[1], 'pkcs1')})
    b = tenant.create_credential(two, {'credential_type': 'public_key', 'pem': public_pem(keys[1])})
    cert_pem = cert_for(keys[1]).public_bytes(serialization.Encoding.PEM).decode()
    c = tenant.create_credential(three, {'credential_type': 'public_key', 'pem': cert_pem, 'parse_expiry_from_cert': True})
    assert a['kid'] == b['kid'] == c['kid'] == independent_thumbprint(keys[1])
    assert c['expires_at'] == '2031-05-06T07:08:09.000Z'


@pytest.mark.parametrize('given, stored', [
    ('2027-01-01T00:00:00Z', '2027-01-01T00:00:00.000Z'),
    ('2027-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'),
    ('2027-01-01T02:30:00+02:00', '2027-01-01T00:30:00.000Z'),
    ('2027-01-01T00:00:00.5-01:00', '2027-01-01T01:00:00.500Z'),
])
def test_expires_at_is_normalised_to_utc_milliseconds(tenant, client_id, keys, given, stored):  # pylint: disable=redefined-outer-name
    cred = tenant.create_credential(client_id, {'credential_type': 'public_key', 'pem': public_pem(keys[0]), 'expires_at': given})
    assert cred['expires_at'] == stored


@pytest.mark.parametrize('value', ['2027-01-01', '2027-01-01T00:00:00', 'tomorrow', ''])
def test_expires_at_needs_a_date_time_with_offset(tenant, client_id, keys, value):  # pylint: disable=redefined-outer-name
    body = error_of(tenant.create_credential, client_id, {'credential_type': 'public_key', 'pem': public_pem(keys[0]), 'expires_at': value})
    assert body['statusCode'] == 400 and body['errorCode'] == 'invalid_body'
    assert body['message'].startswith('Payload validation error: ')


def test_validation_errors(tenant, client_id, keys):  # pylint: disable=redefined-outer-name
    pem = public_pem(keys[0])
    cases = [
        ({'pem': pem}, 'Missing required property: credential_type'),
        ({'credential_type': 'public_key', 'pem': pem, 'foo': 1}, 'Additional properties not allowed: foo'),
        ({'credential_type': 'secret', 'pem': pem}, 'No enum match for: "secret"'),
        ({'credential_type': 'public_key', 'pem': pem, 'name': 'x' * 129}, 'String is too long (129 chars), maximum 128'),
        ({'credential_type': 'public_key', 'pem': pem, 'alg': 'ES256'}, 'No enum match for: "ES256"'),
        ({'credential_type': 'public_key', 'pem': pem, 'alg': 'HS256'}, 'No enum match for: "HS256"'),
        ({'credential_type': 'public_key', 'pem': pem, 'kid': 'short'}, 'does not match pattern'),
        ({'credential_type': 'public_key', 'pem': pem, 'kid': 'has space in it'}, 'does not match pattern'),
        ({'credential_type': 'public_key', 'pem': pem, 'kid': 'k' * 65}, 'does not match pattern'),
        ({'credential_type': 'public_key'}, 'Missing required property: pem'),
        ({'credential_type': 'public_key', 'pem': pem, 'subject_dn': 'CN=x'}, 'subject_dn is only allowed'),
        ({'credential_type': 'public_key', 'pem': pem, 'parse_expiry_from_cert': True}, 'parse_expiry_from_cert needs an X.509'),
        ({'credential_type': 'public_key', 'pem': pem, 'name': 5}, 'Expected type string but found type integer'),
        ({'credential_type': 'public_key', 'pem': 'not a pem'}, 'exactly one PEM block'),
        ({'credential_type': 'cert_subject_dn', 'pem': pem, 'subject_dn': 'CN=x'}, 'mutually exclusive'),
        ({'credential_type': 'x509_cert', 'pem': pem}, 'needs an X.509 certificate'),
    ]
    for body, fragment in cases:
        err = error_of(tenant.create_credential, client_id, body)
        assert err['statusCode'] == 400 and err['error'] == 'Bad Request' and err['errorCode'] == 'invalid_body', body
        assert fragment in err['message'], (fragment, err)
    assert tenant.list_credentials(client_id) == []


def test_private_keys_and_wrong_key_types_and_sizes_are_refused(tenant, client_id, keys):  # pylint: disable=redefined-outer-name
    private = keys[0].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    assert 'not a private key' in error_of(tenant.create_credential, client_id, {'credential_type': 'public_key', 'pem': private})['message']
    ec_pem = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert 'must be RSA' in error_of(tenant.create_credential, client_id, {'credential_type': 'public_key', 'pem': ec_pem})['message']
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert '2048 and 4096' in error_of(tenant.create_credential, client_id, {'credential_type': 'public_key', 'pem': public_pem(small)})['message']
    # a 4608-bit modulus: only the size matters to the check, so no prime search is needed
    big = rsa.RSAPublicNumbers(65537, (1 << 4607) | 12345).public_key()
    big_pem = big.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert '2048 and 4096' in error_of(tenant.create_credential, client_id, {'credential_type': 'public_key', 'pem': big_pem})['message']
    edge = rsa.RSAPublicNumbers(65537, (1 << 4095) | 12345).public_key()
    edge_pem = edge.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert tenant.create_credential(client_id, {'credential_type': 'public_key', 'pem': edge_pem})['alg'] == 'RS256'


def test_given_kid_and_alg_are_kept(tenant, client_id, keys):  # pylint: disable=redefined-outer-name
    cred = tenant.create_credential(client_id, {'credential_type': 'public_key', 'pem': public_pem(keys[0]), 'kid': 'my-key_2026-01', 'alg': 'PS256'})
    assert (cred['kid'], cred['alg']) == ('my-key_2026-01', 'PS256')


def test_duplicate_key_on_one_client_is_refused_but_allowed_on_another(tenant, client_id, keys):  # pylint: disable=redefined-outer-name
    tenant.create_credential(client_id, {'credential_type': 'public_key', 'name': 'a', 'pem': public_pem(keys[0])})
    err = error_of(tenant.create_credential, client_id, {'credential_type': 'public_key', 'name': 'renamed', 'pem': public_pem(keys[0], 'pkcs1')})
    assert err == {'statusCode': 400, 'error': 'Bad Request', 'message': 'credentials contains public keys that already exist in client',
                   'errorCode': 'invalid_body'}
    other = tenant.create_client({'name': 'other'})['client_id']
    assert tenant.create_credential(other, {'credential_type': 'public_key', 'pem': public_pem(keys[0])})


def test_at_most_four_credentials_attached_or_not(tenant, client_id, keys):  # pylint: disable=redefined-outer-name
    for key in keys[:4]:
        tenant.create_credential(client_id, {'credential_type': 'public_key', 'pem': public_pem(key)})
    err = error_of(tenant.create_credential, client_id, {'credential_type': 'public_key', 'pem': public_pem(keys[4])})
    assert err['message'] == 'A client can have a maximum of 4 credentials.' and err['statusCode'] == 400


def test_patch_credential_only_expires_at(tenant, client_id, keys):  # pylint: disable=redefined-outer-name
    cred = tenant.create_credential(client_id, {'credential_type': 'public_key', 'pem': public_pem(keys[0])})
    updated = tenant.update_credential(client_id, cred['id'], {'expires_at': '2030-06-01T12:00:00+00:00'})
    assert updated['expires_at'] == '2030-06-01T12:00:00.000Z'
    assert tenant.update_credential(client_id, cred['id'], {'expires_at': None})['expires_at'] is None
    for body in ({'name': 'new'}, {'expires_at': '2030-01-01T00:00:00Z', 'kid': 'abcdefghijk'}, {}):
        assert error_of(tenant.update_credential, client_id, cred['id'], body)['statusCode'] == 400
    assert error_of(tenant.update_credential, client_id, 'cred_' + 'x' * 22, {'expires_at': None})['statusCode'] == 404


def test_delete_credential_rules(tenant, client_id, keys):  # pylint: disable=redefined-outer-name
    a = tenant.create_credential(client_id, {'credential_type': 'public_key', 'pem': public_pem(keys[0])})
    b = tenant.create_credential(client_id, {'credential_type': 'public_key', 'pem': public_pem(keys[1])})
    tenant.update_client(client_id, {'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': a['id']}]}},
                                     'token_endpoint_auth_method': None})
    err = error_of(tenant.delete_credential, client_id, a['id'])
    assert err['message'] == 'Cannot delete credential still associated with a client' and err['statusCode'] == 400
    tenant.delete_credential(client_id, b['id'])
    tenant.delete_credential(client_id, b['id'])  # already gone: no error (204)
    assert [c['id'] for c in tenant.list_credentials(client_id)] == [a['id']]
    # a credential of another client is not touched
    other = tenant.create_client({'name': 'other'})['client_id']
    tenant.delete_credential(other, a['id'])
    assert tenant.get_credential(client_id, a['id'])


def test_client_authentication_methods_rules(tenant, client_id, keys):  # pylint: disable=redefined-outer-name
    ids = [tenant.create_credential(client_id, {'credential_type': 'public_key', 'pem': public_pem(k)})['id'] for k in keys[:3]]

    def patch(cam, team=None, with_team=True):
        body = {'client_authentication_methods': cam}
        if with_team:
            body['token_endpoint_auth_method'] = team
        return tenant.update_client(client_id, body)

    def pkjwt(*cred_ids):
        return {'private_key_jwt': {'credentials': [{'id': i} for i in cred_ids]}}

    err = error_of(patch, pkjwt(*ids))
    assert err['statusCode'] == 400 and 'Array is too long (3), maximum 2' in err['message']
    assert 'does not exist' in error_of(patch, pkjwt('cred_' + 'a' * 22))['message']
    assert error_of(patch, {'private_key_jwt': {'credentials': [{'id': ids[0], 'name': 'x'}]}})['statusCode'] == 400
    assert error_of(patch, {})['statusCode'] == 400
    assert error_of(patch, dict(pkjwt(ids[0]), tls_client_auth={'credentials': []}))['statusCode'] == 400
    # the stricter choice: leaving a non-null token_endpoint_auth_method in place is refused
    assert 'mutually exclusive' in error_of(patch, pkjwt(ids[0]), with_team=False)['message']
    assert 'mutually exclusive' in error_of(patch, pkjwt(ids[0]), team='client_secret_post')['message']
    client = patch(pkjwt(ids[0], ids[1]))
    rendered = tenant.render_client(client)
    assert 'token_endpoint_auth_method' not in rendered and 'client_secret' not in rendered
    assert rendered['client_authentication_methods'] == pkjwt(ids[0], ids[1])
    # an empty list is accepted, as by the real API
    assert patch({'private_key_jwt': {'credentials': []}}, with_team=False)['client_authentication_methods'] == {'private_key_jwt': {'credentials': []}}
    # switching back
    back = patch(None, 'client_secret_post')
    rendered = tenant.render_client(back)
    assert rendered['token_endpoint_auth_method'] == 'client_secret_post' and len(rendered['client_secret']) == 64
    assert 'client_authentication_methods' not in rendered


def test_create_client_with_inline_credentials(tenant, keys):  # pylint: disable=redefined-outer-name
    client = tenant.create_client({'name': 'inline', 'app_type': 'non_interactive', 'client_authentication_methods': {
        'private_key_jwt': {'credentials': [{'credential_type': 'public_key', 'name': 'a', 'pem': public_pem(keys[0])}]}}})
    assert re.fullmatch(r'[0-9A-Za-z]{32}', client['client_id']) and len(client['client_secret']) == 64
    creds = tenant.list_credentials(client['client_id'])
    assert client['client_authentication_methods'] == {'private_key_jwt': {'credentials': [{'id': creds[0]['id']}]}}
    assert client['token_endpoint_auth_method'] is None
    err = error_of(tenant.create_client, {'name': 'bad', 'client_authentication_methods': {'private_key_jwt': {'credentials': [
        {'credential_type': 'public_key', 'pem': public_pem(k)} for k in keys[:3]]}}})
    assert 'Array is too long (3), maximum 2' in err['message']
    assert error_of(tenant.create_client, {'app_type': 'non_interactive'})['message'] == "Payload validation error: 'Missing required property: name'."
    assert 'Additional properties not allowed: colour' in error_of(tenant.create_client, {'name': 'x', 'colour': 'red'})['message']


def test_unknown_client_is_404(tenant):  # pylint: disable=redefined-outer-name
    expected = {'statusCode': 404, 'error': 'Not Found', 'message': 'The client does not exist', 'errorCode': 'inexistent_client'}
    assert error_of(tenant.get_client, 'nope') == expected
    assert error_of(tenant.list_credentials, 'nope') == expected
    assert error_of(tenant.update_client, 'nope', {'name': 'x'}) == expected


def test_delete_client_removes_its_credentials_and_grants(tenant, client_id, keys):  # pylint: disable=redefined-outer-name
    tenant.create_credential(client_id, {'credential_type': 'public_key', 'pem': public_pem(keys[0])})
    tenant.create_grant({'client_id': client_id, 'audience': 'https://api.example/', 'scope': []})
    tenant.delete_client(client_id)
    assert not [c for c in tenant.credentials.values() if c['client_id'] == client_id]
    assert tenant.list_grants(client_id=client_id) == []


def test_grant_rules(tenant, client_id):  # pylint: disable=redefined-outer-name
    grant = tenant.create_grant({'client_id': client_id, 'audience': URL + '/api/v2/', 'scope': ['read:clients']})
    assert re.fullmatch(r'cgr_\w+', grant['id'])
    assert error_of(tenant.create_grant, {'client_id': client_id, 'audience': URL + '/api/v2/', 'scope': []})['statusCode'] == 409
    assert error_of(tenant.create_grant, {'client_id': client_id, 'audience': 'x', 'scope': [], 'extra': 1})['statusCode'] == 400
    assert error_of(tenant.create_grant, {'client_id': 'nope', 'audience': 'x', 'scope': []})['statusCode'] == 404
    assert error_of(tenant.delete_grant, 'cgr_nope')['statusCode'] == 404
    tenant.delete_grant(grant['id'])
    assert tenant.list_grants(client_id=client_id) == []


def test_state_round_trip(tmp_path, keys):
    path = str(tmp_path / 'state.json')
    first = Tenant(URL, state_path=path)
    persisted = first.create_client({'name': 'persisted'})['client_id']
    cred = first.create_credential(persisted, {'credential_type': 'public_key', 'pem': public_pem(keys[0]), 'expires_at': '2030-01-01T00:00:00Z'})
    second = Tenant('https://127.0.0.1:5555', state_path=path)
    assert second.management_client_id == first.management_client_id
    assert second.management_client_secret == first.management_client_secret
    assert second.get_credential(persisted, cred['id']) == first.get_credential(persisted, cred['id'])
    # the management grant follows the new URL
    assert [g['audience'] for g in second.list_grants(client_id=second.management_client_id)] == ['https://127.0.0.1:5555/api/v2/']
    with pytest.raises(ValueError):
        Tenant(URL, management_client_id='another', state_path=path)


def test_seed_is_all_or_nothing(tenant, keys):  # pylint: disable=redefined-outer-name
    before = len(tenant.clients)
    with pytest.raises(ApiError):
        tenant.seed({'clients': [{'name': 'ok'}, {'name': 'bad', 'credentials': [{'credential_type': 'public_key', 'pem': 'junk'}]}]})
    assert len(tenant.clients) == before
    out = tenant.seed({'clients': [{'name': 'old', 'credentials': [
        {'credential_type': 'public_key', 'pem': public_pem(keys[0]), 'created_at': '2020-01-01T00:00:00Z'}],
        'private_key_jwt': True, 'grants': [{'scope': ['read:clients']}]}]})
    seeded = out['clients'][0]
    cred = tenant.get_credential(seeded['client_id'], seeded['credentials'][0])
    assert cred['created_at'] == '2020-01-01T00:00:00.000Z'
    client = tenant.get_client(seeded['client_id'])
    assert client['client_authentication_methods'] == {'private_key_jwt': {'credentials': [{'id': cred['id']}]}}
    assert tenant.list_grants(client_id=seeded['client_id'])[0]['audience'] == URL + '/api/v2/'


def test_x509_cert_credential_carries_thumbprint_and_expiry_of_the_certificate(tenant, client_id, keys):  # pylint: disable=redefined-outer-name
    cert = cert_for(keys[0])
    cred = tenant.create_credential(client_id, {'credential_type': 'x509_cert', 'name': 'mtls',
                                                'pem': cert.public_bytes(serialization.Encoding.PEM).decode()})
    rendered = tenant.render_credential(cred)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert rendered['thumbprint_sha256'] == base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b'=').decode()
    assert rendered['expires_at'] == '2031-05-06T07:08:09.000Z'
    assert set(rendered) == {'id', 'name', 'credential_type', 'thumbprint_sha256', 'created_at', 'updated_at', 'expires_at'}


def test_cert_subject_dn_credential_has_auth0s_subject_and_no_expiry(tenant, client_id, keys):  # pylint: disable=redefined-outer-name
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, 'JP'), x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'Client'),
                      x509.NameAttribute(NameOID.COMMON_NAME, 'client.example.org')])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(keys[0].public_key())
            .serial_number(1).not_valid_before(datetime.datetime(2020, 1, 1)).not_valid_after(datetime.datetime(2021, 1, 1))
            .sign(keys[0], hashes.SHA256()))
    cred = tenant.create_credential(client_id, {'credential_type': 'cert_subject_dn', 'pem': cert.public_bytes(serialization.Encoding.PEM).decode()})
    rendered = tenant.render_credential(cred)
    assert rendered['subject_dn'] == 'C=JP\nO=Client\nCN=client.example.org'
    assert set(rendered) == {'id', 'credential_type', 'subject_dn', 'created_at', 'updated_at'}
    given = tenant.create_credential(client_id, {'credential_type': 'cert_subject_dn', 'subject_dn': 'CN=given'})
    assert tenant.render_credential(given)['subject_dn'] == 'CN=given'


@pytest.mark.parametrize('ctype', ['x509_cert', 'cert_subject_dn'])
@pytest.mark.parametrize('extra', [{'expires_at': '2030-01-01T00:00:00Z'}, {'parse_expiry_from_cert': True}, {'kid': 'abcdefghijk'}, {'alg': 'RS256'}])
def test_certificate_credentials_refuse_public_key_options(tenant, client_id, keys, ctype, extra):  # pylint: disable=redefined-outer-name
    body = dict({'credential_type': ctype, 'pem': cert_for(keys[0]).public_bytes(serialization.Encoding.PEM).decode()}, **extra)
    assert 'only allowed for credential_type public_key' in error_of(tenant.create_credential, client_id, body)['message']


FULL_CLIENT = {
    'name': 'full', 'description': 'every field', 'app_type': 'regular_web', 'logo_uri': 'https://example.com/logo.png',
    'callbacks': ['https://example.com/cb'], 'allowed_origins': ['https://example.com'], 'web_origins': ['https://example.com'],
    'client_aliases': ['alias'], 'allowed_clients': ['other'], 'allowed_logout_urls': ['https://example.com/bye'],
    'grant_types': ['authorization_code', 'client_credentials'], 'is_token_endpoint_ip_header_trusted': True,
    'is_first_party': False, 'oidc_conformant': True, 'jwt_configuration': {'alg': 'PS256', 'lifetime_in_seconds': 600},
    'sso': True, 'cross_origin_authentication': True, 'cross_origin_loc': 'https://example.com/co', 'sso_disabled': True,
    'custom_login_page_on': False, 'custom_login_page': '<html/>', 'custom_login_page_preview': '<html/>', 'form_template': 'x',
    'addons': {'aws': {'principal': 'p'}}, 'client_metadata': {'team': 'a'}, 'mobile': {'ios': {'team_id': 'T'}},
    'initiate_login_uri': 'https://example.com/login', 'native_social_login': {'apple': {'enabled': False}},
    'refresh_token': {'rotation_type': 'rotating', 'expiration_type': 'expiring', 'token_lifetime': 3600},
    'organization_usage': 'allow', 'organization_require_behavior': 'pre_login_prompt', 'organization_discovery_methods': ['email'],
    'require_pushed_authorization_requests': True, 'require_proof_of_possession': False, 'compliance_level': 'fapi1_adv_pkj_par',
    'skip_non_verifiable_callback_uri_confirmation_prompt': True, 'token_exchange': {'allow_any_profile_of_type': []},
    'par_request_expiry': 60, 'token_quota': {'client_credentials': {'per_day': 10}}, 'third_party_security_mode': 'strict',
    'redirection_policy': 'allow_always', 'oidc_logout': {'backchannel_logout_urls': []}, 'session_transfer': None,
    'encryption_key': None, 'default_organization': None, 'token_endpoint_auth_method': 'client_secret_basic',
}


def test_every_client_field_of_the_reference_is_accepted_kept_and_returned(tenant):  # pylint: disable=redefined-outer-name
    client = tenant.render_client(tenant.create_client(FULL_CLIENT))
    for key, value in FULL_CLIENT.items():
        if value is None:
            assert key not in client, key  # null on POST: not set
        elif key == 'jwt_configuration':
            assert client[key] == dict(value, secret_encoded=False)
        else:
            assert client[key] == value, key
    again = tenant.render_client(tenant.get_client(client['client_id']))
    assert again == client


def test_client_defaults_and_unset_fields(tenant):  # pylint: disable=redefined-outer-name
    # what Auth0 answered to a POST with only name, description and jwt_configuration (go-auth0 recordings)
    client = tenant.render_client(tenant.create_client({'name': 'bare', 'description': 'd', 'jwt_configuration': {'alg': 'RS256'}}))
    assert client['grant_types'] == ['authorization_code', 'implicit', 'refresh_token', 'client_credentials']
    assert client['jwt_configuration'] == {'secret_encoded': False, 'alg': 'RS256'}
    assert client['refresh_token']['rotation_type'] == 'non-rotating' and client['custom_login_page_on'] is True
    for key in ('app_type', 'callbacks', 'client_metadata', 'organization_usage', 'compliance_level', 'logo_uri'):
        assert key not in client, key
    assert client['token_endpoint_auth_method'] == 'client_secret_post'


@pytest.mark.parametrize('body, fragment', [
    ({'colour': 'red'}, 'Additional properties not allowed: colour'),
    ({'cross_origin_auth': True}, 'Additional properties not allowed: cross_origin_auth'),
    ({'organization_usage': 'sometimes'}, 'No enum match for: "sometimes"'),
    ({'compliance_level': 'fapi9'}, 'No enum match for: "fapi9"'),
    ({'app_type': 'mainframe'}, 'No enum match for: "mainframe"'),
    ({'require_pushed_authorization_requests': 'yes'}, 'Expected type boolean but found type string'),
    ({'organization_usage': None}, 'Expected type string but found type null'),
    ({'signed_request_object': None}, 'Expected type object but found type null'),
    ({'jwt_configuration': {'alg': 'none'}}, 'No enum match for: "none"'),
    ({'refresh_token': {'rotation_type': 'rotating'}}, 'Missing required property: expiration_type'),
    ({'par_request_expiry': 5}, 'outside 10 to 600'),
    ({'name': 'a<b'}, 'does not match pattern'),
])
def test_client_fields_are_checked_on_post(tenant, body, fragment):  # pylint: disable=redefined-outer-name
    err = error_of(tenant.create_client, dict({'name': 'x'}, **body))
    assert err['statusCode'] == 400 and fragment in err['message'], err


def test_patch_client_fields_and_nulls(tenant, client_id, keys):  # pylint: disable=redefined-outer-name
    patched = tenant.update_client(client_id, {'organization_usage': 'require', 'organization_require_behavior': 'no_prompt',
                                               'compliance_level': 'fapi2_sp_pkj_mtls', 'require_pushed_authorization_requests': True,
                                               'jwt_configuration': {'alg': 'RS256'}})
    rendered = tenant.render_client(patched)
    assert rendered['organization_usage'] == 'require' and rendered['compliance_level'] == 'fapi2_sp_pkj_mtls'
    assert rendered['jwt_configuration'] == {'secret_encoded': False, 'alg': 'RS256'}
    # null unsets where Auth0 allows it
    rendered = tenant.render_client(tenant.update_client(client_id, {'organization_usage': None, 'compliance_level': None,
                                                                     'organization_require_behavior': None}))
    for key in ('organization_usage', 'compliance_level', 'organization_require_behavior'):
        assert key not in rendered
    for body in ({'name': None}, {'resource_server_identifier': 'x'}, {'require_proof_of_possession': None}):
        assert error_of(tenant.update_client, client_id, body)['statusCode'] == 400, body


def test_signed_request_object_credentials(tenant, keys):  # pylint: disable=redefined-outer-name
    client = tenant.create_client({'name': 'jar', 'signed_request_object': {'required': True, 'credentials': [
        {'credential_type': 'public_key', 'name': 'jar-key', 'pem': public_pem(keys[0])}]}})
    creds = tenant.list_credentials(client['client_id'])
    assert [c['name'] for c in creds] == ['jar-key']
    rendered = tenant.render_client(client)
    assert rendered['signed_request_object'] == {'required': True, 'credentials': [{'id': creds[0]['id']}]}
    # a credential JAR lists is in use (UNVERIFIED, stricter)
    assert error_of(tenant.delete_credential, client['client_id'], creds[0]['id'])['message'] == \
        'Cannot delete credential still associated with a client'
    assert 'does not exist' in error_of(tenant.update_client, client['client_id'],
                                        {'signed_request_object': {'credentials': [{'id': 'cred_' + 'x' * 22}]}})['message']
    # null on PATCH is accepted (issue 15: a valid PATCH on Auth0) and frees the credential
    cleared = tenant.render_client(tenant.update_client(client['client_id'], {'signed_request_object': None}))
    assert 'signed_request_object' not in cleared
    tenant.delete_credential(client['client_id'], creds[0]['id'])


def test_a_client_with_neither_method_can_be_seeded_and_patched(tenant):  # pylint: disable=redefined-outer-name
    seeded = tenant.seed({'clients': [{'name': 'neither', 'token_endpoint_auth_method': None}]})['clients'][0]
    client = tenant.get_client(seeded['client_id'])
    rendered = tenant.render_client(client)
    assert 'token_endpoint_auth_method' not in rendered and 'client_authentication_methods' not in rendered
    assert rendered['app_type'] == 'non_interactive'
    tenant.update_client(seeded['client_id'], {'description': 'still neither'})
    # the API itself still refuses to end with neither
    assert 'needs a token_endpoint_auth_method' in error_of(tenant.update_client, seeded['client_id'],
                                                            {'token_endpoint_auth_method': None})['message']


def test_post_client_answer_shows_inline_credentials_whole(tenant, keys):  # pylint: disable=redefined-outer-name
    client = tenant.create_client({'name': 'inline', 'client_authentication_methods': {'private_key_jwt': {'credentials': [
        {'credential_type': 'public_key', 'name': 'a', 'pem': public_pem(keys[0])}]}}})
    whole = tenant.render_client(client, inline_credentials=True)['client_authentication_methods']['private_key_jwt']['credentials'][0]
    assert set(whole) == {'id', 'name', 'credential_type', 'kid', 'alg', 'created_at', 'updated_at'}
    assert tenant.render_client(client)['client_authentication_methods'] == {'private_key_jwt': {'credentials': [{'id': whole['id']}]}}
