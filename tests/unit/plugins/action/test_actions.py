# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin of credential_key: the same answers as the module, no module process."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.playbook.play_context import PlayContext

from ansible_collections.keyops.auth0.plugins.action import credential_key as key_action
from ansible_collections.keyops.auth0.plugins.action import credential_rotation as rotation
from ansible_collections.keyops.auth0.plugins.module_utils import _keys


def action(plugin, args, check_mode=False):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    connection = MagicMock()
    connection._shell.tmpdir = None
    module = plugin.ActionModule(task, connection, PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    module._load_name = 'keyops.auth0.' + plugin.__name__.rsplit('.', 1)[-1]  # set by the plugin loader in a real run
    module._execute_module = MagicMock(side_effect=AssertionError('no module process may be started'))
    module._low_level_execute_command = MagicMock(side_effect=AssertionError('no command may be run'))
    return module


def test_key_is_made_in_process_and_matches_its_kid():
    result = action(key_action, {'size': 2048}).run(task_vars={})
    assert result['changed'] is False and result['size'] == 2048
    assert result['private_key'].startswith('-----BEGIN PRIVATE KEY-----')
    assert result['kid'] == _keys.kid_for_public_key(result['public_key'])
    assert _keys.public_key_pem(result['private_key']) == result['public_key']
    again = action(key_action, {}, check_mode=True).run(task_vars={})
    assert again['size'] == 3072 and again['kid'] != result['kid']


@pytest.mark.parametrize('args, message', [
    ({'size': 1024}, 'size must be 2048 to 4096 bits'),
    ({'size': 'big'}, 'size'),
    ({'bits': 2048}, 'bits'),
])
def test_key_rejects_bad_input(args, message):
    with pytest.raises(AnsibleActionFail, match=message):
        action(key_action, args).run(task_vars={})


CANONICAL = 'https://acme.eu.auth0.com/api/v2/'


def test_the_rotation_action_takes_and_passes_auth0_audience(api, monkeypatch):
    """The role's Auth0 steps (action plugin credential_rotation) take auth0_audience (and AUTH0_AUDIENCE) from the
    same spec, and build their Auth0 client with it."""
    monkeypatch.setenv('AUTH0_AUDIENCE', CANONICAL)
    validated = ArgumentSpecValidator(rotation.argument_spec()).validate(
        {'step': 'plan', 'auth0_domain': 'login.example.com', 'auth0_token': 't'})
    assert not validated.error_messages, validated.error_messages
    assert validated.validated_parameters['auth0_audience'] == CANONICAL
    action = rotation.ActionModule.__new__(rotation.ActionModule)
    action._args = validated.validated_parameters  # pylint: disable=protected-access
    action.client_options = {'transport': api.transport, 'sleep': api.sleeps.append}
    client = action._auth0()  # pylint: disable=protected-access
    try:
        assert client.management_audience == CANONICAL
        assert client.assertion_audience == 'https://login.example.com/'
    finally:
        client.close()
    action._args = dict(validated.validated_parameters, auth0_audience='http://nope/')  # pylint: disable=protected-access
    with pytest.raises(AnsibleActionFail, match='auth0_audience .* is not an https URL'):
        action._auth0()  # pylint: disable=protected-access
