# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure helpers over credential objects: expiry dates, references, enabled lists, where a credential is used,
and what a refusal of the token endpoint proves about a key.

PRIVATE to the keyops.auth0 collection: names and behaviour may change without notice.
No HTTP here; every function works on the dicts the Management API returns.
"""

from __future__ import annotations

import datetime
import math
import re

_ISO = re.compile(
    r'^(\d{4})-(\d{2})-(\d{2})'
    r'(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?'
    r'\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$'
)
_UTC = datetime.timezone.utc

CREDENTIAL_METHODS = ('private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth')
#: Fields a credential object may carry; anything else in a response is dropped.
CREDENTIAL_FIELDS = ('id', 'name', 'kid', 'alg', 'credential_type', 'created_at', 'updated_at', 'expires_at')
#: Every field of a client that lists credential ids (Management API v2 reference, GET/PATCH /clients/{id}: the
#: schemas that hold ``CredentialId`` items): each credential method of client_authentication_methods, and
#: signed_request_object.credentials, the keys of JWT-secured Authorization Requests (JAR). A credential listed
#: in any of them is in use: the collection never frees, retires or deletes it on its own.
CREDENTIAL_USES = CREDENTIAL_METHODS + ('signed_request_object',)
#: The fields of a client that describe_client uses (what a module asks GET /clients for).
CLIENT_FIELDS = ('client_id', 'name', 'client_authentication_methods', 'token_endpoint_auth_method', 'signed_request_object')


class CredentialReferenceError(ValueError):
    """A credential reference that matches nothing, or more than one credential."""


def parse_datetime(value):
    """Parse an ISO 8601 date or date-time into an aware UTC datetime (no zone means UTC).

    Raises ValueError with a clear message for anything else.
    """
    if isinstance(value, datetime.datetime):
        parsed = value if value.tzinfo else value.replace(tzinfo=_UTC)
        return parsed.astimezone(_UTC)
    text = str(value).strip() if value is not None else ''
    match = _ISO.match(text)
    if not match:
        raise ValueError('%r is not an ISO 8601 date or date-time (for example 2027-01-31T00:00:00Z).' % (value,))
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or '0')[:6].ljust(6, '0'))
    try:
        parsed = datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                                   int(second or 0), micro, tzinfo=_UTC)
    except ValueError as exc:
        raise ValueError('%r is not a valid date: %s.' % (value, exc)) from None
    if zone and zone not in ('Z', 'z'):
        sign = -1 if zone[0] == '-' else 1
        digits = zone[1:].replace(':', '')
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        parsed = parsed - sign * offset
    return parsed


def format_datetime(value):
    """Auth0's form of a date-time: UTC, milliseconds, ``Z``."""
    value = value.astimezone(_UTC)
    return value.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (value.microsecond // 1000)


def normalize_expires_at(value, now=None):
    """Validate a desired ``expires_at`` (must be in the future) and return it in Auth0's form."""
    parsed = parse_datetime(value)
    now = now or datetime.datetime.now(_UTC)
    if parsed <= now:
        raise ValueError('expires_at %s is not in the future.' % format_datetime(parsed))
    return format_datetime(parsed)


def same_instant(first, second):
    """Whether two expires_at values denote the same millisecond (None equals only None)."""
    if not first or not second:
        return not first and not second
    try:
        return format_datetime(parse_datetime(first)) == format_datetime(parse_datetime(second))
    except ValueError:
        return first == second


def days_until(expires_at, now=None):
    """Whole days from now until ``expires_at`` (negative once past, rounded down), or None."""
    if not expires_at:
        return None
    try:
        when = parse_datetime(expires_at)
    except ValueError:
        return None
    now = now or datetime.datetime.now(_UTC)
    return int(math.floor((when - now).total_seconds() / 86400.0))


#: The status of a credential in an expiry report, most urgent first (see credential_status).
STATUSES = ('expired', 'due', 'unused', 'ok')


def due_reasons(credential, rotate_before_days, max_age_days, now):
    """Why a credential is due for rotation under the credential_rotation role's rules, as phrases (empty: not due).

    Due when it expires within ``rotate_before_days`` days (its ``days_until_expiry`` when the dict carries it,
    else counted from ``expires_at`` at ``now``), or when ``max_age_days`` is above 0 and it is at least that many
    days old (from ``created_at``). The rotation engine's plan and the expiry report both decide with this function,
    so what the report calls due is what the role rotates.
    """
    reasons = []
    days = credential.get('days_until_expiry') if 'days_until_expiry' in credential else days_until(credential.get('expires_at'), now=now)
    if days is not None and days <= rotate_before_days:
        reasons.append('expires in %s days (rotate_before_days %d)' % (days, rotate_before_days))
    age = age_days(credential.get('created_at'), now)
    if max_age_days > 0 and age is not None and age >= max_age_days:
        reasons.append('is %d days old (max_age_days %d)' % (int(age), max_age_days))
    return reasons


def age_days(value, now):
    """Days (fractional) from ``value`` (an ISO 8601 date-time) to ``now``, or None when it is no date."""
    try:
        return (now - parse_datetime(value)).total_seconds() / 86400.0
    except (TypeError, ValueError):
        return None


def credential_status(credential, rotate_before_days, max_age_days, now):
    """(status, reason) of one credential as auth0_client_credential_info describes it, at ``now``.

    ``expired``: its expires_at is past (Auth0 no longer accepts it). ``unused``: no field of its client lists it
    (``in_use`` false: enabled for no authentication method and not a JAR key); it can be deleted. ``due``: the
    role's rules call it due (due_reasons). ``ok``: none of these. The first that holds, in that order.
    """
    expires = credential.get('expires_at')
    days = days_until(expires, now=now)
    if days is not None and parse_datetime(expires) <= now:
        return 'expired', 'expired on %s' % format_datetime(parse_datetime(expires))[:10]
    if not credential.get('in_use', credential.get('enabled')):
        return 'unused', 'enabled for no authentication method and not used for signed requests'
    reasons = due_reasons(dict(credential, days_until_expiry=days), rotate_before_days, max_age_days, now)
    if reasons:
        return 'due', '; '.join(reasons)
    if days is not None:
        return 'ok', 'expires in %d days' % days
    return 'ok', 'never expires' if not expires else 'expires_at %r is no date-time; check the credential' % (expires,)


def reference_view(credential):
    """How lists of enabled credentials are returned: id, kid and name."""
    return {'id': credential.get('id'), 'kid': credential.get('kid'), 'name': credential.get('name')}


def describe_reference(reference):
    if isinstance(reference, dict):
        return ', '.join('%s=%s' % (k, v) for k, v in sorted(reference.items()) if v is not None)
    return str(reference)


def resolve_reference(reference, credentials):
    """Find the one credential a reference points to.

    A string is matched as a credential id, else as a kid, else as a name; a dict names exactly one of
    ``id``, ``kid`` or ``name``.  Raises CredentialReferenceError when nothing or more than one credential matches.
    """
    if isinstance(reference, dict):
        given = [(key, reference.get(key)) for key in ('id', 'kid', 'name') if reference.get(key) not in (None, '')]
        extra = set(reference) - set(('id', 'kid', 'name'))
        if len(given) != 1 or extra:
            raise CredentialReferenceError('A credential reference must name exactly one of id, kid or name, not %r.' % (reference,))
        orders = [given[0][0]]
        value = given[0][1]
    else:
        value = reference
        orders = ['id', 'kid', 'name']
    if not isinstance(value, str) or not value:
        raise CredentialReferenceError('A credential reference must be a non-empty string, not %r.' % (value,))
    for key in orders:
        found = [c for c in credentials if c.get(key) == value]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            ids = ', '.join(sorted(c.get('id') or '?' for c in found))
            raise CredentialReferenceError(
                'The reference %r is ambiguous: %d credentials have the %s %r (ids %s); refer to one by id or kid.'
                % (describe_reference(reference), len(found), key, value, ids))
    raise CredentialReferenceError(
        'No credential of the client matches %r (looked at %s).' % (describe_reference(reference), ', '.join(orders)))


def credential_view(credential):
    """The public fields of a credential object, every key present (None when unset); with ``thumbprint_sha256``
    for an x509_cert credential and ``subject_dn`` for a cert_subject_dn one (how Auth0 identifies those)."""
    out = dict((key, credential.get(key)) for key in CREDENTIAL_FIELDS)
    if credential.get('credential_type') == 'x509_cert' or credential.get('thumbprint_sha256'):
        out['thumbprint_sha256'] = credential.get('thumbprint_sha256')
    if credential.get('credential_type') == 'cert_subject_dn' or credential.get('subject_dn'):
        out['subject_dn'] = credential.get('subject_dn')
    return out


def enabled_credentials(client):
    """Return (method, [credential ids]) of a client's client_authentication_methods, or (None, [])."""
    methods = client.get('client_authentication_methods') if isinstance(client, dict) else None
    if not isinstance(methods, dict):
        return None, []
    for method in CREDENTIAL_METHODS:
        if isinstance(methods.get(method), dict):
            return method, [c.get('id') for c in methods[method].get('credentials') or [] if isinstance(c, dict)]
    return None, []


def _listed_ids(part):
    """The credential ids of one ``{"credentials": [{"id": ...}]}`` part of a client (none for anything else)."""
    entries = part.get('credentials') if isinstance(part, dict) else None
    return [c.get('id') for c in entries if isinstance(c, dict) and c.get('id')] if isinstance(entries, list) else []


def credential_uses(client):
    """{credential id: [the client fields that list it, in CREDENTIAL_USES order]}.

    Every credential method of client_authentication_methods is looked at, not only the one that
    enabled_credentials() reports, and signed_request_object (JAR); a field Auth0 left out or set to null
    lists nothing.
    """
    uses = {}
    if not isinstance(client, dict):
        return uses
    methods = client.get('client_authentication_methods')
    parts = [(m, methods.get(m)) for m in CREDENTIAL_METHODS] if isinstance(methods, dict) else []
    parts.append(('signed_request_object', client.get('signed_request_object')))
    for place, part in parts:
        for ident in _listed_ids(part):
            if place not in uses.setdefault(ident, []):
                uses[ident].append(place)
    return uses


def describe_client(client, credentials, now=None):
    """A client with its credentials, as auth0_client_credential_info returns it (see client_from_description).

    Each credential carries ``enabled`` and ``method`` (the authentication method that enables it), and
    ``used_by`` (every client field that lists it: the credential methods and ``signed_request_object``) with
    ``in_use`` (whether any does): a credential only JAR uses is not enabled, and still in use.
    """
    method, enabled = enabled_credentials(client)
    uses = credential_uses(client)
    listed = []
    for credential in credentials:
        view = credential_view(credential)
        is_enabled = credential.get('id') in enabled
        used_by = uses.get(credential.get('id'), [])
        view.update(enabled=is_enabled, method=method if is_enabled else None, in_use=bool(used_by), used_by=used_by,
                    days_until_expiry=days_until(credential.get('expires_at'), now=now))
        listed.append(view)
    return {
        'client_id': client.get('client_id'),
        'name': client.get('name'),
        'authentication_method': method or client.get('token_endpoint_auth_method'),
        'credentials': listed,
    }


def client_from_description(described, client_id):
    """Rebuild (client, credentials) as the Management API returns them from a describe_client() result.

    Used where a client's state is kept as such a description (the rotation engine's plan) and must be
    turned back into API objects.  Raises ValueError when it is not such a description of ``client_id``.
    """
    if not isinstance(described, dict) or not isinstance(described.get('credentials'), list):
        raise ValueError('A client description must be a client as auth0_client_credential_info returns it (one '
                         'element of its clients), with the list of its credentials.')
    if described.get('client_id') != client_id:
        raise ValueError('The client description is of client %r, not %s; give the state of the same client.'
                         % (described.get('client_id'), client_id))
    credentials = []
    for credential in described['credentials']:
        if not isinstance(credential, dict) or not credential.get('id'):
            raise ValueError('The client description has a credential without an id (%r).' % (credential,))
        credentials.append(credential_view(credential))
    method = described.get('authentication_method')
    enabled = [c['id'] for c in described['credentials'] if c.get('enabled')]
    if method in CREDENTIAL_METHODS:
        client = {'client_id': client_id, 'name': described.get('name'), 'token_endpoint_auth_method': None,
                  'client_authentication_methods': {method: {'credentials': [{'id': i} for i in enabled]}}}
    elif enabled:
        raise ValueError('The client description lists enabled credentials but its authentication_method is %r, not a '
                         'credential method.' % (method,))
    else:
        client = {'client_id': client_id, 'name': described.get('name'), 'client_authentication_methods': None,
                  'token_endpoint_auth_method': method}
    jar = [c['id'] for c in described['credentials'] if 'signed_request_object' in (c.get('used_by') or [])]
    if jar:
        client['signed_request_object'] = {'credentials': [{'id': i} for i in jar]}
    return client, credentials


# -- what a refusal of /oauth/token proves ------------------------------------------------------------------

#: How Auth0 words the 403 ``access_denied`` it answers once it has authenticated the client, when no client
#: grant covers the audience ('Client is not authorized to access "https://.../api/v2/". You need to create a
#: "client-grant" associated to this API...', older tenants '... You might probably want to create ...') or
#: the scopes asked ('Client has not been granted scopes: ...'). Only these prove that Auth0 accepted the key.
MISSING_GRANT = re.compile(r'^\s*Client (is not authorized to access|has not been granted scopes)\b', re.IGNORECASE)
#: Throttling of the token endpoint: 429 ``too_many_requests`` ("Global limit has been reached"), Auth0's
#: ``api_limit``, and a 403 ``{"error": "Rate limit reached", "error_description": "Access Denied"}`` that
#: public SDKs handle (poap-xyz/poap-sdk pull request 221, 2025).
THROTTLED = re.compile(r'rate.?limit|too.?many.?requests|global limit|api_limit', re.IGNORECASE)
#: A 403 ``access_denied`` for an audience that no API of the tenant has ("Service not found: AUDIENCE"), for
#: example the Management API asked for through a custom domain. It says nothing of the key, and waiting does not
#: change it.
NO_SERVICE = re.compile(r'^\s*Service not found\b', re.IGNORECASE)


def token_refusal(status, error=None, description=None):
    """What a refused token request says of the key that signed it (or the secret sent).

    ``missing_grant``: a 403 ``access_denied`` naming a missing client grant, given after Auth0 authenticated the
    client, so the key works (the proof, like a token); ``throttled``: the request was rate limited and proves
    nothing; ``no_service``: no API has the audience asked for (no proof, and asking again will not change it);
    ``refused``: anything else (``invalid_client``, another 403, a 5xx, no answer), no proof either.
    """
    texts = ' '.join(str(t) for t in (error, description) if t)
    if status == 429 or THROTTLED.search(texts):
        return 'throttled'
    if status == 403 and str(error or '').lower() == 'access_denied' and MISSING_GRANT.match(str(description or '')):
        return 'missing_grant'
    if status == 403 and NO_SERVICE.match(str(description or '')):
        return 'no_service'
    return 'refused'


def no_service_failure(error, audience):
    """Why a token refused with "Service not found" for ``audience`` proves nothing, and what to do: the error's
    text, then the advice."""
    return ('%s. No API of the tenant has the identifier %s, so Auth0 gives no token for it (that says nothing of the '
            'key). Check the audience; the Management API keeps its canonical identifier '
            'https://TENANT.REGION.auth0.com/api/v2/ behind a custom domain: set auth0_audience (or AUTH0_AUDIENCE) '
            'to it.' % (str(error).rstrip('.'), audience))


def token_failure(refusals, attempts, last):
    """Why ``attempts`` token requests proved nothing: ``refusals`` are token_refusal() of each answer, ``last``
    the text of the last one. Names the throttling when there was some."""
    throttled = refusals.count('throttled')
    if refusals and refusals[-1] == 'throttled':
        why = ('the token endpoint throttled the request (rate limit) %s; a throttled answer proves nothing about the key'
               % ('on every attempt' if throttled == len(refusals) else 'on %d of them, the last included' % throttled))
    else:
        why = 'no answer was a token or a refusal naming a missing client grant'
        if throttled:
            why += ' (%d of them throttled by the rate limit)' % throttled
    return 'no proof after %d attempt%s: %s. Last answer: %s' % (attempts, '' if attempts == 1 else 's', why, last)
