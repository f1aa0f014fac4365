# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""State model of an emulated Auth0 tenant: clients, credentials, client grants, tokens.

Every validation rule of the Management API and of ``/oauth/token`` lives here; this module knows
nothing about HTTP.  Rule violations raise :class:`ApiError` (Management API body
``{"statusCode", "error", "message", "errorCode"}``) or :class:`OAuthError` (token endpoint body
``{"error", "error_description"}``).  One :class:`threading.Lock` serialises every operation, so the
model may be called from threads and from an asyncio loop alike (no call awaits while holding it).

The Auth0 facts modelled here, each with its source, are in AUTH0_FACTS.md next to this package's
README.  Where no source settles a behaviour the stricter choice is taken and marked
``UNVERIFIED (stricter)`` in a comment.
"""

import base64
import collections
import copy
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import string
import tempfile
import threading
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

STATE_VERSION = 1

# Scopes the emulated Management API knows; the management client is granted all of them.
# read:client_keys is not in the brief's list but is how Auth0 guards client_secret in GET answers.
MANAGEMENT_SCOPES = (
    'read:clients', 'create:clients', 'update:clients', 'delete:clients', 'read:client_keys',
    'read:client_credentials', 'create:client_credentials', 'update:client_credentials', 'delete:client_credentials',
    'read:client_grants', 'create:client_grants', 'delete:client_grants',
)

JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
ASSERTION_ALGS = ('RS256', 'RS384', 'PS256')
CREDENTIAL_TYPES = ('public_key', 'cert_subject_dn', 'x509_cert')
# which credential type each client authentication method takes
METHOD_CREDENTIAL_TYPE = {
    'private_key_jwt': 'public_key',
    'tls_client_auth': 'cert_subject_dn',
    'self_signed_tls_client_auth': 'x509_cert',
}
SECRET_METHODS = ('client_secret_post', 'client_secret_basic')
TOKEN_ENDPOINT_AUTH_METHODS = ('none',) + SECRET_METHODS
# ClientAppTypeEnum of the Management API's OpenAPI description (AUTH0_FACTS.md, "Client fields")
APP_TYPES = ('native', 'spa', 'regular_web', 'non_interactive', 'resource_server', 'express_configuration', 'rms', 'box',
             'cloudbees', 'concur', 'dropbox', 'mscrm', 'echosign', 'egnyte', 'newrelic', 'office365', 'salesforce', 'sentry',
             'sharepoint', 'slack', 'springcm', 'zendesk', 'zoom', 'sso_integration', 'oag')
GRANT_TYPES = ('authorization_code', 'implicit', 'refresh_token', 'client_credentials', 'password',
               'urn:ietf:params:oauth:grant-type:device_code')
# Grant types of a new client that names none.  Without an app_type Auth0 gave the four below (go-auth0
# recordings); the app_type defaults are UNVERIFIED guesses.
DEFAULT_GRANT_TYPES = {
    None: ['authorization_code', 'implicit', 'refresh_token', 'client_credentials'],
    'non_interactive': ['client_credentials'],
    'regular_web': ['authorization_code', 'implicit', 'refresh_token', 'client_credentials'],
    'spa': ['authorization_code', 'implicit', 'refresh_token'],
    'native': ['authorization_code', 'implicit', 'refresh_token'],
}
# The client fields of the Management API: (JSON types on POST /clients, on PATCH /clients/{id}); None = not
# accepted there.  From CreateClientRequestContent and UpdateClientRequestContent of Auth0's published OpenAPI
# description (AUTH0_FACTS.md, "Client fields"); anything else is 400 "Additional properties not allowed".
# Exceptions: token_endpoint_auth_method also takes null on POST (an emulator leniency kept for callers that
# send it with client_authentication_methods); signed_request_object takes null on PATCH (issue 15: a valid
# PATCH on Auth0, while the OpenAPI description says object).
CLIENT_FIELD_TYPES = {
    'name': (('string',), ('string',)),
    'description': (('string',), ('string',)),
    'logo_uri': (('string',), ('string',)),
    'callbacks': (('array',), ('array',)),
    'oidc_logout': (('object',), ('object',)),
    'oidc_backchannel_logout': (('object',), ('object',)),
    'session_transfer': (('object', 'null'), ('object', 'null')),
    'allowed_origins': (('array',), ('array',)),
    'web_origins': (('array',), ('array',)),
    'client_aliases': (('array',), ('array',)),
    'allowed_clients': (('array',), ('array',)),
    'allowed_logout_urls': (('array',), ('array',)),
    'grant_types': (('array',), ('array',)),
    'token_endpoint_auth_method': (('string', 'null'), ('string', 'null')),
    'is_token_endpoint_ip_header_trusted': (('boolean',), ('boolean',)),
    'app_type': (('string',), ('string',)),
    'is_first_party': (('boolean',), ('boolean',)),
    'oidc_conformant': (('boolean',), ('boolean',)),
    'jwt_configuration': (('object',), ('object',)),
    'encryption_key': (('object', 'null'), ('object', 'null')),
    'sso': (('boolean',), ('boolean',)),
    'cross_origin_authentication': (('boolean',), ('boolean',)),
    'cross_origin_loc': (('string',), ('string', 'null')),
    'sso_disabled': (('boolean',), ('boolean',)),
    'custom_login_page_on': (('boolean',), ('boolean',)),
    'custom_login_page': (('string',), ('string',)),
    'custom_login_page_preview': (('string',), ('string',)),
    'form_template': (('string',), ('string',)),
    'addons': (('object',), ('object',)),
    'client_metadata': (('object',), ('object',)),
    'mobile': (('object',), ('object',)),
    'initiate_login_uri': (('string',), ('string',)),
    'native_social_login': (('object',), ('object',)),
    'refresh_token': (('object', 'null'), ('object', 'null')),
    'default_organization': (('object', 'null'), ('object', 'null')),
    'organization_usage': (('string',), ('string', 'null')),
    'organization_require_behavior': (('string',), ('string', 'null')),
    'organization_discovery_methods': (('array',), ('array', 'null')),
    'client_authentication_methods': (('object', 'null'), ('object', 'null')),
    'require_pushed_authorization_requests': (('boolean',), ('boolean',)),
    'require_proof_of_possession': (('boolean',), ('boolean',)),
    'signed_request_object': (('object',), ('object', 'null')),
    'compliance_level': (('string', 'null'), ('string', 'null')),
    'skip_non_verifiable_callback_uri_confirmation_prompt': (('boolean',), ('boolean', 'null')),
    'token_exchange': (('object',), ('object', 'null')),
    'par_request_expiry': (('integer', 'null'), ('integer', 'null')),
    'token_quota': (('object',), ('object', 'null')),
    'resource_server_identifier': (('string',), None),
    'third_party_security_mode': (('string',), ('string',)),
    'redirection_policy': (('string',), ('string',)),
    'express_configuration': (('object',), ('object', 'null')),
    'my_organization_configuration': (('object',), ('object', 'null')),
    'async_approval_notification_channels': (('array',), ('array', 'null')),
    'client_secret': (None, ('string',)),
}
# enums of string client fields (OpenAPI description); a PATCH may also send null where the table allows it
CLIENT_ENUMS = {
    'app_type': APP_TYPES,
    'token_endpoint_auth_method': TOKEN_ENDPOINT_AUTH_METHODS,
    'organization_usage': ('deny', 'allow', 'require'),
    'organization_require_behavior': ('no_prompt', 'pre_login_prompt', 'post_login_prompt'),
    'compliance_level': ('none', 'fapi1_adv_pkj_par', 'fapi1_adv_mtls_par', 'fapi2_sp_pkj_mtls', 'fapi2_sp_mtls_mtls'),
    'third_party_security_mode': ('strict', 'permissive'),
    'redirection_policy': ('allow_always', 'open_redirect_protection'),
}
JWT_ALGS = ('HS256', 'RS256', 'RS512', 'PS256')
# what Auth0 set on a new client that did not send these (go-auth0 recordings, AUTH0_FACTS.md)
CLIENT_DEFAULTS = {
    'is_first_party': True,
    'is_token_endpoint_ip_header_trusted': False,
    'oidc_conformant': False,
    'sso_disabled': False,
    'custom_login_page_on': True,
    'refresh_token': {'rotation_type': 'non-rotating', 'expiration_type': 'non-expiring', 'leeway': 0,
                      'token_lifetime': 2592000, 'infinite_token_lifetime': True, 'infinite_idle_token_lifetime': True,
                      'idle_token_lifetime': 1296000},
}
# client record keys that are state, not fields a caller sets
CLIENT_INTERNAL = ('client_id', 'client_secret', 'created_at', 'client_authentication_methods', 'token_endpoint_auth_method',
                   'signed_request_object')
KID_RE = re.compile(r'^[0-9a-zA-Z_-]{10,64}$')
MAX_CREDENTIALS_PER_CLIENT = 4
MAX_CREDENTIALS_PER_METHOD = 2
MAX_NAME = 128
# client_metadata: an object of string values (at most 255 characters), at most 10 properties,
# property names at most 255 characters (Management API docs; terraform-provider-auth0 PR #362)
MAX_METADATA_PROPERTIES = 10
MAX_METADATA_KEY = 255
MAX_METADATA_VALUE = 255
MAX_ASSERTION_BYTES = 2048
MAX_ASSERTION_LIFETIME = 300
CLOCK_SKEW = 10
MAX_JTI = 64
BASE62 = string.ascii_letters + string.digits
SECRET_ALPHABET = string.ascii_letters + string.digits + '-_'
REASONS = {400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict',
           415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error',
           502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout'}


class ApiError(Exception):
    """A Management API error: renders as Auth0's ``{"statusCode","error","message","errorCode"}``."""

    def __init__(self, status, message, error_code=None):
        super().__init__(message)
        self.status = status
        self.error = REASONS.get(status, 'Error')
        self.message = message
        self.error_code = error_code

    def body(self):
        """The JSON body Auth0 answers with."""
        body = {'statusCode': self.status, 'error': self.error, 'message': self.message}
        if self.error_code:
            body['errorCode'] = self.error_code
        return body


