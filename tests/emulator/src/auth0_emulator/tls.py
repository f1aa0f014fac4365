# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throw-away CA and a server certificate for 127.0.0.1, ::1 and localhost."""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAMES = ('localhost',)
SERVER_IPS = ('127.0.0.1', '::1')


def _write(path, data, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)
    os.chmod(path, mode)


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'auth0-emulator'),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def make_ca():
    """A new self-signed CA: (private key, certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(_name('auth0-emulator test CA')).issuer_name(_name('auth0-emulator test CA'))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_server_cert(ca_key, ca_cert):
    """A server certificate for localhost, 127.0.0.1 and ::1 signed by the CA: (private key, certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    names = [x509.DNSName(n) for n in SERVER_NAMES] + [x509.IPAddress(ipaddress.ip_address(i)) for i in SERVER_IPS]
    cert = (x509.CertificateBuilder()
            .subject_name(_name('localhost')).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def prepare(folder):
    """Make (or reuse) the CA in ``folder`` and issue a fresh server certificate.

    Returns (ca_path, server_cert_path, server_key_path).  ca.pem holds the public CA certificate
    only; the private keys are written with mode 0600.  Reusing the CA lets a restarted emulator
    (same --state-file) keep the trust of its clients.
    """
    os.makedirs(folder, mode=0o700, exist_ok=True)
    ca_path = os.path.join(folder, 'ca.pem')
    ca_key_path = os.path.join(folder, 'ca-key.pem')
    if os.path.exists(ca_path) and os.path.exists(ca_key_path):
        with open(ca_path, 'rb') as handle:
            ca_cert = x509.load_pem_x509_certificate(handle.read())
        with open(ca_key_path, 'rb') as handle:
            ca_key = serialization.load_pem_private_key(handle.read(), None)
    else:
        ca_key, ca_cert = make_ca()
        _write(ca_key_path, _key_pem(ca_key), 0o600)
        _write(ca_path, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    key, cert = make_server_cert(ca_key, ca_cert)
    cert_path = os.path.join(folder, 'server.pem')
    key_path = os.path.join(folder, 'server-key.pem')
    _write(key_path, _key_pem(key), 0o600)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return ca_path, cert_path, key_path
