# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure helpers over credential objects: expiry dates, references, enabled lists.

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
#: The fields of a client that describe_client uses (what a module asks GET /clients for).
CLIENT_FIELDS = ('client_id', 'name', 'client_authentication_methods', 'token_endpoint_auth_method')


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
    """The public fields of a credential object, every key present (None when unset)."""
    return dict((key, credential.get(key)) for key in CREDENTIAL_FIELDS)


def enabled_credentials(client):
    """Return (method, [credential ids]) of a client's client_authentication_methods, or (None, [])."""
    methods = client.get('client_authentication_methods') if isinstance(client, dict) else None
    if not isinstance(methods, dict):
        return None, []
    for method in CREDENTIAL_METHODS:
        if isinstance(methods.get(method), dict):
            return method, [c.get('id') for c in methods[method].get('credentials') or [] if isinstance(c, dict)]
    return None, []


def describe_client(client, credentials, now=None):
    """A client with its credentials, as auth0_client_credential_info returns it (see client_from_description)."""
    method, enabled = enabled_credentials(client)
    listed = []
    for credential in credentials:
        view = credential_view(credential)
        is_enabled = credential.get('id') in enabled
        view.update(enabled=is_enabled, method=method if is_enabled else None,
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
    return client, credentials
