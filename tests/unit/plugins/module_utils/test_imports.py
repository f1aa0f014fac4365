# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module run imports: every module process pays for it (see docs/performance.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# A fresh interpreter, as a module run is: in this test process httpx and cryptography are loaded already.
PROBE = r'''
import json, sys
from ansible_collections.keyops.auth0.plugins.module_utils import _client, _keys
from ansible_collections.keyops.auth0.plugins.module_utils import _engine, _fleet, _marker, _plan
at_import = 'httpx' in sys.modules
client = _client.Auth0Client('tenant.example.com', token='t')
loaded = {name: name in sys.modules for name in ('httpx', 'httpx._main', 'rich', 'click', 'cryptography.x509')}
client.close()
try:
    import httpx._main
    cli_later = callable(httpx._main.main)
except ImportError:  # the CLI's dependencies are not installed here
    cli_later = None
print(json.dumps({'loaded': loaded, 'has_httpx': _client.HAS_HTTPX, 'cli_later': cli_later, 'at_import': at_import}))
'''


def _probe():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, '-c', PROBE], check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)


def test_httpx_is_imported_without_its_command_line_interface():
    pytest.importorskip('rich')  # only measurable where the CLI's dependencies are installed
    pytest.importorskip('click')
    result = _probe()
    assert result['has_httpx'] is True
    assert result['loaded']['httpx'] is True
    assert result['loaded']['httpx._main'] is False
    assert result['loaded']['rich'] is False
    assert result['loaded']['click'] is False
    # the CLI was hidden only while httpx was first imported
    assert result['cli_later'] is True


def test_httpx_is_imported_when_the_first_client_is_made():
    """The controller-side steps import the engine in every host task; most of them never call Auth0."""
    result = _probe()
    assert result['at_import'] is False and result['loaded']['httpx'] is True and result['has_httpx'] is True


def test_x509_is_imported_only_for_certificates():
    assert _probe()['loaded']['cryptography.x509'] is False
