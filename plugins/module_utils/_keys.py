# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Key helpers for Auth0 Private Key JWT credentials.

PRIVATE to the keyops.auth0 collection: names and behaviour may change without notice.

Pure functions over PEM text.  They need ``cryptography`` but never ``httpx``, so modules and
plugins that only handle keys can import them alone.  Every validation failure is a
``ValueError`` whose message says what was wrong and never contains key material.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import time
import traceback
import uuid

try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None


def _x509():
    """cryptography.x509, imported on first use: only certificate credentials need it, and importing it
    costs every module run about 40 ms of CPU."""
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    return x509


#: Signing algorithms Auth0 accepts for Private Key JWT credentials.
ALGORITHMS = ('RS256', 'RS384', 'PS256')
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 4096
#: Auth0 refuses assertions whose exp is more than five minutes after iat.
MAX_ASSERTION_LIFETIME = 300
KID_PATTERN = re.compile(r'^[0-9A-Za-z_-]{10,64}$')

_PRIVATE_MARKER = re.compile(r'-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----')
_PEM_BLOCK = re.compile(r'-----BEGIN ([A-Z0-9 ]+)-----')
_EC_CURVES = {'secp256r1': ('P-256', 32), 'secp384r1': ('P-384', 48), 'secp521r1': ('P-521', 66)}


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def _int_bytes(value, length=None):
    if length is None:
        length = max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(length, 'big')


def _text(pem):
    if isinstance(pem, bytes):
        pem = pem.decode('utf-8', 'replace')
    if not isinstance(pem, str) or not pem.strip():
        raise ValueError('No PEM text was given.')
    return pem.strip()


def is_private_key_pem(pem):
    """Tell whether the text contains a private key block (of any kind, encrypted or not)."""
    if isinstance(pem, bytes):
        pem = pem.decode('utf-8', 'replace')
    return bool(pem) and bool(_PRIVATE_MARKER.search(pem))


def _require_cryptography():
    if not HAS_CRYPTOGRAPHY:  # pragma: no cover - depends on the environment
        raise ValueError('The Python library cryptography is needed to handle keys.')


@functools.lru_cache(maxsize=32)
def _private_key_object(data, validate=True):
    """Parse a PEM private key once per process (a module describes one file in several ways).

    Checking an RSA private key's consistency costs about 0.1 s of CPU at 3072 bits; ``validate=False``
    skips it where only the public numbers are used (the kid of a backup), never for a key that signs.
    """
    if not validate:
        try:
            return serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
        except TypeError:  # pragma: no cover - cryptography < 39 has no such argument
            pass
    return serialization.load_pem_private_key(data, password=None)


def _load_any_public(pem, validate=True):
    """Return (public_key, kind) for a private key, public key or certificate PEM.

    kind is one of ``private``, ``public`` or ``certificate``.
    """
    _require_cryptography()
    text = _text(pem)
    data = text.encode('ascii', 'replace')
    block = _PEM_BLOCK.search(text)
    if not block:
        raise ValueError('The text is not PEM: no "-----BEGIN ...-----" line was found.')
    label = block.group(1)
    if 'PRIVATE KEY' in label and ('ENCRYPTED' in label or 'Proc-Type: 4,ENCRYPTED' in text):
        raise ValueError('The private key is encrypted; give an unencrypted PEM private key.')
    try:
        if 'PRIVATE KEY' in label:
            return _private_key_object(data, validate).public_key(), 'private'
        if label == 'CERTIFICATE':
            return _x509().load_pem_x509_certificate(data).public_key(), 'certificate'
        if label in ('PUBLIC KEY', 'RSA PUBLIC KEY'):
            return serialization.load_pem_public_key(data), 'public'
    except ValueError:
        raise ValueError('The PEM %s block cannot be parsed: it is damaged or not a key.' % label.lower()) from None
    except (TypeError, UnsupportedAlgorithm):
        raise ValueError('The PEM %s block holds a key type that is not supported.' % label.lower()) from None
    raise ValueError('The PEM block "%s" is neither a public key, a private key nor a certificate.' % label)


def _describe(key):
    if isinstance(key, rsa.RSAPublicKey):
        return 'an RSA key of %d bits' % key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return 'an EC key (%s)' % key.curve.name
    return 'a %s' % type(key).__name__


def _check_rsa(key):
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError('The key is %s; Auth0 Private Key JWT credentials must be RSA keys (%d to %d bits).'
                         % (_describe(key), MIN_RSA_BITS, MAX_RSA_BITS))
    if not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
        raise ValueError('The key is %s; Auth0 accepts RSA keys of %d to %d bits.'
                         % (_describe(key), MIN_RSA_BITS, MAX_RSA_BITS))
    return key


