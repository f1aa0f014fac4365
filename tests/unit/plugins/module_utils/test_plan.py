# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

"""The decision for one client (module_utils/_plan.py), as the credential_rotation engine makes it."""

import pytest

from ansible_collections.keyops.auth0.plugins.module_utils import _plan
from ansible_collections.keyops.auth0.plugins.module_utils._credentials import parse_datetime

NOW = parse_datetime('2026-06-01T00:00:00Z')
#: The settings the engine passes when a host's variables leave them at the role's defaults.
DEFAULTS = dict(credential_name=None, force=False, rotate_before_days=30, max_age_days=0, name_prefix='keyops-rotation',
                allow_secret_switch=False, keep_backups=-1, retire=True)


def cred(ident, kid, enabled=False, name='manual', created='2026-05-01T00:00:00.000Z', days=300, method=None):
    return {'id': ident, 'kid': kid, 'name': name, 'enabled': enabled, 'created_at': created,
            'method': method or ('private_key_jwt' if enabled else None), 'days_until_expiry': days,
            'expires_at': None}


def client(*credentials, method='private_key_jwt'):
    return {'client_id': 'app', 'authentication_method': method, 'credentials': list(credentials)}


def host(live=None, staged=None, backups=(), metadata=None):
    return {'key': {'exists': bool(live), 'kid': live}, 'staged': {'exists': bool(staged), 'kid': staged},
            'backups': [{'path': 'b%d' % i, 'kid': k} for i, k in enumerate(backups)], 'metadata': metadata}


def run(capsys, cli, hosts, now=NOW, **params):
    return _plan.plan(dict(DEFAULTS, client=cli, hosts=hosts, **params), now)


def ids(items):
    return sorted(i['id'] for i in items)


def test_nothing_to_do_when_hosts_hold_the_enabled_key(capsys):
    result = run(capsys, client(cred('c1', 'K1', enabled=True)), {'h1': host('K1'), 'h2': host('K1')})
    assert result['action'] == 'none'
    assert result['target_kid'] == 'K1'
    assert 'neither expiring nor too old' in result['reasons'][0]
    assert result['retire'] == [] and result['free'] == []


def test_force_rotates_and_retires_the_current_credential(capsys):
    result = run(capsys, client(cred('c1', 'K1', enabled=True)), {'h1': host('K1')}, force=True)
    assert result['action'] == 'rotate'
    assert result['target_kid'] is None
    assert ids(result['retire']) == ['c1']
    assert ids(result['current_credentials']) == ['c1']


@pytest.mark.parametrize('credential, params, reason', [
    (cred('c1', 'K1', enabled=True, days=10), {}, 'expires in 10 days'),
    (cred('c1', 'K1', enabled=True, created='2025-01-01T00:00:00Z'), {'max_age_days': 90}, 'days old'),
    (cred('c1', 'K1', enabled=False), {}, 'not enabled'),
])
def test_triggers(capsys, credential, params, reason):
    result = run(capsys, client(credential), {'h1': host('K1')}, **params)
    assert result['action'] == 'rotate'
    assert any(reason in r for r in result['reasons'])


def test_missing_key_and_split_hosts_are_triggers(capsys):
    result = run(capsys, client(cred('c1', 'K1', enabled=True), cred('c2', 'K2', enabled=True)),
                 {'h1': host('K1'), 'h2': host('K2'), 'h3': host(None)})
    # both enabled credentials are in use, so there is no room for a third: blocked, and says why
    assert result['action'] == 'blocked'
    assert 'none that may be freed' in result['errors'][0]
    assert any('different keys' in r for r in result['reasons'])
    assert any('no usable key' in r for r in result['reasons'])


def test_a_key_staged_on_every_host_is_resumed(capsys):
    result = run(capsys, client(cred('c1', 'K1', enabled=True), cred('c2', 'K2', name='keyops-rotation-x')),
                 {'h1': host('K1', staged='K2'), 'h2': host('K2', backups=['K1'])}, force=True)
    assert result['action'] == 'resume'
    assert result['target_kid'] == 'K2'
    assert result['target_credential']['id'] == 'c2'
    assert ids(result['retire']) == ['c1']


