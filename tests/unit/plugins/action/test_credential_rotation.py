# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Auth0 steps of the credential_rotation role (action plugin credential_rotation): plan, enable, retire, summary.

Each test plays the role's steps in order over the hosts' registered results, with Auth0 faked by declared calls.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import tempfile
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.playbook.play_context import PlayContext

from ansible_collections.keyops.auth0.plugins.action import credential_rotation as rotation
from ansible_collections.keyops.auth0.plugins.module_utils import _keys, _marker
from ansible_collections.keyops.auth0.tests.unit.utils import CLIENT, CLIENT_PATH, CREDS_PATH, DOMAIN, Api, client_with, credential

OTHER = 'app_client_2'
OTHER_PATH = '/api/v2/clients/%s' % OTHER
KEY_PATH = '/etc/app/key.pem'
OLD_KID = 'kid_old_0000000001'
OLD = credential('cred_old', OLD_KID, name='keyops-rotation-20250101T000000Z')
PREV = credential('cred_prev', 'kid_prev_000000001', name='keyops-rotation-20240101T000000Z')
NAME = 'keyops-rotation-20260601T000000Z'
FIELDS = {'fields': 'client_id,name,client_authentication_methods,token_endpoint_auth_method,signed_request_object,client_metadata',
          'include_fields': 'true'}
NOT_FOUND = {'statusCode': 404, 'error': 'Not Found', 'message': 'The client does not exist', 'errorCode': 'inexistent_client'}
INVALID_CLIENT = {'error': 'invalid_client', 'error_description': 'Invalid client assertion signature'}


def settings(client_id, **extra):
    """A host's settings as its read step returns them (the role's defaults, a small key)."""
    out = {'client_id': client_id, 'key_path': KEY_PATH, 'credential_name': NAME, 'key_mode': '0600', 'key_size': 2048,
           'alg': 'RS256', 'expires_in_days': 365, 'name_prefix': 'keyops-rotation', 'force': False, 'rotate_before_days': 30,
           'max_age_days': 0, 'allow_secret_switch': False, 'retire': True, 'keep_backups': 3, 'verify_audience': '',
           'serial': 0, 'allow_partial': False, 'verify_host_token': False, 'take_over_stale_marker': False,
           'stale_marker_minutes': 120}
    out.update(extra)
    return out


def files(live=OLD_KID, staged=None, mode='0600'):
    """The key files of a host as credential_key_file reports them."""
    return {'key': {'exists': bool(live), 'kid': live, 'mode': mode if live else None, 'path': KEY_PATH},
            'staged': {'exists': bool(staged), 'kid': staged, 'mode': mode if staged else None, 'path': KEY_PATH + '.next'},
            'metadata': None, 'backups': [], 'previous_kid': None}


def enabled_body(*ids):
    return {'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': i} for i in ids]}}}


def body_is(expected):
    def check(request):
        assert Api.json(request) == expected
        assert request.headers['authorization'] == 'Bearer mgmt-token'
    return check


def client_body(client_id=CLIENT, enabled=('cred_old',), secret=None, marker=None):
    """The client as Auth0 answers a GET (with fields) or a PATCH, ``marker`` in its client_metadata."""
    body = dict(client_with(list(enabled) if enabled is not None else None, secret=secret), client_id=client_id)
    body['client_metadata'] = {'team': 'billing'}
    if marker:
        body['client_metadata'][_marker.KEY] = marker
    return body


def read_calls(api, client_id=CLIENT, enabled=('cred_old',), credentials=(OLD,), secret=None, marker=None):
    """GET client (with fields) and GET credentials, as the plan makes them."""
    path = '/api/v2/clients/%s' % client_id
    api.expect('GET', path, body=client_body(client_id, enabled, secret, marker), params=FIELDS)
    api.expect('GET', path + '/credentials', body=list(credentials))


def marker_call(api, client_id=CLIENT, enabled=('cred_old',), secret=None, token='mgmt-token'):
    """The plan's first write to a client it changes: the PATCH of its run marker, and nothing else. Auth0 answers
    with the client, the marker in its client_metadata."""
    answer = client_body(client_id, enabled, secret)

    def check(request):
        body = Api.json(request)
        assert list(body) == ['client_metadata'] and list(body['client_metadata']) == [_marker.KEY]
        assert request.headers['authorization'] == 'Bearer %s' % token
        value = body['client_metadata'][_marker.KEY]
        assert sorted(json.loads(value)) == ['host', 'pid', 'run', 'started'] and len(value) <= 255
        answer['client_metadata'][_marker.KEY] = value

    api.expect('PATCH', '/api/v2/clients/%s' % client_id, 200, answer, check=check)


def ours(play):
    """The marker the plan of this play wrote."""
    run = play.vars[rotation.PLAN]['run']
    return _marker.make(run['id'], run['started'], run['host'], run['pid'])


def fresh_read(api, play, client_id=CLIENT, enabled=('cred_old',), secret=None, marker=True):
    """The GET of the client right before the first credential write (enable) or the retirement."""
    api.expect('GET', '/api/v2/clients/%s' % client_id, params=FIELDS,
               body=client_body(client_id, enabled, secret, ours(play) if marker is True else marker))


def release_call(api, client_id=CLIENT):
    """The PATCH that removes the run's marker, and nothing else (summary)."""
    api.expect('PATCH', '/api/v2/clients/%s' % client_id, 200, {}, check=body_is({'client_metadata': {_marker.KEY: None}}))


def started(minutes_ago):
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes_ago)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def writes(api):
    """The calls that change something in Auth0 (the management token request aside)."""
    return [(r.method, r.url.path) for r in api.requests if r.method != 'GET' and r.url.path != '/oauth/token']


def token_of(client_id, kid):
    """A token request of ``client_id`` itself, with a client assertion signed by the key ``kid``."""
    def check(request):
        form = Api.form(request)
        assert form['client_id'] == client_id and 'client_secret' not in form
        assert form['client_assertion_type'] == 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
        head = form['client_assertion'].split('.')[0]
        assert json.loads(base64.urlsafe_b64decode(head + '=' * (-len(head) % 4)))['kid'] == kid
    return check


def action(args, check=False, diff=False, strategy='linear', order=None):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check
    task.diff = diff
    task._parent._play.strategy = strategy
    task._parent._play.order = order
    connection = MagicMock()
    connection._shell.tmpdir = None
    templar = MagicMock()
    templar.template.side_effect = lambda value, **kwargs: value
    module = rotation.ActionModule(task, connection, PlayContext(), loader=None, templar=templar, shared_loader_obj=None)
    module._load_name = 'keyops.auth0.credential_rotation'
    module._execute_module = MagicMock(side_effect=AssertionError('no module process may be started'))
    return module


class Play:
    """The variables of a play as the plugin sees them: inventory, play hosts, registered results."""

    def __init__(self, inventory, play=None, alive=None, batch=None):
        play = list(inventory) if play is None else play
        alive = list(play) if alive is None else alive
        self.hostvars = dict((h, {'credential_rotation_client_id': c}) for h, c in inventory.items())
        self.vars = {'hostvars': self.hostvars, 'groups': {'all': list(inventory)}, 'ansible_play_hosts_all': play,
                     'ansible_play_hosts': alive, 'ansible_play_batch': alive if batch is None else batch}

    def read(self, host, live=OLD_KID, staged=None, **extra):
        client = self.hostvars[host]['credential_rotation_client_id']
        self.hostvars[host][rotation.READ] = {'changed': False, 'settings': settings(client, **extra), 'files': files(live, staged)}

    def register(self, name, **results):
        for host, result in results.items():
            self.hostvars[host][name] = result

    def run(self, step, check=False, diff=False, strategy='linear', order=None, **args):
        full = dict(step=step, concurrency=1, now='2026-06-01T00:00:00Z', auth0_domain=DOMAIN, auth0_client_id='mgmt',
                    auth0_client_secret='mgmt-secret')
        full.update(args)
        result = action(dict((k, v) for k, v in full.items() if v is not None), check, diff, strategy,
                        order).run(task_vars=self.vars)
        name = {'plan': rotation.PLAN, 'enable': rotation.ENABLE, 'retire': rotation.RETIRE}.get(step)
        if name:
            self.vars[name] = result
        return result


@pytest.fixture
def api(api, monkeypatch):
    """The conftest fake (AUTH0_* unset), serving every Auth0Client the plugin builds.

    The plugin turns any exception of one client into that client's error, the fake's "unexpected call" too:
    done() here also checks that no call was made beyond those declared.
    """
    monkeypatch.setattr(rotation.ActionModule, 'client_options', {'transport': api.transport, 'sleep': api.sleeps.append})
    declared = []
    expect, done = api.expect, api.done

    def counted(*args, **kwargs):
        declared.append(args[:2])
        return expect(*args, **kwargs)

    def strict_done():
        done()
        made = [(r.method, r.url.path) for r in api.requests]
        assert len(made) == len(declared), 'calls made %s, declared %s' % (made, declared)

    monkeypatch.setattr(api, 'expect', counted)
    monkeypatch.setattr(api, 'done', strict_done)
    yield api


@pytest.fixture
def said(monkeypatch):
    """The lines the plugin prints."""
    lines = []
    monkeypatch.setattr(rotation, '_say', lines.append)
    return lines


@pytest.fixture
def new_keys(monkeypatch, keys):
    """The plan's new keys are keys['one'], then keys['two'] (2048-bit keys made once for the session)."""
    made = []

    def generate(size):
        made.append(size)
        return keys[('one', 'two')[len(made) - 1]]['private']

    monkeypatch.setattr(rotation._keys, 'generate_private_key_pem', generate)
    return made


@pytest.fixture(autouse=True)
def coordination_in_tmp_path(monkeypatch, tmp_path):
    """The plan makes its coordination directory in the test's own temporary directory (never in the shared /tmp)."""
    mkdtemp = tempfile.mkdtemp
    monkeypatch.setattr(rotation.tempfile, 'mkdtemp', lambda **kwargs: mkdtemp(dir=str(tmp_path), **kwargs))


def host_plan(plan, host):
    """What the plan tells a host (the fields the host steps use)."""
    return dict((k, plan['hosts'][host].get(k)) for k in ('client_id', 'action', 'batch', 'error', 'stage'))