class OAuthError(Exception):
    """A token endpoint error: renders as ``{"error", "error_description"}``."""

    def __init__(self, status, error, description):
        super().__init__(description)
        self.client_id = self.kid = None  # who was refused, for the request log
        self.status = status
        self.error = error
        self.description = description

    def body(self):
        """The JSON body Auth0 answers with."""
        return {'error': self.error, 'error_description': self.description}


def invalid_body(detail, prop=None):
    """A 400 ``invalid_body`` error with Auth0's "Payload validation error" wording."""
    message = "Payload validation error: '%s'" % detail
    message += (' on property %s.' % prop) if prop else '.'
    return ApiError(400, message, 'invalid_body')


def invalid_query(detail, prop=None):
    """A 400 ``invalid_query_string`` error with Auth0's "Query validation error" wording."""
    message = "Query validation error: '%s'" % detail
    message += (' on property %s.' % prop) if prop else '.'
    return ApiError(400, message, 'invalid_query_string')


def client_not_found():
    """Auth0's 404 for an unknown client id."""
    return ApiError(404, 'The client does not exist', 'inexistent_client')


# ---------------------------------------------------------------------------------------------
# small helpers


def random_string(length, alphabet=BASE62):
    """A cryptographically random string."""
    return ''.join(secrets.choice(alphabet) for dummy in range(length))


def b64url(data):
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def b64url_decode(text):
    """Decode base64url with or without padding; ValueError on anything else."""
    if not isinstance(text, str) or not re.fullmatch(r'[A-Za-z0-9_-]*', text):
        raise ValueError('not base64url')
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def int_bytes(value):
    """Big-endian minimal byte string of a non-negative integer."""
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), 'big')


