# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin of auth0_credential_report: checks its options first, reads through the info module, writes
the files on the controller and prints the table."""

from __future__ import annotations

import json
import os
import stat
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.playbook.play_context import PlayContext

from ansible_collections.keyops.auth0.plugins.action import auth0_credential_report as report
from ansible_collections.keyops.auth0.plugins.module_utils._credentials import describe_client

FAR = '2099-01-01T00:00:00.000Z'


def clients():
    return [describe_client(
        {'client_id': 'c-billing', 'name': 'billing',
         'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': 'cred_ok'}]}}},
        [{'id': 'cred_ok', 'name': 'ok', 'kid': 'K1', 'created_at': '2026-01-01T00:00:00.000Z', 'expires_at': FAR},
         {'id': 'cred_gone', 'name': 'gone', 'kid': 'K2', 'created_at': '2020-01-01T00:00:00.000Z',
          'expires_at': '2021-01-01T00:00:00.000Z'}])]


@pytest.fixture
def shown(monkeypatch):
    lines = []
    monkeypatch.setattr(report.display, 'display', lambda msg, *a, **k: lines.append(msg))
    return lines


def action(args, info=None, check_mode=False, env_domain=True, monkeypatch=None):
    task = MagicMock()
    task.args = dict(args)
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    module = report.ActionModule(task, MagicMock(), PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    module._load_name = 'keyops.auth0.auth0_credential_report'
    module._execute_module = MagicMock(return_value=info if info is not None else {'changed': False, 'clients': clients()})
    return module


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    for name in ('AUTH0_DOMAIN', 'AUTH0_CLIENT_ID', 'AUTH0_CLIENT_SECRET', 'AUTH0_API_TOKEN', 'AUTH0_AUDIENCE'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('AUTH0_DOMAIN', 'acme.eu.auth0.com')


def test_writes_each_format_and_returns_the_rows(tmp_path, shown):
    dest = tmp_path / 'out' / 'deeper'
    module = action({'formats': ['json', 'csv,md'], 'dest': str(dest), 'auth0_client_secret': 's3cret',
                     'client_id': 'c-billing'})
    result = module.run(task_vars={})
    assert result['changed'] is True
    assert result['files'] == [str(dest / ('auth0-credentials.%s' % f)) for f in ('json', 'csv', 'md')]
    assert result['counts'] == {'expired': 1, 'due': 0, 'unused': 0, 'ok': 1}
    assert [a['credential_id'] for a in result['attention']] == ['cred_gone']
    doc = json.loads((dest / 'auth0-credentials.json').read_text())
    assert doc['tenant'] == 'acme.eu.auth0.com' and [r['status'] for r in doc['credentials']] == ['expired', 'ok']
    assert (dest / 'auth0-credentials.csv').read_text().startswith('client_id,client_name,credential_id,')
    assert stat.S_IMODE(os.stat(dest / 'auth0-credentials.csv').st_mode) == 0o666 & ~_umask()
    assert sorted(os.listdir(dest)) == ['auth0-credentials.csv', 'auth0-credentials.json', 'auth0-credentials.md']
    # the info module gets the connection options the task was given, and the client, nothing else
    call = module._execute_module.call_args.kwargs
    assert call['module_name'] == 'keyops.auth0.auth0_client_credential_info'
    assert call['module_args'] == {'auth0_client_secret': 's3cret', 'client_id': 'c-billing'}
    assert shown[0].startswith('auth0_credential_report: 1 clients, 1 expired, 0 due, 0 unused, 1 ok; written to ')
    assert shown[0].splitlines()[1].split() == ['STATUS', 'CLIENT', 'CREDENTIAL', 'KID', 'ENABLED', 'FOR', 'EXPIRES',
                                                'DAYS', 'LEFT', 'REASON']
    assert 's3cret' not in json.dumps(result) and 's3cret' not in '\n'.join(shown)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_an_unchanged_file_is_not_rewritten(tmp_path, shown):
    action({'formats': 'csv', 'dest': str(tmp_path)}).run(task_vars={})
    again = action({'formats': 'csv', 'dest': str(tmp_path)}).run(task_vars={})
    assert again['changed'] is False


def test_check_mode_writes_nothing(tmp_path, shown):
    result = action({'formats': ['json'], 'dest': str(tmp_path / 'dry')}, check_mode=True).run(task_vars={})
    assert result['changed'] is True and result['files'] == [str(tmp_path / 'dry' / 'auth0-credentials.json')]
    assert not (tmp_path / 'dry').exists()
    assert '; would write ' in shown[0]


def test_no_formats_no_files_and_the_table_can_be_off(tmp_path, shown):
    result = action({'show_table': False}).run(task_vars={})
    assert result['changed'] is False and result['files'] == [] and shown == []


@pytest.mark.parametrize('args, message', [
    ({'formats': ['json', 'xml'], 'dest': '/tmp'}, "formats: 'xml' is not a report format; use one or more of json, csv, md"),
    ({'formats': ['csv']}, 'dest is not set: give the folder on the controller to write the csv report into'),
    ({'rotate_before_days': -1}, 'rotate_before_days must be 0 or more'),
    ({'max_age_days': -5}, 'max_age_days must be 0'),
    ({'basename': '../escape'}, 'basename must be a plain file name'),
    ({'basename': 'a\x00b'}, 'basename must be a plain file name'),
    ({'formats': 'json', 'dest': '/etc/hostname'}, 'dest: /etc/hostname is not a folder'),
])
def test_bad_options_are_refused_before_auth0_is_read(args, message, shown):
    module = action(args)
    with pytest.raises(AnsibleActionFail, match=message.replace('(', r'\(')):
        module.run(task_vars={})
    module._execute_module.assert_not_called()


def test_a_failed_read_fails_the_task_and_writes_nothing(tmp_path, shown):
    info = {'failed': True, 'msg': 'Auth0 answered 401 Unauthorized', 'api_error': {'status': 401}}
    result = action({'formats': ['json'], 'dest': str(tmp_path / 'x')}, info=info).run(task_vars={})
    assert result['failed'] is True and result['msg'] == 'Auth0 answered 401 Unauthorized'
    assert not (tmp_path / 'x').exists() and shown == []


def test_an_unwritable_folder_names_dest(tmp_path, shown):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(AnsibleActionFail, match='dest: cannot make the folder'):
        action({'formats': ['json'], 'dest': str(blocker / 'sub')}).run(task_vars={})


def test_the_tenant_is_the_domain_the_module_read_not_the_controllers(tmp_path, shown, monkeypatch):
    """The task's environment (or module_defaults) may point the module at another tenant than the controller's
    AUTH0_DOMAIN: the report names the one it read."""
    monkeypatch.setenv('AUTH0_DOMAIN', 'prod.eu.auth0.com')
    info = {'changed': False, 'clients': clients(), 'auth0_domain': 'staging.eu.auth0.com'}
    action({'formats': 'md,json', 'dest': str(tmp_path)}, info=info).run(task_vars={})
    assert (tmp_path / 'auth0-credentials.md').read_text().startswith('# Auth0 credentials of staging.eu.auth0.com\n')
    assert json.loads((tmp_path / 'auth0-credentials.json').read_text())['tenant'] == 'staging.eu.auth0.com'


def test_without_auth0_domain_on_the_controller_the_module_still_runs(shown, monkeypatch):
    monkeypatch.delenv('AUTH0_DOMAIN')
    result = action({}, info={'changed': False, 'clients': clients(), 'auth0_domain': 'set.by.environment'}).run(task_vars={})
    assert result['counts']['ok'] == 1


def test_check_mode_reports_no_change_when_the_files_are_current(tmp_path, shown):
    action({'formats': 'csv', 'dest': str(tmp_path)}).run(task_vars={})
    assert action({'formats': 'csv', 'dest': str(tmp_path)}, check_mode=True).run(task_vars={})['changed'] is False
    assert action({'formats': 'csv,md', 'dest': str(tmp_path)}, check_mode=True).run(task_vars={})['changed'] is True


def test_a_carriage_return_in_a_name_does_not_rewrite_the_csv_every_run(tmp_path, shown):
    named = clients()
    named[0]['name'] = 'cr\rname'
    info = {'changed': False, 'clients': named}
    assert action({'formats': 'csv', 'dest': str(tmp_path)}, info=info).run(task_vars={})['changed'] is True
    assert action({'formats': 'csv', 'dest': str(tmp_path)}, info=info).run(task_vars={})['changed'] is False


def test_a_relative_dest_is_made_absolute_and_dest_without_formats_warns(tmp_path, shown, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = action({'formats': 'json', 'dest': 'rel'}).run(task_vars={})
    assert result['files'] == [str(tmp_path / 'rel' / 'auth0-credentials.json')]
    warned = action({'dest': 'rel'}).run(task_vars={})
    assert warned['files'] == [] and 'formats is empty' in warned['warnings'][0]


def test_clients_without_credentials_are_named_under_the_table(shown):
    info = {'changed': False, 'clients': clients() + [describe_client({'client_id': 'c-empty', 'name': 'empty'}, [])]}
    result = action({}, info=info).run(task_vars={})
    assert shown[0].splitlines()[-1] == '1 client(s) without a credential: empty (c-empty)'
    assert result['expiring'] == []  # cred_gone expired, but no method enables it
