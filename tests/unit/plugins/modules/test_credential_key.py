# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.keyops.auth0.plugins.module_utils import _keys
from ansible_collections.keyops.auth0.plugins.modules import credential_key
from ansible_collections.keyops.auth0.tests.unit.utils import patch_module_args


def run(capsys, args, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            credential_key.main()
    return json.loads(capsys.readouterr().out)


def test_generates_a_key_pair_with_its_thumbprint(capsys):
    result = run(capsys, {'size': 2048})
    assert result['changed'] is False
    assert result['size'] == 2048
    assert result['private_key'].startswith('-----BEGIN PRIVATE KEY-----')
    assert result['public_key'] == _keys.public_key_pem(result['private_key'])
    assert result['kid'] == _keys.kid_for_public_key(result['private_key'])
    assert _keys.load_private_key(result['private_key']).key_size == 2048


def test_default_size_is_3072_and_check_mode_still_returns_a_key(capsys):
    result = run(capsys, {}, check_mode=True)
    assert result['size'] == 3072
    assert _keys.load_public_key(result['public_key']).key_size == 3072


def test_each_run_returns_a_new_key(capsys):
    first = run(capsys, {'size': 2048})
    second = run(capsys, {'size': 2048})
    assert first['kid'] != second['kid']


@pytest.mark.parametrize('size', [1024, 2047, 4097, 8192])
def test_sizes_outside_auth0_limits_fail(capsys, size):
    result = run(capsys, {'size': size})
    assert result['failed'] is True
    assert '2048 to 4096' in result['msg']


def test_missing_cryptography_is_reported(capsys, monkeypatch):
    monkeypatch.setattr(credential_key, 'HAS_CRYPTOGRAPHY', False)
    result = run(capsys, {})
    assert result['failed'] is True
    assert 'cryptography' in result['msg']
