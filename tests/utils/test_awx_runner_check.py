# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secret scan of the AWX runner check finds a seeded leak of each needle."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awx_runner_check  # noqa: E402  pylint: disable=wrong-import-position,import-error

NEEDLES = {'management secret': 'mgmt-secret-1234', 'private key': 'PRIVATE KEY-----', 'Vault token': 'root-abcdefgh',
           'AWS secret access key': 'aws-secret-xyz'}


def test_a_clean_output_passes():
    assert awx_runner_check.leaks('{"event": "runner_on_ok", "kid": "abc"}', NEEDLES) == []


@pytest.mark.parametrize('what', sorted(NEEDLES))
def test_each_seeded_leak_fails_the_scan(what):
    text = '{"event": "runner_on_ok", "stdout": "... %s ..."}' % NEEDLES[what]
    assert awx_runner_check.leaks(text, NEEDLES) == ['the job events or stdout hold the %s' % what]


def test_a_seeded_token_fails_the_scan():
    token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhcHBAY2xpZW50cyJ9.' + 'A' * 43
    assert awx_runner_check.leaks('Bearer ' + token, NEEDLES) == ['the job events or stdout hold a JWT (assertion or token)']
