# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet decisions of the rotation engine (module_utils/_fleet.py): no Ansible run, no call."""

from __future__ import annotations

import pytest

from ansible_collections.keyops.auth0.plugins.module_utils import _fleet

SETTINGS = {'key_size': 2048, 'alg': 'RS256', 'serial': 0, 'allow_partial': False, 'force': False}


def read(client, **extra):
    settings = dict(SETTINGS, client_id=client)
    settings.update(extra)
    return {'settings': settings, 'files': {'key': {'kid': 'K1', 'mode': '0600'}}}


def fleet(inventory, play, alive=None, reads=None, inventory_clients=None):
    """group() over an inventory {host: client}; the play's hosts read with their inventory client."""
    inventory_clients = inventory_clients if inventory_clients is not None else dict(inventory)
    if reads is None:
        reads = dict((h, read(inventory[h])) for h in play)
    return _fleet.group(list(inventory), inventory_clients, play, play if alive is None else alive, reads)


INVENTORY = {'h1': 'A', 'h2': 'A', 'h3': 'B'}


def test_the_whole_fleet_in_the_play_is_accepted():
    clients = fleet(INVENTORY, ['h1', 'h2', 'h3'])
    assert list(clients) == ['A', 'B']
    assert clients['A']['hosts'] == ['h1', 'h2'] and clients['A']['alive'] == ['h1', 'h2']
    assert clients['A']['errors'] == [] and clients['B']['errors'] == []
    assert clients['A']['settings']['client_id'] == 'A'


@pytest.mark.parametrize('written', ['A ', ' A', 'A\n'])
def test_a_client_id_with_surrounding_whitespace_is_the_same_client(written):
    """A careless "A " on h1 made a client of its own: rotating "A" without h1 retired the key h1 still used."""
    inventory = {'h1': written, 'h2': 'A', 'h3': 'B'}
    clients = fleet(inventory, ['h1', 'h2', 'h3'])
    assert list(clients) == ['A', 'B'] and clients['A']['hosts'] == ['h1', 'h2'] and clients['A']['errors'] == []
    # and with h1 left out of the play, client A is refused for it, as for any host outside the play
    clients = fleet(inventory, ['h2', 'h3'])
    assert clients['A']['outside'] == ['h1'] and 'Host h1 uses client A' in clients['A']['errors'][0]


def test_limit_or_pattern_refuses_the_client_naming_the_missing_hosts():
    clients = fleet(INVENTORY, ['h1', 'h3'])
    assert clients['A']['outside'] == ['h2']
    assert len(clients['A']['errors']) == 1
    error = clients['A']['errors'][0]
    assert 'Host h2 uses client A' in error and 'is not in this play' in error
    assert 'credential_rotation_allow_partial' in error and error.endswith('.')
    assert clients['B']['errors'] == []


@pytest.mark.parametrize('reads_h2, expected', [
    ({'unreachable': True, 'msg': 'ssh: connection refused'}, 'unreachable: ssh: connection refused'),
    ({'failed': True, 'msg': 'permission denied', 'settings': dict(SETTINGS, client_id='A')},
     'its key files could not be read: permission denied'),
    (None, 'it failed earlier in the play'),
])
def test_a_host_that_cannot_take_part_refuses_its_client(reads_h2, expected):
    reads = {'h1': read('A'), 'h3': read('B')}
    if reads_h2 is not None:
        reads['h2'] = reads_h2
    alive = ['h1', 'h3'] if reads_h2 is None or reads_h2.get('unreachable') else ['h1', 'h2', 'h3']
    clients = fleet(INVENTORY, ['h1', 'h2', 'h3'], alive=alive, reads=reads)
    assert clients['A']['failed'] == {'h2': expected}
    assert clients['A']['alive'] == ['h1']
    assert 'Host h2 of client A cannot take part (h2: %s). Repair it' % expected in clients['A']['errors'][0]
    assert clients['B']['errors'] == []


def test_a_host_with_invalid_settings_or_files_refuses_its_client_in_its_own_words():
    invalid = 'credential_rotation_key_size on h2 is 1024; it must be from 2048 to 4096.'
    reads = {'h1': read('A'), 'h2': {'failed': True, 'invalid': True, 'msg': invalid, 'settings': dict(SETTINGS, client_id='A')},
             'h3': read('B')}
    clients = fleet(INVENTORY, ['h1', 'h2', 'h3'], reads=reads)
    assert clients['A']['failed'] == {'h2': invalid}
    assert 'Host h2 of client A cannot take part (h2: %s). Repair it' % invalid in clients['A']['errors'][0]
    assert 'could not be read' not in clients['A']['errors'][0]