def token_requests(api):
    return [r for r in api.requests if r.url.path == '/oauth/token']


# -- plan ---------------------------------------------------------------------------------------------


def test_plan_refuses_a_client_with_hosts_outside_the_play_and_plans_the_other(api, said, tmp_path):
    play = Play({'web1': CLIENT, 'web2': CLIENT, 'api1': OTHER, 'api2': OTHER}, play=['web1', 'web2', 'api1'])
    play.read('web1', force=True, serial=1)
    play.read('web2', force=True, serial=1)
    play.read('api1', force=True)
    api.token(check=lambda r: Api.form(r)['client_id'] == 'mgmt' or pytest.fail('management token'))
    read_calls(api)
    marker_call(api)
    result = play.run('plan', concurrency=8)
    api.done()
    assert len(token_requests(api)) == 1
    assert not [r for r in api.requests if OTHER in r.url.path], 'no call for the refused client'

    planned = result['clients'][CLIENT]
    assert planned['action'] == 'rotate' and 'new_key' not in planned
    assert planned['marker'] == 'held'
    assert Api.json(api.requests[-1]) == {'client_metadata': {_marker.KEY: ours(play)}}, 'the marker of this run'
    key = result['keys'][CLIENT]
    assert key['kid'] == planned['target_kid'] == _keys.kid_for_public_key(key['private_key'])
    assert key['public_key'] == _keys.public_key_pem(key['private_key'])
    assert [c['id'] for c in planned['retire']] == ['cred_old']
    assert list(result['keys']) == [CLIENT]

    refused = result['clients'][OTHER]
    assert refused['action'] == 'blocked' and refused['state'] is None and refused['marker'] is None
    assert refused['errors'][0].startswith('Host api2 uses client %s' % OTHER)
    assert host_plan(result, 'web1') == {'client_id': CLIENT, 'action': 'rotate', 'batch': 0, 'error': None, 'stage': True}
    assert host_plan(result, 'web2') == {'client_id': CLIENT, 'action': 'rotate', 'batch': 1, 'error': None, 'stage': True}
    assert host_plan(result, 'api1') == {'client_id': OTHER, 'action': 'blocked', 'batch': 0, 'stage': False,
                                         'error': refused['errors'][0]}

    assert result['token'] == 'mgmt-token'
    assert result['changed'] is True, 'the marker was written'
    assert result['now'] == '2026-06-01T00:00:00Z'
    assert result['connection'] == {'auth0_domain': DOMAIN, 'auth0_ca_path': None, 'auth0_audience': None, 'validate_certs': True, 'timeout': 30.0,
                                    'retries': 5}
    assert sorted(result['run']) == ['host', 'id', 'pid', 'started'] and len(result['run']['id']) == 16
    assert os.path.isdir(result['coordination']) and os.path.basename(result['coordination']).startswith('keyops-rotation-')
    assert os.path.dirname(result['coordination']) == str(tmp_path)
    assert said[0].startswith('client %s (hosts web1, web2): rotate. Credential_rotation_force is set.' % CLIENT)
    assert said[1].startswith('client %s (hosts api1): refused. Host api2 uses client' % OTHER)


@pytest.mark.parametrize('batch, strategy, message', [
    (['web1'], 'linear', 'hosts web2 are not in this batch.*credential_rotation_serial'),
    (None, 'free', 'uses the free strategy; the rotation needs the linear strategy'),
    (None, 'ansible.builtin.host_pinned', 'host_pinned strategy; the rotation needs the linear strategy'),
])
def test_plan_refuses_the_play_keyword_serial_and_other_strategies(api, batch, strategy, message):
    play = Play({'web1': CLIENT, 'web2': CLIENT}, batch=batch)
    play.read('web1', force=True)
    play.read('web2', force=True)
    with pytest.raises(AnsibleActionFail, match=message):
        play.run('plan', strategy=strategy)
    assert api.requests == []


def test_plan_refuses_order_shuffle(api):
    play = Play({'web1': CLIENT, 'web2': CLIENT})
    play.read('web1')
    play.read('web2')
    with pytest.raises(AnsibleActionFail, match='order: shuffle'):
        play.run('plan', order='shuffle')
    assert api.requests == []


def test_plan_removes_only_coordination_directories_older_than_a_day(api, new_keys, monkeypatch, tmp_path):
    """Batch records that a killed run left in the temporary directory go; a running one's stay."""
    root = tmp_path / 'tmp'
    root.mkdir()
    monkeypatch.setattr(rotation.tempfile, 'gettempdir', lambda: str(root))
    for name in ('keyops-rotation-old', 'keyops-rotation-new', 'other-old'):
        (root / name).mkdir()
    (root / 'keyops-rotation-file').write_text('x')
    day_ago = os.path.getmtime(str(root)) - rotation.STALE_COORDINATION - 60
    for name in ('keyops-rotation-old', 'other-old', 'keyops-rotation-file'):
        os.utime(str(root / name), (day_ago, day_ago))
    play = Play({'web1': CLIENT})
    play.read('web1', force=True)
    api.token()
    read_calls(api)
    marker_call(api)
    play.run('plan')
    api.done()
    assert sorted(os.listdir(str(root))) == ['keyops-rotation-file', 'keyops-rotation-new', 'other-old']


def test_plan_batches_follow_the_play_order(api):
    play = Play({'web1': CLIENT, 'web2': CLIENT}, play=['web1', 'web2'])
    play.read('web1', force=True, serial=1)
    play.read('web2', force=True, serial=1)
    api.token()
    api.expect('GET', CLIENT_PATH, body=client_with(['c1']))
    api.expect('GET', CREDS_PATH, body=[credential('c1', 'K1', name='keyops-rotation-1')])
    marker_call(api, enabled=['c1'])
    result = play.run('plan', order='reverse_inventory')
    api.done()
    assert result['clients'][CLIENT]['batches'] == {'web2': 0, 'web1': 1}
    assert result['clients'][CLIENT]['hosts'] == ['web2', 'web1']


@pytest.mark.parametrize('strategy', ['ansible.builtin.linear', 'debug', None])
def test_plan_accepts_the_linear_strategy_and_makes_no_call_when_every_client_is_refused(api, strategy):
    play = Play({'web1': CLIENT, 'web2': CLIENT}, play=['web1'])
    play.read('web1', force=True)
    result = play.run('plan', strategy=strategy)
    assert result['clients'][CLIENT]['action'] == 'blocked'
    assert result['token'] is None and result['coordination'] is None and result['keys'] == {}
    assert api.requests == []


@pytest.mark.parametrize('failure, reason', [
    ({'unreachable': True, 'msg': 'Failed to connect to the host via ssh'}, 'web2: unreachable: Failed to connect'),
    ({'failed': True, 'msg': 'Permission denied'}, 'web2: its key files could not be read: Permission denied'),
    (None, 'web2: it failed earlier in the play'),
])
def test_plan_refuses_only_the_client_of_a_host_that_failed(api, new_keys, failure, reason):
    """A failed or unreachable host leaves ansible_play_batch too: that is not the play keyword serial."""
    play = Play({'web1': CLIENT, 'web2': CLIENT, 'api1': OTHER}, alive=['web1', 'api1'])
    play.read('web1', force=True)
    play.read('api1', force=True)
    if failure:
        play.register(rotation.READ, web2=failure)
    api.token()
    read_calls(api, OTHER)
    marker_call(api, OTHER)
    result = play.run('plan')
    api.done()
    assert result['clients'][CLIENT]['action'] == 'blocked'
    assert reason in result['clients'][CLIENT]['errors'][0]
    assert result['hosts']['web1']['error'] == result['hosts']['web2']['error'] == result['clients'][CLIENT]['errors'][0]
    assert result['clients'][OTHER]['action'] == 'rotate'
    release_call(api, OTHER)  # the run stops here for OTHER: its marker goes, the refused client had none
    summary = play.run('summary')['credential_rotation'][CLIENT]
    api.done()
    assert summary['outcome'] == 'refused'
    assert summary['hosts_failed'] == [{'host': 'web2', 'reason': result['clients'][CLIENT]['failed']['web2']}]
    assert reason.split(': ', 1)[1] in summary['hosts_failed'][0]['reason']


def test_plan_a_client_whose_every_host_failed_is_refused(api, new_keys):
    play = Play({'web1': CLIENT, 'api1': OTHER}, alive=['api1'])
    play.register(rotation.READ, web1={'failed': True, 'msg': 'Permission denied', 'settings': settings(CLIENT)})
    play.read('api1', force=True)
    api.token()
    read_calls(api, OTHER)
    marker_call(api, OTHER)
    result = play.run('plan')
    api.done()
    refused = result['clients'][CLIENT]
    assert refused['action'] == 'blocked' and refused['alive'] == [] and refused['settings'] == {}
    assert len(refused['errors']) == 1
    assert refused['errors'][0].startswith('Host web1 of client %s cannot take part (web1: its key files could not be read: '
                                           'Permission denied).' % CLIENT)
    assert result['clients'][OTHER]['action'] == 'rotate'


@pytest.mark.parametrize('web1, read_back', [
    (lambda kid: files(OLD_KID, staged=kid), {'host': 'web1', 'path': KEY_PATH + '.next', 'client_id': CLIENT}),
    (files, {'host': 'web1', 'path': KEY_PATH, 'client_id': CLIENT}),
])
def test_plan_resumes_a_rotation_in_progress_and_names_where_to_read_the_key_back(api, keys, web1, read_back):
    new = keys['one']['kid']
    play = Play({'web1': CLIENT, 'web2': CLIENT})
    play.read('web1')
    play.read('web2', staged=new)
    play.hostvars['web1'][rotation.READ]['files'] = web1(new)
    read_calls(api)  # the token given: no token request
    marker_call(api, token='given-token')
    result = play.run('plan', auth0_token='given-token', auth0_client_id=None, auth0_client_secret=None, now=None)
    api.done()
    assert result['now'].endswith('Z') and result['now'] != '2026-06-01T00:00:00Z'
    planned = result['clients'][CLIENT]
    assert planned['action'] == 'resume' and planned['target_kid'] == new
    assert planned['read_back'] == read_back
    assert result['keys'] == {} and result['token'] == 'given-token'
    assert host_plan(result, 'web2') == {'client_id': CLIENT, 'action': 'resume', 'batch': 0, 'error': None, 'stage': False}
    assert os.path.isdir(result['coordination'])
    assert token_requests(api) == []