def load_public_key(pem):
    """Load and validate the public part of a credential.

    Accepts a public key (SPKI ``BEGIN PUBLIC KEY`` or PKCS#1 ``BEGIN RSA PUBLIC KEY``) or an X.509
    certificate.  Raises ValueError when the text holds a private key, an EC or other non-RSA key,
    an RSA key outside 2048-4096 bits, or is not parseable.
    """
    if is_private_key_pem(pem):
        raise ValueError('The PEM contains a private key. Give only the public key (BEGIN PUBLIC KEY) '
                         'or a certificate; a private key is never sent to Auth0.')
    key, dummy = _load_any_public(pem)
    return _check_rsa(key)


def load_certificate(pem):
    """Load an X.509 certificate PEM (no private key), with an RSA 2048-4096 or EC P-256/384/521 key."""
    if is_private_key_pem(pem):
        raise ValueError('The PEM contains a private key. Give only the certificate; a private key is never sent to Auth0.')
    text = _text(pem)
    block = _PEM_BLOCK.search(text)
    if not block or block.group(1) != 'CERTIFICATE':
        raise ValueError('An x509_cert credential needs a PEM certificate (BEGIN CERTIFICATE).')
    key, dummy = _load_any_public(text)
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in _EC_CURVES:
            raise ValueError('The certificate holds %s, which is not supported.' % _describe(key))
    else:
        _check_rsa(key)
    return _x509().load_pem_x509_certificate(text.encode('ascii'))


def load_private_key(pem, validate=True):
    """Load an unencrypted RSA private key (2048-4096 bits) for signing client assertions.

    ``validate=False`` skips the consistency check of the private numbers: only for describing a key
    (its public part), never for a key that will sign.
    """
    _require_cryptography()
    text = _text(pem)
    if not is_private_key_pem(text):
        raise ValueError('An unencrypted RSA private key in PEM form (PKCS#8 or PKCS#1) is needed here.')
    _load_any_public(text, validate)
    key = _private_key_object(text.encode('ascii', 'replace'), validate)
    _check_rsa(key.public_key())
    return key


#: PEM labels of certificates (what describe_key_file calls "a certificate").
_CERTIFICATE_LABELS = ('CERTIFICATE', 'TRUSTED CERTIFICATE', 'X509 CERTIFICATE')


def describe_key_file(data):
    """Say in a short phrase what a key file holds, for a file that is not a usable key.

    One of ``not a PEM file``, ``an encrypted private key``, ``an EC private key``, ``an Ed25519 private key``,
    ``a DSA private key``, ``a non-RSA private key``, ``an RSA private key of N bits``, ``a public key``,
    ``a certificate`` or ``a PEM block of another kind``.  The PEM labels decide first; a private key block
    whose label does not tell its type (PKCS#8 ``PRIVATE KEY``) is loaded without the RSA consistency check.
    The phrase never contains key material.  Raises ValueError only when cryptography is missing.
    """
    if isinstance(data, bytes):
        data = data.decode('utf-8', 'replace')
    text = data if isinstance(data, str) else ''
    labels = [label.strip() for label in _PEM_BLOCK.findall(text)]
    if not labels:
        return 'not a PEM file'
    private = [label for label in labels if label.endswith('PRIVATE KEY')]
    if 'ENCRYPTED PRIVATE KEY' in labels or (private and 'Proc-Type: 4,ENCRYPTED' in text):
        return 'an encrypted private key'
    if not private:
        if any(label in ('PUBLIC KEY', 'RSA PUBLIC KEY') for label in labels):
            return 'a public key'
        if any(label in _CERTIFICATE_LABELS for label in labels):
            return 'a certificate'
        return 'a PEM block of another kind'
    if private[0] == 'EC PRIVATE KEY':
        return 'an EC private key'
    if private[0] == 'DSA PRIVATE KEY':
        return 'a DSA private key'
    _require_cryptography()
    try:
        key = _private_key_object(text.strip().encode('ascii', 'replace'), False)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return 'a PEM block of another kind'
    if isinstance(key, rsa.RSAPrivateKey):
        return 'an RSA private key of %d bits' % key.key_size
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return 'an EC private key'
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return 'an Ed25519 private key'
    if isinstance(key, dsa.DSAPrivateKey):
        return 'a DSA private key'
    return 'a non-RSA private key'


def generate_private_key_pem(size=2048):
    """Generate an RSA private key and return it as an unencrypted PKCS#8 PEM string."""
    _require_cryptography()
    size = int(size)
    if not MIN_RSA_BITS <= size <= MAX_RSA_BITS:
        raise ValueError('Key size %d is outside %d to %d bits.' % (size, MIN_RSA_BITS, MAX_RSA_BITS))
    key = rsa.generate_private_key(public_exponent=65537, key_size=size)
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode('ascii')