def test_allow_partial_accepts_a_partial_client_and_marks_it():
    reads = {'h1': read('A', allow_partial=True)}
    clients = fleet(INVENTORY, ['h1'], reads=reads)
    assert clients['A']['errors'] == []
    assert _fleet.is_partial(clients['A'])
    assert not _fleet.is_partial(fleet(INVENTORY, ['h1', 'h2', 'h3'])['A'])


def test_client_id_from_a_play_variable_is_refused_when_hosts_are_left_out():
    inventory_clients = {'h1': None, 'h2': None, 'h3': None}
    reads = {'h1': read('A')}
    clients = fleet(INVENTORY, ['h1'], reads=reads, inventory_clients=inventory_clients)
    assert 'does not come from the inventory' in clients['A']['errors'][0]
    assert clients['A']['not_in_inventory'] == ['h1']
    # the same play over the whole inventory is accepted: no host can be missing
    reads = dict((h, read('A')) for h in INVENTORY)
    clients = fleet(INVENTORY, list(INVENTORY), reads=reads, inventory_clients=inventory_clients)
    assert clients['A']['errors'] == []


def test_client_id_as_an_extra_variable_makes_every_inventory_host_part_of_the_client():
    inventory_clients = {'h1': 'A', 'h2': 'A', 'h3': 'A'}
    clients = fleet(INVENTORY, ['h1'], reads={'h1': read('A')}, inventory_clients=inventory_clients)
    assert clients['A']['outside'] == ['h2', 'h3']
    assert clients['A']['errors'] and 'extra variable' in clients['A']['errors'][0]
    assert 'Hosts h2, h3 use client A' in clients['A']['errors'][0] and 'are not in this play' in clients['A']['errors'][0]


def test_several_failed_hosts_are_named_together():
    reads = {'h1': read('A'), 'h2': {'failed': True, 'msg': 'x', 'settings': dict(SETTINGS, client_id='A')}, 'h3': read('A')}
    clients = fleet({'h1': 'A', 'h2': 'A', 'h3': 'A'}, ['h1', 'h2', 'h3'], alive=['h1', 'h2'], reads=reads)
    assert 'Hosts h2, h3 of client A cannot take part' in clients['A']['errors'][0]
    assert 'Repair them' in clients['A']['errors'][0]


def test_hosts_without_a_client_are_ignored():
    clients = fleet({'h1': 'A', 'x': None}, ['h1', 'x'], reads={'h1': read('A'), 'x': {'settings': {}}})
    assert list(clients) == ['A']


def test_hosts_of_a_client_must_agree_on_client_settings():
    reads = {'h1': read('A', key_size=2048), 'h2': read('A', key_size=4096), 'h3': read('B')}
    clients = fleet(INVENTORY, ['h1', 'h2', 'h3'], reads=reads)
    assert len(clients['A']['errors']) == 1
    assert 'credential_rotation_key_size (2048 on h1; 4096 on h2)' in clients['A']['errors'][0]


@pytest.mark.parametrize('serial, expected', [
    (0, {'a': 0, 'b': 0, 'c': 0}),
    (None, {'a': 0, 'b': 0, 'c': 0}),
    (1, {'a': 0, 'b': 1, 'c': 2}),
    (2, {'a': 0, 'b': 0, 'c': 1}),
    ('2', {'a': 0, 'b': 0, 'c': 1}),
])
def test_batches(serial, expected):
    assert _fleet.batches(['a', 'b', 'c'], serial) == expected


def test_the_play_keyword_serial_is_refused():
    assert _fleet.serial_error(['a', 'b'], ['a', 'b']) is None
    error = _fleet.serial_error(['a', 'b', 'c'], ['a'])
    assert 'hosts b, c are not in this batch' in error and 'credential_rotation_serial' in error


def test_partial_plan_retires_nothing_and_frees_only_disabled_credentials():
    plan = {'action': 'rotate', 'retire': [{'id': 'c1'}], 'free': [{'id': 'c2', 'enabled': False}], 'errors': []}
    out = _fleet.partial_plan(plan)
    assert out['retire'] == [] and out['free'] == [{'id': 'c2', 'enabled': False}] and out['action'] == 'rotate'
    assert plan['retire'] == [{'id': 'c1'}]  # the input is not changed


