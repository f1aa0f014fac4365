# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The end of the overlap window the rotation engine waits for (ActionModule._window), by Auth0's clock."""

from __future__ import annotations

import datetime

from ansible_collections.keyops.auth0.plugins.action import credential_rotation as rotation
from ansible_collections.keyops.auth0.plugins.module_utils import _marker
from ansible_collections.keyops.auth0.plugins.module_utils._credentials import parse_datetime

CREATED = '2026-06-01T10:00:00.000Z'
HOUR = {'overlap': 3600}


def window(settings, server_now, recorded=None, promoted_now=False, created=CREATED):
    action = rotation.ActionModule.__new__(rotation.ActionModule)
    return action._window(settings, created, 'KID', parse_datetime(server_now), recorded=recorded,  # pylint: disable=protected-access
                          promoted_now=promoted_now)


def test_the_window_runs_from_the_credentials_creation():
    assert window(HOUR, '2026-06-01T10:30:00Z') == (parse_datetime('2026-06-01T11:00:00Z'), None)
    assert window(HOUR, '2026-06-01T11:00:00Z') == (None, None)
    assert window({'overlap': 0}, '2026-06-01T10:30:00Z') == (None, None)


def test_a_rotation_made_current_late_gives_the_whole_window_from_then():
    """A rotation resumed long after its key was registered: the consumers still get an hour."""
    until, dummy = window(HOUR, '2026-06-02T08:00:00Z', promoted_now=True)
    assert until == parse_datetime('2026-06-02T09:00:00Z')


def test_later_runs_wait_for_the_recorded_end():
    recorded = parse_datetime('2026-06-02T09:00:00Z')
    assert window(HOUR, '2026-06-02T08:30:00Z', recorded=recorded)[0] == recorded
    assert window(HOUR, '2026-06-02T09:00:01Z', recorded=recorded) == (None, None)


def test_the_recorded_window_names_its_key():
    client = {'client_metadata': {_marker.WINDOW_KEY: _marker.window_value('KID', datetime.datetime(
        2026, 6, 2, 9, tzinfo=datetime.timezone.utc))}}
    assert _marker.window_of(client, 'KID') == parse_datetime('2026-06-02T09:00:00Z')
    assert _marker.window_of(client, 'OTHER') is None and _marker.window_of({}, 'KID') is None
    assert _marker.window_of({'client_metadata': {_marker.WINDOW_KEY: 'garbage'}}) is None
    full = {'client_metadata': dict(('k%d' % i, 'v') for i in range(_marker.MAX_PROPERTIES))}
    assert not _marker.window_room(full) and _marker.window_room(client)