def test_a_key_staged_on_some_hosts_only_is_replaced(capsys):
    result = run(capsys, client(cred('c1', 'K1', enabled=True)), {'h1': host('K1', staged='K2'), 'h2': host('K1')},
                 force=True)
    assert result['action'] == 'rotate'
    assert result['target_kid'] is None


def test_finish_retires_previous_keys_and_reports_foreign_ones(capsys):
    credentials = [cred('c1', 'K1', enabled=True, name='keyops-rotation-1'), cred('c0', 'K0'),
                   cred('old', 'K9', name='keyops-rotation-0'), cred('partner', 'KP', name='partner')]
    result = run(capsys, client(*credentials), {'h1': host('K1', backups=['K0'])})
    assert result['action'] == 'finish'
    assert ids(result['retire']) == ['c0', 'old']
    assert ids(result['foreign']) == ['partner']
    # with retirement off, nothing is left to finish
    result = run(capsys, client(*credentials), {'h1': host('K1', backups=['K0'])}, retire=False)
    assert result['action'] == 'none'


def test_previous_kid_from_the_metadata_file_counts(capsys):
    result = run(capsys, client(cred('c1', 'K1', enabled=True), cred('c0', 'K0')),
                 {'h1': host('K1', metadata={'previous_kid': 'K0'})})
    assert result['action'] == 'finish'
    assert ids(result['retire']) == ['c0']


def test_too_many_backups_finish(capsys):
    result = run(capsys, client(cred('c1', 'K1', enabled=True)), {'h1': host('K1', backups=['A', 'B'])}, keep_backups=1)
    assert result['action'] == 'finish'
    assert 'backups' in result['reasons'][0]


def test_caps_free_unused_own_credentials_first(capsys):
    credentials = [cred('c1', 'K1', enabled=True), cred('old', 'K9', enabled=True, name='keyops-rotation-0'),
                   cred('p1', 'P1'), cred('p2', 'P2')]
    # h2 is new (no key yet): a rotation is due, not the finish of an earlier one
    result = run(capsys, client(*credentials), {'h1': host('K1'), 'h2': host(None)})
    assert result['action'] == 'rotate'
    assert ids(result['free']) == ['old']
    assert ids(result['foreign']) == ['p1', 'p2']


def test_caps_prefer_a_disabled_credential_when_only_the_record_cap_is_full(capsys):
    credentials = [cred('c1', 'K1', enabled=True), cred('a', 'KA', name='keyops-rotation-a', created='2026-01-01T00:00:00Z'),
                   cred('b', 'KB', enabled=True, name='keyops-rotation-b'), cred('p1', 'P1')]
    result = run(capsys, client(*credentials), {'h1': host('K1'), 'h2': host(None)})
    assert result['action'] == 'rotate'
    # 4 records and 2 enabled: the enabled own one must go (it frees both caps)
    assert ids(result['free']) == ['a', 'b'] or ids(result['free']) == ['b']


def test_caps_blocked_by_foreign_credentials(capsys):
    credentials = [cred('c1', 'K1', enabled=True), cred('p1', 'P1', enabled=True), cred('p2', 'P2'), cred('p3', 'P3')]
    result = run(capsys, client(*credentials), {'h1': host('K1')}, force=True)
    assert result['action'] == 'blocked'
    assert 'none that may be freed' in result['errors'][0]
    assert result['free'] == []


def test_secret_client_needs_the_switch(capsys):
    result = run(capsys, client(method='client_secret_post'), {'h1': host(None)})
    assert result['action'] == 'blocked'
    assert 'stops working' in result['errors'][0]
    result = run(capsys, client(method='client_secret_post'), {'h1': host(None)}, allow_secret_switch=True)
    assert result['action'] == 'rotate'
    assert result['secret_switch'] is True


def test_other_methods_and_no_host_block(capsys):
    result = run(capsys, client(cred('c1', 'K1', enabled=True, method='tls_client_auth'), method='tls_client_auth'),
                 {'h1': host('K2')})
    assert result['action'] == 'blocked'
    assert ids(result['foreign']) == ['c1']
    result = run(capsys, client(), {})
    assert result['action'] == 'blocked'