def test_partial_plan_never_frees_an_enabled_credential():
    plan = {'action': 'rotate', 'retire': [], 'free': [{'id': 'c2', 'enabled': True}]}
    out = _fleet.partial_plan(plan)
    assert out['action'] == 'blocked' and out['free'] == []
    assert 'enabled credentials (c2)' in out['errors'][0]


def test_partial_plan_does_not_finish():
    out = _fleet.partial_plan({'action': 'finish', 'retire': [{'id': 'c1'}], 'reasons': ['r']})
    assert out['action'] == 'none' and out['retire'] == []
    assert 'Nothing is retired in a partial run' in out['reasons'][-1]


def test_off_target_uses_what_each_host_computed():
    files = {'a': {'key': {'kid': 'N', 'mode': '0600'}, 'staged': {'exists': False}},
             'b': {'key': {'kid': 'O', 'mode': '0600'}},
             'c': {'key': {'kid': 'N', 'mode': '0644'}},
             'd': {'key': {'kid': 'N', 'mode': '0600'}, 'staged': {'exists': True, 'kid': 'N'}},
             'f': {'key': {'kid': 'N', 'mode': '0600'}, 'staged': {'exists': True, 'kid': None}}}
    assert _fleet.off_target(['a', 'b', 'c', 'd', 'e', 'f'], files, 'N', '0600') == ['b', 'c', 'd', 'e', 'f']


def test_off_target_a_staged_key_of_another_run_is_a_leftover_not_a_reason_to_keep_the_old_credential():
    files = {'a': {'key': {'kid': 'N', 'mode': '0600'}, 'staged': {'exists': True, 'kid': 'X'}}}
    assert _fleet.off_target(['a'], files, 'N', '0600') == []


def staged_files(kid=None, leftovers=None):
    out = {'key': {'exists': True, 'kid': 'K1'}, 'staged': {'exists': bool(kid), 'kid': kid}}
    if leftovers is not None:
        out['leftovers'] = leftovers
    return out


@pytest.mark.parametrize('action, files, target, expected', [
    # a refused client's hosts keep everything, whatever they hold
    ('blocked', staged_files('X', ['/etc/app/key.pem.tmp1']), None, None),
    ('failed', staged_files('X'), None, None),
    # nothing left over
    ('none', staged_files(), 'K1', None),
    ('finish', {}, 'K1', None),
    # a staged key no rotation under way needs goes, named by its kid
    ('none', staged_files('X'), 'K1', {'remove_staged': True, 'kid': 'X'}),
    ('finish', staged_files('X', []), 'K1', {'remove_staged': True, 'kid': 'X'}),
    ('resume', staged_files('X'), 'N', {'remove_staged': True, 'kid': 'X'}),
    # the key of the rotation under way stays
    ('resume', staged_files('N'), 'N', None),
    # temporary files of an interrupted write always go
    ('resume', staged_files('N', ['/etc/app/.key.pem.tmp']), 'N', {'remove_staged': False, 'kid': None}),
    ('none', staged_files(None, ['/etc/app/.key.pem.tmp']), 'K1', {'remove_staged': False, 'kid': None}),
])
def test_leftovers_what_a_host_that_stages_nothing_cleans(action, files, target, expected):
    assert _fleet.leftovers(action, files, target) == expected


@pytest.mark.parametrize('action, failed, error, check, retired, expected', [
    ('blocked', [], False, False, False, 'refused'),
    ('none', [], True, False, False, 'refused'),
    ('failed', [], True, False, False, 'failed'),
    ('rotate', [{'host': 'h'}], False, False, False, 'failed'),
    ('rotate', [], False, True, False, 'would_rotate'),
    ('rotate', [], False, False, False, 'rotated'),
    ('resume', [], False, False, False, 'resumed'),
    ('finish', [], False, True, False, 'would_finish'),
    ('finish', [], False, False, True, 'finished'),
    ('none', [], False, False, False, 'unchanged'),
])
def test_outcome(action, failed, error, check, retired, expected):
    assert _fleet.outcome(action, failed, error, check, retired) == expected
    assert expected in _fleet.OUTCOMES


def summary(outcome, **extra):
    out = {'client_id': 'A', 'outcome': outcome, 'new': {'kid': 'N'}, 'errors': [], 'hosts_failed': [],
           'retired': [], 'would_retire': []}
    out.update(extra)
    return out