def iso_ms(epoch):
    """UTC ISO 8601 with milliseconds and Z, as Auth0 stores timestamps."""
    stamp = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    return stamp.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (stamp.microsecond // 1000)


def parse_iso(value):
    """Parse an ISO 8601 timestamp that carries a UTC offset; return epoch seconds or None."""
    if not isinstance(value, str) or 'T' not in value.upper():
        return None
    text = value.strip()
    if text.endswith(('z', 'Z')):
        text = text[:-1] + '+00:00'
    try:
        stamp = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        return None
    return stamp.timestamp()


def json_type(value):
    """The JSON schema type name of a decoded JSON value."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, float):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, list):
        return 'array'
    return 'object'


def expect_type(value, expected, prop):
    """Raise Auth0's type error unless ``value`` has JSON type ``expected`` (a name or a tuple)."""
    expected = (expected,) if isinstance(expected, str) else expected
    actual = json_type(value)
    if actual in expected or (actual == 'integer' and 'number' in expected):
        return
    raise invalid_body('Expected type %s but found type %s' % (','.join(expected), actual), prop)


def reject_unknown(body, allowed, prefix=None):
    """Raise Auth0's "Additional properties not allowed" for keys outside ``allowed``."""
    extra = [key for key in body if key not in allowed]
    if extra:
        raise invalid_body('Additional properties not allowed: %s' % ','.join(extra), prefix)


def rsa_thumbprint(public_key):
    """RFC 7638 JWK thumbprint (SHA-256, base64url without padding) of an RSA public key."""
    numbers = public_key.public_numbers()
    jwk = '{"e":"%s","kty":"RSA","n":"%s"}' % (b64url(int_bytes(numbers.e)), b64url(int_bytes(numbers.n)))
    return b64url(hashlib.sha256(jwk.encode('ascii')).digest())


def spki_der(public_key):
    """SubjectPublicKeyInfo DER of a public key (the identity used for duplicate detection)."""
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def parse_pem(pem):
    """Parse a PEM public key (SPKI or PKCS#1) or X.509 certificate: (public_key, certificate or None).

    Private keys and anything else raise ``invalid_body``.
    """
    text = pem.strip()
    labels = re.findall(r'-----BEGIN ([A-Z0-9 ]+)-----', text)
    if any('PRIVATE' in label for label in labels):
        raise invalid_body('pem must be a public key or a certificate, not a private key', 'pem')
    if len(labels) != 1 or not text.endswith('-----END %s-----' % labels[0]):
        raise invalid_body('pem must contain exactly one PEM block (public key or certificate)', 'pem')
    data = text.encode('ascii', 'replace')
    try:
        if labels[0] == 'CERTIFICATE':
            cert = x509.load_pem_x509_certificate(data)
            return cert.public_key(), cert
        if labels[0] in ('PUBLIC KEY', 'RSA PUBLIC KEY'):
            return serialization.load_pem_public_key(data), None
    except ValueError as exc:
        raise invalid_body('Invalid pem: %s' % str(exc).split('\n', 1)[0], 'pem') from exc
    raise invalid_body('Unsupported PEM type %s' % labels[0], 'pem')


def certificate_subject_dn(cert):
    """A certificate's subject as Auth0 shows it: ``SHORTNAME=value`` per attribute, in the certificate's
    order, one per line (go-auth0 recording: ``C=JP\\nST=Tokyo\\nL=Chiyoda-ku\\nO=Client\\nCN=client.example.org``)."""
    return '\n'.join('%s=%s' % (attr.rfc4514_attribute_name, attr.value) for attr in cert.subject)


def _hash_for(alg):
    return hashes.SHA384() if alg == 'RS384' else hashes.SHA256()


def verify_rsa_signature(public_key, alg, signing_input, signature):
    """True when ``signature`` is a valid JWS signature of ``alg`` (RS256/RS384/PS256)."""
    if alg == 'PS256':
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    else:
        pad = padding.PKCS1v15()
    try:
        public_key.verify(signature, signing_input, pad, _hash_for(alg))
        return True
    except InvalidSignature:
        return False


def decode_jwt(token):
    """Split a compact JWS into (header, claims, signing_input, signature); ValueError if malformed."""
    if not isinstance(token, str):
        raise ValueError('not a string')
    parts = token.split('.')
    if len(parts) != 3:
        raise ValueError('not a compact JWS')
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError('header and claims must be objects')
    return header, claims, ('%s.%s' % (parts[0], parts[1])).encode('ascii'), b64url_decode(parts[2])


def hs256_encode(claims, key):
    """Encode and sign claims as an HS256 JWT."""
    header = b64url(json.dumps({'alg': 'HS256', 'typ': 'JWT'}, separators=(',', ':')).encode())
    payload = b64url(json.dumps(claims, separators=(',', ':')).encode())
    signing_input = ('%s.%s' % (header, payload)).encode('ascii')
    return '%s.%s' % (signing_input.decode('ascii'), b64url(hmac.new(key, signing_input, hashlib.sha256).digest()))


# ---------------------------------------------------------------------------------------------
# statistics and request log (not persisted)


class Stats:
    """Counters and a bounded request log; never holds secrets, assertions or tokens."""

    def __init__(self, log_size=5000):
        self._lock = threading.Lock()
        self._log_size = log_size
        self.reset()

    def reset(self):
        """Forget every counter and the log."""
        with self._lock:
            self.requests = collections.Counter()
            self.by_route = collections.Counter()
            self.by_status = collections.Counter()
            self.by_client_grant = collections.defaultdict(lambda: {'accepted': 0, 'refused': 0})
            self.by_kid_grant = collections.defaultdict(lambda: {'accepted': 0, 'refused': 0})
            self.rate_limited = 0
            self.faults_applied = 0
            self.log = collections.deque(maxlen=self._log_size)
            self.seq = 0

    def record_request(self, entry):
        """Count one answered request and append it to the log."""
        with self._lock:
            self.seq += 1
            entry = dict(entry, seq=self.seq)
            self.requests[(entry['method'], entry['route'], entry['status'])] += 1
            self.by_route['%s %s' % (entry['method'], entry['route'])] += 1
            self.by_status[entry['status']] += 1
            if entry['status'] == 429:
                self.rate_limited += 1
            if entry.get('fault'):
                self.faults_applied += 1
            self.log.append(entry)

    def record_grant(self, client_id, kid, accepted):
        """Count one token request, accepted or refused, by client and by the signing kid."""
        key = 'accepted' if accepted else 'refused'
        with self._lock:
            self.by_client_grant[client_id or '(unknown)'][key] += 1
            if kid is not None:
                self.by_kid_grant[kid][key] += 1

    def snapshot(self):
        """A JSON-ready copy of the counters."""
        with self._lock:
            return {
                'requests': [{'method': m, 'route': r, 'status': s, 'count': c} for (m, r, s), c in sorted(self.requests.items(), key=str)],
                'by_route': dict(sorted(self.by_route.items())),
                'by_status': {str(k): v for k, v in sorted(self.by_status.items(), key=str)},
                'total_requests': sum(self.by_status.values()),
                'token_grants': {
                    'by_client': {k: dict(v) for k, v in self.by_client_grant.items()},
                    'by_kid': {k: dict(v) for k, v in self.by_kid_grant.items()},
                    'accepted': sum(v['accepted'] for v in self.by_client_grant.values()),
                    'refused': sum(v['refused'] for v in self.by_client_grant.values()),
                },
                'rate_limited': self.rate_limited,
                'faults_applied': self.faults_applied,
            }

    def entries(self, since=0):
        """The request log entries with ``seq`` greater than ``since``."""
        with self._lock:
            return [dict(e) for e in self.log if e['seq'] > since]


# ---------------------------------------------------------------------------------------------
# the tenant


class Tenant:
    """The state of one emulated tenant and every rule applied to it.

    ``base_url`` is the emulator's own URL (``https://127.0.0.1:PORT``), the tenant's canonical
    domain: the Management API audience is ``{base_url}/api/v2/`` and a client assertion's ``aud``
    must be ``{base_url}/``. ``custom_domains`` (``host:port`` names that reach the same server, for
    example ``localhost:PORT``) are the tenant's custom domains: as on Auth0, an assertion may name
    one of them as its ``aud``, while the Management API identifier stays the canonical one (a token
    asked for ``https://CUSTOM/api/v2/`` is refused: no API has that identifier).
    """

    def __init__(self, base_url, management_client_id=None, management_client_secret=None,
                 token_ttl=86400, state_path=None, clock=time.time, custom_domains=()):
        self._lock = threading.RLock()
        self.base_url = base_url.rstrip('/')
        self.custom_domains = tuple(custom_domains)
        self.token_ttl = int(token_ttl)
        self.state_path = state_path
        self._clock = clock
        self.clock_offset = 0.0
        self.stats = Stats()
        self.signing_key = secrets.token_bytes(32)
        self.management_client_id = management_client_id or random_string(32)
        self.management_client_secret = management_client_secret or random_string(64, SECRET_ALPHABET)
        self.clients = {}
        self.credentials = {}
        self.grants = {}
        self.used_jtis = {}
        self.counters = collections.Counter()
        self._last_prune = 0.0
        self._last_save = 0.0
        self._unsaved = False
        loaded = False
        if state_path and os.path.exists(state_path):
            with open(state_path, encoding='utf-8') as handle:
                self._load(json.load(handle), management_client_id, management_client_secret)
            loaded = True
        if not loaded:
            self._initial_tenant()
        self._save()

    # -- clock, persistence ---------------------------------------------------------------------

    def now(self):
        """The emulator's current time (the real clock plus an admin-set offset)."""
        return self._clock() + self.clock_offset

    @property
    def management_audience(self):
        """The Management API audience of this tenant."""
        return self.base_url + '/api/v2/'

    @property
    def assertion_audience(self):
        """The canonical ``aud`` of a client assertion (a custom domain's is accepted too)."""
        return self.base_url + '/'

    @property
    def assertion_audiences(self):
        """Every ``aud`` accepted in a client assertion: the canonical domain's and each custom domain's."""
        scheme = self.base_url.split('://', 1)[0]
        return [self.assertion_audience] + ['%s://%s/' % (scheme, d) for d in self.custom_domains]

    def _initial_tenant(self):
        self.clients = {}
        self.credentials = {}
        self.grants = {}
        self.used_jtis = {}
        self.counters = collections.Counter()
        created = iso_ms(self.now())
        self.clients[self.management_client_id] = self._new_client_record(
            {'name': 'auth0-emulator management client', 'app_type': 'non_interactive',
             'token_endpoint_auth_method': 'client_secret_post'},
            client_id=self.management_client_id, client_secret=self.management_client_secret, created_at=created)
        self._add_grant(self.management_client_id, self.management_audience, list(MANAGEMENT_SCOPES))

    def to_json(self):
        """The whole persisted state (contains client secrets and the token signing key)."""
        with self._lock:
            return {
                'version': STATE_VERSION,
                'base_url': self.base_url,
                'signing_key': b64url(self.signing_key),
                'management_client_id': self.management_client_id,
                'management_client_secret': self.management_client_secret,
                'clients': copy.deepcopy(self.clients),
                'credentials': copy.deepcopy(self.credentials),
                'grants': copy.deepcopy(self.grants),
                'used_jtis': dict(self.used_jtis),
                'counters': dict(self.counters),
            }

    def _load(self, data, management_client_id, management_client_secret):
        if data.get('version') != STATE_VERSION:
            raise ValueError('unsupported state file version %r' % data.get('version'))
        if management_client_id and management_client_id != data['management_client_id']:
            raise ValueError('the state file belongs to management client %s' % data['management_client_id'])
        old_audience = data['base_url'].rstrip('/') + '/api/v2/'
        self.signing_key = b64url_decode(data['signing_key'])
        self.management_client_id = data['management_client_id']
        self.management_client_secret = data['management_client_secret']
        if management_client_secret and management_client_secret != self.management_client_secret:
            raise ValueError('the state file has another management client secret')
        self.clients = data['clients']
        self.credentials = data['credentials']
        self.grants = data['grants']
        self.used_jtis = data['used_jtis']
        self.counters = collections.Counter(data.get('counters', {}))
        # a restart may listen on another port: the Management API audience moves with it
        for grant in self.grants.values():
            if grant['audience'] == old_audience:
                grant['audience'] = self.management_audience

    def _save_soon(self):
        """A change of the used jtis only (every assertion makes one): written at most once a second, the next
        change of anything else, or flush() at shutdown. Writing the file took 4 ms, on every token request of the
        fleet probes."""
        if time.monotonic() - self._last_save >= 1.0:
            self._save()
        else:
            self._unsaved = True

    def flush(self):
        """Write what _save_soon() left unwritten (the serve command calls it when it stops)."""
        with self._lock:
            if self._unsaved:
                self._save()

    def _save(self):
        """Write the state file atomically (temp file in the same folder + os.replace)."""
        self._unsaved = False
        self._last_save = time.monotonic()
        if not self.state_path:
            return
        folder = os.path.dirname(os.path.abspath(self.state_path))
        handle, tmp = tempfile.mkstemp(prefix='.state-', dir=folder)
        try:
            with os.fdopen(handle, 'w', encoding='utf-8') as out:
                json.dump(self.to_json(), out)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.state_path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def reset(self):
        """Back to the initial tenant; the management client keeps its id and secret."""
        with self._lock:
            self._initial_tenant()
            self.clock_offset = 0.0
            self._save()

    # -- records ---------------------------------------------------------------------------------

    def _new_client_record(self, body, client_id=None, client_secret=None, created_at=None):
        """A client record from a validated POST body (or seed): every field given is kept as given.

        Fields not given are absent (and absent from answers), except those Auth0 sets on every new
        client (CLIENT_DEFAULTS, grant_types, jwt_configuration).
        """
        app_type = body.get('app_type')
        default_method = 'none' if app_type in ('spa', 'native') else 'client_secret_post'
        record = {
            'client_id': client_id or random_string(32),
            'client_secret': client_secret or random_string(64, SECRET_ALPHABET),
            'created_at': created_at or iso_ms(self.now()),
        }
        record.update(copy.deepcopy(CLIENT_DEFAULTS))
        for key, value in body.items():
            if key in CLIENT_INTERNAL or value is None:
                continue
            record[key] = copy.deepcopy(value)
        record['grant_types'] = list(body.get('grant_types', DEFAULT_GRANT_TYPES.get(app_type, DEFAULT_GRANT_TYPES[None])))
        # Auth0 answered a POST that sent jwt_configuration {"alg"} with {"secret_encoded": false, "alg"}
        # (go-auth0 recordings); the defaults of a POST that sends none are UNVERIFIED.
        jwt = {'secret_encoded': False}
        jwt.update(body.get('jwt_configuration') or {'alg': 'RS256', 'lifetime_in_seconds': 36000})
        record['jwt_configuration'] = jwt
        record['token_endpoint_auth_method'] = body.get('token_endpoint_auth_method', default_method)
        record['client_authentication_methods'] = None
        record['signed_request_object'] = None
        if body.get('client_authentication_methods') is not None and 'token_endpoint_auth_method' not in body:
            record['token_endpoint_auth_method'] = None
        return record

    def render_client(self, client, show_secret=True, inline_credentials=False):
        """A client as the Management API shows it: the fields set, never the unset ones.

        While a client authentication method is set the answer carries neither
        ``token_endpoint_auth_method`` nor ``client_secret``.  ``inline_credentials`` (the answer of
        ``POST /clients``) shows the credentials of ``client_authentication_methods`` as whole
        credential objects, as Auth0 did in the go-auth0 recordings; elsewhere they are ``{"id"}`` only.
        """
        out = {'tenant': 'emulator', 'global': False, 'client_id': client['client_id']}
        for key, value in client.items():
            if key in CLIENT_INTERNAL or value is None:
                continue
            out[key] = copy.deepcopy(value)
        cam = client['client_authentication_methods']
        if cam is not None:
            out['client_authentication_methods'] = copy.deepcopy(cam)
            if inline_credentials:
                with self._lock:
                    for spec in out['client_authentication_methods'].values():
                        spec['credentials'] = [self.render_credential(self.credentials[item['id']]) if item['id'] in self.credentials
                                               else item for item in spec['credentials']]
        else:
            if client['token_endpoint_auth_method'] is not None:
                out['token_endpoint_auth_method'] = client['token_endpoint_auth_method']
            if show_secret:
                out['client_secret'] = client['client_secret']
        if client.get('signed_request_object') is not None:
            out['signed_request_object'] = copy.deepcopy(client['signed_request_object'])
        return out

    @staticmethod
    def render_credential(cred, omit_unset_expiry=True):
        """A credential as the API shows it: never the PEM, never an unset ``name`` or ``expires_at``.

        Newer Auth0 answers omit unset fields where the 2023 recordings carried ``"expires_at": null``
        (AUTH0_FACTS.md); ``omit_unset_expiry=False`` gives that older shape.  ``public_key``
        credentials carry ``kid`` and ``alg``, ``x509_cert`` ones ``thumbprint_sha256`` (and the
        certificate's expiry), ``cert_subject_dn`` ones ``subject_dn``.
        """
        out = {'id': cred['id'], 'credential_type': cred['credential_type']}
        if cred.get('name') is not None:
            out['name'] = cred['name']
        if cred['credential_type'] == 'public_key':
            out['kid'] = cred['kid']
            out['alg'] = cred['alg']
        if cred['credential_type'] == 'cert_subject_dn':
            out['subject_dn'] = cred['subject_dn']
        if cred['credential_type'] == 'x509_cert':
            out['thumbprint_sha256'] = cred.get('thumbprint_sha256')
        out['created_at'] = cred['created_at']
        out['updated_at'] = cred['updated_at']
        if cred['expires_at'] is not None or not omit_unset_expiry:
            out['expires_at'] = cred['expires_at']
        return out

    def _client(self, client_id):
        client = self.clients.get(client_id)
        if client is None:
            raise client_not_found()
        return client

    # -- clients ---------------------------------------------------------------------------------

    @staticmethod
    def client_field_types(patch=False):
        """The client fields a POST (or seed) or a PATCH accepts, with their JSON types."""
        index = 1 if patch else 0
        return {key: types[index] for key, types in CLIENT_FIELD_TYPES.items() if types[index] is not None}

    # string-array client fields whose items are checked to be strings
    STRING_ARRAYS = ('grant_types', 'callbacks', 'allowed_origins', 'web_origins', 'allowed_logout_urls', 'client_aliases',
                     'allowed_clients', 'organization_discovery_methods', 'async_approval_notification_channels')
    REFRESH_TOKEN_FIELDS = ('rotation_type', 'expiration_type', 'leeway', 'token_lifetime', 'infinite_token_lifetime',
                            'idle_token_lifetime', 'infinite_idle_token_lifetime', 'policies')

    def _validate_client_fields(self, body, patch=False):
        allowed = self.client_field_types(patch)
        reject_unknown(body, allowed)
        for key, value in body.items():
            expect_type(value, allowed[key], key)
        if 'client_metadata' in body:
            self._validate_client_metadata(body['client_metadata'], patch)
        if 'name' in body and not body['name'].strip():
            raise invalid_body('String is too short (0 chars), minimum 1', 'name')
        if 'name' in body and re.search('[<>]', body['name']):
            raise invalid_body('String does not match pattern: ^[^<>]+$', 'name')
        if 'description' in body and len(body['description']) > 140:
            raise invalid_body('String is too long (%d chars), maximum 140' % len(body['description']), 'description')
        for key, values in CLIENT_ENUMS.items():
            if body.get(key) is not None and body[key] not in values:
                raise invalid_body('No enum match for: "%s"' % body[key], key)
        for key in self.STRING_ARRAYS:
            for item in body.get(key) or []:
                expect_type(item, 'string', key)
        for item in body.get('grant_types', []):
            if item not in GRANT_TYPES:
                raise invalid_body('No enum match for: "%s"' % item, 'grant_types')
        if 'client_secret' in body and len(body['client_secret']) < 32:
            raise invalid_body('String is too short (%d chars), minimum 32' % len(body['client_secret']), 'client_secret')
        jwt = body.get('jwt_configuration')
        if jwt is not None:
            for key, types in (('alg', 'string'), ('lifetime_in_seconds', 'integer'), ('secret_encoded', 'boolean'), ('scopes', 'object')):
                if key in jwt:
                    expect_type(jwt[key], types, 'jwt_configuration.' + key)
            if 'alg' in jwt and jwt['alg'] not in JWT_ALGS:
                raise invalid_body('No enum match for: "%s"' % jwt['alg'], 'jwt_configuration.alg')
        refresh = body.get('refresh_token')
        if refresh is not None:
            reject_unknown(refresh, self.REFRESH_TOKEN_FIELDS, 'refresh_token')
            for key in ('rotation_type', 'expiration_type'):
                if key not in refresh:
                    raise invalid_body('Missing required property: %s' % key, 'refresh_token')
            if refresh['rotation_type'] not in ('rotating', 'non-rotating'):
                raise invalid_body('No enum match for: "%s"' % refresh['rotation_type'], 'refresh_token.rotation_type')
            if refresh['expiration_type'] not in ('expiring', 'non-expiring'):
                raise invalid_body('No enum match for: "%s"' % refresh['expiration_type'], 'refresh_token.expiration_type')
        expiry = body.get('par_request_expiry')
        if expiry is not None and not 10 <= expiry <= 600:
            raise invalid_body('Value %d is outside 10 to 600' % expiry, 'par_request_expiry')
        sro = body.get('signed_request_object')
        if sro is not None:
            reject_unknown(sro, ('required', 'credentials'), 'signed_request_object')
            if 'required' in sro:
                expect_type(sro['required'], 'boolean', 'signed_request_object.required')
            if 'credentials' in sro:
                expect_type(sro['credentials'], 'array', 'signed_request_object.credentials')
                for item in sro['credentials']:
                    expect_type(item, 'object', 'signed_request_object.credentials')

    @classmethod
    def _validate_client_metadata(cls, metadata, patch):
        """Check a client_metadata object of a POST (or seed) or of a PATCH (``patch``: null deletes a key).

        Auth0: string values of at most 255 characters, property names of at most 255 characters,
        at most 10 properties.  The count of a PATCH is checked after the merge (see
        :meth:`_merge_client_metadata`); here only a POST body can be over it.
        """
        for key, value in metadata.items():
            prop = 'client_metadata.%s' % key
            # UNVERIFIED: the wording of the property name rule; Auth0 documents the 255 limit only
            if len(key) > MAX_METADATA_KEY:
                raise invalid_body('Property name is too long (%d chars), maximum %d' % (len(key), MAX_METADATA_KEY), 'client_metadata')
            if value is None and patch:
                continue
            expect_type(value, 'string', prop)
            if len(value) > MAX_METADATA_VALUE:
                raise invalid_body('String is too long (%d chars), maximum %d' % (len(value), MAX_METADATA_VALUE), prop)
        if not patch:
            cls._check_metadata_count(metadata)

    @staticmethod
    def _check_metadata_count(metadata):
        if len(metadata) > MAX_METADATA_PROPERTIES:
            raise invalid_body('Too many properties: client_metadata can have at most %d' % MAX_METADATA_PROPERTIES, 'client_metadata')

    @classmethod
    def _merge_client_metadata(cls, stored, patch):
        """The client_metadata after a PATCH: Auth0 merges at the top level.

        A key sent with a string is added or replaced, a key sent with null is deleted, a key not
        sent is kept (terraform-provider-auth0 PR #362 sends null to remove a key for that reason).
        UNVERIFIED: an empty object ``{}`` is taken as a merge of nothing and leaves the metadata as
        it is; no source says whether Auth0 clears it instead.
        """
        merged = dict(stored)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        cls._check_metadata_count(merged)
        return merged

    @staticmethod
    def _cam_method(cam, prop='client_authentication_methods'):
        """Check the outer shape of client_authentication_methods; return (method, credential items)."""
        reject_unknown(cam, METHOD_CREDENTIAL_TYPE, prop)
        if len(cam) != 1:
            # AUTH0_FACTS.md: exactly one of private_key_jwt, tls_client_auth, self_signed_tls_client_auth
            raise invalid_body('Exactly one of private_key_jwt, tls_client_auth, self_signed_tls_client_auth is required', prop)
        method = next(iter(cam))
        spec = cam[method]
        expect_type(spec, 'object', '%s.%s' % (prop, method))
        reject_unknown(spec, ('credentials',), '%s.%s' % (prop, method))
        if 'credentials' not in spec:
            raise invalid_body('Missing required property: credentials', '%s.%s' % (prop, method))
        items = spec['credentials']
        path = '%s.%s.credentials' % (prop, method)
        expect_type(items, 'array', path)
        if len(items) > MAX_CREDENTIALS_PER_METHOD:
            raise invalid_body('Array is too long (%d), maximum %d' % (len(items), MAX_CREDENTIALS_PER_METHOD), path)
        for item in items:
            expect_type(item, 'object', path)
        return method, items, path

    def _check_method_exclusion(self, cam, team):
        # Mutual exclusion of client_authentication_methods and token_endpoint_auth_method.
        # UNVERIFIED (stricter): a PATCH that sets client_authentication_methods while a non-null
        # token_endpoint_auth_method stays in place (sent or stored) is refused with 400
        # invalid_body; real clients send "token_endpoint_auth_method": null in the same PATCH.
        # Likewise a client may not end with neither (both null).
        if cam is not None and team is not None:
            raise invalid_body('token_endpoint_auth_method and client_authentication_methods are mutually exclusive: '
                               'send "token_endpoint_auth_method": null with client_authentication_methods',
                               'token_endpoint_auth_method')
        if cam is None and team is None:
            raise invalid_body('A client needs a token_endpoint_auth_method when client_authentication_methods is null',
                               'token_endpoint_auth_method')

    def list_clients(self, page=0, per_page=50, app_type=None):
        """Clients in creation order, one page; (rendered list, total)."""
        with self._lock:
            clients = [c for c in self.clients.values() if app_type is None or c.get('app_type') in app_type]
            chunk = clients[page * per_page:(page + 1) * per_page]
            return [copy.deepcopy(c) for c in chunk], len(clients)

    def get_client(self, client_id):
        """A raw client record (a copy)."""
        with self._lock:
            return copy.deepcopy(self._client(client_id))

    def create_client(self, body):
        """POST /api/v2/clients, inline credentials of client_authentication_methods and signed_request_object included."""
        expect_type(body, 'object', None)
        self._validate_client_fields(body)
        if 'name' not in body:
            raise invalid_body('Missing required property: name')
        with self._lock:
            record = self._new_client_record(body)
            new_creds = []
            now = self.now()

            def build(item, path, ctype):
                cred = self._build_credential(record['client_id'], item, now, prop_prefix=path + '.')
                if cred['credential_type'] != ctype:
                    raise invalid_body('%s takes credentials of type %s' % (path, ctype), path)
                if cred['fingerprint'] and any(c['fingerprint'] == cred['fingerprint'] for c in new_creds):
                    raise invalid_body('credentials contains public keys that already exist in client')
                new_creds.append(cred)
                return {'id': cred['id']}

            cam = body.get('client_authentication_methods')
            if cam is not None:
                method, items, path = self._cam_method(cam)
                record['client_authentication_methods'] = {
                    method: {'credentials': [build(item, path, METHOD_CREDENTIAL_TYPE[method]) for item in items]}}
            sro = body.get('signed_request_object')
            if sro is not None:
                # JAR: the credentials are created with the client, like those of client_authentication_methods
                record['signed_request_object'] = dict(
                    sro, credentials=[build(item, 'signed_request_object.credentials', 'public_key') for item in sro.get('credentials', [])])
            if len(new_creds) > MAX_CREDENTIALS_PER_CLIENT:
                raise ApiError(400, 'A client can have a maximum of %d credentials.' % MAX_CREDENTIALS_PER_CLIENT, 'invalid_body')
            self._check_method_exclusion(record['client_authentication_methods'], record['token_endpoint_auth_method'])
            self.clients[record['client_id']] = record
            for cred in new_creds:
                self.credentials[cred['id']] = cred
            self.counters['clients_created'] += 1
            self._save()
            return copy.deepcopy(record)

    def _credential_ids(self, client_id, items, path, ctype=None, method=None):
        """Check a list of ``{"id"}`` items naming credentials of this client (of type ``ctype``); return the ids."""
        seen = []
        for item in items:
            reject_unknown(item, ('id',), path)
            if 'id' not in item:
                raise invalid_body('Missing required property: id', path)
            expect_type(item['id'], 'string', path + '.id')
            cred = self.credentials.get(item['id'])
            if cred is None or cred['client_id'] != client_id:
                raise invalid_body('Credential %s does not exist on this client' % item['id'], path)
            if ctype and cred['credential_type'] != ctype:
                raise invalid_body('%s takes credentials of type %s, %s is %s' % (method or path, ctype, item['id'], cred['credential_type']), path)
            if item['id'] in seen:
                raise invalid_body('Array items are not unique', path)
            seen.append(item['id'])
        return seen

    def update_client(self, client_id, body):
        """PATCH /api/v2/clients/{id}: the fields sent replace the stored ones (null unsets where allowed).

        ``client_metadata`` merges at the top level; ``jwt_configuration`` is replaced, its
        ``secret_encoded`` filled in as Auth0 answered (UNVERIFIED whether Auth0 merges instead).
        """
        expect_type(body, 'object', None)
        self._validate_client_fields(body, patch=True)
        with self._lock:
            client = self._client(client_id)
            metadata = client.get('client_metadata')
            if 'client_metadata' in body:
                metadata = self._merge_client_metadata(client.get('client_metadata') or {}, body['client_metadata'])
            cam = body.get('client_authentication_methods', client['client_authentication_methods'])
            if cam is not None and 'client_authentication_methods' in body:
                method, items, path = self._cam_method(cam)
                ids = self._credential_ids(client_id, items, path, METHOD_CREDENTIAL_TYPE[method], method)
                cam = {method: {'credentials': [{'id': i} for i in ids]}}
            sro = body.get('signed_request_object', client.get('signed_request_object'))
            if sro is not None and 'signed_request_object' in body:
                ids = self._credential_ids(client_id, sro.get('credentials', []), 'signed_request_object.credentials', 'public_key')
                sro = dict(sro, credentials=[{'id': i} for i in ids])
            team = body['token_endpoint_auth_method'] if 'token_endpoint_auth_method' in body else client['token_endpoint_auth_method']
            if 'client_authentication_methods' in body or 'token_endpoint_auth_method' in body:
                # a client seeded with neither may be patched in other fields and stay so
                self._check_method_exclusion(cam, team)
            # every check is done: from here on the PATCH is applied as a whole
            for key, value in body.items():
                if key in CLIENT_INTERNAL or key == 'client_metadata':
                    continue
                if value is None:
                    client.pop(key, None)
                else:
                    client[key] = copy.deepcopy(value)
            if 'client_secret' in body:
                client['client_secret'] = body['client_secret']
            if 'jwt_configuration' in body:
                client['jwt_configuration'] = dict({'secret_encoded': False}, **body['jwt_configuration'])
            if metadata is not None:
                client['client_metadata'] = metadata
            client['client_authentication_methods'] = cam
            client['token_endpoint_auth_method'] = team
            client['signed_request_object'] = sro
            self._save()
            return copy.deepcopy(client)

    def delete_client(self, client_id):
        """DELETE /api/v2/clients/{id}: its credentials and grants go with it."""
        with self._lock:
            self._client(client_id)
            del self.clients[client_id]
            for cred_id in [k for k, c in self.credentials.items() if c['client_id'] == client_id]:
                del self.credentials[cred_id]
            for grant_id in [k for k, g in self.grants.items() if g['client_id'] == client_id]:
                del self.grants[grant_id]
            self._save()

    # -- credentials -----------------------------------------------------------------------------

    CREDENTIAL_FIELDS = {
        'credential_type': 'string', 'name': 'string', 'pem': 'string', 'alg': 'string', 'kid': 'string',
        'expires_at': 'string', 'parse_expiry_from_cert': 'boolean', 'subject_dn': 'string',
    }

    def _build_credential(self, client_id, body, now, prop_prefix='', created_at=None):
        """Validate a credential body and build its record (not stored)."""
        expect_type(body, 'object', prop_prefix.rstrip('.') or None)
        reject_unknown(body, self.CREDENTIAL_FIELDS, prop_prefix.rstrip('.') or None)
        for key, value in body.items():
            expect_type(value, self.CREDENTIAL_FIELDS[key], prop_prefix + key)
        if 'credential_type' not in body:
            raise invalid_body('Missing required property: credential_type', prop_prefix.rstrip('.') or None)
        ctype = body['credential_type']
        if ctype not in CREDENTIAL_TYPES:
            raise invalid_body('No enum match for: "%s"' % ctype, prop_prefix + 'credential_type')
        name = body.get('name')
        if name is not None and len(name) > MAX_NAME:
            raise invalid_body('String is too long (%d chars), maximum %d' % (len(name), MAX_NAME), prop_prefix + 'name')
        if ctype != 'public_key':
            # UNVERIFIED (stricter): alg and kid describe JWT signing keys; refused for certificate credentials.
            # expires_at and parse_expiry_from_cert "apply to public_key" (OpenAPI description): an x509_cert
            # credential takes its expiry from the certificate, a cert_subject_dn one has none.
            for key in ('alg', 'kid', 'expires_at', 'parse_expiry_from_cert'):
                if key in body:
                    raise invalid_body('%s is only allowed for credential_type public_key' % key, prop_prefix + key)
        if 'subject_dn' in body and ctype != 'cert_subject_dn':
            raise invalid_body('subject_dn is only allowed for credential_type cert_subject_dn', prop_prefix + 'subject_dn')
        if 'subject_dn' in body and 'pem' in body:
            raise invalid_body('subject_dn and pem are mutually exclusive', prop_prefix + 'subject_dn')
        public_key = cert = None
        subject_dn = None
        if ctype == 'cert_subject_dn' and 'subject_dn' in body:
            subject_dn = body['subject_dn']
            if not 1 <= len(subject_dn) <= 256:
                raise invalid_body('subject_dn must be 1 to 256 characters', prop_prefix + 'subject_dn')
        else:
            if 'pem' not in body:
                raise invalid_body('Missing required property: pem', prop_prefix.rstrip('.') or None)
            public_key, cert = parse_pem(body['pem'])
            if ctype != 'public_key' and cert is None:
                raise invalid_body('%s needs an X.509 certificate in pem' % ctype, prop_prefix + 'pem')
            if cert is not None and ctype == 'cert_subject_dn':
                subject_dn = certificate_subject_dn(cert)
        alg = kid = None
        if ctype == 'public_key':
            if not isinstance(public_key, rsa.RSAPublicKey):
                raise invalid_body('Private Key JWT credentials must be RSA keys', prop_prefix + 'pem')
            if not 2048 <= public_key.key_size <= 4096:
                raise invalid_body('RSA key size must be between 2048 and 4096 bits, got %d' % public_key.key_size, prop_prefix + 'pem')
            alg = body.get('alg', 'RS256')
            if alg not in ASSERTION_ALGS:
                raise invalid_body('No enum match for: "%s"' % alg, prop_prefix + 'alg')
            kid = body.get('kid', rsa_thumbprint(public_key))
            if not KID_RE.match(kid):
                raise invalid_body('String does not match pattern: ' + KID_RE.pattern, prop_prefix + 'kid')
        elif public_key is not None and not isinstance(public_key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
            raise invalid_body('Unsupported certificate key type', prop_prefix + 'pem')
        expires_at = thumbprint = None
        if 'expires_at' in body and body.get('parse_expiry_from_cert'):
            raise invalid_body('expires_at and parse_expiry_from_cert are mutually exclusive', prop_prefix + 'expires_at')
        if 'expires_at' in body:
            expires_at = self._parse_expiry(body['expires_at'], prop_prefix + 'expires_at')
        elif body.get('parse_expiry_from_cert'):
            if cert is None:
                raise invalid_body('parse_expiry_from_cert needs an X.509 certificate in pem', prop_prefix + 'parse_expiry_from_cert')
            expires_at = iso_ms(cert.not_valid_after_utc.timestamp())
        if ctype == 'x509_cert':
            # go-auth0 recording: thumbprint_sha256 (base64url SHA-256 of the DER certificate) and the
            # certificate's notAfter as expires_at, no kid and no alg
            thumbprint = b64url(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())
            expires_at = iso_ms(cert.not_valid_after_utc.timestamp())
        stamp = created_at or iso_ms(now)
        return {
            'id': 'cred_' + random_string(22),
            'client_id': client_id,
            'name': name,
            'credential_type': ctype,
            'kid': kid,
            'alg': alg,
            'subject_dn': subject_dn,
            'thumbprint_sha256': thumbprint,
            # the public key (SPKI) and, if given, the certificate: public material only
            'pem': public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
            if public_key is not None else None,
            'cert_pem': cert.public_bytes(serialization.Encoding.PEM).decode() if cert is not None else None,
            'fingerprint': hashlib.sha256(spki_der(public_key)).hexdigest() if public_key is not None else None,
            'created_at': stamp,
            'updated_at': stamp,
            'expires_at': expires_at,
        }

    @staticmethod
    def _parse_expiry(value, prop):
        epoch = parse_iso(value)
        if epoch is None:
            raise invalid_body('Object didn\'t pass validation for format date-time: %s' % value, prop)
        return iso_ms(epoch)

    def _client_credentials(self, client_id):
        return [c for c in self.credentials.values() if c['client_id'] == client_id]

    def list_credentials(self, client_id):
        """GET .../credentials: every credential of the client (bare list, never paged)."""
        with self._lock:
            self._client(client_id)
            return [copy.deepcopy(c) for c in self._client_credentials(client_id)]

    def create_credential(self, client_id, body, created_at=None):
        """POST .../credentials."""
        with self._lock:
            self._client(client_id)
            cred = self._build_credential(client_id, body, self.now(), created_at=created_at)
            existing = self._client_credentials(client_id)
            if len(existing) >= MAX_CREDENTIALS_PER_CLIENT:
                raise ApiError(400, 'A client can have a maximum of %d credentials.' % MAX_CREDENTIALS_PER_CLIENT, 'invalid_body')
            if cred['fingerprint'] and any(c['fingerprint'] == cred['fingerprint'] for c in existing):
                raise ApiError(400, 'credentials contains public keys that already exist in client', 'invalid_body')
            # UNVERIFIED (stricter): two credentials of one client may not share a kid (a kid must pick one key)
            if cred['kid'] and any(c['kid'] == cred['kid'] for c in existing):
                raise invalid_body('kid %s is already used by another credential of this client' % cred['kid'], 'kid')
            self.credentials[cred['id']] = cred
            self.counters['credentials_created'] += 1
            self._save()
            return copy.deepcopy(cred)

    def _credential(self, client_id, credential_id):
        self._client(client_id)
        cred = self.credentials.get(credential_id)
        if cred is None or cred['client_id'] != client_id:
            raise ApiError(404, 'The credential does not exist', 'inexistent_credential')
        return cred

    def get_credential(self, client_id, credential_id):
        """GET .../credentials/{credential_id}."""
        with self._lock:
            return copy.deepcopy(self._credential(client_id, credential_id))

    def update_credential(self, client_id, credential_id, body):
        """PATCH .../credentials/{credential_id}: only expires_at may change (null clears it)."""
        expect_type(body, 'object', None)
        reject_unknown(body, ('expires_at',))
        if 'expires_at' not in body:
            # UNVERIFIED (stricter): an empty PATCH changes nothing and is refused
            raise invalid_body('Too few properties defined (0), minimum 1')
        expect_type(body['expires_at'], ('string', 'null'), 'expires_at')
        with self._lock:
            cred = self._credential(client_id, credential_id)
            cred['expires_at'] = None if body['expires_at'] is None else self._parse_expiry(body['expires_at'], 'expires_at')
            cred['updated_at'] = iso_ms(self.now())
            self._save()
            return copy.deepcopy(cred)

    def delete_credential(self, client_id, credential_id):
        """DELETE .../credentials/{credential_id}: 204 even when already gone; 400 while attached."""
        with self._lock:
            client = self._client(client_id)
            cred = self.credentials.get(credential_id)
            if cred is None or cred['client_id'] != client_id:
                return
            # UNVERIFIED (stricter): a credential listed in signed_request_object (JAR) is as much in use as
            # one listed in client_authentication_methods
            lists = list((client['client_authentication_methods'] or {}).values()) + [client.get('signed_request_object') or {}]
            for spec in lists:
                if any(item['id'] == credential_id for item in spec.get('credentials', [])):
                    raise ApiError(400, 'Cannot delete credential still associated with a client', 'invalid_body')
            del self.credentials[credential_id]
            self._save()

    # -- client grants ---------------------------------------------------------------------------

    def _add_grant(self, client_id, audience, scope):
        grant = {'id': 'cgr_' + random_string(16), 'client_id': client_id, 'audience': audience, 'scope': list(scope)}
        self.grants[grant['id']] = grant
        return grant

    def list_grants(self, client_id=None, audience=None):
        """GET /api/v2/client-grants with its filters."""
        with self._lock:
            return [copy.deepcopy(g) for g in self.grants.values()
                    if (client_id is None or g['client_id'] == client_id) and (audience is None or g['audience'] == audience)]

    def create_grant(self, body):
        """POST /api/v2/client-grants."""
        expect_type(body, 'object', None)
        reject_unknown(body, ('client_id', 'audience', 'scope'))
        for key in ('client_id', 'audience', 'scope'):
            if key not in body:
                raise invalid_body('Missing required property: %s' % key)
        expect_type(body['client_id'], 'string', 'client_id')
        expect_type(body['audience'], 'string', 'audience')
        expect_type(body['scope'], 'array', 'scope')
        for item in body['scope']:
            expect_type(item, 'string', 'scope')
        with self._lock:
            if body['client_id'] not in self.clients:
                raise ApiError(404, 'Client not found', 'inexistent_client')
            if body['audience'] == self.management_audience:
                unknown = [s for s in body['scope'] if s not in MANAGEMENT_SCOPES]
                if unknown:
                    raise ApiError(400, 'Client has requested scopes not defined in the resource server: %s' % ','.join(unknown), 'invalid_body')
            if any(g['client_id'] == body['client_id'] and g['audience'] == body['audience'] for g in self.grants.values()):
                raise ApiError(409, 'A client grant for this client and audience already exists.', 'client_grant_conflict')
            grant = self._add_grant(body['client_id'], body['audience'], body['scope'])
            self._save()
            return copy.deepcopy(grant)

    def delete_grant(self, grant_id):
        """DELETE /api/v2/client-grants/{id}."""
        with self._lock:
            if grant_id not in self.grants:
                raise ApiError(404, 'The grant does not exist', 'inexistent_grant')
            del self.grants[grant_id]
            self._save()

    # -- tokens ----------------------------------------------------------------------------------

    def _sign_token(self, client_id, audience, scopes):
        now = int(self.now())
        claims = {'iss': self.base_url + '/', 'sub': client_id + '@clients', 'aud': audience, 'iat': now,
                  'exp': now + self.token_ttl, 'scope': ' '.join(scopes), 'gty': 'client-credentials',
                  'azp': client_id, 'jti': random_string(24)}
        return hs256_encode(claims, self.signing_key)

    def verify_management_token(self, authorization):
        """Check an ``Authorization: Bearer`` header for the Management API; return its claims.

        401 bodies carry no errorCode: UNVERIFIED (stricter), a caller must not depend on one.
        """
        if not authorization or not authorization.startswith('Bearer '):
            raise ApiError(401, 'Invalid token.')
        try:
            header, claims, signing_input, signature = decode_jwt(authorization[7:].strip())
        except ValueError as exc:
            raise ApiError(401, 'Invalid token.') from exc
        expected = hmac.new(self.signing_key, signing_input, hashlib.sha256).digest()
        if header.get('alg') != 'HS256' or not hmac.compare_digest(expected, signature):
            raise ApiError(401, 'Invalid token.')
        if not isinstance(claims.get('exp'), (int, float)) or claims['exp'] <= self.now():
            raise ApiError(401, 'Expired token received for JSON Web Token validation')
        if claims.get('aud') != self.management_audience or claims.get('iss') != self.base_url + '/':
            raise ApiError(401, 'Bad audience: %s' % claims.get('aud'))
        return claims

    def issue_token(self, params, basic=None):
        """POST /oauth/token with grant_type=client_credentials.

        ``params`` are the form (or JSON) fields, ``basic`` an optional (client_id, secret) from an
        ``Authorization: Basic`` header.  Returns (body, info) where info names the client and kid
        for the request log; raises OAuthError otherwise.  Every answer is counted in the stats.
        """
        info = {'client_id': params.get('client_id') if isinstance(params.get('client_id'), str) else None, 'kid': None}
        try:
            with self._lock:
                body = self._issue_token(params, basic, info)
        except OAuthError as exc:
            self.stats.record_grant(info['client_id'], info['kid'], False)
            exc.client_id, exc.kid = info['client_id'], info['kid']
            raise
        self.stats.record_grant(info['client_id'], info['kid'], True)
        return body, info

    def _issue_token(self, params, basic, info):
        for key, value in params.items():
            if not isinstance(value, str):
                raise OAuthError(400, 'invalid_request', 'Parameter %s must be a string' % key)
        grant_type = params.get('grant_type')
        if not grant_type:
            raise OAuthError(400, 'invalid_request', 'Missing required parameter: grant_type')
        if grant_type != 'client_credentials':
            raise OAuthError(400, 'unsupported_grant_type', 'Unsupported grant type: %s' % grant_type)
        has_assertion = 'client_assertion' in params or 'client_assertion_type' in params
        if has_assertion and ('client_secret' in params or basic):
            raise OAuthError(400, 'invalid_request', 'Only one client authentication method may be used')
        if has_assertion:
            client = self._authenticate_assertion(params, info)
        else:
            client = self._authenticate_secret(params, basic, info)
        if 'client_credentials' not in client['grant_types']:
            raise OAuthError(403, 'unauthorized_client', "Grant type 'client_credentials' not allowed for the client.")
        audience = params.get('audience')
        if not audience:
            raise OAuthError(403, 'access_denied', 'No audience parameter was provided, and no default audience has been configured')
        if audience != self.management_audience and not any(g['audience'] == audience for g in self.grants.values()):
            # UNVERIFIED wording (widely reported): no API has this identifier, for example the Management API
            # asked for through a custom domain. This is not a missing grant.
            raise OAuthError(403, 'access_denied', 'Service not found: %s' % audience)
        grant = next((g for g in self.grants.values() if g['client_id'] == client['client_id'] and g['audience'] == audience), None)
        if grant is None:
            raise OAuthError(403, 'access_denied', 'Client is not authorized to access "%s". You need to create a "client-grant" '
                             'associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants' % audience)
        scopes = list(grant['scope'])
        if params.get('scope'):
            requested = params['scope'].split()
            missing = [s for s in requested if s not in scopes]
            if missing:
                raise OAuthError(403, 'access_denied', 'Client has not been granted scopes: %s' % ' '.join(missing))
            scopes = [s for s in scopes if s in requested]
        self.counters['tokens_issued'] += 1
        return {'access_token': self._sign_token(client['client_id'], audience, scopes), 'token_type': 'Bearer',
                'expires_in': self.token_ttl, 'scope': ' '.join(scopes)}

    def _authenticate_secret(self, params, basic, info):
        if basic:
            client_id, secret, method = basic[0], basic[1], 'client_secret_basic'
            if params.get('client_id') not in (None, client_id):
                raise OAuthError(400, 'invalid_request', 'client_id does not match the Authorization header')
        else:
            client_id, secret, method = params.get('client_id'), params.get('client_secret'), 'client_secret_post'
        info['client_id'] = client_id
        if not client_id:
            raise OAuthError(401, 'invalid_client', 'Client authentication is required (client_secret or client_assertion)')
        client = self.clients.get(client_id)
        if client is None or not secret or not hmac.compare_digest(client['client_secret'].encode(), secret.encode()):
            raise OAuthError(401, 'invalid_client', 'Invalid client credentials')
        # UNVERIFIED (stricter): a secret only works while the client's token_endpoint_auth_method is that
        # secret method; with client_authentication_methods set (Private Key JWT) the secret is refused.
        if client['client_authentication_methods'] is not None or client['token_endpoint_auth_method'] != method:
            raise OAuthError(401, 'invalid_client', 'The client is not configured for %s authentication' % method)
        return client

    def _enabled_credentials(self, client):
        """Credentials listed in the client's private_key_jwt list and not past expires_at."""
        cam = client['client_authentication_methods'] or {}
        ids = [item['id'] for item in cam.get('private_key_jwt', {}).get('credentials', [])]
        now = self.now()
        out = []
        for cred_id in ids:
            cred = self.credentials.get(cred_id)
            if cred is None:
                continue
            if cred['expires_at'] is not None and parse_iso(cred['expires_at']) <= now:
                continue
            out.append(cred)
        return out

    def _authenticate_assertion(self, params, info):
        if params.get('client_assertion_type') != JWT_BEARER:
            raise OAuthError(400, 'invalid_request', 'client_assertion_type must be %s' % JWT_BEARER)
        assertion = params.get('client_assertion')
        if not assertion:
            raise OAuthError(400, 'invalid_request', 'Missing required parameter: client_assertion')

        def refuse(description):
            return OAuthError(401, 'invalid_client', description)

        if len(assertion.encode('utf-8')) > MAX_ASSERTION_BYTES:
            raise refuse('client_assertion must be at most %d bytes' % MAX_ASSERTION_BYTES)
        try:
            header, claims, signing_input, signature = decode_jwt(assertion)
        except ValueError as exc:
            raise refuse('client_assertion is not a well-formed JWT') from exc
        kid = header.get('kid')
        info['kid'] = kid if isinstance(kid, str) else None
        iss = claims.get('iss')
        if isinstance(iss, str):
            info['client_id'] = iss
        alg = header.get('alg')
        if alg not in ASSERTION_ALGS:
            raise refuse('Invalid JWT algorithm %r: RS256, RS384 or PS256 required' % (alg,))
        if kid is not None and not isinstance(kid, str):
            raise refuse('kid must be a string')
        if not isinstance(iss, str) or claims.get('sub') != iss:
            raise refuse('iss and sub must both be the client_id')
        if params.get('client_id') not in (None, iss):
            raise refuse('client_id does not match the assertion iss')
        client = self.clients.get(iss)
        if client is None:
            raise refuse('Unknown client %s' % iss)
        cam = client['client_authentication_methods'] or {}
        if 'private_key_jwt' not in cam:
            raise refuse('The client is not configured for private_key_jwt authentication')
        enabled = self._enabled_credentials(client)
        if kid is not None:
            enabled = [c for c in enabled if c['kid'] == kid]
            if not enabled:
                raise refuse('No enabled credential of this client has kid %s' % kid)
        candidates = [c for c in enabled if c['alg'] == alg]
        if not candidates:
            raise refuse('No enabled credential of this client uses alg %s' % alg)
        signer = None
        for cred in candidates:
            public_key = serialization.load_pem_public_key(cred['pem'].encode())
            if verify_rsa_signature(public_key, alg, signing_input, signature):
                signer = cred
                break
        if signer is None:
            raise refuse('Invalid signature of client_assertion')
        info['kid'] = signer['kid']
        self._check_assertion_claims(claims, refuse)
        self.used_jtis[claims['jti']] = claims['exp']
        self._save_soon()
        return client

    def _check_assertion_claims(self, claims, refuse):
        now = self.now()
        # UNVERIFIED (stricter): only the bare tenant URL with its trailing slash is accepted as aud,
        # not ".../oauth/token" and not a list. Documented: a custom domain's URL may be the aud.
        if claims.get('aud') not in self.assertion_audiences:
            raise refuse('aud must be %s' % ' or '.join(self.assertion_audiences))
        exp, iat, nbf = claims.get('exp'), claims.get('iat'), claims.get('nbf', None)
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise refuse('exp is required')
        # UNVERIFIED (stricter): iat is required, since the 5 minute lifetime is measured from it
        if not isinstance(iat, (int, float)) or isinstance(iat, bool):
            raise refuse('iat is required')
        if exp - iat > MAX_ASSERTION_LIFETIME:
            raise refuse('exp must be at most %d seconds after iat' % MAX_ASSERTION_LIFETIME)
        if exp <= now:
            raise refuse('client_assertion has expired')
        if iat > now + CLOCK_SKEW:
            raise refuse('iat is in the future')
        if nbf is not None and (not isinstance(nbf, (int, float)) or nbf > now + CLOCK_SKEW):
            raise refuse('client_assertion is not valid yet (nbf)')
        jti = claims.get('jti')
        if not isinstance(jti, str) or not jti:
            raise refuse('jti is required')
        if len(jti) > MAX_JTI:
            raise refuse('jti must be at most %d characters' % MAX_JTI)
        if now - self._last_prune >= 1 or now < self._last_prune:
            # forget jtis whose assertion has expired (at most once a second: the scan is O(n))
            self._last_prune = now
            for old, old_exp in list(self.used_jtis.items()):
                if old_exp < now - CLOCK_SKEW:
                    del self.used_jtis[old]
        # UNVERIFIED (stricter): a jti is single use across the whole tenant, not only per client
        if jti in self.used_jtis:
            raise refuse('jti has already been used')

    # -- admin helpers ---------------------------------------------------------------------------

    def seed(self, spec):
        """Create clients, credentials and grants directly (admin); return the created ids.

        See the README of the emulator for the shape of ``spec``.  Credentials go through the same
        validation as the API, but may carry ``created_at`` to simulate old keys.
        """
        expect_type(spec, 'object', None)
        reject_unknown(spec, ('clients', 'credentials', 'grants'))
        out = {'clients': [], 'credentials': [], 'grants': []}
        with self._lock:
            saved = copy.deepcopy((self.clients, self.credentials, self.grants))
            try:
                for cspec in spec.get('clients', []):
                    expect_type(cspec, 'object', 'clients')
                    out['clients'].append(self._seed_client(cspec))
                for cred in spec.get('credentials', []):
                    expect_type(cred, 'object', 'credentials')
                    cred = dict(cred)
                    client_id = cred.pop('client_id', None)
                    created_at = cred.pop('created_at', None)
                    out['credentials'].append(self.create_credential(client_id, cred, created_at=self._seed_time(created_at))['id'])
                for grant in spec.get('grants', []):
                    expect_type(grant, 'object', 'grants')
                    out['grants'].append(self._seed_grant(grant))
            except (ApiError, KeyError, IndexError, TypeError) as exc:
                # all or nothing: a failed seed leaves the tenant as it was
                self.clients, self.credentials, self.grants = saved
                if isinstance(exc, ApiError):
                    raise
                raise invalid_body('Invalid seed specification: %s' % exc) from exc
            self._save()
        return out

    @staticmethod
    def _seed_time(value):
        if value is None:
            return None
        epoch = parse_iso(value)
        if epoch is None:
            raise invalid_body('created_at must be an ISO 8601 date-time with offset', 'created_at')
        return iso_ms(epoch)

    def _seed_grant(self, grant):
        body = {'client_id': grant.get('client_id'), 'audience': grant.get('audience') or self.management_audience,
                'scope': grant.get('scope', [])}
        return self.create_grant(body)['id']

    def _seed_client(self, cspec):
        cspec = dict(cspec)
        creds = cspec.pop('credentials', [])
        attach = cspec.pop('private_key_jwt', None)
        grants = cspec.pop('grants', [])
        client_id = cspec.pop('client_id', None)
        client_secret = cspec.pop('client_secret', None)
        created_at = cspec.pop('created_at', None)
        self._validate_client_fields(cspec)
        if 'client_authentication_methods' in cspec:
            raise invalid_body('seed clients use private_key_jwt (credential indexes) instead', 'client_authentication_methods')
        cspec.setdefault('name', 'seeded client')
        # a seeded client is machine to machine unless told otherwise; "token_endpoint_auth_method": null
        # without private_key_jwt seeds a client with neither method, as real tenants have
        cspec.setdefault('app_type', 'non_interactive')
        if client_id in self.clients:
            raise ApiError(409, 'client %s already exists' % client_id, 'client_conflict')
        record = self._new_client_record(cspec, client_id=client_id, client_secret=client_secret, created_at=self._seed_time(created_at))
        self.clients[record['client_id']] = record
        result = {'client_id': record['client_id'], 'client_secret': record['client_secret'], 'credentials': [], 'grants': []}
        for cred in creds:
            cred = dict(cred)
            stamp = self._seed_time(cred.pop('created_at', None))
            result['credentials'].append(self.create_credential(record['client_id'], cred, created_at=stamp)['id'])
        if attach is not None:
            indexes = range(len(creds)) if attach is True else attach
            ids = [result['credentials'][i] for i in indexes]
            if len(ids) > MAX_CREDENTIALS_PER_METHOD:
                raise invalid_body('Array is too long (%d), maximum %d' % (len(ids), MAX_CREDENTIALS_PER_METHOD), 'private_key_jwt')
            record['client_authentication_methods'] = {'private_key_jwt': {'credentials': [{'id': i} for i in ids]}}
            record['token_endpoint_auth_method'] = None
        for grant in grants:
            result['grants'].append(self._seed_grant(dict(grant, client_id=record['client_id'])))
        return result