def test_plan_brings_the_key_of_an_earlier_partial_run_to_the_other_hosts(api, keys):
    """An earlier partial run rotated web2 only: its key (enabled, made by the role) is staged on web1 from web2's copy."""
    new = dict(credential('cred_new', keys['one']['kid'], name=NAME), created_at='2026-05-01T00:00:00.000Z')
    play = Play({'web1': CLIENT, 'web2': CLIENT})
    play.read('web1')
    play.read('web2', live=keys['one']['kid'])
    api.token()
    read_calls(api, enabled=('cred_old', 'cred_new'), credentials=[OLD, new])
    marker_call(api, enabled=('cred_old', 'cred_new'))
    result = play.run('plan')
    api.done()
    planned = result['clients'][CLIENT]
    assert planned['action'] == 'resume' and planned['target_kid'] == keys['one']['kid']
    assert planned['read_back'] == {'host': 'web2', 'path': KEY_PATH, 'client_id': CLIENT}
    assert (host_plan(result, 'web1')['stage'], host_plan(result, 'web2')['stage']) == (True, False)


def test_plan_an_auth0_error_fails_only_that_client(api, new_keys, said):
    play = Play({'web1': CLIENT, 'api1': OTHER})
    play.read('web1', force=True)
    play.read('api1', force=True)
    api.token()
    api.expect('GET', CLIENT_PATH, 404, NOT_FOUND, params=FIELDS)
    read_calls(api, OTHER)
    marker_call(api, OTHER)
    result = play.run('plan')
    api.done()
    failed = result['clients'][CLIENT]
    assert failed['action'] == 'failed' and failed['target_kid'] is None
    assert failed['errors'] == ['Auth0 answered: Auth0 API call GET %s failed: 404 Not Found (inexistent_client): '
                                'The client does not exist' % CLIENT_PATH]
    assert host_plan(result, 'web1') == {'client_id': CLIENT, 'action': 'failed', 'batch': 0, 'error': failed['errors'][0],
                                         'stage': False}
    assert result['clients'][OTHER]['action'] == 'rotate'
    assert list(result['keys']) == [OTHER] and result['keys'][OTHER]['kid'] == result['clients'][OTHER]['target_kid']
    assert any(line.startswith('client %s (hosts web1): refused. Auth0 answered' % CLIENT) for line in said)


def test_plan_an_unexpected_error_fails_only_that_client(api, monkeypatch):
    play = Play({'web1': CLIENT})
    play.read('web1', force=True)
    api.token()
    read_calls(api)  # no marker: it is the plan's last step, after the key is made, so a failure leaves none behind
    monkeypatch.setattr(rotation._keys, 'generate_private_key_pem', MagicMock(side_effect=ValueError('size must be 2048 to 4096 bits')))
    result = play.run('plan')
    api.done()
    assert result['clients'][CLIENT]['action'] == 'failed'
    assert result['clients'][CLIENT]['errors'] == ['Unexpected ValueError: size must be 2048 to 4096 bits']
    assert result['coordination'] is None


def test_plan_says_what_it_would_free_retire_and_switch_in_diff_mode(api, new_keys, said, keys):
    spare = [credential('cred_x%d' % i, 'kid_foreign_00000%d' % i, name='manual-%d' % i) for i in (1, 2)]
    play = Play({'web1': CLIENT, 'web3': CLIENT, 'api1': OTHER}, play=['web1', 'api1'])
    play.read('web1', force=True, allow_partial=True)
    play.read('api1', live='kid_other_live001', allow_secret_switch=True)
    api.token()
    # the key of web1 is not enabled (a rotation, not the finish of an earlier one); 4 records: one must go
    read_calls(api, CLIENT, enabled=(), credentials=[OLD, PREV] + spare)
    marker_call(api, CLIENT, enabled=())
    read_calls(api, OTHER, enabled=None, secret='client_secret_post',
               credentials=[credential('cred_o1', 'kid_other_old0001', name='keyops-rotation-20240101T000000Z')])
    marker_call(api, OTHER, enabled=None, secret='client_secret_post')
    result = play.run('plan', diff=True)
    api.done()
    partial = result['clients'][CLIENT]
    assert partial['action'] == 'rotate' and partial['partial'] is True and partial['retire'] == []
    assert [c['id'] for c in partial['free']] == ['cred_prev']
    switching = result['clients'][OTHER]
    assert switching['action'] == 'rotate' and switching['secret_switch'] is True
    assert '  key: %s -> %s' % (OLD_KID, keys['one']['kid']) in said
    assert any(line.startswith('  will free cred_prev keyops-rotation-20240101T000000Z (') for line in said)
    assert '  partial run: hosts web3 are not part of it; nothing will be retired' in said
    assert '  key: none -> %s' % keys['two']['kid'] in said
    assert any(line.startswith('  will retire cred_o1 ') and line.endswith('once every host holds the new key') for line in said)
    assert any(line.startswith('  WARNING: client %s switches from its client secret' % OTHER) for line in said)


def test_plan_refuses_when_a_host_outside_the_play_has_a_client_id_that_cannot_be_read(api):
    """A client id templated from data the play sets later (a fact) cannot be read for a host outside the play:
    that host may use the client, so the client is refused (it was taken as 'no client' and rotated, and the
    host outside the play lost its credential)."""
    broken = MagicMock()
    broken.get.side_effect = RuntimeError('undefined variable in a template')
    play = Play({'web1': CLIENT, 'web2': CLIENT}, play=['web1'])
    play.read('web1')
    play.hostvars['web2'] = broken
    result = play.run('plan')
    assert api.requests == []
    assert result['clients'][CLIENT]['action'] == 'blocked'
    error = result['clients'][CLIENT]['errors'][0]
    assert error.startswith('Host web2 is not in this play and its credential_rotation_client_id cannot be read '
                            '(web2: undefined variable in a template), so it may use client %s.' % CLIENT)


def test_plan_refuses_the_client_id_given_as_an_extra_variable(api, monkeypatch):
    monkeypatch.setattr(rotation, 'load_extra_vars', lambda loader: {'credential_rotation_client_id': CLIENT})
    play = Play({'web1': CLIENT, 'web2': CLIENT})
    play.read('web1', force=True)
    play.read('web2', force=True)
    with pytest.raises(AnsibleActionFail, match='credential_rotation_client_id is given as an extra variable'):
        play.run('plan')
    assert api.requests == []


def test_plan_refuses_a_host_whose_metadata_names_another_client(api):
    play = Play({'web1': CLIENT, 'web2': CLIENT})
    play.read('web1', force=True)
    play.read('web2', force=True)
    play.hostvars['web2'][rotation.READ]['files']['metadata'] = {'client_id': OTHER, 'kid': OLD_KID}
    result = play.run('plan')
    assert api.requests == []
    assert result['clients'][CLIENT]['action'] == 'blocked'
    assert 'metadata files of hosts web2 (%s) say their keys belong to another client' % OTHER in result['clients'][CLIENT]['errors'][0]


@pytest.mark.parametrize('args, message', [
    ({'concurrency': 0}, 'concurrency must be 1 or more'),
    ({'auth0_domain': None}, 'auth0_domain is not set'),
    ({'auth0_domain': 'http://tenant.example.auth0.com'}, 'plain http'),
])
def test_plan_refuses_bad_arguments(api, args, message):
    play = Play({'web1': CLIENT})
    play.read('web1', force=True)
    with pytest.raises(AnsibleActionFail, match=message):
        play.run('plan', **args)
    assert api.requests == []


def test_plan_a_refused_management_token_fails_the_step(api):
    play = Play({'web1': CLIENT})
    play.read('web1', force=True)
    api.expect('POST', '/oauth/token', 401, {'error': 'access_denied', 'error_description': 'Unauthorized'})
    with pytest.raises(AnsibleActionFail, match='Auth0 answered: .*POST /oauth/token failed: 401 access_denied: Unauthorized'):
        play.run('plan')
    api.done()


# -- enable -------------------------------------------------------------------------------------------


def rotating(api, hosts=('web1', 'web2'), check=False, **extra):
    """A play whose client is planned for rotation to keys['one'] and staged on every host."""
    play = Play(dict((h, CLIENT) for h in hosts))
    for host in hosts:
        play.read(host, force=True, **extra)
    api.token()
    read_calls(api)
    if not check:
        marker_call(api)
    plan = play.run('plan', check=check)
    play.register(rotation.STAGED, **dict((h, {'changed': True, 'staged_kid': plan['clients'][CLIENT]['target_kid']}) for h in hosts))
    return play


def enable_calls(api, keys, play, token_status=200, token_body=None):
    """Read the client (this run's marker on it), register keys['one'] (POST), enable it beside cred_old (PATCH),
    obtain a token with it."""
    fresh_read(api, play)
    new = credential('cred_new', keys['one']['kid'], name=NAME)
    api.expect('POST', CREDS_PATH, 201, new, check=lambda r: check_new_credential(r, keys))
    api.expect('PATCH', CLIENT_PATH, 200, {}, check=body_is(enabled_body('cred_old', 'cred_new')))
    api.expect('POST', '/oauth/token', token_status, token_body or {'access_token': 'app-token', 'token_type': 'Bearer'},
               check=token_of(CLIENT, keys['one']['kid']))


def check_new_credential(request, keys):
    body = Api.json(request)
    assert body.pop('expires_at').startswith('20')
    # no kid: Auth0 sets the RFC 7638 thumbprint, which is what the collection would send
    assert body == {'credential_type': 'public_key', 'name': NAME, 'pem': keys['one']['public'], 'alg': 'RS256'}