def test_a_foreign_name_blocks(capsys):
    result = run(capsys, client(cred('c1', 'K1', enabled=True)), {'h1': host('K1')}, credential_name='mine-1')
    assert result['action'] == 'blocked'
    assert len(result['errors']) == 1
    assert 'name prefix' in result['errors'][0]


# -- force finishes first -------------------------------------------------------------------------------

#: Every host on the enabled K1 (made by the role); the credential of the key before it, K0, remains.
UNFINISHED = (cred('c1', 'K1', enabled=True, name='keyops-rotation-1'), cred('c0', 'K0', name='keyops-rotation-0'))


@pytest.mark.parametrize('params, due', [
    ({'force': True}, 'credential_rotation_force is set'),
    ({'max_age_days': 30}, 'the credential c1 is 31 days old (max_age_days 30)'),
])
def test_a_due_rotation_finishes_an_unfinished_one_first(capsys, params, due):
    result = run(capsys, client(*UNFINISHED), {'h1': host('K1', backups=['K0']), 'h2': host('K1')}, **params)
    assert result['action'] == 'finish'
    assert result['target_kid'] == 'K1' and result['target_credential']['id'] == 'c1'
    assert ids(result['retire']) == ['c0'] and result['free'] == []
    assert result['reasons'] == [
        'an earlier rotation is unfinished (credentials of earlier keys remain), so it is finished first, whatever '
        'credential_rotation_force says; the next run rotates (%s)' % due,
        'every host uses the enabled key K1; 1 credential(s) of earlier keys remain']


def test_a_forced_plan_rotates_when_nothing_would_be_retired(capsys):
    result = run(capsys, client(*UNFINISHED), {'h1': host('K1', backups=['K0']), 'h2': host('K1')}, force=True, retire=False)
    assert result['action'] == 'rotate'
    assert result['reasons'] == ['credential_rotation_force is set']
    assert result['target_kid'] is None


def test_a_forced_plan_rotates_when_no_earlier_credential_remains(capsys):
    result = run(capsys, client(UNFINISHED[0]), {'h1': host('K1')}, force=True)
    assert result['action'] == 'rotate' and ids(result['retire']) == ['c1']


def test_a_host_without_the_key_is_a_rotation_not_a_finish(capsys):
    """Only a fleet that all holds the enabled key has an unfinished rotation to finish."""
    result = run(capsys, client(*UNFINISHED), {'h1': host('K1', backups=['K0']), 'h2': host(None)}, force=True)
    assert result['action'] == 'rotate'
    assert 'host h2 holds no usable key' in result['reasons']


def test_a_key_that_is_not_enabled_is_a_rotation_not_a_finish(capsys):
    credentials = (cred('c1', 'K1', name='keyops-rotation-1'), cred('c0', 'K0', name='keyops-rotation-0'))
    result = run(capsys, client(*credentials), {'h1': host('K1', backups=['K0'])})
    assert result['action'] == 'rotate'
    assert result['reasons'] == ['host h1 holds the key K1, which is not enabled for private_key_jwt']


def test_retirable_sorts_the_credentials_of_a_client():
    hosts = [_plan.host_view('h1', host('K1', staged='K2', backups=['K0']))]
    credentials = [cred('c1', 'K1', enabled=True), cred('c2', 'K2', name='keyops-rotation-2'), cred('c0', 'K0'),
                   cred('c9', 'K9', name='keyops-rotation-9'), cred('p', 'KP'),
                   cred('t', 'KT', enabled=True, method='tls_client_auth', name='keyops-rotation-t')]
    retire, foreign, candidates = _plan.retirable(credentials, credentials[1], hosts, ['K1'], 'keyops-rotation')
    assert ids(retire) == ['c0', 'c1', 'c9'], 'the target c2 is never retired'
    assert ids(foreign) == ['p', 't']
    assert [r['reason'] for r in retire if r['id'] == 'c9'] == ['created by this role (name starts with keyops-rotation)']
    assert ids(candidates) == ['c0', 'c9'], 'c1 is held by h1: never freed'


