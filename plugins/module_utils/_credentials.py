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