def test_enable_registers_enables_and_verifies_the_new_key(api, new_keys, keys, said):
    play = rotating(api)
    enable_calls(api, keys, play)
    result = play.run('enable')
    api.done()
    assert len(token_requests(api)) == 2, 'the plan\'s management token, then the new key\'s own'
    done = result['clients'][CLIENT]
    assert result['changed'] is True
    assert done['verified'] is True and done['changed'] is True and 'error' not in done
    assert done['credential'] == {'id': 'cred_new', 'kid': keys['one']['kid'], 'name': NAME}
    assert [(c['id'], c['enabled']) for c in done['state']['credentials']] == [('cred_old', True), ('cred_new', True)]
    assert said[-1] == 'client %s: the new key %s is enabled beside the old one and obtains a token' % (CLIENT, keys['one']['kid'])


def test_enable_a_key_that_never_obtains_a_token_switches_no_host(api, new_keys, keys, said):
    play = rotating(api)
    fresh_read(api, play)
    api.expect('POST', CREDS_PATH, 201, credential('cred_new', keys['one']['kid'], name=NAME))
    api.expect('PATCH', CLIENT_PATH, 200, {})
    for dummy in range(4):
        api.expect('POST', '/oauth/token', 401, INVALID_CLIENT, check=token_of(CLIENT, keys['one']['kid']))
    result = play.run('enable')
    api.done()
    done = result['clients'][CLIENT]
    assert done['verified'] is False
    assert done['error'].startswith('The new key %s of client %s could not obtain a token: ' % (keys['one']['kid'], CLIENT))
    assert 'invalid_client' in done['error'] and 'No host was switched' in done['error']
    assert api.sleeps == [2.0, 4.0, 8.0]
    assert said[-1] == 'client %s: %s' % (CLIENT, done['error'])


def test_enable_access_denied_means_the_key_works(api, new_keys, keys):
    play = rotating(api)
    enable_calls(api, keys, play, token_status=403,
                 token_body={'error': 'access_denied', 'error_description': 'Client has not been granted scopes: read:clients'})
    result = play.run('enable')
    api.done()
    assert result['clients'][CLIENT]['verified'] is True and 'error' not in result['clients'][CLIENT]


def test_enable_in_check_mode_makes_no_call(api, new_keys, keys, said):
    play = rotating(api, check=True)
    seen = len(api.requests)
    result = play.run('enable', check=True)
    assert len(api.requests) == seen
    done = result['clients'][CLIENT]
    assert done['changed'] is True and done['verified'] is False and 'error' not in done
    assert done['credential'] == {'id': None, 'kid': keys['one']['kid'], 'name': NAME}
    assert said[-1].endswith('is registered and enabled (check mode: would be)')


@pytest.mark.parametrize('staged, alive, reason', [
    ({'failed': True, 'msg': 'Staging the new key on web2 failed: disk full'}, ['web1'],
     'web2: Staging the new key on web2 failed: disk full'),
    ({'failed': True, 'msg': 'Staging the new key on web2 failed: disk full'}, ['web1', 'web2'],
     'web2: Staging the new key on web2 failed: disk full'),
    ({'changed': True}, ['web1'], 'web2: the host left the play (failed or unreachable)'),
    ({'unreachable': True}, ['web1'], 'web2: the host left the play (failed or unreachable)'),
])
def test_enable_changes_nothing_when_a_host_failed_staging(api, new_keys, staged, alive, reason):
    play = rotating(api)
    seen = len(api.requests)
    play.register(rotation.STAGED, web2=staged)
    play.vars['ansible_play_hosts'] = alive
    result = play.run('enable')
    assert len(api.requests) == seen
    error = result['clients'][CLIENT]['error']
    assert error.startswith('Hosts web2 failed before the new key was registered (%s)' % reason)
    assert error.endswith('nothing was changed in Auth0 for client %s.' % CLIENT)
    assert result['changed'] is False


def resuming(api, keys, enabled=('cred_old',), credentials=(OLD,)):
    """A play whose hosts hold keys['one'] staged (an earlier run stopped before the switch)."""
    play = Play({'web1': CLIENT, 'web2': CLIENT})
    play.read('web1', staged=keys['one']['kid'])
    play.read('web2', staged=keys['one']['kid'])
    api.token()
    read_calls(api, enabled=enabled, credentials=credentials)
    marker_call(api, enabled=enabled)
    plan = play.run('plan')
    assert plan['clients'][CLIENT]['action'] == 'resume'
    play.register(rotation.STAGED, web1={'changed': False}, web2={'changed': False})
    return play


def read_back(key, client_id=CLIENT):
    """The registered result of the role's read-back loop (run once, delegated to the host holding the key)."""
    return {'results': [{'item': {'client_id': client_id, 'host': 'web1', 'path': KEY_PATH + '.next'},
                         'content': base64.b64encode(key['private'].encode()).decode(), 'encoding': 'base64',
                         'source': KEY_PATH + '.next'}]}


def test_enable_resume_registers_the_key_read_back_from_a_host(api, keys):
    play = resuming(api, keys)
    play.vars[rotation.READ_BACK] = read_back(keys['one'])
    enable_calls(api, keys, play)
    result = play.run('enable')
    api.done()
    assert result['clients'][CLIENT]['verified'] is True
    assert result['clients'][CLIENT]['credential']['id'] == 'cred_new'


@pytest.mark.parametrize('back, message', [
    ('two', 'The key read back from web1:%s.next has the kid ' % KEY_PATH),
    (None, 'The key staged by an earlier run could not be read back from web1'),
])
def test_enable_resume_refuses_a_key_that_cannot_be_read_back_or_has_another_kid(api, keys, back, message):
    play = resuming(api, keys)
    seen = len(api.requests)
    play.vars[rotation.READ_BACK] = read_back(keys[back]) if back else {'skipped': True, 'results': []}
    result = play.run('enable')
    assert len(api.requests) == seen
    error = result['clients'][CLIENT]['error']
    assert error.startswith(message)
    if back:
        assert error.endswith('has the kid %s, not %s.' % (keys['two']['kid'], keys['one']['kid']))


@pytest.mark.parametrize('enabled, writes', [
    (('cred_old', 'cred_new'), []),
    (('cred_old',), ['PATCH']),
])
def test_enable_resume_does_not_register_a_key_auth0_has(api, keys, enabled, writes):
    new = credential('cred_new', keys['one']['kid'], name=NAME)
    play = resuming(api, keys, enabled=enabled, credentials=(OLD, new))
    play.vars[rotation.READ_BACK] = read_back(keys['one'])
    seen = len(api.requests)
    fresh_read(api, play, enabled=enabled)
    if writes:
        api.expect('PATCH', CLIENT_PATH, 200, {}, check=body_is(enabled_body('cred_old', 'cred_new')))
    api.token('app-token', check=token_of(CLIENT, keys['one']['kid']))
    result = play.run('enable')
    api.done()
    assert [r.method for r in api.requests[seen + 1:-1]] == writes
    assert result['clients'][CLIENT]['changed'] is bool(writes)
    assert result['clients'][CLIENT]['verified'] is True


def test_enable_switches_a_client_from_its_secret_when_allowed(api, new_keys, keys):
    play = Play({'web1': CLIENT})
    play.read('web1', live='kid_unknown_000001', allow_secret_switch=True)
    api.token()
    read_calls(api, enabled=None, secret='client_secret_post', credentials=[])
    marker_call(api, enabled=None, secret='client_secret_post')
    play.run('plan')
    play.register(rotation.STAGED, web1={'changed': True})
    fresh_read(api, play, enabled=None, secret='client_secret_post')
    api.expect('POST', CREDS_PATH, 201, credential('cred_new', keys['one']['kid'], name=NAME))
    api.expect('PATCH', CLIENT_PATH, 200, {}, check=body_is(dict(enabled_body('cred_new'), token_endpoint_auth_method=None)))
    api.token('app-token')
    result = play.run('enable')
    api.done()
    assert result['clients'][CLIENT]['state']['authentication_method'] == 'private_key_jwt'
    # no earlier credential: nothing to retire, and the summary removes the marker
    play.register(rotation.SWITCH, web1={'changed': True, 'files': files(keys['one']['kid'])})
    fresh_read(api, play, enabled=('cred_new',))
    assert play.run('retire')['clients'][CLIENT] == {'retired': []}
    release_call(api)
    play.run('summary')
    api.done()


def test_enable_computes_every_write_from_the_client_read_just_before(api, new_keys, keys):
    """Another writer detached cred_prev after the plan read the client: enable frees it without a PATCH that would
    put back the list the plan saw, and enables the new key beside what Auth0 has now."""
    play = Play({'web1': CLIENT, 'web2': CLIENT})
    play.read('web1')
    play.read('web2', live=None)  # a new host: a rotation is due
    api.token()
    read_calls(api, enabled=('cred_old', 'cred_prev'), credentials=[OLD, PREV])
    marker_call(api, enabled=('cred_old', 'cred_prev'))
    plan = play.run('plan')
    assert plan['clients'][CLIENT]['action'] == 'rotate'
    assert [c['id'] for c in plan['clients'][CLIENT]['free']] == ['cred_prev']
    play.register(rotation.STAGED, web1={'changed': True}, web2={'changed': True})
    fresh_read(api, play, enabled=('cred_old',))
    api.expect('DELETE', CREDS_PATH + '/cred_prev', 204)
    api.expect('POST', CREDS_PATH, 201, credential('cred_new', keys['one']['kid'], name=NAME))
    api.expect('PATCH', CLIENT_PATH, 200, {}, check=body_is(enabled_body('cred_old', 'cred_new')))
    api.token('app-token')
    result = play.run('enable')
    api.done()
    assert result['clients'][CLIENT]['verified'] is True
    assert writes(api) == [('PATCH', CLIENT_PATH), ('DELETE', CREDS_PATH + '/cred_prev'), ('POST', CREDS_PATH),
                           ('PATCH', CLIENT_PATH)], 'the marker, then no detaching PATCH'


def test_enable_with_nothing_to_rotate_makes_no_call(api):
    play = Play({'web1': CLIENT})
    play.read('web1')
    api.token()
    read_calls(api)
    plan = play.run('plan')
    assert plan['clients'][CLIENT]['action'] == 'none' and plan['coordination'] is None
    seen = len(api.requests)
    assert play.run('enable') == {'changed': False, 'clients': {}}
    assert play.run('retire') == {'changed': False, 'clients': {}}
    assert len(api.requests) == seen
    summary = play.run('summary')['credential_rotation'][CLIENT]
    assert summary['outcome'] == 'unchanged' and summary['message'] == 'Client %s: no change.' % CLIENT
    assert writes(api) == [], 'no marker: nothing to remove'