# -- credentials used elsewhere (issue 15, item 8) ---------------------------------------------------------------

def jar(credential, *also):
    """The credential as describe_client reports it when the client lists it in signed_request_object (JAR)."""
    return dict(credential, in_use=True, used_by=list(also) + ['signed_request_object'])


def test_a_previous_key_that_jar_uses_is_never_retired(capsys):
    credentials = [cred('c1', 'K1', enabled=True, name='keyops-rotation-1'),
                   jar(cred('c0', 'K0', name='keyops-rotation-0')), cred('old', 'K9', name='keyops-rotation-9')]
    result = run(capsys, client(*credentials), {'h1': host('K1', backups=['K0'])})
    assert result['action'] == 'finish'
    assert ids(result['retire']) == ['old']
    assert ids(result['foreign']) == ['c0']
    assert result['foreign'][0]['reason'] == 'in use elsewhere: signed_request_object (JWT-secured Authorization Requests)'


def test_a_jar_credential_alone_is_nothing_to_finish(capsys):
    result = run(capsys, client(cred('c1', 'K1', enabled=True), jar(cred('c0', 'K0', name='keyops-rotation-0'))),
                 {'h1': host('K1', backups=['K0'])})
    assert result['action'] == 'none' and result['retire'] == []


def test_a_rotation_retires_the_current_key_unless_jar_uses_it(capsys):
    credentials = [jar(cred('c1', 'K1', enabled=True, name='keyops-rotation-1'), 'private_key_jwt')]
    result = run(capsys, client(*credentials), {'h1': host('K1')}, force=True)
    assert result['action'] == 'rotate'
    assert result['retire'] == [] and ids(result['foreign']) == ['c1'], 'held by the hosts, and still reported'


def test_the_caps_never_free_a_jar_credential(capsys):
    credentials = [cred('c1', 'K1', enabled=True), jar(cred('j1', 'J1', enabled=True, name='keyops-rotation-j'),
                                                       'private_key_jwt'),
                   jar(cred('j2', 'J2', name='keyops-rotation-j2')), cred('p1', 'P1')]
    result = run(capsys, client(*credentials), {'h1': host('K1'), 'h2': host(None)})
    assert result['action'] == 'blocked' and result['free'] == []
    assert 'none that may be freed' in result['errors'][0]
    assert ids(result['foreign']) == ['j1', 'j2', 'p1']


def test_retirable_keeps_what_another_list_uses():
    hosts = [_plan.host_view('h1', host('K1', backups=['K0']))]
    credentials = [cred('c1', 'K1', enabled=True), dict(cred('c0', 'K0'), used_by=['tls_client_auth']),
                   dict(cred('c9', 'K9', name='keyops-rotation-9'), used_by=['self_signed_tls_client_auth'])]
    retire, foreign, candidates = _plan.retirable(credentials, credentials[0], hosts, ['K1'], 'keyops-rotation')
    assert retire == [] and candidates == []
    assert [(f['id'], f['reason']) for f in foreign] == [('c0', 'in use elsewhere: enabled for tls_client_auth'),
                                                         ('c9', 'in use elsewhere: enabled for self_signed_tls_client_auth')]


@pytest.mark.parametrize('value, seconds', [
    (0, 0), ('', 0), (None, 0), (3600, 3600), ('3600', 3600), ('90s', 90), ('30m', 1800), ('24h', 86400), ('7d', 604800),
    ('2w', 1209600), ('1.5h', 5400), (' 12H ', 43200),
])
def test_overlap_durations(value, seconds):
    assert _plan.overlap_seconds(value) == seconds


@pytest.mark.parametrize('value', ['1 day', '-5', 'h', '5y', True, '1h30m'])
def test_overlap_durations_refused(value):
    with pytest.raises(ValueError):
        _plan.overlap_seconds(value)


def test_window_end_from_auth0s_creation_time():
    assert _plan.window_end('2026-06-01T10:00:00.000Z', 3600) == parse_datetime('2026-06-01T11:00:00Z')
    assert _plan.window_end(None, 3600) is None
