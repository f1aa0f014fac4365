# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import datetime
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.keyops.auth0.plugins.module_utils import _keys


def b64d(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def rsa_pem(bits, private=False, pkcs1=False):
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if private:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption()).decode()
    fmt = serialization.PublicFormat.PKCS1 if pkcs1 else serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_key().public_bytes(serialization.Encoding.PEM, fmt).decode()


def certificate(key, days=30):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'test')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_generate_and_public(keys):
    private = keys['one']['private']
    assert private.startswith('-----BEGIN PRIVATE KEY-----')
    public = _keys.public_key_pem(private)
    assert public.startswith('-----BEGIN PUBLIC KEY-----')
    assert _keys.public_key_pem(public) == public
    assert _keys.load_public_key(public).key_size == 2048


@pytest.mark.parametrize('size', [1024, 8192, 'x'])
def test_generate_bad_size(size):
    with pytest.raises(ValueError):
        _keys.generate_private_key_pem(size)


def test_kid_is_rfc7638_thumbprint(keys):
    public = _keys.load_public_key(keys['one']['public'])
    numbers = public.public_numbers()

    def enc(value):
        return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, 'big')).rstrip(b'=').decode()

    canonical = '{"e":"%s","kty":"RSA","n":"%s"}' % (enc(numbers.e), enc(numbers.n))
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b'=').decode()
    assert keys['one']['kid'] == expected
    assert _keys.kid_for_public_key(keys['one']['public']) == expected
    assert _keys.KID_PATTERN.match(expected)


def test_rfc7638_example_vector():
    # The RSA key of RFC 7638 section 3.1 and its thumbprint.
    n = ('0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCi'
         'FV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c'
         '7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF4'
         '4-csFCur-kEgU8awapJzKnqDKgw')
    numbers = rsa.RSAPublicNumbers(65537, int.from_bytes(b64d(n), 'big'))
    pem = numbers.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert _keys.kid_for_public_key(pem) == 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'


def test_pkcs1_public_and_certificate():
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    pkcs1 = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()
    assert _keys.load_public_key(pkcs1).key_size == 3072
    cert = certificate(key)
    assert _keys.kid_for_public_key(cert) == _keys.kid_for_public_key(pkcs1)
    assert _keys.load_public_key(cert).key_size == 3072
    assert _keys.load_certificate(cert).subject


def test_ec_thumbprint_and_certificate():
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    jwk = _keys.public_jwk(pem)
    assert jwk['kty'] == 'EC' and jwk['crv'] == 'P-256' and len(b64d(jwk['x'])) == 32
    assert len(_keys.kid_for_public_key(pem)) == 43
    assert _keys.load_certificate(certificate(key))
    with pytest.raises(ValueError, match='EC key'):
        _keys.load_public_key(pem)


def test_unsupported_ec_curve():
    key = ec.generate_private_key(ec.SECP256K1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(ValueError, match='thumbprint'):
        _keys.kid_for_public_key(pem)
    with pytest.raises(ValueError, match='not supported'):
        _keys.load_certificate(certificate(key))


def test_ed25519_is_refused():
    from cryptography.hazmat.primitives.asymmetric import ed25519
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(ValueError, match='must be RSA'):
        _keys.load_public_key(pem)


@pytest.mark.parametrize('text, message', [
    ('', 'No PEM'),
    (None, 'No PEM'),
    ('garbage', 'not PEM'),
    ('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', 'cannot be parsed'),
    ('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'cannot be parsed'),
    ('-----BEGIN FOO BAR-----\nAAAA\n-----END FOO BAR-----\n', 'neither'),
])
def test_load_public_key_garbage(text, message):
    with pytest.raises(ValueError, match=message):
        _keys.load_public_key(text)


def test_load_public_key_refuses_private_keys(keys):
    with pytest.raises(ValueError, match='private key') as info:
        _keys.load_public_key(keys['one']['private'])
    assert 'MII' not in str(info.value)
    with pytest.raises(ValueError, match='private key'):
        _keys.load_public_key(rsa_pem(2048, private=True).encode())
    with pytest.raises(ValueError, match='private key'):
        _keys.load_certificate(keys['one']['private'])


def test_load_public_key_sizes():
    with pytest.raises(ValueError, match='1024 bits'):
        _keys.load_public_key(rsa_pem(1024))
    assert _keys.load_public_key(rsa_pem(4096)).key_size == 4096


def test_load_certificate_needs_certificate(keys):
    with pytest.raises(ValueError, match='BEGIN CERTIFICATE'):
        _keys.load_certificate(keys['one']['public'])


def test_load_private_key(keys):
    assert _keys.load_private_key(keys['one']['private']).key_size == 2048
    with pytest.raises(ValueError, match='private key in PEM form .* is needed'):
        _keys.load_private_key(keys['one']['public'])
    encrypted = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b'pw')).decode()
    with pytest.raises(ValueError, match='encrypted'):
        _keys.load_private_key(encrypted)
    with pytest.raises(ValueError, match='cannot be parsed'):
        _keys.load_private_key('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')
    assert _keys.is_private_key_pem(encrypted.encode())
    assert not _keys.is_private_key_pem('')