@pytest.mark.parametrize('step', ['enable', 'retire'])
def test_steps_after_the_plan_need_the_plan(api, step):
    with pytest.raises(AnsibleActionFail, match='The plan of this run is missing'):
        Play({'web1': CLIENT}).run(step)


# -- retire -------------------------------------------------------------------------------------------


def switched(api, keys, hosts=('web1', 'web2'), **extra):
    """A play rotated to keys['one'] up to the switch, every host switched."""
    play = rotating(api, hosts=hosts, **extra)
    enable_calls(api, keys, play)
    assert play.run('enable')['clients'][CLIENT]['verified'] is True
    play.register(rotation.SWITCH, **dict((h, {'changed': True, 'kid': keys['one']['kid'], 'files': files(keys['one']['kid'])})
                                          for h in hosts))
    return play


def disable_call(api, play, enabled=('cred_old', 'cred_new')):
    """The retirement's read of the client, then the PATCH that disables the old credential and removes the marker."""
    fresh_read(api, play, enabled=enabled)
    api.expect('PATCH', CLIENT_PATH, 200, {},
               check=body_is(dict(enabled_body('cred_new'), client_metadata={_marker.KEY: None})))


def test_retire_keeps_an_old_credential_that_jar_started_to_use_after_the_plan(api, new_keys, keys):
    """The plan never retires a credential signed_request_object lists; one listed there since the plan (the fresh
    read before retiring shows it) is neither disabled nor deleted, and the summary says why."""
    play = switched(api, keys)
    body = client_body(CLIENT, ('cred_old', 'cred_new'), None, ours(play))
    body['signed_request_object'] = {'required': False, 'credentials': [{'id': 'cred_old'}]}
    api.expect('GET', '/api/v2/clients/%s' % CLIENT, params=FIELDS, body=body)
    before = len(writes(api))
    result = play.run('retire')
    api.done()
    mine = result['clients'][CLIENT]
    assert mine['retired'] == [] and result['changed'] is False
    assert mine['not_retired'] == ('Not retired: cred_old, which is now also used by signed_request_object (since the '
                                   'plan); retire it by hand once it is no longer needed there.')
    assert writes(api)[before:] == [], 'no PATCH, no DELETE'


def test_retire_disables_and_deletes_the_old_credential_once_every_host_holds_the_new_key(api, new_keys, keys, said):
    play = switched(api, keys)
    disable_call(api, play)
    api.expect('DELETE', CREDS_PATH + '/cred_old', 204)
    result = play.run('retire')
    api.done()
    assert result['changed'] is True
    assert [c['id'] for c in result['clients'][CLIENT]['retired']] == ['cred_old']
    assert result['clients'][CLIENT]['released'] is True
    assert said[-1] == 'client %s: retired cred_old' % CLIENT


def test_retire_disables_from_the_list_auth0_has_now(api, new_keys, keys):
    """Between enable and retire another writer enabled cred_x in place of cred_old: the PATCH keeps it."""
    play = switched(api, keys)
    fresh_read(api, play, enabled=('cred_new', 'cred_x'))
    api.expect('PATCH', CLIENT_PATH, 204, check=body_is({'client_metadata': {_marker.KEY: None}}))
    api.expect('DELETE', CREDS_PATH + '/cred_old', 204)
    result = play.run('retire')
    api.done()
    assert [c['id'] for c in result['clients'][CLIENT]['retired']] == ['cred_old']


def test_retire_a_credential_already_gone_counts_as_retired(api, new_keys, keys):
    play = switched(api, keys)
    disable_call(api, play)
    api.expect('DELETE', CREDS_PATH + '/cred_old', 404, {'statusCode': 404, 'error': 'Not Found', 'message': 'No credential'})
    result = play.run('retire')
    api.done()
    assert [c['id'] for c in result['clients'][CLIENT]['retired']] == ['cred_old']
    assert 'error' not in result['clients'][CLIENT]


def test_retire_another_auth0_error_is_the_client_s_error(api, new_keys, keys):
    play = switched(api, keys)
    disable_call(api, play)
    api.expect('DELETE', CREDS_PATH + '/cred_old', 403, {'statusCode': 403, 'error': 'Forbidden', 'message': 'Insufficient scope'})
    result = play.run('retire')
    api.done()
    assert result['clients'][CLIENT]['error'].startswith('Auth0 answered: Auth0 API call DELETE %s/cred_old failed: 403' % CREDS_PATH)
    assert result['changed'] is False


@pytest.mark.parametrize('web2', [
    lambda kid: files(OLD_KID),
    lambda kid: files(kid, mode='0644'),
    lambda kid: files(kid, staged=kid),
])
def test_retire_keeps_the_old_credential_while_a_host_does_not_hold_the_new_key(api, new_keys, keys, web2):
    play = switched(api, keys)
    play.register(rotation.SWITCH, web2={'changed': False, 'files': web2(keys['one']['kid'])})
    fresh_read(api, play, enabled=('cred_old', 'cred_new'))
    result = play.run('retire')
    api.done()
    assert writes(api)[-1] == ('PATCH', CLIENT_PATH), 'nothing written since the enabling PATCH'
    assert result['clients'][CLIENT] == {
        'retired': [], 'error': 'Hosts web2 do not hold the key %s at mode 0600 (or still hold a staged key); the old '
                                'credential is kept.' % keys['one']['kid']}


def test_retire_a_staged_key_of_another_run_does_not_keep_the_old_credential(api, new_keys, keys):
    """web2 also holds a staged key of a run that lost the marker: a leftover the next run removes."""
    play = switched(api, keys)
    play.register(rotation.SWITCH, web2={'changed': True, 'files': files(keys['one']['kid'], staged=keys['two']['kid'])})
    disable_call(api, play)
    api.expect('DELETE', CREDS_PATH + '/cred_old', 204)
    result = play.run('retire')
    api.done()
    assert [c['id'] for c in result['clients'][CLIENT]['retired']] == ['cred_old']


def test_retire_keeps_the_old_credential_when_a_host_failed_the_switch(api, new_keys, keys):
    play = switched(api, keys)
    play.register(rotation.SWITCH, web2={'failed': True, 'msg': 'Switching web2 failed at the health check: rc 1'})
    fresh_read(api, play, enabled=('cred_old', 'cred_new'))
    error = play.run('retire')['clients'][CLIENT]['error']
    api.done()
    assert writes(api)[-1] == ('PATCH', CLIENT_PATH), 'nothing written since the enabling PATCH'
    assert error == 'Host web2 failed (web2: Switching web2 failed at the health check: rc 1)'


def test_retire_nothing_after_a_failed_enable(api, new_keys, keys):
    play = rotating(api)
    fresh_read(api, play)
    api.expect('POST', CREDS_PATH, 201, credential('cred_new', keys['one']['kid'], name=NAME))
    api.expect('PATCH', CLIENT_PATH, 200, {})
    for dummy in range(4):
        api.expect('POST', '/oauth/token', 401, INVALID_CLIENT)
    enable = play.run('enable')
    seen = len(api.requests)
    result = play.run('retire')
    assert len(api.requests) == seen
    assert result['clients'][CLIENT] == {'error': enable['clients'][CLIENT]['error'], 'retired': []}


def test_retire_nothing_in_a_partial_run(api, new_keys, keys):
    play = Play({'web1': CLIENT, 'web3': CLIENT}, play=['web1'])
    play.read('web1', force=True, allow_partial=True)
    api.token()
    read_calls(api)
    marker_call(api)
    assert play.run('plan')['clients'][CLIENT]['partial'] is True
    play.register(rotation.STAGED, web1={'changed': True})
    enable_calls(api, keys, play)
    play.run('enable')
    play.register(rotation.SWITCH, web1={'changed': True, 'files': files(keys['one']['kid'])})
    fresh_read(api, play, enabled=('cred_old', 'cred_new'))
    result = play.run('retire')
    api.done()
    assert writes(api)[-1] == ('PATCH', CLIENT_PATH), 'nothing written since the enabling PATCH'
    assert result['clients'][CLIENT] == {
        'retired': [], 'not_retired': 'Nothing was retired: hosts web3 are not part of this run and may still use the older keys.'}
    release_call(api)  # nothing was disabled, so the summary removes the marker
    summary = play.run('summary')['credential_rotation'][CLIENT]
    api.done()
    assert summary['partial'] is True and summary['hosts_outside'] == ['web3'] and summary['outcome'] == 'rotated'
    assert summary['not_retired'] in summary['message']


def test_a_partial_run_rotates_although_an_earlier_rotation_is_unfinished(api, new_keys):
    """Force finishes first, except in a partial run, which retires nothing and so could never finish it."""
    leftover = credential('cred_prev', 'kid_prev_000000001', name='keyops-rotation-20240101T000000Z')
    play = Play({'web1': CLIENT, 'web3': CLIENT}, play=['web1'])
    play.read('web1', force=True, allow_partial=True)
    api.token()
    read_calls(api, credentials=(OLD, leftover))
    marker_call(api)
    plan = play.run('plan')['clients'][CLIENT]
    api.done()
    assert plan['action'] == 'rotate' and plan['partial'] is True


def test_retire_nothing_when_retire_is_off(api, new_keys, keys):
    play = switched(api, keys, retire=False)
    fresh_read(api, play, enabled=('cred_old', 'cred_new'))
    result = play.run('retire')
    api.done()
    assert result['clients'][CLIENT] == {'retired': [], 'not_retired': 'Nothing was retired (credential_rotation_retire is false).'}
    release_call(api)
    play.run('summary')
    api.done()


