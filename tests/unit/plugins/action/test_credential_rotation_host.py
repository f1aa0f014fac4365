# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host steps of the credential_rotation role (action plugin credential_rotation_host): read, stage, switch, rollback.

The modules the plugin runs on the host are faked: each test gives their answers in order and checks what was asked.
Auth0 (the check before each promotion batch) is faked by declared calls.
"""

from __future__ import annotations

import base64
import json
import os
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.playbook.play_context import PlayContext

from ansible_collections.keyops.auth0.plugins.action import credential_rotation_host as host_step
from ansible_collections.keyops.auth0.tests.unit.utils import CLIENT, CLIENT_PATH, DOMAIN, client_with

KEY_FILE = 'keyops.auth0.credential_key_file'
COMMAND = 'ansible.legacy.command'
KEY_PATH = '/etc/app/key.pem'
PATHS = {'path': KEY_PATH, 'staged_path': KEY_PATH + '.next', 'metadata_path': KEY_PATH + '.json'}
OLD_KID = 'kid_old_0000000001'
NEW_KID = 'kid_new_0000000001'
REFUSAL = 'Host web3 uses client %s but is not in this play.' % CLIENT
#: What every host has from the role's defaults/main.yml (credential_name rendered).
ROLE_DEFAULTS = {
    'key_size': 3072, 'alg': 'RS256', 'expires_in_days': 365, 'name_prefix': 'keyops-rotation',
    'credential_name': 'keyops-rotation-20260601T000000Z', 'force': False, 'rotate_before_days': 30, 'max_age_days': 0,
    'allow_secret_switch': False, 'staged_suffix': '.next', 'key_owner': '', 'key_group': '', 'key_mode': '0600',
    'metadata': True, 'metadata_path': '', 'metadata_mode': '0644', 'keep_backups': 3, 'serial': 0, 'throttle': 0,
    'reload_command': '', 'notify': [], 'health_check_command': '', 'health_check_url': '', 'health_check_retries': 5,
    'health_check_delay': 2, 'rollback_on_failure': True, 'verify_audience': '', 'verify_host_token': False, 'retire': True,
    'auth0_token': '', 'allow_partial': False, 'replace_unusable_key': False, 'stale_marker_minutes': 120,
    'take_over_stale_marker': False, 'destination': 'file', 'vault_mount': 'secret', 'vault_addr': '', 'vault_namespace': '',
    'vault_ca_cert': '', 'vault_approle_mount': 'approle', 'overlap': 0, 'aws_region': '', 'aws_endpoint_url': '',
    'consumer_checks': []}
FIELDS = {'fields': 'client_id,name,client_authentication_methods,token_endpoint_auth_method,signed_request_object,client_metadata',
          'include_fields': 'true'}


def key_files(live=OLD_KID, staged=None, metadata=None):
    return {'key': {'exists': bool(live), 'kid': live, 'mode': '0600'}, 'staged': {'exists': bool(staged), 'kid': staged},
            'metadata': metadata, 'backups': [], 'previous_kid': None}


def plan(action='rotate', batches=None, coordination=None, keys=None, error=None, stage=None, **client):
    """The plan of one client (CLIENT) over ``batches`` ({host: batch}), as the plan step registers it."""
    batches = batches or {'web1': 0}
    entry = {'client_id': CLIENT, 'action': action, 'target_kid': NEW_KID, 'batches': batches, 'read_back': None,
             'target_credential': None, 'current_credentials': [{'id': 'cred_old', 'kid': OLD_KID, 'alg': 'RS384'}],
             'alive': list(batches)}
    entry.update(client)
    return {'clients': {CLIENT: entry}, 'keys': keys or {}, 'coordination': coordination, 'token': 'mgmt-token',
            'connection': {'auth0_domain': DOMAIN, 'auth0_ca_path': None, 'validate_certs': True, 'timeout': 30.0,
                           'retries': 5},
            'hosts': dict((h, {'client_id': CLIENT, 'action': action, 'batch': b, 'error': error, 'clean': None,
                               'stage': action == 'rotate' if stage is None else stage}) for h, b in batches.items())}


class Host:
    """One host's task variables; run(step, answers) runs the plugin with the modules answering ``answers`` in order."""

    def __init__(self, name='web1', **settings):
        self.vars = dict(('credential_rotation_' + k, v) for k, v in ROLE_DEFAULTS.items())
        self.vars.update({'inventory_hostname': name, 'credential_rotation_client_id': CLIENT, 'credential_rotation_key_path': KEY_PATH})
        self.vars.update(('credential_rotation_' + k, v) for k, v in settings.items())
        self.calls = []
        self.templar = MagicMock()
        self.templar.template.side_effect = lambda value, **kwargs: value

    def run(self, step, answers=(), check=False):
        task = MagicMock()
        task.args = {'step': step}
        task.async_val = 0
        task.check_mode = check
        task.diff = False
        connection = MagicMock()
        connection._shell.tmpdir = None
        module = host_step.ActionModule(task, connection, PlayContext(), loader=None, templar=self.templar, shared_loader_obj=None)
        module._load_name = 'keyops.auth0.credential_rotation_host'
        module._execute_module = MagicMock(side_effect=list(answers))
        module._low_level_execute_command = MagicMock(side_effect=AssertionError('no command may be run'))
        try:
            return module.run(task_vars=self.vars)
        finally:
            self.calls = []
            for call in module._execute_module.call_args_list:
                assert call.kwargs['task_vars'] is self.vars
                self.calls.append((call.kwargs['module_name'], call.kwargs['module_args']))


@pytest.fixture
def api(api, monkeypatch):
    """The conftest fake, serving the Auth0Client of the check before a promotion batch."""
    monkeypatch.setattr(host_step.ActionModule, 'client_options', {'transport': api.transport, 'sleep': api.sleeps.append})
    yield api


def batch_check(api, enabled=('cred_old', 'cred_new'), status=200, body=None):
    """The one GET of the client before a promotion batch, with the plan's management token."""
    def check(request):
        assert request.headers['authorization'] == 'Bearer mgmt-token'
    api.expect('GET', CLIENT_PATH, status, body if body is not None else client_with(list(enabled)), params=FIELDS, check=check)


@pytest.fixture
def slept(monkeypatch):
    """time.sleep of the plugin, recorded (no real wait)."""
    calls = []
    monkeypatch.setattr(host_step.time, 'sleep', calls.append)
    return calls


# -- read ---------------------------------------------------------------------------------------------


def test_read_returns_the_host_settings_and_its_key_files():
    host = Host(credential_name='{{ prefix }}-20260602T000000Z', key_size=2048, force=True, serial=2)
    host.templar.template.side_effect = lambda value, **kwargs: value.replace('{{ prefix }}', 'keyops-rotation') \
        if isinstance(value, str) else value
    answer = dict(key_files(), changed=False, removed=[], invocation={'module_args': {}}, path=KEY_PATH)
    result = host.run('read', [answer])
    assert host.calls == [(KEY_FILE, dict(PATHS, state='read'))]
    assert result['changed'] is False and 'failed' not in result
    assert result['files'] == dict(key_files(), removed=[])
    expected = dict((name, ROLE_DEFAULTS.get(name)) for name in host_step.SETTINGS)
    expected.update(client_id=CLIENT, key_path=KEY_PATH, credential_name='keyops-rotation-20260602T000000Z', key_size=2048,
                    force=True, serial=2)
    assert result['settings'] == expected, 'the host\'s own variables, through the templar'