@pytest.mark.parametrize('kid, ok', [('abcdefghij', True), ('a' * 64, True), ('short', False),
                                     ('a' * 65, False), ('bad kid!!!!', False), (None, False)])
def test_validate_kid(kid, ok):
    if ok:
        assert _keys.validate_kid(kid) == kid
    else:
        with pytest.raises(ValueError):
            _keys.validate_kid(kid)


@pytest.mark.parametrize('alg', ['RS256', 'RS384', 'PS256'])
def test_client_assertion(keys, alg):
    token = _keys.make_client_assertion(keys['one']['private'], 'cid', 'https://d/', alg=alg,
                                        kid=keys['one']['kid'], lifetime=120, now=1000)
    header_b64, claims_b64, signature_b64 = token.split('.')
    header = json.loads(b64d(header_b64))
    claims = json.loads(b64d(claims_b64))
    assert header == {'alg': alg, 'typ': 'JWT', 'kid': keys['one']['kid']}
    assert claims['iss'] == claims['sub'] == 'cid' and claims['aud'] == 'https://d/'
    assert claims['iat'] == 1000 and claims['exp'] == 1120 and len(claims['jti']) <= 64
    public = _keys.load_public_key(keys['one']['public'])
    digest = hashes.SHA384() if alg == 'RS384' else hashes.SHA256()
    pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32) if alg == 'PS256' else padding.PKCS1v15()
    public.verify(b64d(signature_b64), ('%s.%s' % (header_b64, claims_b64)).encode(), pad, digest)
    assert len(token) <= 2048


def test_client_assertion_unique_jti_and_no_kid(keys):
    first = _keys.make_client_assertion(keys['one']['private'], 'cid', 'https://d/')
    second = _keys.make_client_assertion(keys['one']['private'], 'cid', 'https://d/')
    assert json.loads(b64d(first.split('.')[1]))['jti'] != json.loads(b64d(second.split('.')[1]))['jti']
    assert 'kid' not in json.loads(b64d(first.split('.')[0]))


@pytest.mark.parametrize('kwargs, message', [
    ({'alg': 'HS256'}, 'Unknown signing algorithm'),
    ({'lifetime': 301}, 'lifetime'),
    ({'client_id': ''}, 'client_id'),
    ({'kid': 'bad'}, 'kid'),
])
def test_client_assertion_errors(keys, kwargs, message):
    args = dict(private_key_pem=keys['one']['private'], client_id='cid', audience='https://d/')
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        _keys.make_client_assertion(**args)


def private_pem(key, fmt=serialization.PrivateFormat.PKCS8, password=None):
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


def describe_cases():
    from cryptography.hazmat.primitives.asymmetric import dsa, ed448, ed25519
    traditional = serialization.PrivateFormat.TraditionalOpenSSL
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    dsa_key = dsa.generate_private_key(2048)
    return [
        ('', 'not a PEM file'),
        (b'', 'not a PEM file'),
        ('client_id: abc\nkey: |\n  not a key\n', 'not a PEM file'),
        (bytes(range(256)), 'not a PEM file'),
        (private_pem(ec_key), 'an EC private key'),
        (private_pem(ec_key, traditional), 'an EC private key'),
        (private_pem(ed25519.Ed25519PrivateKey.generate()), 'an Ed25519 private key'),
        (private_pem(ed448.Ed448PrivateKey.generate()), 'a non-RSA private key'),
        (private_pem(dsa_key), 'a DSA private key'),
        (private_pem(dsa_key, traditional), 'a DSA private key'),
        (private_pem(rsa_key, password=b'pw'), 'an encrypted private key'),
        (private_pem(rsa_key, traditional, password=b'pw'), 'an encrypted private key'),
        (rsa_pem(1024, private=True), 'an RSA private key of 1024 bits'),
        (private_pem(rsa_key), 'an RSA private key of 2048 bits'),
        (rsa_pem(2048), 'a public key'),
        (rsa_pem(2048, pkcs1=True), 'a public key'),
        (certificate(rsa_key), 'a certificate'),
        ('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', 'a PEM block of another kind'),
        ('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'a PEM block of another kind'),
    ]


def test_describe_key_file_says_what_a_file_holds_without_key_material():
    for data, phrase in describe_cases():
        found = _keys.describe_key_file(data)
        assert found == phrase, (phrase, found)
        text = data.decode('latin-1') if isinstance(data, bytes) else data
        for line in text.strip().splitlines()[1:-1]:
            assert not line.strip() or line not in found
