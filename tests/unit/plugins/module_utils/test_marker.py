# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run marker (module_utils/_marker.py): one rotation run writes to a client at a time. Pure: no call."""

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.keyops.auth0.plugins.module_utils import _marker

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
RUN = '0123456789abcdef'
HOST = 'controller-1'


def started(minutes_ago):
    return (NOW - datetime.timedelta(minutes=minutes_ago)).strftime('%Y-%m-%dT%H:%M:%SZ')


def other(minutes_ago=5, host='awx-job-42', pid=77, run='fedcba9876543210'):
    """The marker of another run, written ``minutes_ago`` before NOW."""
    return _marker.make(run, started(minutes_ago), host, pid)


def never_asked(pid):
    raise AssertionError('whether process %s runs only matters for a marker of this controller' % pid)


def decide(value, alive=never_asked, **kwargs):
    return _marker.decide(value, RUN, NOW, HOST, alive, **kwargs)


# -- make, parse, of_client ------------------------------------------------------------------------


def test_make_writes_a_short_json_text_that_parse_reads_back():
    value = _marker.make(RUN, '2026-06-01T12:00:00Z', HOST, '4242')
    assert json.loads(value) == {'run': RUN, 'started': '2026-06-01T12:00:00Z', 'host': HOST, 'pid': 4242}
    assert ' ' not in value, 'compact: client_metadata values hold at most 255 characters'
    assert _marker.parse(value) == {'run': RUN, 'started': '2026-06-01T12:00:00Z', 'host': HOST, 'pid': 4242}


def test_make_fits_auth0_s_255_characters_whatever_the_host_name():
    value = _marker.make(RUN, '2026-06-01T12:00:00Z', 'h' * 300, 2 ** 40)
    assert len(value) <= _marker.MAX_VALUE == 255
    assert _marker.parse(value)['host'] == 'h' * 64, 'the host name is cut, the marker stays readable'
    assert _marker.parse(value)['run'] == RUN
    assert json.loads(_marker.make(RUN, 'x', None, 1))['host'] == ''
    # Auth0 counts characters: a non-ASCII host name is not escaped into six characters a letter
    value = _marker.make(RUN, '2026-06-01T12:00:00Z', '\u00e9' * 100, 2 ** 40)
    assert len(value) <= 255 and _marker.parse(value)['host'] == '\u00e9' * 64


@pytest.mark.parametrize('value', [None, ''])
def test_parse_of_no_marker_is_empty(value):
    assert _marker.parse(value) == {}


@pytest.mark.parametrize('value', ['locked by ops', '["run"]', '{"host": "x"}', '{"run": ""}', 'x' * 200])
def test_parse_of_a_marker_that_is_not_a_run_s_is_unreadable(value):
    assert _marker.parse(value) == {'unreadable': value[:80]}


@pytest.mark.parametrize('client, expected', [
    (None, None),
    ({'client_id': 'a'}, None),
    ({'client_metadata': None}, None),
    ({'client_metadata': 'not a mapping'}, None),
    ({'client_metadata': {'team': 'billing'}}, None),
    ({'client_metadata': {'team': 'billing', _marker.KEY: 'text'}}, 'text'),
])
def test_of_client_reads_the_marker_from_client_metadata(client, expected):
    assert _marker.of_client(client) == expected


# -- decide ------------------------------------------------------------------------------------------


@pytest.mark.parametrize('value', [None, ''])
def test_no_marker_is_free(value):
    assert decide(value) == ('free', None)


def test_the_run_s_own_marker_is_ours():
    assert decide(_marker.make(RUN, started(500), HOST, 1)) == ('ours', None)


def test_a_recent_marker_of_another_run_is_held_and_the_refusal_says_who_since_when_and_the_fix():
    verdict, sentence = decide(other(minutes_ago=30))
    assert verdict == 'held'
    assert sentence.startswith('another rotation run (started %s on awx-job-42, process 77) is writing to this client '
                               '(marker keyops_rotation in its client_metadata)' % started(30))
    assert 'this run changes nothing for it' in sentence
    assert ('run again with credential_rotation_take_over_stale_marker: true once the marker is 120 minutes old '
            '(in 90 minutes), or remove the key keyops_rotation from the client\'s client_metadata.') in sentence