def test_retire_in_check_mode_says_what_it_would_retire(api, new_keys, keys, said):
    play = rotating(api, check=True)
    play.run('enable', check=True)
    play.register(rotation.SWITCH, web1={'changed': True, 'files': files(OLD_KID)}, web2={'changed': True, 'files': files(OLD_KID)})
    seen = len(api.requests)
    result = play.run('retire', check=True)
    assert len(api.requests) == seen
    assert [c['id'] for c in result['clients'][CLIENT]['would_retire']] == ['cred_old']
    assert result['clients'][CLIENT]['retired'] == [] and result['changed'] is False
    assert said[-1] == 'client %s: would retire cred_old' % CLIENT
    summary = play.run('summary', check=True)['credential_rotation'][CLIENT]
    assert summary['outcome'] == 'would_rotate' and 'Would retire cred_old.' in summary['message']


def finishing(api, keys, check=False, **extra):
    """A play whose hosts all switched to keys['one'] in an earlier run; the old credential remains."""
    new = credential('cred_new', keys['one']['kid'], name=NAME)
    play = Play({'web1': CLIENT, 'web2': CLIENT})
    play.read('web1', live=keys['one']['kid'], **extra)
    play.read('web2', live=keys['one']['kid'], **extra)
    api.token()
    read_calls(api, enabled=('cred_old', 'cred_new'), credentials=[OLD, new])
    if not check:
        marker_call(api, enabled=('cred_old', 'cred_new'))
    plan = play.run('plan', check=check)
    assert plan['clients'][CLIENT]['action'] == 'finish' and plan['coordination'] is None
    # the switch step only pruned the backups: no files in its result
    play.register(rotation.SWITCH, web1={'changed': False, 'msg': 'No backup to prune.'}, web2={'changed': False})
    return play


def test_retire_finishes_an_earlier_rotation(api, keys, said):
    play = finishing(api, keys)
    assert play.run('enable') == {'changed': False, 'clients': {}}
    disable_call(api, play)
    api.expect('DELETE', CREDS_PATH + '/cred_old', 204)
    result = play.run('retire')
    api.done()
    assert [c['id'] for c in result['clients'][CLIENT]['retired']] == ['cred_old']
    seen = len(api.requests)
    summary = play.run('summary')['credential_rotation'][CLIENT]
    assert len(api.requests) == seen, 'the marker went with the disabling PATCH'
    assert summary['outcome'] == 'finished' and summary['new'] is None and summary['freed'] == []
    assert summary['message'] == 'Client %s: finished the earlier rotation. Retired cred_old.' % CLIENT


def test_retire_finish_in_check_mode_makes_no_call(api, keys, said):
    play = finishing(api, keys, check=True)
    assert said[-1].startswith('  would retire cred_old keyops-rotation-20250101T000000Z (')
    assert not [line for line in said if line.startswith('  key:')], 'no new key'
    assert play.vars[rotation.PLAN]['clients'][CLIENT]['marker'] is None and play.vars[rotation.PLAN]['changed'] is False
    seen = len(api.requests)
    result = play.run('retire', check=True)
    assert result['clients'][CLIENT]['retired'] == []
    assert [c['id'] for c in result['clients'][CLIENT]['would_retire']] == ['cred_old']
    summary = play.run('summary', check=True)['credential_rotation'][CLIENT]
    assert len(api.requests) == seen and writes(api) == []
    assert summary['outcome'] == 'would_finish'


# -- summary ------------------------------------------------------------------------------------------


@pytest.mark.parametrize('concurrency', [1, 4])
def test_clients_keep_the_play_order_whatever_order_they_finish_in(concurrency):
    """The plan, the lines printed and the summary list the clients in the play's order on every run (they came in
    the order the concurrent steps finished, which also made the summary test flaky)."""
    names = ['client_%02d' % n for n in range(40)]
    plugin = action({'step': 'summary', 'concurrency': concurrency})
    plugin._args = {'concurrency': concurrency}  # pylint: disable=protected-access
    out = plugin._each(names, lambda name: {'name': name})  # pylint: disable=protected-access
    assert list(out) == names and all(out[n] == {'name': n} for n in names)


def test_summary_one_entry_per_client_with_the_failed_hosts_and_the_keys_forgotten(api, new_keys, keys, said):
    play = Play({'web1': CLIENT, 'web2': CLIENT, 'api1': OTHER, 'api2': OTHER}, play=['web1', 'web2', 'api1'])
    for host in ('web1', 'web2', 'api1'):
        play.read(host, force=True)
    api.token()
    read_calls(api)
    marker_call(api)
    plan = play.run('plan')
    coordination = plan['coordination']
    refusal = 'Client %s: nothing was changed. %s' % (OTHER, plan['hosts']['api1']['error'])  # as the stage step fails api1
    play.register(rotation.STAGED, web1={'changed': True}, web2={'changed': True}, api1={'failed': True, 'msg': refusal})
    enable_calls(api, keys, play)
    play.run('enable')
    failure = 'Switching web2 to the key %s failed at the health check: rc 1 (the previous key was put back)' % keys['one']['kid']
    play.register(rotation.SWITCH, web1={'changed': True, 'files': files(keys['one']['kid'])},
                  web2={'failed': True, 'changed': True, 'msg': failure, 'files': files(OLD_KID)})
    play.vars['ansible_play_hosts'] = ['web1']
    fresh_read(api, play, enabled=('cred_old', 'cred_new'))
    play.run('retire')
    release_call(api)  # the run stopped for CLIENT: the summary removes its marker
    result = play.run('summary')
    api.done()

    summaries = result['credential_rotation']
    assert sorted(summaries) == [CLIENT, OTHER]
    assert result['ansible_stats'] == {'data': {'credential_rotation': summaries}, 'per_host': False, 'aggregate': True}
    assert 'ansible_facts' not in result  # the role's set_fact after the summary forgets the keys and the token
    assert result['changed'] is False
    assert not os.path.exists(coordination)

    mine = summaries[CLIENT]
    assert mine['outcome'] == 'failed' and mine['action'] == 'rotate'
    assert mine['hosts_failed'] == [{'host': 'web2', 'reason': failure}]
    assert mine['hosts_switched'] == ['web1']
    assert mine['new'] == {'kid': keys['one']['kid'], 'credential_id': 'cred_new'}
    assert [c['id'] for c in mine['old']] == ['cred_old'] and mine['retired'] == []
    assert mine['message'].startswith('Client %s: the rotation stopped at the key %s. ' % (CLIENT, keys['one']['kid']))
    assert mine['message'].count(failure) == 1, 'the host and its reason, once'
    assert mine['message'].endswith('The old credential is kept; the next run resumes.')

    other = summaries[OTHER]
    assert other['outcome'] == 'refused' and other['new'] is None
    assert other['hosts_outside'] == ['api2'] and other['errors'][0].startswith('Host api2 uses client %s' % OTHER)
    assert other['hosts_failed'] == [{'host': 'api1', 'reason': refusal}]
    assert said[-2:] == [mine['message'], other['message']]


def test_summary_of_a_successful_rotation(api, new_keys, keys):
    play = switched(api, keys)
    disable_call(api, play)
    api.expect('DELETE', CREDS_PATH + '/cred_old', 204)
    play.run('retire')
    coordination = play.vars[rotation.PLAN]['coordination']
    summary = play.run('summary')['credential_rotation'][CLIENT]
    api.done()
    assert writes(api)[-1] == ('DELETE', CREDS_PATH + '/cred_old'), 'the marker went with the disabling PATCH'
    assert summary['hosts_rolled_back'] == [] and summary['leftovers_removed'] == {}
    assert summary['outcome'] == 'rotated' and summary['hosts_failed'] == [] and summary['errors'] == []
    assert summary['hosts'] == summary['hosts_switched'] == ['web1', 'web2']
    assert summary['message'] == 'Client %s: rotated to the key %s. Retired cred_old.' % (CLIENT, keys['one']['kid'])
    assert not os.path.exists(coordination)


def test_summary_names_a_client_whose_retirement_failed_so_that_the_role_fails_the_run(api, new_keys, keys):
    """Auth0 refused the deletion after every host switched: no host task failed, so the run must fail on the
    summary's word (it ended with rc 0 and AWX would have shown success)."""
    play = switched(api, keys)
    disable_call(api, play)
    for dummy in range(6):
        api.expect('DELETE', CREDS_PATH + '/cred_old', 500, {'statusCode': 500, 'error': 'Internal Server Error', 'message': 'boom'})
    play.run('retire')
    release_call(api)  # the retirement stopped with an error: its PATCH may or may not have removed the marker
    result = play.run('summary')
    api.done()
    assert result['credential_rotation'][CLIENT]['outcome'] == 'failed'
    assert result['unfinished'] == [CLIENT]
    assert result['unfinished_message'].startswith('Client %s: the rotation stopped' % CLIENT)
    assert 'boom' in result['unfinished_message']


def test_summary_of_a_successful_rotation_names_nothing_unfinished(api, new_keys, keys):
    play = switched(api, keys)
    disable_call(api, play)
    api.expect('DELETE', CREDS_PATH + '/cred_old', 204)
    play.run('retire')
    result = play.run('summary')
    api.done()
    assert result['unfinished'] == [] and result['unfinished_message'] == ''


@pytest.mark.parametrize('alive, expected', [
    (['web1'], [{'host': 'web2', 'reason': 'the host left the play (failed or unreachable)'}]),
    (['web1', 'web2'], []),
])
def test_summary_a_host_that_left_the_play_failed(api, new_keys, keys, alive, expected):
    play = switched(api, keys)
    play.vars['ansible_play_hosts'] = alive
    release_call(api)  # the run stopped before its retirement
    summary = play.run('summary')['credential_rotation'][CLIENT]
    api.done()
    assert summary['hosts_failed'] == expected


@pytest.mark.parametrize('failure, lines', [
    ('The play runs in batches', ['no client was planned: The play runs in batches']),
    (None, []),
])
def test_summary_without_a_plan_says_why(said, tmp_path, failure, lines):
    play = Play({'web1': CLIENT})
    play.vars[rotation.PLAN] = {'failed': True, 'msg': failure, 'coordination': str(tmp_path)}  # not named keyops-rotation-*
    result = play.run('summary', auth0_domain=None)
    assert result['credential_rotation'] == {} and result['ansible_stats']['data'] == {'credential_rotation': {}}
    assert said == lines
    assert os.path.isdir(str(tmp_path)), 'only a coordination directory the plan made is removed'


