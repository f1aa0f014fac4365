# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The run marker: one rotation run writes to a client at a time.

PRIVATE to the keyops.auth0 collection: names and behaviour may change without notice.
Pure: no call, no file. Auth0 has no lock and no compare-and-set on clients, so a run that is about
to change a client first writes a marker into the client's ``client_metadata`` (key ``KEY``; Auth0
merges client_metadata on PATCH at the top level and deletes a key sent as null, so the marker
never disturbs other metadata), reads it back before its first credential write, and removes it in
the PATCH that retires the old credential (or on its own when the run ends otherwise). A run that
finds another run's marker is refused before any change.

client_metadata values are strings of at most 255 characters, and a client has at most 10 of them:
the marker is a short JSON text.
"""

from __future__ import annotations

import datetime
import json

from ansible_collections.keyops.auth0.plugins.module_utils._credentials import parse_datetime

KEY = 'keyops_rotation'
#: client_metadata key of an overlap window under way: "KID UNTIL" (the new key, the end of its window by Auth0's
#: clock), written by the run that made the key current, so that later runs wait as long (credential_rotation_overlap).
WINDOW_KEY = 'keyops_overlap_until'
#: A marker older than this is stale: a run may take it over with credential_rotation_take_over_stale_marker.
STALE_AFTER_MINUTES = 120
MAX_VALUE = 255
MAX_PROPERTIES = 10


def make(run_id, started, host, pid):
    """The marker text of one run (at most 255 characters)."""
    # Auth0 counts characters: no ASCII escapes (a long non-ASCII host name would pass 255 once escaped)
    return json.dumps({'run': run_id, 'started': started, 'host': short_host(host), 'pid': int(pid)},
                      sort_keys=True, separators=(',', ':'), ensure_ascii=False)


def short_host(host):
    """The controller's host name as a marker holds it (at most 64 characters)."""
    return str(host or '')[:64]


def parse(value):
    """The marker as a dict (run, started, host, pid), {} when absent, {'unreadable': text} when not ours to read."""
    if value in (None, ''):
        return {}
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return {'unreadable': str(value)[:80]}
    if not isinstance(data, dict) or not data.get('run'):
        return {'unreadable': str(value)[:80]}
    return data


def of_client(client):
    """The marker text on a client as the Management API returned it (None when there is none)."""
    metadata = (client or {}).get('client_metadata')
    return metadata.get(KEY) if isinstance(metadata, dict) else None


def _minutes(value):
    value = max(1, int(value))
    return '1 minute' if value == 1 else '%d minutes' % value


def _age_minutes(started, now):
    try:
        moment = datetime.datetime.strptime(started, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None
    return (now - moment).total_seconds() / 60.0


def decide(value, run_id, now, this_host, alive, take_over=False, stale_after=STALE_AFTER_MINUTES):
    """What a run may do about the marker it found on a client.

    ``value``: the marker text (or None); ``run_id``: this run's id; ``now``: an aware datetime;
    ``this_host``: the controller's host name; ``alive(pid)``: whether a process of this controller
    runs with that pid. Returns ``(verdict, sentence)``: verdict ``free`` (no marker), ``ours``,
    ``dead`` (left by a run of this controller whose process is gone: taken over), ``taken_over``
    (stale, and take_over is set) or ``held`` (refused; the sentence says by whom, since when and
    what to do).
    """
    marker = parse(value)
    if not marker:
        return 'free', None
    if marker.get('run') == run_id:
        return 'ours', None
    if 'unreadable' in marker:
        who = 'an unreadable marker (%r)' % marker['unreadable']
        age = None
    else:
        who = 'another rotation run (started %s on %s, process %s)' % (marker.get('started'), marker.get('host'),
                                                                       marker.get('pid'))
        age = _age_minutes(marker.get('started'), now)
        if marker.get('host') == short_host(this_host) and isinstance(marker.get('pid'), int) and not alive(marker['pid']):
            return 'dead', ('the marker of an earlier run of this controller (started %s, process %s) was left by a run '
                            'that ended without removing it (killed); taken over' % (marker.get('started'), marker['pid']))
    stale = age is None or age >= stale_after
    if stale and take_over:
        return 'taken_over', '%s was %s; taken over (credential_rotation_take_over_stale_marker)' % (
            who, 'older than %d minutes' % stale_after if age is not None else 'unreadable')
    advice = ('If that run is gone (killed, or its job pod deleted), run again with '
              'credential_rotation_take_over_stale_marker: true%s, or remove the key %s from the client\'s '
              'client_metadata.' % (' once the marker is %d minutes old (%s)' % (stale_after, 'now' if stale else
                                                                                 'in %s' % _minutes(stale_after - age))
                                    if age is not None else '', KEY))
    return 'held', ('%s is writing to this client (marker %s in its client_metadata); two runs at once would undo each '
                    'other\'s changes, so this run changes nothing for it. %s' % (who, KEY, advice))


def room_error(client):
    """Why the marker cannot be added to a client (its client_metadata is full), or None."""
    metadata = (client or {}).get('client_metadata')
    if isinstance(metadata, dict) and KEY not in metadata and len(metadata) >= MAX_PROPERTIES:
        return ('the client already has %d client_metadata properties, the most Auth0 allows, so the run marker (%s) '
                'cannot be added; remove one of them' % (len(metadata), KEY))
    return None


def window_of(client, kid=None):
    """The end of the overlap window recorded on a client (for ``kid`` when given), an aware datetime, or None."""
    metadata = (client or {}).get('client_metadata')
    value = metadata.get(WINDOW_KEY) if isinstance(metadata, dict) else None
    if not isinstance(value, str) or ' ' not in value:
        return None
    recorded, until = value.split(' ', 1)
    if kid is not None and recorded != kid:
        return None
    try:
        return parse_datetime(until)
    except ValueError:
        return None


def window_value(kid, until):
    return '%s %s' % (kid, until.strftime('%Y-%m-%dT%H:%M:%SZ'))


def window_room(client):
    """Whether the window key can be written (present already, or a free client_metadata property)."""
    metadata = (client or {}).get('client_metadata')
    return not isinstance(metadata, dict) or WINDOW_KEY in metadata or len(metadata) < MAX_PROPERTIES
