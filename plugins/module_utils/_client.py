# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one Auth0 Management API client of the collection, over httpx.

PRIVATE to the keyops.auth0 collection: names and behaviour may change without notice.

What it guarantees:

* retries on 429, 5xx and connection errors, waiting as ``Retry-After`` or ``x-ratelimit-reset`` say
  (capped), with exponential backoff otherwise, also when they name a moment this host's clock has already
  passed (its clock ahead of Auth0's), and gives up after ``retries`` retries with a message that says so;
* an answer that is not of the documented shape (a list where a list is expected) is an ``Auth0Error``,
  never read as "nothing"; listing clients leaves out the global client;
* a request whose effect is unknown (a POST that timed out or got a 5xx) is never repeated blindly:
  ``create_credential`` reads the credential list back and matches by kid first;
* at most one management token per client object (none when a token is given), renewed once on a
  401 for an expired token; ``use_token`` hands it a token an earlier step obtained;
* safe to share between threads: the token is obtained once under a lock, and the requests of all
  threads are paced by Auth0's rate-limit headers: the bucket's size, what remains of it and when it is
  full again (``x-ratelimit-limit/-remaining/-reset``) give its refill rate, and a request that would
  find it empty (what the last answer said remains, less the requests sent since) waits for a token,
  so that concurrent calls stay within the limit instead of meeting 429s; a 429 still pauses every
  thread's next request for as long as Auth0 asks;
* every failure is an ``Auth0Error`` carrying the HTTP status, Auth0's error, errorCode and message,
  and the call (method and path), never a secret.
"""

from __future__ import annotations

import datetime
import email.utils
import importlib.util
import ipaddress
import random
import ssl
import sys
import threading
import time
from urllib.parse import quote, urlsplit


def _import_httpx():
    """Import httpx without its command-line interface.

    httpx imports its CLI (click, rich, pygments) whenever those are installed, as they are on many
    controllers: about 0.1 s of CPU in every module run, for a CLI never used here. While httpx is first
    imported its ``httpx._main`` is hidden, so that httpx takes its own fallback (``httpx/__init__.py``
    catches the ImportError); it is unhidden at once, so a later ``import httpx._main`` still works.
    """
    hide = 'httpx' not in sys.modules and 'httpx._main' not in sys.modules
    if hide:
        sys.modules['httpx._main'] = None
    try:
        import httpx  # pylint: disable=import-outside-toplevel
    except ImportError:
        if not hide:
            raise
        # An httpx without that fallback: import it whole.
        for name in [name for name in sys.modules if name == 'httpx' or name.startswith('httpx.')]:
            del sys.modules[name]
        import httpx  # pylint: disable=import-outside-toplevel
    finally:
        if hide and sys.modules.get('httpx._main', False) is None:
            del sys.modules['httpx._main']
    return httpx


class _Httpx:
    """httpx, imported when the first Auth0Client is made, not when this file is: the controller-side steps import
    this file for its errors in every host task (a new worker process each time), and most of them never call
    Auth0 (about 0.07 s of CPU saved per host and task)."""

    module = None

    def __getattr__(self, name):
        if _Httpx.module is None:
            _Httpx.module = _import_httpx()
        return getattr(_Httpx.module, name)


httpx = _Httpx()
try:
    HAS_HTTPX = importlib.util.find_spec('httpx') is not None
except (ImportError, ValueError):  # pragma: no cover - a broken installation
    HAS_HTTPX = False
HTTPX_IMPORT_ERROR = None if HAS_HTTPX else 'No module named httpx'

from ansible_collections.keyops.auth0.plugins.module_utils import _keys
from ansible_collections.keyops.auth0.plugins.module_utils._credentials import NO_SERVICE

USER_AGENT = 'keyops.auth0-ansible/1.0'
CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
MAX_RETRY_WAIT = 60.0
DEFAULT_PORTS = {'https': 443, 'http': 80}
PAGE_SIZE = 100


class Auth0Error(Exception):
    """A failed Auth0 call, or a configuration that cannot work.

    ``status`` is the HTTP status (None when no response came), ``error`` the short error
    (``Not Found``, ``invalid_client``, ``timeout`` ...), ``error_code`` Auth0's errorCode,
    ``message`` Auth0's message or error_description, ``method`` and ``path`` the call.
    """

    def __init__(self, message, status=None, error=None, error_code=None, method=None, path=None, attempts=None):
        self.message = message
        self.status = status
        self.error = error
        self.error_code = error_code
        self.method = method
        self.path = path
        self.attempts = attempts
        super().__init__(str(self))

    def __str__(self):
        if not self.method:
            return self.message
        parts = [str(self.status) if self.status is not None else None, self.error]
        head = ' '.join(p for p in parts if p)
        if self.error_code and self.error_code != self.error:
            head = '%s (%s)' % (head, self.error_code) if head else self.error_code
        text = 'Auth0 API call %s %s failed' % (self.method, self.path)
        if self.attempts and self.attempts > 1:
            text += ' after %d attempts' % self.attempts
        if head:
            text += ': %s' % head
        return '%s: %s' % (text, self.message) if self.message else text

    def to_dict(self):
        """The fields a module returns on failure as ``api_error`` (no secret is ever part of them)."""
        return {
            'status': self.status,
            'error': self.error,
            'error_code': self.error_code,
            'message': self.message,
            'method': self.method,
            'path': self.path,
        }


class Auth0UnknownOutcome(Auth0Error):
    """A non-idempotent request failed in a way that leaves its effect unknown."""


def _is_loopback(host):
    if host.lower() == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_domain(value):
    """Parse ``auth0_domain`` into ``(base_url, domain)``.

    ``value`` is a tenant host (``acme.eu.auth0.com``, a custom domain, ``host:port``) or an
    ``https://`` URL with an optional port.  ``http://`` is only accepted for loopback addresses.
    ``domain`` is host[:port] as it appears in audiences (``https://DOMAIN/``); the scheme's default port
    (443 for https, 80 for http) is dropped, so ``acme.eu.auth0.com:443`` is ``acme.eu.auth0.com``.
    """
    if not value or not isinstance(value, str) or not value.strip():
        raise Auth0Error('auth0_domain is empty; set it or the AUTH0_DOMAIN environment variable.')
    text = value.strip()
    if '://' not in text:
        text = 'https://' + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise Auth0Error('auth0_domain %r is not a host name or URL.' % value) from None
    if parts.scheme not in ('https', 'http'):
        raise Auth0Error('auth0_domain %r: only https (or http for loopback addresses) can be used.' % value)
    if host and parts.path not in ('', '/'):
        raise Auth0Error('auth0_domain %r has a path (%s): give the tenant or custom domain alone, as host, host:port '
                         'or https://host[:port] with no path (for example acme.eu.auth0.com). The Management API '
                         'audience is derived from it, or set with auth0_audience.' % (value, parts.path))
    if not host or parts.username or parts.password or parts.query or parts.fragment:
        raise Auth0Error('auth0_domain %r must be a host name, host:port, or https://host[:port] with no path.' % value)
    if parts.scheme == 'http' and not _is_loopback(host):
        raise Auth0Error('auth0_domain %r uses plain http, which is only allowed for loopback addresses '
                         '(localhost, 127.0.0.0/8, ::1). Use https.' % value)
    netloc = '[%s]' % host if ':' in host else host
    if port is not None and port != DEFAULT_PORTS[parts.scheme]:
        netloc = '%s:%d' % (netloc, port)
    return '%s://%s' % (parts.scheme, netloc), netloc


def parse_audience(value):
    """Check ``auth0_audience`` (the Management API identifier to ask tokens for); returns it stripped, or None.

    It is used exactly as given: Auth0 compares it with the API's identifier, character for character.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    fix = ('set auth0_audience (or AUTH0_AUDIENCE) to the identifier of the Auth0 Management API as the dashboard '
           'shows it (Applications > APIs > Auth0 Management API), for example https://acme.eu.auth0.com/api/v2/, '
           'or leave it unset to use https://DOMAIN/api/v2/ from auth0_domain.')
    if not isinstance(value, str):
        raise Auth0Error('auth0_audience %r is not an https URL: %s' % (value, fix))
    text = value.strip()
    try:
        parts = urlsplit(text)
        good = (parts.scheme == 'https' and bool(parts.hostname) and parts.port != 0 and not parts.username
                and not parts.password and not parts.fragment and not any(c.isspace() for c in text))
    except ValueError:  # a port that is not a number
        good = False
    if not good:
        raise Auth0Error('auth0_audience %r is not an https URL: %s' % (value, fix))
    return text


def _header_wait(response, now):
    """Seconds to wait as the response asks (Retry-After, else x-ratelimit-reset), or None.

    Retry-After in seconds is taken as given.  A Retry-After date or an x-ratelimit-reset (UNIX seconds) that is
    not in the future by this host's clock gives None, never 0: the caller then uses its exponential back-off.
    """
    value = response.headers.get('retry-after')
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value).timestamp() - now
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None and when > 0:
                return when
    value = response.headers.get('x-ratelimit-reset')
    if value and response.status_code == 429:
        # A moment in the past says that this clock runs ahead of Auth0's, not that the bucket is full:
        # no wait from it then (None), so that the caller backs off exponentially instead of retrying at once.
        try:
            wait = float(value) - now
        except ValueError:
            wait = None
        if wait is not None and wait > 0:
            return wait
    return None


