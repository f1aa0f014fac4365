# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Consumer checks: ask the applications which key they use, to retire the old credential before the overlap
window ends once every one of them uses the new key.

PRIVATE to the keyops.auth0 collection: names and behaviour may change without notice.

A check is an http(s) URL whose answer names the kid the consumer signs with: a JSON object with ``kid`` (or
another member, ``kid_field``), or the kid as plain text. The requests go through a small httpx client of their
own, never the Auth0 client (no Auth0 token may reach an application). httpx is imported on first use.
"""

from __future__ import annotations

import json

TIMEOUT = 5.0
MAX_ANSWER = 4096


def check_errors(checks):
    """What is wrong with a list of consumer checks (messages without the option's name), or []."""
    if checks in (None, '', []):
        return []
    if not isinstance(checks, list):
        return ['must be a list of URLs (or of {url, kid_field, ca_path})']
    errors = []
    for check in checks:
        url = check.get('url') if isinstance(check, dict) else check
        if not isinstance(url, str) or not url.startswith(('http://', 'https://')):
            errors.append('%r is no http(s) URL' % (url,))
        elif isinstance(check, dict) and set(check) - {'url', 'kid_field', 'ca_path'}:
            errors.append('%s has unknown keys %s (url, kid_field, ca_path)' % (url, ', '.join(sorted(set(check) - {'url', 'kid_field', 'ca_path'}))))
    return errors


def _kid(text, field):
    text = text.strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text if text and len(text) <= 255 and ' ' not in text else None
    if isinstance(data, dict):
        value = data.get(field)
        return value if isinstance(value, str) else None
    return data if isinstance(data, str) else None


def ask(checks, transport=None):
    """[(url, kid or None, problem or None)] for each check, asked one after the other."""
    import httpx  # pylint: disable=import-outside-toplevel
    out = []
    for check in checks or []:
        check = check if isinstance(check, dict) else {'url': check}
        url = check['url']
        options = {'timeout': TIMEOUT, 'follow_redirects': False}
        if transport is not None:
            options['transport'] = transport
        if check.get('ca_path'):
            options['verify'] = check['ca_path']
        try:
            with httpx.Client(**options) as client:
                response = client.get(url, headers={'Accept': 'application/json, text/plain'})
        except httpx.HTTPError as error:
            out.append((url, None, 'no answer (%s)' % type(error).__name__))
            continue
        if response.status_code != 200:
            out.append((url, None, 'answered %d' % response.status_code))
            continue
        kid = _kid(response.text[:MAX_ANSWER], check.get('kid_field') or 'kid')
        out.append((url, kid, None if kid else 'named no kid'))
    return out


def all_use(answers, kid):
    """Whether every consumer answered with ``kid`` (False without any check)."""
    return bool(answers) and all(found == kid for dummy, found, dummy2 in answers)


def describe(answers, kid):
    """The consumers that do not use ``kid`` yet, in words."""
    return '; '.join('%s %s' % (url, problem or 'uses the key %s' % found) for url, found, problem in answers
                     if found != kid) or 'every consumer uses the key %s' % kid