# -- the management client ------------------------------------------------------------------------------


def jwt(claims):
    """A token shaped like Auth0's (its signature is never checked by the plugin)."""
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip('=')
    return '%s.%s.signature' % (part({'alg': 'RS256', 'typ': 'JWT'}), part(claims))


def management_refusal(client_id, hosts):
    """Check the refusal of the management client: what and why, and the fix (the guide's wording aside)."""
    def check(error):
        assert error.startswith('Client %s is the management client of this run (the client whose credentials reach the '
                                'Management API, AUTH0_CLIENT_ID or auth0_client_id): rotating it here would cut this and '
                                'every later run off from Auth0 and put a key with Management API access on application '
                                'hosts.' % client_id), error
        assert '"The management client\'s own key"' in error
        assert error.endswith('remove credential_rotation_client_id %s from hosts %s.' % (client_id, hosts)), error
        return True
    return check


def test_plan_refuses_the_management_client_named_by_auth0_client_id(api, new_keys, said):
    play = Play({'web1': 'mgmt', 'web2': 'mgmt', 'api1': OTHER})
    for host in ('web1', 'web2', 'api1'):
        play.read(host, force=True)
    api.token()
    read_calls(api, OTHER)
    marker_call(api, OTHER)
    plan = play.run('plan')  # auth0_client_id: mgmt
    api.done()
    refused = plan['clients']['mgmt']
    assert refused['action'] == 'blocked' and refused['marker'] is None
    assert len(refused['errors']) == 1 and management_refusal('mgmt', 'web1, web2')(refused['errors'][0])
    assert plan['hosts']['web1']['error'] == plan['hosts']['web2']['error'] == refused['errors'][0]
    assert not [r for r in api.requests if r.url.path.startswith('/api/v2/clients/mgmt')], 'not even read'
    assert 'mgmt' not in plan['keys'] and plan['clients'][OTHER]['action'] == 'rotate'
    assert any(line.startswith('client mgmt (hosts web1, web2): refused. Client mgmt is the management client') for line in said)


@pytest.mark.parametrize('given', ['auth0_token', 'credential_rotation_auth0_token'])
def test_plan_refuses_the_client_the_management_token_was_issued_to(api, new_keys, given):
    """With a token and no client id, the token's sub (<client id>@clients) names the management client."""
    token = jwt({'sub': '%s@clients' % CLIENT, 'aud': 'https://%s/api/v2/' % DOMAIN})
    play = Play({'web1': CLIENT, 'api1': OTHER})
    play.read('web1', force=True)
    play.read('api1', force=True)
    args = {'auth0_client_id': None, 'auth0_client_secret': None}
    if given == 'auth0_token':
        args['auth0_token'] = token
    else:  # the role passes no argument: the plugin reads the variable (arguments are printed with ANSIBLE_DEBUG)
        play.vars['credential_rotation_auth0_token'] = token
    read_calls(api, OTHER)
    marker_call(api, OTHER, token=token)
    plan = play.run('plan', **args)
    api.done()
    assert token_requests(api) == [] and plan['token'] == token
    assert plan['clients'][CLIENT]['action'] == 'blocked'
    assert len(plan['clients'][CLIENT]['errors']) == 1 and management_refusal(CLIENT, 'web1')(plan['clients'][CLIENT]['errors'][0])
    assert not [r for r in api.requests if r.url.path.startswith(CLIENT_PATH)]
    assert plan['clients'][OTHER]['action'] == 'rotate'


@pytest.mark.parametrize('token, expected', [
    (jwt({'sub': 'app_client_9@clients'}), 'app_client_9'),
    (jwt({'sub': 'auth0|5f1e', 'azp': 'app_client_8'}), 'app_client_8'),
    (jwt({'sub': 'auth0|5f1e'}), None),
    (jwt(['not', 'claims']), None),
    ('opaque-token', None),
    ('a.!!!.c', None),
    (None, None),
])
def test_token_client_id_reads_the_unverified_claims(token, expected):
    assert rotation.token_client_id(token) == expected


def test_process_alive(monkeypatch):
    assert rotation.process_alive(os.getpid()) is True
    for error, alive in ((ProcessLookupError, False), (PermissionError, True), (OverflowError, True)):
        monkeypatch.setattr(rotation.os, 'kill', MagicMock(side_effect=error()))
        assert rotation.process_alive(4242) is alive


# -- the run marker at the plan --------------------------------------------------------------------------


def theirs(minutes_ago, host='awx-job-41', pid=77):
    """The marker of another run, written ``minutes_ago``."""
    return _marker.make('fedcba9876543210', started(minutes_ago), host, pid)


def test_plan_a_client_another_run_holds_is_refused_before_any_write(api, new_keys, said):
    play = Play({'web1': CLIENT, 'web2': CLIENT, 'api1': OTHER})
    for host in ('web1', 'web2', 'api1'):
        play.read(host, force=True)
    api.token()
    marker = theirs(10)
    read_calls(api, marker=marker)
    read_calls(api, OTHER)
    marker_call(api, OTHER)
    plan = play.run('plan')
    api.done()
    refused = plan['clients'][CLIENT]
    assert refused['action'] == 'blocked' and refused['marker'] is None and CLIENT not in plan['keys']
    assert len(refused['errors']) == 1
    error = refused['errors'][0]
    assert error.startswith('Another rotation run (started %s on awx-job-41, process 77) is writing to this client (marker '
                            'keyops_rotation in its client_metadata); two runs at once would undo each other\'s changes, so '
                            'this run changes nothing for it.' % json.loads(marker)['started'])
    assert 'credential_rotation_take_over_stale_marker: true once the marker is 120 minutes old (in ' in error
    assert error.endswith('or remove the key keyops_rotation from the client\'s client_metadata.')
    assert plan['hosts']['web1']['error'] == plan['hosts']['web2']['error'] == error
    assert writes(api) == [('PATCH', OTHER_PATH)], 'nothing written to the client another run holds'
    assert any(line.startswith('client %s (hosts web1, web2): refused. Another rotation run' % CLIENT) for line in said)
    # the run ends: its own marker goes, the other run's stays
    release_call(api, OTHER)
    summary = play.run('summary')['credential_rotation'][CLIENT]
    api.done()
    assert summary['outcome'] == 'refused' and error in summary['message']
    assert writes(api) == [('PATCH', OTHER_PATH), ('PATCH', OTHER_PATH)]


@pytest.mark.parametrize('minutes_ago, extra, taken', [
    (180, {'take_over_stale_marker': True}, True),
    (30, {'take_over_stale_marker': True, 'stale_marker_minutes': 20}, True),
    (180, {}, False),
    (30, {'take_over_stale_marker': True}, False),
])
def test_plan_takes_over_a_stale_marker_only_when_asked(api, new_keys, minutes_ago, extra, taken):
    play = Play({'web1': CLIENT})
    play.read('web1', force=True, **extra)
    api.token()
    read_calls(api, marker=theirs(minutes_ago))
    if taken:
        marker_call(api)
    plan = play.run('plan')
    api.done()
    planned = plan['clients'][CLIENT]
    if taken:
        assert planned['action'] == 'rotate' and planned['marker'] == 'held'
        assert planned['reasons'][-1].startswith('another rotation run (started ')
        assert planned['reasons'][-1].endswith('was older than %d minutes; taken over (credential_rotation_take_over_stale_'
                                               'marker)' % extra.get('stale_marker_minutes', 120))
        assert Api.json(api.requests[-1]) == {'client_metadata': {_marker.KEY: ours(play)}}, 'this run\'s marker replaces it'
    else:
        assert planned['action'] == 'blocked' and writes(api) == []
        assert 'is writing to this client' in planned['errors'][0]


@pytest.mark.parametrize('alive', [False, True])
def test_plan_the_marker_of_a_killed_run_of_this_controller_is_taken_over_at_once(api, new_keys, monkeypatch, alive):
    monkeypatch.setattr(rotation.socket, 'gethostname', lambda: 'controller-1')
    asked = []
    monkeypatch.setattr(rotation, 'process_alive', lambda pid: asked.append(pid) or alive)
    play = Play({'web1': CLIENT})
    play.read('web1', force=True)
    api.token()
    read_calls(api, marker=theirs(1, host='controller-1', pid=4242))
    if not alive:
        marker_call(api)
    plan = play.run('plan')
    api.done()
    assert asked == [4242] and plan['run']['host'] == 'controller-1'
    planned = plan['clients'][CLIENT]
    if alive:
        assert planned['action'] == 'blocked' and writes(api) == []
    else:
        assert planned['action'] == 'rotate' and planned['marker'] == 'held'
        assert planned['reasons'][-1].startswith('the marker of an earlier run of this controller (started ')
        assert planned['reasons'][-1].endswith(', process 4242) was left by a run that ended without removing it (killed); '
                                               'taken over')


@pytest.mark.parametrize('marker, extra', [
    (lambda: theirs(1, host='controller-1', pid=4242), {}),
    (lambda: theirs(600), {'take_over_stale_marker': True}),
])
def test_plan_removes_a_dead_marker_from_a_client_with_nothing_to_do(api, monkeypatch, marker, extra):
    monkeypatch.setattr(rotation.socket, 'gethostname', lambda: 'controller-1')
    monkeypatch.setattr(rotation, 'process_alive', lambda pid: False)
    play = Play({'web1': CLIENT})
    play.read('web1', **extra)
    api.token()
    read_calls(api, marker=marker())
    release_call(api)
    plan = play.run('plan')
    api.done()
    planned = plan['clients'][CLIENT]
    assert planned['action'] == 'none' and planned['marker'] is None
    assert planned['reasons'][-1].endswith('taken over (credential_rotation_take_over_stale_marker)' if extra else
                                           '(killed); taken over')
    seen = len(api.requests)
    play.run('summary')
    assert len(api.requests) == seen, 'removed already'


def test_plan_in_check_mode_leaves_a_dead_marker(api, monkeypatch):
    monkeypatch.setattr(rotation.socket, 'gethostname', lambda: 'controller-1')
    monkeypatch.setattr(rotation, 'process_alive', lambda pid: False)
    play = Play({'web1': CLIENT})
    play.read('web1')
    api.token()
    read_calls(api, marker=theirs(1, host='controller-1', pid=4242))
    assert play.run('plan', check=True)['clients'][CLIENT]['action'] == 'none'
    api.done()
    assert writes(api) == []