# -- read: what cannot work is refused before the first change anywhere ---------------------------------

MUST_BE_0 = '; it must be 0 or more.'


@pytest.mark.parametrize('given, message', [
    ({'keep_backups': -1}, 'credential_rotation_keep_backups on web1 is -1; it must be 0 or more (the number of previous '
                           'keys kept beside the live one).'),
    ({'key_size': 1024}, 'credential_rotation_key_size on web1 is 1024; it must be from 2048 to 4096.'),
    ({'key_size': '8192'}, 'credential_rotation_key_size on web1 is 8192; it must be from 2048 to 4096.'),
    ({'expires_in_days': -1}, 'credential_rotation_expires_in_days on web1 is -1' + MUST_BE_0),
    ({'rotate_before_days': -5}, 'credential_rotation_rotate_before_days on web1 is -5' + MUST_BE_0),
    ({'max_age_days': -1}, 'credential_rotation_max_age_days on web1 is -1' + MUST_BE_0),
    ({'serial': -1}, 'credential_rotation_serial on web1 is -1' + MUST_BE_0),
    ({'health_check_retries': -1}, 'credential_rotation_health_check_retries on web1 is -1' + MUST_BE_0),
    ({'health_check_delay': -2}, 'credential_rotation_health_check_delay on web1 is -2' + MUST_BE_0),
    ({'stale_marker_minutes': 0}, 'credential_rotation_stale_marker_minutes on web1 is 0; it must be 1 or more.'),
    ({'alg': 'HS256'}, "credential_rotation_alg on web1 is 'HS256'; Auth0 accepts RS256, RS384, PS256 for Private Key JWT "
                       "credentials."),
    ({'key_mode': 'u=rw'}, 'credential_rotation_key_mode on web1 must be an octal file mode such as "0600" (quote it in '
                           'YAML), not \'u=rw\'.'),
    ({'metadata_mode': '0o644'}, 'credential_rotation_metadata_mode on web1 must be an octal file mode such as "0600" '
                                 '(quote it in YAML), not \'0o644\'.'),
    ({'credential_name': 'keyops-rotation-' + 'x' * 113}, 'credential_rotation_credential_name on web1 is 129 characters '
                                                          'long; Auth0 allows at most 128. Shorten it (or '
                                                          'credential_rotation_name_prefix).'),
    ({'staged_suffix': ''}, 'credential_rotation_staged_suffix on web1 is empty: the new key would be written over the live '
                            'key before Auth0 knows it. Leave it unset (.next) or give a suffix.'),
    ({'staged_suffix': '/../next'}, 'credential_rotation_staged_suffix on web1 contains "/": the staged key must sit beside '
                                    'the live key (same directory), so that promotion is one atomic rename. Give a suffix '
                                    'such as .next.'),
    ({'key_path': 'etc/app/key.pem'}, "credential_rotation_key_path on web1 is 'etc/app/key.pem', a relative path; give the "
                                      "absolute path of the key file the application reads."),
    ({'metadata_path': KEY_PATH}, 'credential_rotation_metadata_path on web1 is /etc/app/key.pem, the path of the live key: '
                                  'the metadata would overwrite the private key. Leave it unset (the key path + .json) or '
                                  'give another file.'),
    ({'metadata_path': '/etc/app/./key.pem.next'}, 'credential_rotation_metadata_path on web1 is /etc/app/./key.pem.next, the '
                                                   'path of the staged key: the metadata would overwrite the private key. '
                                                   'Leave it unset (the key path + .json) or give another file.'),
])
def test_read_refuses_a_setting_that_cannot_work_before_touching_the_host(given, message):
    host = Host(**given)
    result = host.run('read')
    assert result['failed'] is True and result['invalid'] is True
    assert result['msg'] == message
    assert result['settings']['client_id'] == CLIENT
    assert host.calls == [], 'not even a read'


def test_read_names_every_setting_that_cannot_work_at_once():
    result = Host('db7', key_size=512, alg='ES256').run('read')
    assert result['msg'] == ("credential_rotation_key_size on db7 is 512; it must be from 2048 to 4096. credential_rotation_alg "
                             "on db7 is 'ES256'; Auth0 accepts RS256, RS384, PS256 for Private Key JWT credentials.")


@pytest.mark.parametrize('given', [
    {'key_size': 2048, 'keep_backups': 0, 'stale_marker_minutes': 1, 'alg': 'PS256', 'key_mode': '640', 'metadata_mode': 420},
    {'key_size': 4096, 'expires_in_days': 0, 'alg': 'RS384', 'credential_name': 'k' * 128, 'staged_suffix': '.new',
     'metadata_path': '/var/lib/app/key.json'},
])
def test_read_accepts_the_limits_themselves(given):
    host = Host(**given)
    result = host.run('read', [read_answer()])
    assert 'failed' not in result and len(host.calls) == 1


def read_answer(**extra):
    """What credential_key_file state=read reports on a host whose files the rotation can handle."""
    out = dict(key_files(), changed=False, removed=[], leftovers=[], metadata_symlink=None,
               directory={'path': '/etc/app', 'exists': True, 'writable': True})
    out.update(extra)
    return out


UNUSABLE = ('/etc/app/key.pem on web1 holds %s, not a private key the rotation can replace: Auth0 accepts unencrypted RSA '
            'keys (2048 to 4096 bits) for RS256, RS384 and PS256. Correct credential_rotation_key_path, or set '
            'credential_rotation_replace_unusable_key: true to replace the file (it is kept as a backup).')


@pytest.mark.parametrize('extra, message', [
    ({'directory': {'path': '/etc/app', 'exists': False, 'writable': False}},
     'The directory /etc/app of credential_rotation_key_path does not exist on web1; create it (where the application reads '
     'its key) or correct the path.'),
    ({'directory': {'path': '/etc/app', 'exists': True, 'writable': False}},
     'The directory /etc/app of credential_rotation_key_path is not writable on web1 by the connection user; run the role '
     'with become, or give that user write access.'),
    ({'key': {'path': KEY_PATH, 'exists': True, 'kid': OLD_KID, 'usable': True, 'symlink': '/srv/keys/app.pem'}},
     '/etc/app/key.pem on web1 is a symbolic link to /srv/keys/app.pem; the rotation replaces files with an atomic rename, '
     'which would replace the link and leave /srv/keys/app.pem with the old key. Set credential_rotation_key_path to the '
     'file the link points to.'),
    ({'staged': {'path': KEY_PATH + '.next', 'exists': False, 'kid': None, 'symlink': '/srv/keys/app.next'}},
     '/etc/app/key.pem.next on web1 is a symbolic link to /srv/keys/app.next; the rotation replaces files with an atomic '
     'rename, which would replace the link and leave /srv/keys/app.next with the old key. Remove the link (the staged '
     'key is written there), or choose another credential_rotation_staged_suffix.'),
    ({'metadata_symlink': '/srv/keys/app.json'},
     '/etc/app/key.pem.json on web1 is a symbolic link to /srv/keys/app.json; set credential_rotation_metadata_path to the '
     'file itself.'),
    ({'key': {'path': KEY_PATH, 'exists': True, 'kid': None, 'usable': False, 'found': 'an EC private key'}},
     UNUSABLE % 'an EC private key'),
    ({'key': {'path': KEY_PATH, 'exists': True, 'kid': None, 'error': 'A PEM private key is needed.'}},
     UNUSABLE % 'something else (A PEM private key is needed.)'),
])
def test_read_refuses_key_files_the_rotation_cannot_handle(extra, message):
    host = Host()
    result = host.run('read', [read_answer(**extra)])
    assert host.calls == [(KEY_FILE, dict(PATHS, state='read'))]
    assert result['failed'] is True and result['invalid'] is True
    assert result['msg'] == message
    assert result['settings']['client_id'] == CLIENT and 'files' in result