def test_take_over_does_not_take_a_marker_that_is_not_stale():
    verdict, sentence = decide(other(minutes_ago=119), take_over=True)
    assert verdict == 'held' and '(in 1 minute)' in sentence


@pytest.mark.parametrize('minutes_ago', [120, 600])
def test_a_stale_marker_is_taken_over_only_when_asked(minutes_ago):
    verdict, sentence = decide(other(minutes_ago=minutes_ago), take_over=True)
    assert verdict == 'taken_over'
    assert sentence == ('another rotation run (started %s on awx-job-42, process 77) was older than 120 minutes; taken '
                        'over (credential_rotation_take_over_stale_marker)' % started(minutes_ago))
    verdict, sentence = decide(other(minutes_ago=minutes_ago))
    assert verdict == 'held' and 'once the marker is 120 minutes old (now)' in sentence


def test_the_stale_limit_is_the_one_given():
    assert decide(other(minutes_ago=15), take_over=True, stale_after=10)[0] == 'taken_over'
    assert decide(other(minutes_ago=15), take_over=True, stale_after=20)[0] == 'held'
    assert 'once the marker is 20 minutes old (in 5 minutes)' in decide(other(minutes_ago=15), stale_after=20)[1]


def test_a_marker_without_a_readable_start_counts_as_stale():
    value = json.dumps({'run': 'other', 'started': 'yesterday', 'host': 'h', 'pid': 1})
    assert decide(value, take_over=True)[0] == 'taken_over'
    verdict, sentence = decide(value)
    assert verdict == 'held' and 'once the marker is' not in sentence


@pytest.mark.parametrize('value', ['locked by ops', '{"owner": "terraform"}'])
def test_an_unreadable_marker_is_held_and_taken_over_only_when_asked(value):
    verdict, sentence = decide(value)
    assert verdict == 'held'
    assert sentence.startswith('an unreadable marker (%r) is writing to this client' % value)
    assert 'credential_rotation_take_over_stale_marker: true, or remove the key keyops_rotation' in sentence
    verdict, sentence = decide(value, take_over=True)
    assert verdict == 'taken_over'
    assert sentence == 'an unreadable marker (%r) was unreadable; taken over (credential_rotation_take_over_stale_marker)' % value


def test_the_marker_of_a_killed_run_of_this_controller_is_taken_over_at_once():
    asked = []

    def alive(pid):
        asked.append(pid)
        return False

    verdict, sentence = decide(other(minutes_ago=1, host=HOST, pid=4242), alive=alive)
    assert verdict == 'dead' and asked == [4242]
    assert sentence == ('the marker of an earlier run of this controller (started %s, process 4242) was left by a run '
                        'that ended without removing it (killed); taken over' % started(1))


def test_the_marker_of_a_run_of_this_controller_that_still_runs_is_held():
    verdict, sentence = decide(other(minutes_ago=1, host=HOST, pid=4242), alive=lambda pid: True)
    assert verdict == 'held' and 'on %s, process 4242' % HOST in sentence


def test_a_marker_of_this_host_name_without_a_whole_number_pid_is_not_taken_for_dead():
    value = json.dumps({'run': 'other', 'started': started(1), 'host': HOST, 'pid': '4242'})
    assert decide(value)[0] == 'held'


# -- room_error ----------------------------------------------------------------------------------------


def metadata(count, marker=False):
    out = dict(('key%d' % i, 'v') for i in range(count))
    if marker:
        out[_marker.KEY] = 'x'
    return {'client_id': 'a', 'client_metadata': out}


def test_room_error_when_client_metadata_is_full():
    error = _marker.room_error(metadata(10))
    assert error == ('the client already has 10 client_metadata properties, the most Auth0 allows, so the run marker '
                     '(keyops_rotation) cannot be added; remove one of them')


@pytest.mark.parametrize('client', [None, {'client_id': 'a'}, {'client_metadata': None}, metadata(0), metadata(9),
                                    metadata(9, marker=True)])
def test_room_error_none_when_the_marker_fits_or_is_there(client):
    assert _marker.room_error(client) is None