def test_plan_refuses_a_client_whose_client_metadata_has_no_room_for_the_marker(api, new_keys):
    play = Play({'web1': CLIENT})
    play.read('web1', force=True)
    api.token()
    api.expect('GET', CLIENT_PATH, params=FIELDS,
               body=dict(client_body(), client_metadata=dict(('key%d' % i, 'v') for i in range(10))))
    api.expect('GET', CREDS_PATH, body=[OLD])
    plan = play.run('plan')
    api.done()
    planned = plan['clients'][CLIENT]
    assert planned['action'] == 'blocked' and planned['marker'] is None and plan['keys'] == {}
    assert planned['errors'] == ['The client already has 10 client_metadata properties, the most Auth0 allows, so the run '
                                 'marker (keyops_rotation) cannot be added; remove one of them.']
    assert plan['hosts']['web1']['error'] == planned['errors'][0]
    assert writes(api) == []
    summary = play.run('summary')['credential_rotation'][CLIENT]
    assert summary['outcome'] == 'refused' and writes(api) == [], 'no marker to remove'


def test_plan_in_check_mode_writes_no_marker(api, new_keys):
    play = Play({'web1': CLIENT})
    play.read('web1', force=True)
    api.token()
    read_calls(api)
    plan = play.run('plan', check=True)
    api.done()
    assert plan['clients'][CLIENT]['action'] == 'rotate' and plan['clients'][CLIENT]['marker'] is None
    assert plan['changed'] is False and writes(api) == []


# -- the run marker at enable ---------------------------------------------------------------------------------


@pytest.mark.parametrize('found, note', [
    (lambda: theirs(0, host='awx-job-43', pid=12), 'another rotation run (started '),
    (lambda: None, 'the marker is gone'),
])
def test_enable_a_lost_marker_writes_nothing_and_the_summary_leaves_the_marker_alone(api, new_keys, keys, said, found, note):
    """Two runs read the client at the same moment and both wrote a marker: the later write won."""
    play = rotating(api)
    fresh_read(api, play, marker=found())
    result = play.run('enable')
    api.done()
    done = result['clients'][CLIENT]
    assert done['lost_marker'] is True and result['changed'] is False
    assert done['error'].startswith('Another run wrote its marker on client %s after this run wrote its own (%s'
                                    % (CLIENT, note))
    assert done['error'].endswith('This run changed nothing in Auth0 for the client and switched no host.')
    assert writes(api) == [('PATCH', CLIENT_PATH)], 'the plan\'s marker, then nothing: no POST, no PATCH'
    assert said[-1] == 'client %s: %s' % (CLIENT, done['error'])
    # the switch fails on enable's error, the retirement does nothing, the summary leaves the other run's marker
    switch_failure = {'failed': True, 'msg': 'Client %s: %s' % (CLIENT, done['error'])}
    play.register(rotation.SWITCH, web1=switch_failure, web2=switch_failure)
    assert play.run('retire')['clients'][CLIENT] == {'error': done['error'], 'retired': []}
    summary = play.run('summary')['credential_rotation'][CLIENT]
    api.done()
    assert writes(api) == [('PATCH', CLIENT_PATH)]
    assert summary['outcome'] == 'failed' and done['error'] in summary['message']


# -- retire: the new credential must still be enabled ------------------------------------------------------


def test_retire_after_a_batch_found_the_credential_gone_rolls_back_and_touches_nothing(api, new_keys, keys, said):
    play = switched(api, keys, serial=1)
    gone = ('Not switched: the new credential cred_new of client %s is no longer enabled in Auth0 (deleted or disabled by '
            'someone else after it was verified). Hosts of earlier batches get their previous key back; nothing is '
            'retired.' % CLIENT)
    play.register(rotation.SWITCH, web2={'failed': True, 'credential_gone': True, 'msg': gone})
    seen = len(api.requests)
    result = play.run('retire')
    assert len(api.requests) == seen, 'no GET, no PATCH, no DELETE'
    assert result['clients'][CLIENT] == {
        'retired': [], 'rollback': True,
        'error': 'The new credential cred_new of client %s was no longer enabled before a promotion batch (found by web2); '
                 'nothing was retired and the hosts it had reached get their previous key back.' % CLIENT}
    assert result['changed'] is False
    # the role's rollback step put web1's previous key back: the summary says so, and removes the marker
    play.register(rotation.ROLLBACK, web1={'changed': True, 'restored': True, 'msg': 'The previous key of web1 was put back.'},
                  web2={'changed': False, 'restored': False, 'msg': 'This host did not switch to %s.' % keys['one']['kid']})
    release_call(api)
    summary = play.run('summary')['credential_rotation'][CLIENT]
    api.done()
    assert summary['outcome'] == 'failed'
    assert summary['hosts_rolled_back'] == ['web1'] and summary['hosts_switched'] == []
    assert summary['hosts_failed'] == [{'host': 'web2', 'reason': gone}]
    assert 'Host web1 got its previous key back.' in summary['message']
    assert summary['retired'] == []


def test_retire_a_new_credential_disabled_during_the_run_rolls_back_and_deletes_nothing(api, new_keys, keys):
    play = switched(api, keys)
    fresh_read(api, play, enabled=('cred_old',))  # someone disabled cred_new after the last batch
    result = play.run('retire')
    api.done()
    assert result['clients'][CLIENT] == {
        'retired': [], 'rollback': True,
        'error': 'The credential cred_new of client %s, which its hosts now use, is no longer enabled in Auth0 (deleted or '
                 'disabled by someone else during the run); nothing was retired and the hosts get their previous key '
                 'back.' % CLIENT}
    assert writes(api)[-1] == ('PATCH', CLIENT_PATH), 'nothing written since the enabling PATCH'
    release_call(api)
    assert play.run('summary')['credential_rotation'][CLIENT]['outcome'] == 'failed'
    api.done()


def test_retire_finish_whose_credential_is_gone_retires_nothing_and_rolls_nothing_back(api, keys):
    play = finishing(api, keys)
    fresh_read(api, play, enabled=('cred_old',))
    result = play.run('retire')
    api.done()
    assert result['clients'][CLIENT] == {
        'retired': [], 'rollback': False,
        'error': 'The credential cred_new of client %s, which its hosts now use, is no longer enabled in Auth0 (deleted or '
                 'disabled by someone else during the run); nothing was retired.' % CLIENT}
    assert writes(api) == [('PATCH', CLIENT_PATH)], 'the marker only'


def test_retire_a_marker_lost_after_enable_retires_nothing_and_the_summary_leaves_it(api, new_keys, keys):
    play = switched(api, keys)
    fresh_read(api, play, enabled=('cred_old', 'cred_new'), marker=theirs(0, host='awx-job-44', pid=13))
    result = play.run('retire')
    api.done()
    done = result['clients'][CLIENT]
    assert done['lost_marker'] is True and done['retired'] == [] and 'rollback' not in done
    assert done['error'].startswith('Another run wrote its marker on client %s during this run (another rotation run '
                                    '(started ' % CLIENT)
    assert done['error'].endswith('nothing was retired.')
    assert writes(api)[-1] == ('PATCH', CLIENT_PATH), 'nothing written since the enabling PATCH'
    seen = len(api.requests)
    summary = play.run('summary')['credential_rotation'][CLIENT]
    assert len(api.requests) == seen, 'the marker is another run\'s now'
    assert summary['outcome'] == 'failed' and done['error'] in summary['message']

# -- summary: the marker, what was put back, what was cleaned ------------------------------------------------


def test_summary_says_when_the_marker_could_not_be_removed(api, new_keys, keys, said):
    play = switched(api, keys)
    api.expect('PATCH', CLIENT_PATH, 403, {'statusCode': 403, 'error': 'Forbidden', 'message': 'Insufficient scope'},
               check=body_is({'client_metadata': {_marker.KEY: None}}))
    result = play.run('summary')
    api.done()
    assert any(line.startswith('client %s: the run marker could not be removed (Auth0 answered: ' % CLIENT)
               and line.endswith('the next run of this controller takes it over, others wait until it is stale.')
               for line in said)
    assert result['credential_rotation'][CLIENT]['outcome'] == 'rotated'


def test_plan_tells_the_hosts_that_stage_nothing_what_to_clean_and_the_summary_names_it(api, keys):
    play = Play({'web1': CLIENT, 'web2': CLIENT})
    play.read('web1', staged=keys['two']['kid'])  # staged by a run that lost the marker
    play.read('web2')
    play.hostvars['web2'][rotation.READ]['files']['leftovers'] = ['/etc/app/.key.pem.x1.tmp']
    api.token()
    read_calls(api)
    plan = play.run('plan')
    api.done()
    assert plan['clients'][CLIENT]['action'] == 'none'
    assert plan['hosts']['web1']['clean'] == {'remove_staged': True, 'kid': keys['two']['kid']}
    assert plan['hosts']['web2']['clean'] == {'remove_staged': False, 'kid': None}
    play.register(rotation.STAGED, web1={'changed': True, 'cleaned': [KEY_PATH + '.next']},
                  web2={'changed': True, 'cleaned': ['/etc/app/.key.pem.x1.tmp']})
    summary = play.run('summary')['credential_rotation'][CLIENT]
    assert summary['leftovers_removed'] == {'web1': [KEY_PATH + '.next'], 'web2': ['/etc/app/.key.pem.x1.tmp']}
    assert summary['message'] == ('Client %s: no change. Removed on web1 what an interrupted run left: %s.next. Removed on web2 '
                                  'what an interrupted run left: /etc/app/.key.pem.x1.tmp.' % (CLIENT, KEY_PATH))
    assert writes(api) == []


def test_plan_a_host_of_a_refused_client_cleans_nothing(api):
    play = Play({'web1': CLIENT, 'web2': CLIENT}, play=['web1'])
    play.read('web1', staged='kid_lost_000000001')
    result = play.run('plan')
    assert result['hosts']['web1']['clean'] is None and api.requests == []