@pytest.mark.parametrize('settings, key', [
    ({'replace_unusable_key': True}, {'path': KEY_PATH, 'exists': True, 'kid': None, 'usable': False, 'found': 'a certificate'}),
    ({}, {'path': KEY_PATH, 'exists': False, 'kid': None, 'usable': False}),  # a new host: no key yet
    ({}, {'path': KEY_PATH, 'exists': True, 'kid': OLD_KID}),  # an older module: no usable field
])
def test_read_accepts_a_missing_key_and_an_unusable_one_it_may_replace(settings, key):
    result = Host(**settings).run('read', [read_answer(key=key)])
    assert 'failed' not in result and result['files']['key'] == key


@pytest.mark.parametrize('given, expected', [
    ({'force': 'yes', 'key_size': '4096', 'retire': 'false'}, {'force': True, 'key_size': 4096, 'retire': False}),
    ({'key_mode': 384}, {'key_mode': '0600'}),  # YAML reads an unquoted 0600 as 384
])
def test_read_settings_have_the_types_the_plan_compares(given, expected):
    result = Host(**given).run('read', [key_files()])
    assert dict((k, result['settings'][k]) for k in expected) == expected


@pytest.mark.parametrize('given, message', [
    ({'key_size': 'large'}, "credential_rotation_key_size on web1 must be a whole number, not 'large'."),
    ({'force': 'maybe'}, "credential_rotation_force on web1 must be true or false, not 'maybe'."),
])
def test_read_a_setting_of_the_wrong_type_fails_the_host(given, message):
    host = Host(**given)
    result = host.run('read')
    assert result == {'failed': True, 'invalid': True, 'msg': message, 'settings': {'client_id': CLIENT}}
    assert host.calls == []


def test_read_paths_follow_the_staged_suffix_and_the_metadata_path():
    host = Host(staged_suffix='.new', metadata_path='/var/lib/app/key.json')
    host.run('read', [key_files()])
    assert host.calls == [(KEY_FILE, {'path': KEY_PATH, 'staged_path': KEY_PATH + '.new', 'metadata_path': '/var/lib/app/key.json',
                                      'state': 'read'})]


@pytest.mark.parametrize('answer, message', [
    ({'failed': True, 'msg': 'Permission denied: /etc/app'}, 'Permission denied: /etc/app'),
    ({'failed': True, 'msg': 'MODULE FAILURE', 'module_stdout': '',
      'module_stderr': 'Traceback (most recent call last):\n  File "x"\nModuleNotFoundError: No module named cryptography\n'},
     'ModuleNotFoundError: No module named cryptography'),
    ({'failed': True, 'msg': 'MODULE FAILURE'}, 'MODULE FAILURE'),
    ({'failed': True}, 'unknown error'),
])
def test_read_a_failed_module_fails_the_host_with_its_settings(answer, message):
    host = Host()
    result = host.run('read', [answer])
    assert result['failed'] is True and result['msg'] == message
    assert result['settings']['client_id'] == CLIENT and 'files' not in result


@pytest.mark.parametrize('unset, message', [
    ('credential_rotation_client_id', 'credential_rotation_client_id is not set for web1.'),
    ('credential_rotation_key_path', 'credential_rotation_key_path is not set for web1.'),
])
def test_read_without_the_host_s_client_or_key_path_runs_nothing(unset, message):
    host = Host()
    del host.vars[unset]
    result = host.run('read')
    assert result['failed'] is True and result['msg'] == message
    assert 'settings' in result and host.calls == []


# -- stage --------------------------------------------------------------------------------------------


def test_stage_a_refused_client_fails_the_host_with_the_client_s_error():
    host = Host()
    host.vars[host_step.PLAN] = plan('blocked', error=REFUSAL)
    result = host.run('stage')
    assert result == {'failed': True, 'msg': 'Client %s: nothing was changed. %s' % (CLIENT, REFUSAL)}
    assert host.calls == []


@pytest.mark.parametrize('the_plan, expected', [
    ({}, {'changed': False, 'skipped': True, 'msg': 'This host uses no client of the plan.'}),
    (plan('none'), {'changed': False, 'msg': 'Nothing to stage (none).'}),
    (plan('resume', stage=False), {'changed': False, 'msg': 'Nothing to stage (resume).'}),
])
def test_stage_nothing_when_the_host_needs_no_new_key(the_plan, expected):
    host = Host()
    host.vars[host_step.PLAN] = the_plan
    assert host.run('stage') == expected
    assert host.calls == []


