# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Consumer checks (module_utils/_consumers.py): which key each application says it uses."""

from __future__ import annotations

import httpx
import pytest

from ansible_collections.keyops.auth0.plugins.module_utils import _consumers

NEW = 'kid_new_0000000001'


def transport(answers):
    seen = []

    def handle(request):
        seen.append(request)
        status, body = answers[str(request.url)]
        if status is None:
            raise httpx.ConnectError('refused', request=request)
        return httpx.Response(status, text=body)
    handler = httpx.MockTransport(handle)
    handler.seen = seen
    return handler


def test_each_consumer_says_its_kid():
    mock = transport({'https://a/kid': (200, NEW), 'https://b/health': (200, '{"kid": "%s", "ok": true}' % NEW),
                      'https://c/x': (200, '{"signing_kid": "%s"}' % NEW)})
    answers = _consumers.ask(['https://a/kid', {'url': 'https://b/health'}, {'url': 'https://c/x', 'kid_field': 'signing_kid'}],
                             transport=mock)
    assert answers == [('https://a/kid', NEW, None), ('https://b/health', NEW, None), ('https://c/x', NEW, None)]
    assert _consumers.all_use(answers, NEW)
    assert all('authorization' not in r.headers for r in mock.seen), 'no credential goes to an application'


def test_one_consumer_behind_keeps_the_window_open():
    mock = transport({'https://a/kid': (200, 'kid_old'), 'https://b/kid': (503, 'down'), 'https://c/kid': (None, ''),
                      'https://d/kid': (200, '{"status": "ok"}')})
    answers = _consumers.ask(['https://a/kid', 'https://b/kid', 'https://c/kid', 'https://d/kid'], transport=mock)
    assert not _consumers.all_use(answers, NEW)
    assert _consumers.describe(answers, NEW) == ('https://a/kid uses the key kid_old; https://b/kid answered 503; '
                                                 'https://c/kid no answer (ConnectError); https://d/kid named no kid')
    assert not _consumers.all_use([], NEW)


@pytest.mark.parametrize('checks, errors', [
    ([], []), (None, []), (['https://a/kid', {'url': 'http://b/kid', 'kid_field': 'k'}], []),
    ('https://a/kid', ['must be a list of URLs (or of {url, kid_field, ca_path})']),
    (['ftp://a'], ["'ftp://a' is no http(s) URL"]),
    ([{'url': 'https://a', 'token': 'x'}], ['https://a has unknown keys token (url, kid_field, ca_path)']),
])
def test_check_errors(checks, errors):
    assert _consumers.check_errors(checks) == errors