#: The options of credential_key (module and action plugin).
KEY_PAIR_ARGUMENT_SPEC = dict(size=dict(type='int', default=3072))


def new_key_pair(size=3072):
    """A new RSA key pair for a credential: {private_key, public_key, kid, size}. Raises ValueError naming ``size``."""
    _require_cryptography()
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_RSA_BITS <= size <= MAX_RSA_BITS:
        raise ValueError('size must be %d to %d bits (Auth0 accepts RSA keys of that size), not %s.'
                         % (MIN_RSA_BITS, MAX_RSA_BITS, size))
    private_pem = generate_private_key_pem(size)
    public_pem = public_key_pem(private_pem, validate=False)
    return {'private_key': private_pem, 'public_key': public_pem, 'kid': kid_for_public_key(public_pem), 'size': size}


def public_key_pem(private_or_public_pem, validate=True):
    """Return the SubjectPublicKeyInfo PEM of a private key, public key or certificate."""
    key, dummy = _load_any_public(private_or_public_pem, validate)
    return key.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode('ascii')


def public_jwk(pem, validate=True):
    """Return the public JWK members (RFC 7517) of an RSA or EC key given as any PEM."""
    key, dummy = _load_any_public(pem, validate)
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {'e': _b64url(_int_bytes(numbers.e)), 'kty': 'RSA', 'n': _b64url(_int_bytes(numbers.n))}
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_CURVES:
        crv, length = _EC_CURVES[key.curve.name]
        numbers = key.public_numbers()
        return {'crv': crv, 'kty': 'EC', 'x': _b64url(_int_bytes(numbers.x, length)),
                'y': _b64url(_int_bytes(numbers.y, length))}
    raise ValueError('A JWK thumbprint can only be computed for RSA or EC (P-256/384/521) keys, not for %s.'
                     % _describe(key))


def kid_for_public_key(pem, validate=True):
    """Return the RFC 7638 JWK thumbprint (SHA-256, base64url without padding) of the key in ``pem``.

    ``pem`` may be a private key, a public key or a certificate: the thumbprint only depends on the
    public key, which is also how Auth0 names a credential whose kid was not given.
    """
    jwk = public_jwk(pem, validate)
    canonical = json.dumps(jwk, sort_keys=True, separators=(',', ':')).encode('utf-8')
    return _b64url(hashlib.sha256(canonical).digest())


def validate_kid(kid):
    """Raise ValueError unless ``kid`` matches Auth0's pattern ``^[0-9a-zA-Z_-]{10,64}$``."""
    if not isinstance(kid, str) or not KID_PATTERN.match(kid):
        raise ValueError('kid must be 10 to 64 characters of letters, digits, "_" or "-".')
    return kid


def _signer(alg):
    if alg == 'RS256':
        return padding.PKCS1v15(), hashes.SHA256()
    if alg == 'RS384':
        return padding.PKCS1v15(), hashes.SHA384()
    if alg == 'PS256':
        return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()
    raise ValueError('Unknown signing algorithm %r; use one of %s.' % (alg, ', '.join(ALGORITHMS)))


def make_client_assertion(private_key_pem, client_id, audience, alg='RS256', kid=None, lifetime=60, now=None):
    """Build a client assertion JWT (RFC 7523) for Auth0's token endpoint.

    Claims: ``iss`` = ``sub`` = client_id, ``aud`` = audience (``https://DOMAIN/``), ``iat``, ``nbf``,
    ``exp`` = iat + lifetime (at most 300 s), and a random single-use ``jti``.
    """
    signature_padding, digest = _signer(alg)
    if not client_id:
        raise ValueError('A client_id is needed to build a client assertion.')
    lifetime = int(lifetime)
    if not 1 <= lifetime <= MAX_ASSERTION_LIFETIME:
        raise ValueError('The assertion lifetime must be 1 to %d seconds.' % MAX_ASSERTION_LIFETIME)
    if kid is not None:
        validate_kid(kid)
    key = load_private_key(private_key_pem)
    issued = int(time.time() if now is None else now)
    header = {'alg': alg, 'typ': 'JWT'}
    if kid:
        header['kid'] = kid
    claims = {
        'iss': client_id,
        'sub': client_id,
        'aud': audience,
        'iat': issued,
        'nbf': issued,
        'exp': issued + lifetime,
        'jti': uuid.uuid4().hex,
    }
    signing_input = '%s.%s' % (
        _b64url(json.dumps(header, separators=(',', ':')).encode('utf-8')),
        _b64url(json.dumps(claims, separators=(',', ':')).encode('utf-8')),
    )
    signature = key.sign(signing_input.encode('ascii'), signature_padding, digest)
    return '%s.%s' % (signing_input, _b64url(signature))