def test_message_does_not_repeat_a_failed_host_already_named_by_an_error():
    text = _fleet.message(summary('refused', errors=['Host h2 of client A cannot take part (h2: unreachable: no).'],
                                  hosts_failed=[{'host': 'h2', 'reason': 'unreachable: no'}]))
    assert text.count('h2') == 2


def test_message_of_a_failed_host_names_the_host_and_the_reason_only():
    text = _fleet.message(summary('failed', hosts_failed=[{'host': 'h2', 'reason': 'its key files could not be read: EACCES.'}]))
    assert text == ('Client A: the rotation stopped at the key N. Host h2 failed: its key files could not be read: EACCES. '
                    'The old credential is kept; the next run resumes.')
    assert 'serial' not in text


@pytest.mark.parametrize('outcome, extra, expected', [
    ('refused', {'errors': ['Hosts h2 use client A']}, 'Client A: nothing was changed. Hosts h2 use client A.'),
    ('rotated', {'retired': [{'id': 'c1'}]}, 'Client A: rotated to the key N. Retired c1.'),
    ('resumed', {}, 'Client A: rotation finished on the key N.'),
    ('would_rotate', {'would_retire': [{'id': 'c1'}]}, 'Client A: would rotate to the key N. Would retire c1.'),
    ('finished', {'new': None, 'retired': [{'id': 'c1'}]}, 'Client A: finished the earlier rotation. Retired c1.'),
    ('would_finish', {'new': None}, 'Client A: would finish the earlier rotation.'),
    ('unchanged', {'new': None}, 'Client A: no change.'),
    ('rotated', {'not_retired': 'Nothing was retired.'}, 'Client A: rotated to the key N. Nothing was retired.'),
    ('failed', {'new': None, 'errors': ['Auth0 answered: down.']},
     'Client A: the rotation stopped. Auth0 answered: down. The old credential is kept; the next run resumes.'),
])
def test_messages_read_as_sentences(outcome, extra, expected):
    assert _fleet.message(summary(outcome, **extra)) == expected


def test_message_names_the_hosts_rolled_back_and_the_leftovers_removed():
    text = _fleet.message(summary('failed', errors=['The credential cred_new is no longer enabled.'],
                                  hosts_rolled_back=['h1', 'h2'],
                                  leftovers_removed={'h3': ['/k.pem.next', '/.k.pem.tmp'], 'h1': ['/k.pem.next']}))
    assert text == ('Client A: the rotation stopped at the key N. The credential cred_new is no longer enabled. Hosts h1, h2 '
                    'got their previous key back. Removed on h1 what an interrupted run left: /k.pem.next. Removed on h3 '
                    'what an interrupted run left: /k.pem.next, /.k.pem.tmp. The old credential is kept; the next run '
                    'resumes.')


@pytest.mark.parametrize('order, expected', [
    (None, ['b', 'a', 'c']),
    ('inventory', ['b', 'a', 'c']),
    ('sorted', ['a', 'b', 'c']),
    ('reverse_sorted', ['c', 'b', 'a']),
    ('reverse_inventory', ['c', 'a', 'b']),
    ('shuffle', None),
])
def test_play_order_is_the_order_the_strategy_starts_the_hosts(order, expected):
    assert _fleet.play_order(['b', 'a', 'c'], order) == expected


def test_read_back_content_finds_the_client_s_item():
    registered = {'results': [{'item': {'client_id': 'A', 'host': 'h1'}, 'content': 'QQ=='},
                              {'item': {'client_id': 'B', 'host': 'h3'}, 'content': 'Qg=='}, 'junk']}
    assert _fleet.read_back_content(registered, 'B') == 'Qg=='
    assert _fleet.read_back_content(registered, 'C') is None
    assert _fleet.read_back_content({'skipped': True, 'results': []}, 'A') is None
    assert _fleet.read_back_content(None, 'A') is None


def test_a_client_waiting_for_its_overlap_window():
    assert _fleet.outcome('none', [], False, False, False, waiting=True) == 'waiting'
    assert _fleet.outcome('rotate', [], False, False, False, waiting=True) == 'rotated'
    assert _fleet.outcome('none', [], True, False, False, waiting=True) == 'refused'
    summary = {'client_id': 'app', 'outcome': 'waiting', 'waiting_until': '2026-06-01T11:00:00Z'}
    assert _fleet.message(summary) == 'Client app: waiting until 2026-06-01T11:00:00Z to retire the earlier credential.'