def _error_from_response(response, method, path, attempts=None):
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = (response.text or '').strip()
        body = {'message': text[:300]} if text else {}
    message = body.get('message') or body.get('error_description') or ''
    error = body.get('error') or response.reason_phrase or None
    error_code = body.get('errorCode')
    if not error_code and body.get('error') and (body.get('error_description') or 'statusCode' not in body):
        error_code = body.get('error')
    status = body.get('statusCode') if isinstance(body.get('statusCode'), int) else response.status_code
    return Auth0Error(message, status=status, error=error, error_code=error_code,
                      method=method, path=path, attempts=attempts)


def _unexpected(method, path, body, expected):
    """The error for a successful answer whose shape is not the one Auth0 documents."""
    if body is None:
        shape = 'an empty body'
    elif isinstance(body, dict):
        shape = 'an object (keys: %s)' % (', '.join(sorted(str(k) for k in body)[:10]) or 'none')
    else:
        shape = 'a JSON %s' % {list: 'array', str: 'string', bool: 'boolean', int: 'number',
                               float: 'number'}.get(type(body), type(body).__name__)
    return Auth0Error('expected %s, got %s. Nothing was concluded from it.' % (expected, shape),
                      error='unexpected answer', method=method, path=path)


class Auth0Client:
    """Auth0 Management API and token endpoint client.

    Management access: ``token`` (used as is, never renewed), or ``client_id`` with
    ``client_secret`` or ``private_key`` (Private Key JWT, ``signing_alg``).

    ``audience`` is the Management API identifier that tokens are asked for (``management_audience``),
    by default ``https://DOMAIN/api/v2/``.  Behind a custom domain it stays the tenant's canonical
    ``https://TENANT.REGION.auth0.com/api/v2/``, so it must be given then.  A client assertion's ``aud``
    (``assertion_audience``) is always ``https://DOMAIN/``, the host the assertion is sent to, custom domain
    included, never derived from ``audience``: Auth0's "Authenticate with Private Key JWT" page (aud is the
    URL of the tenant or of the custom domain that receives the assertion, trailing slash included; the
    custom domain is recommended when one is configured), and the SDKs do the same (auth0-python
    ``client_authentication.py``: ``https://{domain}/``; go-auth0 ``internal/client/jwt_token_source.go``:
    the domain URL plus ``/``, while the token's audience is a separate setting).
    """

    def __init__(self, domain, client_id=None, client_secret=None, private_key=None, signing_alg='RS256',
                 token=None, validate_certs=True, ca_path=None, timeout=30.0, retries=5, audience=None,
                 transport=None, sleep=None, clock=None, max_retry_wait=MAX_RETRY_WAIT):
        if not HAS_HTTPX:  # pragma: no cover - depends on the environment
            raise Auth0Error('The Python library httpx is needed.')
        try:
            httpx.Client  # pylint: disable=pointless-statement  # imports httpx now
        except ImportError as error:  # pragma: no cover - a broken installation
            raise Auth0Error('The Python library httpx cannot be imported: %s' % error) from None
        self.base_url, self.domain = parse_domain(domain)
        self._audience_given = bool(parse_audience(audience))
        self.management_audience = parse_audience(audience) or 'https://%s/api/v2/' % self.domain
        self.assertion_audience = 'https://%s/' % self.domain
        self.client_id = client_id
        self._client_secret = client_secret
        self._private_key = private_key
        self.signing_alg = signing_alg or 'RS256'
        self._token = token or None
        self._token_given = bool(token)
        self._token_renewed = False
        self.retries = max(0, int(retries))
        self.max_retry_wait = float(max_retry_wait)
        self._sleep = sleep or time.sleep
        self._clock = clock or time.time
        self.token_requests = 0
        self._lock = threading.Lock()
        self._token_lock = threading.Lock()
        self._paused_until = 0.0
        self._budget = None    # requests Auth0's bucket still allows: its last answer, less the requests sent since
        self._rate = None      # the bucket's refill rate (requests per second), from its headers
        self._in_flight = 0
        self._server_time = None  # (Auth0's Date of the last answer, as epoch seconds; time.monotonic() then)
        if not self._token_given:
            if not client_id or not (client_secret or private_key):
                self._no_access = ('No management access: set auth0_token, or auth0_client_id with '
                                   'auth0_client_secret or auth0_client_assertion_private_key '
                                   '(or AUTH0_API_TOKEN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, '
                                   'AUTH0_CLIENT_ASSERTION_PRIVATE_KEY).')
            else:
                self._no_access = None
            if private_key:
                try:
                    _keys.load_private_key(private_key)
                except ValueError as exc:
                    raise Auth0Error('auth0_client_assertion_private_key: %s' % exc) from None
                if self.signing_alg not in _keys.ALGORITHMS:
                    raise Auth0Error('auth0_client_assertion_signing_alg must be one of %s.' % ', '.join(_keys.ALGORITHMS))
        else:
            self._no_access = None
        if not validate_certs:
            verify = False
        elif ca_path:
            try:
                verify = ssl.create_default_context(cafile=ca_path)
            except (OSError, ssl.SSLError) as exc:
                raise Auth0Error('auth0_ca_path %r cannot be used: %s' % (ca_path, exc)) from None
        else:
            verify = True
        kwargs = dict(base_url=self.base_url, timeout=float(timeout), headers={'User-Agent': USER_AGENT},
                      follow_redirects=False)
        if transport is not None:
            kwargs['transport'] = transport
        else:
            kwargs['verify'] = verify
        self._http = httpx.Client(**kwargs)

    def close(self):
        self._http.close()

    def use_token(self, token):
        """Use a Management API token obtained earlier in the run (still renewed on expiry when possible)."""
        if token:
            self._token = token

    def server_now(self):
        """Auth0's clock now: the Date of its last answer plus the time since (None before any answer). A rotation's
        overlap window is measured by it, so that a controller clock that runs ahead does not shorten the window."""
        with self._lock:
            if self._server_time is None:
                return None
            epoch, seen = self._server_time
        return datetime.datetime.fromtimestamp(epoch + (time.monotonic() - seen), datetime.timezone.utc)

    @property
    def token(self):
        """The Management API token this client uses (obtained now when it has none yet)."""
        return self._management_token()

    def _pause(self, seconds):
        """Hold every thread's next request for ``seconds`` (Auth0 asked us to slow down)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def _before_request(self, retry=False):
        """Before a request: wait while Auth0 asked every request to wait, or until its bucket has a token.

        A retry has waited as its answer asked (the back-off): it is only counted.
        """
        with self._lock:
            wait = self._paused_until - self._clock()
            if self._budget is not None and self._rate:
                if self._budget < 1:
                    wait = max(wait, (1 - self._budget) / self._rate)
                self._budget -= 1
            self._in_flight += 1
        if wait > 0 and not retry:
            self._sleep(min(wait, self.max_retry_wait))

    def _learn(self, response, path):
        """After a request: what the Management API's rate-limit headers say of its bucket (the authentication
        API, /oauth/token, has limits of its own, which do not pace the Management API)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            date = response.headers.get('date') if response is not None else None
            if date:
                try:
                    self._server_time = (email.utils.parsedate_to_datetime(date).timestamp(), time.monotonic())
                except (TypeError, ValueError, IndexError, OverflowError):
                    pass
            headers = response.headers if response is not None and path.startswith('/api/v2/') else {}
            try:
                limit = int(headers['x-ratelimit-limit'])
                remaining = int(headers['x-ratelimit-remaining'])
                reset = float(headers['x-ratelimit-reset'])
            except (KeyError, TypeError, ValueError):
                return
            now = self._clock()
            if reset > now and limit > remaining:
                self._rate = (limit - remaining) / (reset - now)
            self._budget = remaining - self._in_flight

    # -- transport ------------------------------------------------------------------------------

    def _backoff(self, attempt, response=None):
        wait = _header_wait(response, self._clock()) if response is not None else None
        if wait is None:
            wait = min(self.max_retry_wait, 0.5 * (2 ** attempt)) + random.uniform(0, 0.25)
        return min(self.max_retry_wait, wait)

    def _send(self, method, path, idempotent=True, build=None, **kwargs):
        """Send one request with retries.  Returns the final response, raises Auth0Error.

        ``build`` is called before each attempt and returns extra request arguments (so a client
        assertion, which is single use, is made anew for every attempt).  A non-idempotent request
        whose effect is unknown raises Auth0UnknownOutcome instead of being repeated.
        """
        attempts = self.retries + 1
        last_error = None
        for attempt in range(attempts):
            if attempt:
                self._sleep(self._backoff(attempt - 1, last_error if isinstance(last_error, httpx.Response) else None))
            self._before_request(retry=bool(attempt))  # every thread's requests share Auth0's bucket
            args = dict(kwargs)
            response = None
            try:
                if build is not None:
                    args.update(build())
                response = self._http.request(method, path, **args)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never reached the server: safe to send again.
                last_error = exc
                continue
            except httpx.TransportError as exc:
                last_error = exc
                if not idempotent:
                    raise Auth0UnknownOutcome(
                        'The connection failed after the request was sent (%s); its outcome is unknown.'
                        % type(exc).__name__, error='timeout' if isinstance(exc, httpx.TimeoutException)
                        else 'connection error', method=method, path=path, attempts=attempt + 1) from None
                continue
            finally:
                self._learn(response, path)
            # an empty bucket with no size to pace by: hold every request until it is full again
            if response.status_code == 429 or (response.headers.get('x-ratelimit-remaining', '').strip() == '0'
                                               and 'x-ratelimit-limit' not in response.headers):
                wait = _header_wait(response, self._clock()) if response.status_code == 429 else None
                if wait is None and response.headers.get('x-ratelimit-reset'):
                    try:
                        wait = float(response.headers['x-ratelimit-reset']) - self._clock()
                    except ValueError:
                        wait = None
                if wait is not None and wait > 0:
                    self._pause(wait)
            if response.status_code in RETRY_STATUSES:
                last_error = response
                if response.status_code != 429 and not idempotent:
                    err = _error_from_response(response, method, path, attempt + 1)
                    raise Auth0UnknownOutcome(err.message, status=err.status, error=err.error,
                                              error_code=err.error_code, method=method, path=path,
                                              attempts=attempt + 1)
                continue
            return response
        if isinstance(last_error, httpx.Response):
            raise _error_from_response(last_error, method, path, attempts)
        name = type(last_error).__name__
        raise Auth0Error('No answer (%s); giving up.' % name,
                         error='timeout' if isinstance(last_error, httpx.TimeoutException) else 'connection error',
                         method=method, path=path, attempts=attempts)

    # -- tokens ---------------------------------------------------------------------------------

    def request_token(self, client_id, client_secret=None, private_key=None, alg='RS256', kid=None, audience=None):
        """Client credentials grant at /oauth/token.  Returns Auth0's JSON answer (a dict)."""
        audience = audience or self.management_audience
        base = {'grant_type': 'client_credentials', 'audience': audience, 'client_id': client_id}
        if private_key:
            def build():
                assertion = _keys.make_client_assertion(private_key, client_id, self.assertion_audience, alg=alg, kid=kid)
                data = dict(base, client_assertion_type=CLIENT_ASSERTION_TYPE, client_assertion=assertion)
                return {'data': data}
        elif client_secret:
            def build():
                return {'data': dict(base, client_secret=client_secret)}
        else:
            raise Auth0Error('A client secret or a private key is needed to request a token.')
        self.token_requests += 1
        response = self._send('POST', '/oauth/token', build=build)
        if response.status_code != 200:
            raise _error_from_response(response, 'POST', '/oauth/token')
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get('access_token'):
            raise Auth0Error('The token endpoint answered without an access_token.', status=response.status_code,
                             method='POST', path='/oauth/token')
        return body

    def _management_token(self):
        if self._token is None:
            with self._token_lock:
                if self._token is None:
                    if self._no_access:
                        raise Auth0Error(self._no_access)
                    try:
                        body = self.request_token(self.client_id, client_secret=self._client_secret,
                                                  private_key=self._private_key, alg=self.signing_alg)
                    except Auth0Error as error:
                        if error.status == 403 and NO_SERVICE.match(error.message or '') and not self._audience_given:
                            error.message += (' (no API of this tenant has the identifier %s, derived from auth0_domain %s. '
                                              'Behind a custom domain the Management API keeps the canonical identifier: '
                                              'set auth0_audience (or AUTH0_AUDIENCE) to it, for example '
                                              'https://TENANT.REGION.auth0.com/api/v2/, as the dashboard shows under '
                                              'Applications > APIs > Auth0 Management API.)' % (self.management_audience, self.domain))
                            error.args = (str(error),)
                        elif (error.status == 403 and NO_SERVICE.match(error.message or '')
                              and self.management_audience.endswith('/api/v2')):
                            # Auth0 compares the audience with the identifier character for character
                            error.message += (' (the Management API identifier ends with a slash: set auth0_audience (or '
                                              'AUTH0_AUDIENCE) to %s/ as the dashboard shows it under Applications > '
                                              'APIs > Auth0 Management API.)' % self.management_audience)
                            error.args = (str(error),)
                        raise
                    self._token = body['access_token']
        return self._token

    # -- management API ---------------------------------------------------------------------------

    def call(self, method, path, params=None, body=None, idempotent=True, expect=(200, 201, 204)):
        """Call the Management API (``path`` below /api/v2).  Returns the decoded JSON or None."""
        full = '/api/v2' + path
        kwargs = {}
        if params:
            kwargs['params'] = params
        if body is not None:
            kwargs['json'] = body

        def build():
            return {'headers': {'Authorization': 'Bearer ' + self._management_token()}}

        response = self._send(method, full, idempotent=idempotent, build=build, **kwargs)
        if response.status_code == 401 and not self._token_given and not self._token_renewed:
            # The management token expired (or was revoked) during a long run: renew it once.
            self._token_renewed = True
            self._token = None
            response = self._send(method, full, idempotent=idempotent, build=build, **kwargs)
        if response.status_code not in expect:
            raise _error_from_response(response, method, full)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise Auth0Error('The answer is not JSON.', status=response.status_code, method=method, path=full) from None

    @staticmethod
    def _client_path(client_id):
        if not client_id:
            raise Auth0Error('A client_id is needed.')
        return '/clients/%s' % quote(client_id, safe='')

    def get_client(self, client_id, fields=None):
        """Read one client, only ``fields`` when given (one GET)."""
        params = {'fields': ','.join(fields), 'include_fields': 'true'} if fields else None
        return self.call('GET', self._client_path(client_id), params=params)

    def list_clients(self, fields=None):
        """Read every client of the tenant, page by page, without the global client.

        The global client (``is_global: true``, "All Applications") holds tenant-wide settings, not an
        application: it is left out.  Clients of every ``app_type`` (``resource_server`` ones included) are
        returned as Auth0 gives them, whatever fields they lack.  When ``fields`` are given, ``is_global`` is
        asked for too and removed again unless it was asked for.
        """
        asked = list(fields or [])
        if asked and 'is_global' not in asked:
            asked.append('is_global')
        clients = []
        page = 0
        read = 0
        while True:
            params = {'page': page, 'per_page': PAGE_SIZE, 'include_totals': 'true'}
            if asked:
                params.update({'fields': ','.join(asked), 'include_fields': 'true'})
            body = self.call('GET', '/clients', params=params)
            if isinstance(body, list):
                # Some tenants ignore include_totals: a bare list, paged the same way.
                batch, total = body, None
            elif isinstance(body, dict) and isinstance(body.get('clients'), list):
                batch, total = body['clients'], body.get('total')
            else:
                raise _unexpected('GET', '/api/v2/clients', body, 'a list of clients, or an object with one in "clients"')
            for client in batch:
                if not isinstance(client, dict):
                    raise _unexpected('GET', '/api/v2/clients', body, 'client objects in the list')
                if client.get('is_global') is True:
                    continue
                if fields and 'is_global' not in fields:
                    client = dict((k, v) for k, v in client.items() if k != 'is_global')
                clients.append(client)
            read += len(batch)
            page += 1
            if not batch or len(batch) < PAGE_SIZE or (isinstance(total, int) and read >= total):
                return clients

    def update_client(self, client_id, body):
        return self.call('PATCH', self._client_path(client_id), body=body)

    def list_credentials(self, client_id):
        """Every credential record of a client (one GET; the API does not page this list)."""
        path = self._client_path(client_id) + '/credentials'
        body = self.call('GET', path)
        if not isinstance(body, list):
            # Never "no credentials": a plan built on that would see every key as gone.
            raise _unexpected('GET', '/api/v2' + path, body, 'a list of credentials')
        return body

    def create_credential(self, client_id, body):
        """Create a credential.  Never repeated blindly: after an unknown outcome, read back by kid (the kid sent,
        or the one Auth0 gives a public key sent without one: its RFC 7638 thumbprint)."""
        path = self._client_path(client_id) + '/credentials'
        kid = body.get('kid')
        if not kid and body.get('credential_type', 'public_key') == 'public_key' and body.get('pem'):
            try:
                kid = _keys.kid_for_public_key(body['pem'])
            except ValueError:  # not a key this collection reads: no read-back
                kid = None
        attempts = self.retries + 1
        unknown = None
        for dummy in range(attempts):
            try:
                return self.call('POST', path, body=body, idempotent=False)
            except Auth0UnknownOutcome as exc:
                unknown = exc
            except Auth0Error as exc:
                # A POST whose first try did land answers "already exist" to the second try.
                if unknown is None or exc.status != 400 or 'already exist' not in (exc.message or ''):
                    raise
            if not kid:
                raise Auth0Error('%s Read the credential list to see whether it was created.' % unknown.message,
                                 status=unknown.status, error=unknown.error, error_code=unknown.error_code,
                                 method=unknown.method, path=unknown.path)
            for credential in self.list_credentials(client_id):
                if credential.get('kid') == kid:
                    return credential
        raise Auth0Error('The credential could not be created after %d attempts; the last outcome was unknown '
                         'and reading back found no credential with kid %s.' % (attempts, kid),
                         status=unknown.status, error=unknown.error, method='POST', path='/api/v2' + path,
                         attempts=attempts)

    def update_credential(self, client_id, credential_id, body):
        path = '%s/credentials/%s' % (self._client_path(client_id), quote(credential_id, safe=''))
        return self.call('PATCH', path, body=body)

    def delete_credential(self, client_id, credential_id):
        path = '%s/credentials/%s' % (self._client_path(client_id), quote(credential_id, safe=''))
        self.call('DELETE', path)