def test_stage_writes_the_new_key_beside_the_live_one_and_never_returns_it(keys):
    new = keys['one']
    host = Host(key_owner='app', key_group='app', key_mode='0640')
    host.vars[host_step.PLAN] = plan(keys={CLIENT: {'private_key': new['private'], 'public_key': new['public'], 'kid': new['kid']}},
                                     target_kid=new['kid'])
    answer = dict(key_files(staged=new['kid']), changed=True, invocation={'module_args': {'private_key': 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'}})
    result = host.run('stage', [answer])
    assert host.calls == [(KEY_FILE, dict(PATHS, state='staged', private_key=new['private'], kid=new['kid'], mode='0640',
                                          replace_unusable=False, owner='app', group='app'))]
    assert result['changed'] is True and result['staged_kid'] == new['kid']
    assert result['files']['staged'] == {'exists': True, 'kid': new['kid']}
    text = json.dumps(result)
    assert new['private'] not in text and 'PRIVATE KEY' not in text


def test_stage_passes_the_key_file_diff_on_for_diff_mode(keys):
    new = keys['one']
    host = Host()
    host.vars[host_step.PLAN] = plan(keys={CLIENT: {'private_key': new['private'], 'public_key': new['public'], 'kid': new['kid']}},
                                     target_kid=new['kid'])
    diff = {'before': {'staged': {'exists': False}}, 'after': {'staged': {'exists': True, 'kid': new['kid']}}}
    result = host.run('stage', [dict(key_files(staged=new['kid']), changed=True, diff=diff)])
    assert result['diff'] == diff
    assert 'diff' not in host.run('stage', [dict(key_files(staged=new['kid']), changed=False)])


def test_stage_a_failed_write_fails_the_host(keys):
    host = Host()
    host.vars[host_step.PLAN] = plan(keys={CLIENT: {'private_key': keys['one']['private'], 'kid': keys['one']['kid']}})
    result = host.run('stage', [{'failed': True, 'msg': 'No space left on device'}])
    assert result == {'failed': True, 'msg': 'Staging the new key on web1 failed: No space left on device'}


def test_stage_without_the_key_in_the_plan_is_an_error():
    host = Host()
    host.vars[host_step.PLAN] = plan()
    with pytest.raises(AnsibleActionFail, match='The new key of client %s is missing from the plan' % CLIENT):
        host.run('stage')
    assert host.calls == []


def resume_plan(keys, content):
    """web3 joins a resumed rotation: web1 read back the key an earlier run staged."""
    host = Host('web3')
    host.vars[host_step.PLAN] = plan('resume', batches={'web1': 0, 'web3': 0}, target_kid=keys['one']['kid'], stage=True,
                                     read_back={'host': 'web1', 'path': KEY_PATH + '.next'})
    host.vars['_credential_rotation_read_back'] = {'results': [
        {'item': {'client_id': CLIENT, 'host': 'web1', 'path': KEY_PATH + '.next'}, 'content': content}] if content else []}
    return host


def test_stage_a_resumed_rotation_stages_the_key_read_back_on_another_host(keys):
    host = resume_plan(keys, base64.b64encode(keys['one']['private'].encode()).decode())
    result = host.run('stage', [dict(key_files(staged=keys['one']['kid']), changed=True)])
    assert host.calls == [(KEY_FILE, dict(PATHS, state='staged', private_key=keys['one']['private'], kid=keys['one']['kid'],
                                          mode='0600', replace_unusable=False))]
    assert result['staged_kid'] == keys['one']['kid'] and keys['one']['private'] not in json.dumps(result)


def test_stage_a_resumed_rotation_refuses_a_key_read_back_with_another_kid(keys):
    host = resume_plan(keys, base64.b64encode(keys['two']['private'].encode()).decode())
    with pytest.raises(AnsibleActionFail, match='The key read back from web1 has the kid %s, not %s' % (keys['two']['kid'], keys['one']['kid'])):
        host.run('stage')
    assert host.calls == []


def test_stage_a_resumed_rotation_without_the_key_read_back_is_an_error(keys):
    host = resume_plan(keys, None)
    with pytest.raises(AnsibleActionFail, match='missing from the plan'):
        host.run('stage')


# -- switch -------------------------------------------------------------------------------------------


def switching(tmp_path=None, name='web1', batches=None, enable=None, read=None, **settings):
    """A host at the switch of a rotation to NEW_KID (enabled as cred_new), its read step having seen ``read``."""
    host = Host(name, **settings)
    host.vars[host_step.PLAN] = plan(batches=batches, coordination=str(tmp_path) if tmp_path else None)
    host.vars[host_step.ENABLE] = {'clients': {CLIENT: enable if enable is not None else {
        'verified': True, 'credential': {'id': 'cred_new', 'kid': NEW_KID}}}}
    host.vars['_credential_rotation_host'] = {'files': read if read is not None else key_files()}
    return host


PROMOTED = dict(key_files(NEW_KID), changed=True, backups=[{'path': KEY_PATH + '.2026', 'kid': OLD_KID}], previous_kid=OLD_KID)
PROMOTE_ARGS = dict(PATHS, state='promoted', kid=NEW_KID, mode='0600', replace_unusable=False, metadata_mode='0644', keep_backups=3,
                    metadata={'client_id': CLIENT, 'kid': NEW_KID, 'alg': 'RS256', 'credential_id': 'cred_new', 'previous_kid': OLD_KID})


def record(tmp_path, host):
    with open(str(tmp_path / ('%s.json' % host)), encoding='utf-8') as handle:
        return json.load(handle)


@pytest.mark.parametrize('the_plan', [{}, plan('none'), plan('blocked', error=REFUSAL), plan('failed', error='Auth0 answered')])
def test_switch_nothing_for_a_client_that_is_not_rotated(the_plan):
    host = Host()
    host.vars[host_step.PLAN] = the_plan
    assert host.run('switch') == {'changed': False, 'msg': 'Nothing to switch.'}
    assert host.calls == []


def test_switch_promotes_reloads_and_checks_health(api, tmp_path):
    host = switching(tmp_path, reload_command='systemctl reload app', health_check_command=['/usr/bin/check', '--quick'],
                     health_check_url='https://localhost:8443/health')
    batch_check(api)
    result = host.run('switch', [PROMOTED, {'rc': 0, 'changed': True}, {'rc': 0}, {'status': 200}])
    api.done()
    assert host.calls == [(KEY_FILE, PROMOTE_ARGS), (COMMAND, {'_raw_params': 'systemctl reload app'}),
                          (COMMAND, {'argv': ['/usr/bin/check', '--quick']}),
                          ('ansible.legacy.uri', {'url': 'https://localhost:8443/health'})]
    assert result['changed'] is True and result['kid'] == NEW_KID and 'failed' not in result
    assert result['files']['key']['kid'] == NEW_KID and result['files']['previous_kid'] == OLD_KID
    assert record(tmp_path, 'web1') == {'status': 'ok'}, 'the later batches may go on'


def test_switch_promotion_options_follow_the_settings(api, tmp_path):
    host = switching(tmp_path, metadata=False, keep_backups=-1, key_owner='app', key_group='www', key_mode='0640')
    batch_check(api)
    host.run('switch', [dict(PROMOTED, changed=False)])
    assert host.calls == [(KEY_FILE, dict(PATHS, state='promoted', kid=NEW_KID, mode='0640', replace_unusable=False,
                                          owner='app', group='www'))]


def test_switch_metadata_keeps_the_previous_kid_when_the_host_already_holds_the_new_key():
    host = switching(read=key_files(NEW_KID, metadata={'kid': NEW_KID, 'previous_kid': OLD_KID}),
                     enable={'verified': True, 'credential': {}}, alg='PS256')
    host.vars[host_step.PLAN]['clients'][CLIENT]['target_credential'] = {'id': 'cred_new', 'kid': NEW_KID}
    result = host.run('switch', [dict(PROMOTED, changed=False)])
    assert host.calls[0][1]['metadata'] == {'client_id': CLIENT, 'kid': NEW_KID, 'alg': 'PS256', 'credential_id': 'cred_new',
                                            'previous_kid': OLD_KID}
    assert result['changed'] is False


def test_switch_a_client_whose_enable_step_failed_fails_the_host():
    error = 'The new key %s of client %s could not obtain a token: invalid_client. No host was switched.' % (NEW_KID, CLIENT)
    host = switching(enable={'error': error, 'verified': False})
    assert host.run('switch') == {'failed': True, 'msg': 'Client %s: %s' % (CLIENT, error)}
    assert host.calls == []


def test_switch_waits_for_the_earlier_batches_of_its_client(api, tmp_path, monkeypatch):
    host = switching(tmp_path, name='web2', batches={'web1': 0, 'web2': 1, 'web3': 1})
    batch_check(api)  # web2 is the first host of its batch: it asks, once web1 switched
    slept = []

    def web1_finishes(seconds):
        slept.append(seconds)
        (tmp_path / 'web1.json').write_text(json.dumps({'status': 'ok'}))

    monkeypatch.setattr(host_step.time, 'sleep', web1_finishes)
    result = host.run('switch', [dict(PROMOTED, changed=False)])
    assert slept == [0.2], 'it waited until web1 had switched'
    assert result['kid'] == NEW_KID and record(tmp_path, 'web2') == {'status': 'ok'}


def test_switch_stops_when_a_host_of_an_earlier_batch_failed(tmp_path, slept):
    (tmp_path / 'web1.json').write_text(json.dumps({'status': 'failed'}))
    host = switching(tmp_path, name='web2', batches={'web1': 0, 'web2': 1})
    with pytest.raises(AnsibleActionFail, match='Not switched: host web1 of client %s failed in an earlier batch' % CLIENT):
        host.run('switch')
    assert host.calls == [] and slept == []
    assert record(tmp_path, 'web2') == {'status': 'failed'}, 'the batches after it stop too'


def test_switch_stops_when_an_earlier_batch_never_finishes(tmp_path, slept, monkeypatch):
    (tmp_path / 'web1.json').write_text('{not json')
    monkeypatch.setattr(host_step, 'BATCH_WAIT', 0.0)
    host = switching(tmp_path, name='web2', batches={'web1': 0, 'web2': 1})
    with pytest.raises(AnsibleActionFail, match='Not switched: hosts web1 of an earlier batch did not finish within 0 s'):
        host.run('switch')
    assert host.calls == [] and record(tmp_path, 'web2') == {'status': 'failed'}


def test_switch_stops_waiting_when_the_controller_is_gone(tmp_path, slept, monkeypatch):
    monkeypatch.setattr(host_step.os, 'getppid', MagicMock(side_effect=[100, 1]))
    host = switching(tmp_path, name='web2', batches={'web1': 0, 'web2': 1})
    with pytest.raises(AnsibleActionFail, match='the controller process ended while this host waited for its batch'):
        host.run('switch')
    assert host.calls == []


def test_switch_without_coordination_does_not_wait(slept):
    host = switching(name='web2', batches={'web1': 0, 'web2': 1})
    assert host.run('switch', [dict(PROMOTED, changed=False)])['kid'] == NEW_KID
    assert slept == []


@pytest.mark.parametrize('metadata, previous', [
    ({'client_id': CLIENT, 'kid': OLD_KID, 'alg': 'RS256', 'credential_id': 'cred_old', 'previous_kid': 'kid_older_00000001'},
     {'client_id': CLIENT, 'kid': OLD_KID, 'alg': 'RS256', 'credential_id': 'cred_old', 'previous_kid': 'kid_older_00000001'}),
    (None, {'client_id': CLIENT, 'kid': OLD_KID, 'alg': 'RS384', 'credential_id': 'cred_old', 'previous_kid': None}),
])
def test_switch_a_failed_health_check_puts_the_previous_key_back(api, tmp_path, slept, metadata, previous):
    host = switching(tmp_path, read=key_files(metadata=metadata), reload_command='systemctl reload app',
                     health_check_command='curl -fsS http://localhost/health', health_check_retries=2, health_check_delay=3)
    batch_check(api)
    unhealthy = {'rc': 7, 'stderr': 'connection refused\n', 'failed': True}
    result = host.run('switch', [PROMOTED, {'rc': 0}, unhealthy, unhealthy, unhealthy, {'changed': True}, {'rc': 0}])
    assert result['failed'] is True and result['changed'] is True
    assert result['msg'] == ('Switching web1 to the key %s failed at the health check: connection refused '
                             '(the previous key was put back)' % NEW_KID)
    assert [c[0] for c in host.calls] == [KEY_FILE, COMMAND, COMMAND, COMMAND, COMMAND, KEY_FILE, COMMAND]
    assert host.calls[2] == (COMMAND, {'_raw_params': 'curl -fsS http://localhost/health'})
    assert host.calls[5] == (KEY_FILE, dict(PATHS, state='restored', kid=NEW_KID, metadata=previous, metadata_mode='0644'))
    assert host.calls[6] == (COMMAND, {'_raw_params': 'systemctl reload app'}), 'reloaded with the previous key'
    assert slept == [3.0, 3.0]
    assert record(tmp_path, 'web1') == {'status': 'failed'}


def test_switch_a_health_check_that_recovers_passes(slept):
    host = switching(health_check_url='https://localhost/health', health_check_delay=1)
    result = host.run('switch', [PROMOTED, {'failed': True, 'msg': 'Status code was 503'}, {'status': 200}])
    assert 'failed' not in result and slept == [1.0]


@pytest.mark.parametrize('answers, step, reason', [
    ([{'rc': 1, 'stderr': 'Unit app.service not found.\n'}], 'the reload', 'Unit app.service not found.'),
    ([{'failed': True, 'msg': 'No such file or directory'}], 'the reload', 'No such file or directory'),
    ([{'rc': 3}], 'the reload', 'rc 3'),
])
def test_switch_a_failed_reload_puts_the_previous_key_back(answers, step, reason):
    host = switching(reload_command='systemctl reload app')
    result = host.run('switch', [PROMOTED] + answers + [{'changed': True}, {'rc': 0}])
    assert result['msg'] == 'Switching web1 to the key %s failed at %s: %s (the previous key was put back)' % (NEW_KID, step, reason)
    assert host.calls[-2][1]['state'] == 'restored'


@pytest.mark.parametrize('settings, read, restore, calls', [
    ({'rollback_on_failure': False}, key_files(), [], 2),
    ({}, key_files(live=None), [], 2),
    ({}, key_files(), [{'failed': True, 'msg': 'no backup'}], 3),
    ({}, key_files(), [{'changed': False, 'msg': 'The live key has kid other'}], 3),
])
def test_switch_a_failure_says_when_the_previous_key_could_not_be_put_back(settings, read, restore, calls):
    host = switching(read=read, health_check_command='check', health_check_retries=0, metadata=False, **settings)
    result = host.run('switch', [PROMOTED, {'rc': 1, 'stderr': 'unhealthy'}] + restore)
    assert result['failed'] is True
    assert result['msg'] == 'Switching web1 to the key %s failed at the health check: unhealthy' % NEW_KID
    assert len(host.calls) == calls
    if restore:
        assert host.calls[-1] == (KEY_FILE, dict(PATHS, state='restored', kid=NEW_KID))


@pytest.mark.parametrize('answer, failure', [
    ({'changed': False, 'access_token': 'x'}, None),
    # accept_missing_grant: a refusal naming the missing grant is the module's success (granted false)
    ({'changed': False, 'granted': False, 'refusal': 'Client has not been granted scopes'}, None),
    # any other refusal proves nothing, access_denied included (a throttled or refused request)
    ({'failed': True, 'msg': 'access_denied: Unauthorized', 'api_error': {'error': 'access_denied'}},
     'access_denied: Unauthorized'),
    ({'failed': True, 'msg': 'invalid_client: Invalid client assertion', 'api_error': {'error': 'invalid_client'}},
     'invalid_client: Invalid client assertion'),
    ({'failed': True}, 'unknown error'),
])
def test_switch_the_host_proves_its_own_key_file_when_asked(answer, failure):
    host = switching(verify_host_token=True, verify_audience='https://api.example.com/')
    host.vars[host_step.PLAN]['connection']['auth0_ca_path'] = '/etc/ssl/tenant-ca.pem'
    host.vars[host_step.PLAN]['connection']['auth0_audience'] = 'https://tenant.eu.auth0.com/api/v2/'
    answers = [PROMOTED, answer] + ([{'changed': True}] if failure else [])
    result = host.run('switch', answers)
    assert host.calls[1] == ('keyops.auth0.auth0_client_token', {
        'client_id': CLIENT, 'private_key_path': KEY_PATH, 'alg': 'RS256', 'kid': NEW_KID, 'auth0_domain': DOMAIN,
        'accept_missing_grant': True, 'auth0_ca_path': '/etc/ssl/tenant-ca.pem',
        'auth0_audience': 'https://tenant.eu.auth0.com/api/v2/', 'audience': 'https://api.example.com/'})
    if failure:
        assert result['msg'] == ('Switching web1 to the key %s failed at the token check from the host: %s (the previous key '
                                 'was put back)' % (NEW_KID, failure))
    else:
        assert 'failed' not in result and len(host.calls) == 2


def test_switch_token_check_without_ca_path_or_audience():
    host = switching(verify_host_token=True)
    host.run('switch', [PROMOTED, {'access_token': 'x'}])
    assert host.calls[1][1] == {'client_id': CLIENT, 'private_key_path': KEY_PATH, 'alg': 'RS256', 'kid': NEW_KID,
                                'auth0_domain': DOMAIN, 'accept_missing_grant': True}


def test_switch_a_failed_promotion_fails_the_host_and_stops_the_later_batches(api, tmp_path):
    host = switching(tmp_path, reload_command='systemctl reload app')
    batch_check(api)
    result = host.run('switch', [{'failed': True, 'msg': 'no staged key with kid %s' % NEW_KID}])
    assert result == {'failed': True, 'msg': 'Switching web1 to the key %s failed at the promotion: no staged key with kid %s'
                      % (NEW_KID, NEW_KID)}
    assert len(host.calls) == 1, 'no reload'
    assert record(tmp_path, 'web1') == {'status': 'failed'}


def test_switch_an_unexpected_error_still_records_the_failure(api, tmp_path):
    host = switching(tmp_path)
    batch_check(api)
    with pytest.raises(AnsibleActionFail, match='Switching web1 failed: connection lost'):
        host.run('switch', [ConnectionError('connection lost')])
    assert record(tmp_path, 'web1') == {'status': 'failed'}


@pytest.mark.parametrize('check, answer', [(True, PROMOTED), (False, dict(PROMOTED, changed=False))])
def test_switch_no_reload_in_check_mode_or_when_the_key_was_live_already(check, answer):
    host = switching(reload_command='systemctl reload app', health_check_command='check')
    result = host.run('switch', [answer], check=check)
    assert len(host.calls) == 1 and result['kid'] == NEW_KID and 'failed' not in result


def test_switch_finish_prunes_the_backups():
    host = Host(keep_backups=2)
    host.vars[host_step.PLAN] = plan('finish')
    result = host.run('switch', [{'changed': True, 'removed': [KEY_PATH + '.2024'], 'backups': []}])
    assert host.calls == [(KEY_FILE, dict(PATHS, state='pruned', keep_backups=2))]
    assert result == {'changed': True, 'files': {'removed': [KEY_PATH + '.2024'], 'backups': []}}


def test_switch_finish_keeps_every_backup_with_keep_backups_minus_one():
    host = Host(keep_backups=-1)
    host.vars[host_step.PLAN] = plan('finish')
    assert host.run('switch') == {'changed': False, 'msg': 'No backup to prune.'}
    assert host.calls == []


def test_switch_finish_a_failed_prune_fails_the_host():
    host = Host()
    host.vars[host_step.PLAN] = plan('finish')
    result = host.run('switch', [{'failed': True, 'msg': 'Read-only file system'}])
    assert result == {'failed': True, 'msg': 'Pruning the backups on web1 failed: Read-only file system'}


@pytest.mark.parametrize('value, expected', [(384, '0600'), ('0600', '0600'), ('600', '0600'), ('640', '0640'),
                                             ('u=rw,g=r', 'u=rw,g=r'), ('0o600', '0o600')])
def test_modes_are_compared_as_four_octal_digits(value, expected):
    """'600' was compared with the '0600' the host reported: retirement never happened."""
    assert host_step.normal_mode(value) == expected


def test_failure_text_reads_the_message_of_a_structured_exception():
    class Event:
        msg = "[Errno 21] Is a directory: '/etc/app'"

    class Captured:
        event = Event()

        def __str__(self):
            return 'CapturedErrorSummary(event=...)'

    assert host_step.failure_text({'failed': True, 'msg': None, 'exception': Captured()}) == "[Errno 21] Is a directory: '/etc/app'"
    assert host_step.failure_text({'failed': True, 'msg': 'MODULE FAILURE', 'module_stderr': 'a\nlast line\n'}) == 'last line'


# -- stage: what an interrupted run left ------------------------------------------------------------------

LOST_KID = 'kid_lost_000000001'
TEMP = '/etc/app/.key.pem.next.x8d2k1.tmp'


def cleaning(clean, action='none'):
    host = Host()
    host.vars[host_step.PLAN] = plan(action, stage=False)
    host.vars[host_step.PLAN]['hosts']['web1']['clean'] = clean
    return host


def test_stage_removes_what_an_interrupted_run_left_on_a_host_that_stages_nothing():
    host = cleaning({'remove_staged': True, 'kid': LOST_KID}, action='finish')
    answer = dict(key_files(), changed=True, removed=[KEY_PATH + '.next', TEMP], leftovers=[])
    result = host.run('stage', [answer])
    assert host.calls == [(KEY_FILE, dict(PATHS, state='cleaned', remove_staged=True, kid=LOST_KID))], \
        'the staged key only if it still is the one the plan saw'
    assert result['changed'] is True and result['cleaned'] == [KEY_PATH + '.next', TEMP]
    assert result['msg'] == 'Removed what an interrupted run left: %s.next, %s.' % (KEY_PATH, TEMP)


@pytest.mark.parametrize('check, removed, msg', [
    (False, [], 'Nothing to clean.'),
    (True, [TEMP], 'Would remove what an interrupted run left: %s.' % TEMP),
])
def test_stage_cleans_temporary_files_only_when_the_staged_key_is_not_to_go(check, removed, msg):
    host = cleaning({'remove_staged': False, 'kid': None}, action='resume')
    result = host.run('stage', [dict(key_files(), changed=bool(removed), removed=removed)], check=check)
    assert host.calls == [(KEY_FILE, dict(PATHS, state='cleaned', remove_staged=False))]
    assert result['msg'] == msg and result['cleaned'] == removed


def test_stage_a_failed_clean_fails_the_host():
    host = cleaning({'remove_staged': True, 'kid': LOST_KID})
    result = host.run('stage', [{'failed': True, 'msg': 'Permission denied'}])
    assert result == {'failed': True, 'msg': 'Removing what an interrupted run left on web1 failed: Permission denied'}


# -- switch: the check before each promotion batch -----------------------------------------------------------

GONE = ('the new credential cred_new of client %s is no longer enabled in Auth0 (deleted or disabled by someone else after '
        'it was verified).' % CLIENT)


def test_switch_a_credential_gone_before_a_batch_switches_no_host_and_stops_the_later_batches(api, tmp_path, slept):
    batches = {'web1': 0, 'web2': 0, 'web3': 1}
    batch_check(api, enabled=('cred_old',))  # cred_new was disabled after the enable step verified it
    web1 = switching(tmp_path, batches=batches)
    cleaned = dict(key_files(), changed=True, removed=[KEY_PATH + '.next'])
    result = web1.run('switch', [cleaned])
    api.done()
    assert result == {'failed': True, 'credential_gone': True,
                      'msg': 'Not switched: %s Hosts of earlier batches get their previous key back; nothing is retired.' % GONE}
    discard = (KEY_FILE, dict(PATHS, state='cleaned', remove_staged=True, kid=NEW_KID))
    assert web1.calls == [discard], 'no promotion; the staged copy of the gone key goes'
    assert record(tmp_path, 'web1') == {'status': 'failed'}
    # web2, of the same batch, takes web1's answer: no second GET
    web2 = switching(tmp_path, name='web2', batches=batches)
    assert web2.run('switch', [cleaned]) == result
    assert web2.calls == [discard] and len(api.requests) == 1
    # web3, of the next batch, does not start
    web3 = switching(tmp_path, name='web3', batches=batches)
    with pytest.raises(AnsibleActionFail, match='Not switched: host web1 of client %s failed in an earlier batch' % CLIENT):
        web3.run('switch')
    assert web3.calls == [] and len(api.requests) == 1


def test_switch_a_credential_still_enabled_is_promoted_with_one_get_per_batch(api, tmp_path):
    batches = {'web1': 0, 'web2': 0}
    batch_check(api)
    web1 = switching(tmp_path, batches=batches)
    assert web1.run('switch', [dict(PROMOTED, changed=False)])['kid'] == NEW_KID
    web2 = switching(tmp_path, name='web2', batches=batches)
    assert web2.run('switch', [dict(PROMOTED, changed=False)])['kid'] == NEW_KID
    api.done()
    assert len(api.requests) == 1
    assert [c[1]['state'] for c in web1.calls + web2.calls] == ['promoted', 'promoted']


def test_switch_a_host_of_a_batch_waits_for_the_answer_of_its_first_host(api, tmp_path, monkeypatch):
    """web2 reaches the check before web1, the first host of their batch: it waits for web1's answer."""
    batches = {'web1': 0, 'web2': 0}
    batch_check(api)
    web1 = switching(tmp_path, batches=batches)
    web2 = switching(tmp_path, name='web2', batches=batches)
    waited = []

    def web1_runs(seconds):
        waited.append(seconds)
        assert web1.run('switch', [dict(PROMOTED, changed=False)])['kid'] == NEW_KID

    monkeypatch.setattr(host_step.time, 'sleep', web1_runs)
    assert web2.run('switch', [dict(PROMOTED, changed=False)])['kid'] == NEW_KID
    api.done()
    assert waited == [0.1] and len(api.requests) == 1


def test_switch_the_credential_checked_is_the_plan_s_when_the_enable_step_names_none(api, tmp_path):
    """A resumed rotation whose credential Auth0 had already: the plan's target credential."""
    batch_check(api, enabled=('cred_old', 'cred_plan'))
    host = switching(tmp_path, enable={'verified': True, 'credential': {}})
    host.vars[host_step.PLAN]['clients'][CLIENT]['target_credential'] = {'id': 'cred_plan', 'kid': NEW_KID}
    assert 'failed' not in host.run('switch', [dict(PROMOTED, changed=False)])
    api.done()


def test_switch_a_check_auth0_does_not_answer_switches_no_host_and_rolls_nothing_back(api, tmp_path):
    """The plan's connection settings apply: retries 0, so one GET. Not knowing is not "gone": the later batches stop,
    the hosts switched so far keep the new key (still enabled, as far as anyone knows) and the next run resumes."""
    batch_check(api, status=503, body={'statusCode': 503, 'error': 'Service Unavailable', 'message': 'down'})
    host = switching(tmp_path)
    host.vars[host_step.PLAN]['connection']['retries'] = 0
    result = host.run('switch')
    api.done()
    assert result['failed'] is True and 'credential_gone' not in result
    assert result['msg'].startswith('Not switched: whether the new credential cred_new of client %s is still enabled could '
                                    'not be read (' % CLIENT)
    assert result['msg'].endswith('down). The later batches stop and nothing is retired; the next run resumes.')
    assert host.calls == [], 'the staged key stays for the next run'
    assert record(tmp_path, 'web1') == {'status': 'failed'}


def test_switch_a_host_whose_batch_check_never_answers_is_not_switched(api, tmp_path, slept, monkeypatch):
    monkeypatch.setattr(host_step, 'BATCH_WAIT', 0.0)
    host = switching(tmp_path, name='web2', batches={'web1': 0, 'web2': 0})
    result = host.run('switch')
    assert result == {'failed': True, 'msg': 'Not switched: the check of batch 1 (by web1) did not answer. The later batches '
                                             'stop and nothing is retired; the next run resumes.'}
    assert host.calls == [] and api.requests == []
    assert record(tmp_path, 'web2') == {'status': 'failed'}


def test_switch_in_check_mode_asks_auth0_nothing(api, tmp_path):
    host = switching(tmp_path)
    assert host.run('switch', [PROMOTED], check=True)['kid'] == NEW_KID
    assert api.requests == [] and not [n for n in os.listdir(str(tmp_path)) if n.startswith('check-')]


# -- switch: a staged file of another key ------------------------------------------------------------------

NEITHER = 'Neither the live key (kid %s) nor the staged key (kid %s) has kid %s; nothing was changed.' % (OLD_KID, LOST_KID, NEW_KID)


def restaging(keys):
    host = switching(metadata=False, keep_backups=-1)
    host.vars[host_step.PLAN]['keys'] = {CLIENT: {'private_key': keys['one']['private'], 'kid': NEW_KID}}
    return host


def test_switch_stages_again_when_another_run_staged_over_the_new_key(keys):
    host = restaging(keys)
    result = host.run('switch', [{'failed': True, 'msg': NEITHER}, dict(key_files(staged=NEW_KID), changed=True),
                                 dict(PROMOTED, changed=False)])
    promote = (KEY_FILE, dict(PATHS, state='promoted', kid=NEW_KID, mode='0600', replace_unusable=False))
    assert host.calls == [promote, (KEY_FILE, dict(PATHS, state='staged', private_key=keys['one']['private'], kid=NEW_KID,
                                                   mode='0600', replace_unusable=False)), promote]
    assert 'failed' not in result and result['kid'] == NEW_KID


def test_switch_stages_again_only_once(keys):
    host = restaging(keys)
    result = host.run('switch', [{'failed': True, 'msg': NEITHER}, dict(key_files(staged=NEW_KID), changed=True),
                                 {'failed': True, 'msg': NEITHER}])
    assert len(host.calls) == 3
    assert result == {'failed': True, 'msg': 'Switching web1 to the key %s failed at the promotion: %s' % (NEW_KID, NEITHER)}


def test_switch_a_failed_staging_again_is_not_followed_by_a_promotion(keys):
    host = restaging(keys)
    result = host.run('switch', [{'failed': True, 'msg': NEITHER}, {'failed': True, 'msg': 'No space left on device'}])
    assert [c[1]['state'] for c in host.calls] == ['promoted', 'staged']
    assert result['msg'] == 'Switching web1 to the key %s failed at the promotion: %s' % (NEW_KID, NEITHER)


# -- rollback ----------------------------------------------------------------------------------------------

PREVIOUS = {'client_id': CLIENT, 'kid': OLD_KID, 'alg': 'RS384', 'credential_id': 'cred_old', 'previous_kid': None}


def rolling_back(retired=None, switched=None, **settings):
    """A host after a retirement that found the new credential gone (rollback), its switch having reported ``switched``."""
    host = switching(**settings)
    host.vars[host_step.RETIRE] = {'clients': {CLIENT: retired if retired is not None else {
        'error': 'The credential cred_new ... is no longer enabled in Auth0', 'retired': [], 'rollback': True}}}
    host.vars[host_step.SWITCH] = switched if switched is not None else {'changed': True, 'kid': NEW_KID,
                                                                         'files': key_files(NEW_KID)}
    return host


def test_rollback_puts_the_previous_key_back_and_reloads():
    host = rolling_back(reload_command='systemctl reload app')
    result = host.run('rollback', [{'changed': True, 'msg': 'Restored'}, {'rc': 0},
                                   dict(key_files(staged=NEW_KID), changed=True, removed=[KEY_PATH + '.next'])])
    assert host.calls == [(KEY_FILE, dict(PATHS, state='restored', kid=NEW_KID, metadata=PREVIOUS, metadata_mode='0644')),
                          (COMMAND, {'_raw_params': 'systemctl reload app'}),
                          (KEY_FILE, dict(PATHS, state='cleaned', remove_staged=True, kid=NEW_KID))]
    assert result == {'changed': True, 'restored': True,
                      'msg': 'The previous key of web1 was put back; the key %s, whose credential is gone, was discarded.'
                             % NEW_KID}


@pytest.mark.parametrize('retired, switched', [
    ({'error': 'Hosts web2 failed', 'retired': []}, None),  # the new credential is fine: nothing to undo
    ({'retired': [{'id': 'cred_old'}]}, None),
    ({'rollback': False, 'error': 'finish: the current credential is gone', 'retired': []}, None),
])
def test_rollback_nothing_unless_the_retirement_asked_for_it(retired, switched):
    host = rolling_back(retired=retired, switched=switched)
    assert host.run('rollback') == {'changed': False, 'restored': False, 'msg': 'Nothing to roll back.'}
    assert host.calls == []


def test_rollback_nothing_for_a_host_of_no_client_of_the_plan():
    host = rolling_back()
    host.vars[host_step.PLAN] = {}
    assert host.run('rollback') == {'changed': False, 'restored': False, 'msg': 'Nothing to roll back.'}
    assert host.calls == []


@pytest.mark.parametrize('switched', [
    {'failed': True, 'credential_gone': True, 'msg': 'Not switched: ...'},
    {'failed': True, 'msg': 'Switching web1 ... failed at the health check (the previous key was put back)',
     'files': key_files(OLD_KID)},
])
def test_rollback_a_host_that_did_not_switch_keeps_its_key(switched):
    host = rolling_back(switched=switched)
    assert host.run('rollback') == {'changed': False, 'restored': False, 'msg': 'This host did not switch to %s.' % NEW_KID}
    assert host.calls == []


@pytest.mark.parametrize('settings, answers, calls', [
    ({'rollback_on_failure': False}, [], 0),
    ({}, [{'failed': True, 'msg': 'no backup of the previous key'}], 1),
])
def test_rollback_that_cannot_put_the_key_back_fails_the_host_and_says_what_to_do(settings, answers, calls):
    host = rolling_back(**settings)
    result = host.run('rollback', answers)
    assert result == {'failed': True, 'restored': False,
                      'msg': 'The previous key of web1 could not be put back (no backup, or rollback_on_failure is false); it '
                             'holds the key %s, whose credential is gone: rotate again.' % NEW_KID}
    assert len(host.calls) == calls


# -- a secret-store destination --------------------------------------------------------------------------


class FakeStore:
    """A store that answers like credential_key_file; records the requests (the key never goes to a module)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []

    def run(self, args, check_mode=False):
        self.requests.append((dict(args), check_mode))
        return self.answers.pop(0)

    def staged_key(self, kid):
        return 'PRIVATE KEY OF %s' % kid


@pytest.fixture
def store(monkeypatch):
    made = {}

    def open_store(settings, path, staged_path):
        made.update(settings=settings, path=path, staged_path=staged_path)
        return made['store']
    monkeypatch.setattr(host_step._stores, 'open_store', open_store)
    return made


def test_a_vault_host_reads_and_stages_through_the_store_not_a_module(store):
    store['store'] = FakeStore([dict(key_files(), changed=False), {'changed': True, 'staged': {'kid': NEW_KID}}])
    host = Host(destination='vault', key_path='apps/billing', vault_mount='kv')
    read = host.run('read')
    assert 'failed' not in read and host.calls == [] and read['settings']['destination'] == 'vault'
    assert store['path'] == 'apps/billing' and store['staged_path'] == 'apps/billing.next'
    assert store['settings']['vault_mount'] == 'kv'
    host.vars[host_step.PLAN] = plan(keys={CLIENT: {'private_key': 'PEM', 'kid': NEW_KID}})
    staged = host.run('stage', check=True)
    assert staged['changed'] and host.calls == []
    request, check_mode = store['store'].requests[-1]
    assert request['state'] == 'staged' and request['private_key'] == 'PEM' and check_mode is True


def test_a_vault_host_resumes_with_the_key_staged_in_the_store(store):
    store['store'] = FakeStore([{'changed': False, 'staged': {'kid': NEW_KID}}])
    host = Host(destination='vault', key_path='apps/billing')
    host.vars[host_step.PLAN] = plan(action='resume', stage=True)
    host.run('stage')
    assert store['store'].requests[0][0]['private_key'] == 'PRIVATE KEY OF %s' % NEW_KID


@pytest.mark.parametrize('settings, message', [
    ({'destination': 'vault', 'verify_host_token': True},
     'credential_rotation_verify_host_token on web1 needs a key file on the host; with the vault destination'),
    ({'destination': 'bucket'}, "credential_rotation_destination on web1 is 'bucket'; use one of file, vault, aws_secretsmanager."),
    ({'destination': 'aws_secretsmanager', 'verify_host_token': True},
     'credential_rotation_verify_host_token on web1 needs a key file on the host; with the aws_secretsmanager destination'),
    ({'overlap': 'a day'}, "credential_rotation_overlap on web1 is 'a day'; give a duration up to a year, such as 3600"),
    ({'overlap': '400d'}, "credential_rotation_overlap on web1 is '400d'; give a duration up to a year"),
    ({'destination': 'vault', 'key_path': 'secret/data/apps/g1'},
     "credential_rotation_key_path on web1 is 'secret/data/apps/g1'; with the vault destination it is the path inside the "
     "mount secret, without the mount and without data/ (for example apps/g1)."),
])
def test_store_settings_that_cannot_work_are_refused(settings, message):
    settings = dict({'key_path': 'apps/billing'}, **settings)
    result = Host(**settings).run('read')
    assert result['failed'] and result['invalid'] and message in result['msg']


def test_overlap_is_read_as_seconds_so_hosts_agree():
    answer = dict(key_files(), changed=False)
    assert Host(overlap='1d').run('read', [answer])['settings']['overlap'] == 86400
    assert Host(overlap='24h').run('read', [dict(answer)])['settings']['overlap'] == 86400


def test_a_secret_of_another_client_is_refused(store):
    store['store'] = FakeStore([dict(key_files(), changed=False, metadata={'client_id': 'someone-else', 'kid': OLD_KID})])
    result = Host(destination='vault', key_path='apps/billing').run('read')
    assert result['failed'] and 'holds the key of client someone-else, not of client %s: two clients must not share' % CLIENT \
        in result['msg']


def test_an_unusable_key_in_a_store_is_not_called_a_file(store):
    """A secret holding something else than a key: the message says what replacing does in a store (a new version, the
    current one kept as an earlier version), not that a file is kept as a backup."""
    unusable = {'path': 'vault:secret/apps/billing', 'exists': True, 'kid': None, 'usable': False, 'found': 'an EC private key'}
    store['store'] = FakeStore([dict(key_files(), key=unusable, changed=False)])
    result = Host(destination='vault', key_path='apps/billing').run('read')
    assert result['failed'] and result['invalid']
    assert result['msg'] == (
        'vault:secret/apps/billing on web1 holds an EC private key, not a private key the rotation can replace: Auth0 '
        'accepts unencrypted RSA keys (2048 to 4096 bits) for RS256, RS384 and PS256. Correct credential_rotation_key_path, '
        'or set credential_rotation_replace_unusable_key: true to write the new key as a new version of the secret (the '
        'store keeps the one it holds as an earlier version).')
