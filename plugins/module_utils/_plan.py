# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The decision step of a rotation: what to do for one client, from the state in Auth0 and on its hosts.

PRIVATE to the keyops.auth0 collection: names and behaviour may change without notice.
Pure: no call, no file. The credential_rotation action plugin runs it for each client of the play
in the controller's worker process.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.keyops.auth0.plugins.module_utils._credentials import CREDENTIAL_METHODS, due_reasons, parse_datetime

METHOD = 'private_key_jwt'
OTHER_METHODS = tuple(m for m in CREDENTIAL_METHODS if m != METHOD)
MAX_ENABLED = 2
MAX_CREDENTIALS = 4
_DURATION = re.compile(r'^(\d+(?:\.\d+)?)\s*([smhdw]?)$')
_UNITS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}
#: The longest overlap window: a year (Auth0 credentials rarely live longer, and a date past 9999 cannot be written).
MAX_OVERLAP = 366 * 86400


def overlap_seconds(value):
    """Seconds of an overlap window given as seconds (3600) or with a unit (90s, 30m, 24h, 7d, 2w); 0 for none.
    Raises ValueError for anything else."""
    if value is None or value == '':
        return 0
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value).strip().lower())
        if not match:
            raise ValueError(value)
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0 or seconds > MAX_OVERLAP:
        raise ValueError(value)
    return seconds


def window_end(created_at, overlap):
    """When the overlap window of a credential made at ``created_at`` (as Auth0 reports it) ends, or None when its
    creation time is unknown."""
    try:
        return parse_datetime(created_at) + datetime.timedelta(seconds=overlap)
    except (TypeError, ValueError):
        return None


def view(credential, reason=None):
    out = {k: credential.get(k) for k in ('id', 'name', 'kid', 'alg', 'enabled', 'method', 'created_at', 'expires_at')}
    if reason:
        out['reason'] = reason
    return out


def _kid(part):
    return (part or {}).get('kid') if isinstance(part, dict) else None


def host_view(name, host):
    backups = [b.get('kid') for b in host.get('backups') or [] if b.get('kid')]
    previous = set(backups)
    metadata = host.get('metadata') or {}
    if isinstance(metadata, dict) and metadata.get('previous_kid'):
        previous.add(metadata['previous_kid'])
    return {'host': name, 'live': _kid(host.get('key')),
            'staged': _kid(host.get('staged')), 'previous': sorted(previous),
            'previous_kid': backups[0] if backups else metadata.get('previous_kid') if isinstance(metadata, dict) else None}


def find_resume(hosts):
    """A kid that every host holds, live or staged, and that some host has not promoted yet."""
    for kid in sorted(set(h['staged'] for h in hosts if h['staged'])):
        if all(kid in (h['live'], h['staged']) for h in hosts) and any(h['live'] != kid for h in hosts):
            return kid
    return None


def find_spread(hosts, by_kid, enabled_kids, prefix):
    """The key to bring to every host when the hosts hold different keys and one of them is enabled and was
    made by this role (a partial run, credential_rotation_allow_partial, rotated only some hosts): its kid."""
    live = set(h['live'] for h in hosts if h['live'])
    if len(live) < 2:
        return None
    candidates = [by_kid[k] for k in live if k in enabled_kids and k in by_kid and prefix
                  and str(by_kid[k].get('name') or '').startswith(prefix)]
    if not candidates:
        return None
    return max(candidates, key=lambda c: c.get('created_at') or '').get('kid')


def triggers(params, hosts, current, enabled_kids, now):
    reasons = []
    if params['force']:
        reasons.append('credential_rotation_force is set')
    for host in hosts:
        if not host['live']:
            reasons.append('host %s holds no usable key' % host['host'])
        elif host['live'] not in enabled_kids:
            reasons.append('host %s holds the key %s, which is not enabled for %s' % (host['host'], host['live'], METHOD))
    if len(set(h['live'] for h in hosts)) > 1:
        reasons.append('the hosts hold different keys')
    for credential in current:
        for reason in due_reasons(credential, params['rotate_before_days'], params['max_age_days'], now):
            reasons.append('the credential %s %s' % (credential['id'], reason))
    return reasons


def plan(params, now):
    """The decision for one client at ``now`` (an aware datetime).

    ``params``: ``client`` (as auth0_client_credential_info describes it), ``hosts`` ({host: what
    credential_key_file read there}), ``credential_name``, ``name_prefix``, ``force``,
    ``rotate_before_days``, ``max_age_days``, ``allow_secret_switch``, ``keep_backups`` (-1: none kept
    in mind) and ``retire``. The hosts that may take part were decided before (module_utils/_fleet.py).
    """
    client = params['client'] or {}
    credentials = [c for c in client.get('credentials') or [] if isinstance(c, dict)]
    hosts = [host_view(name, params['hosts'][name] or {}) for name in sorted(params['hosts'])]
    result = {'action': 'none', 'reasons': [], 'errors': [], 'target_kid': None, 'target_credential': None,
              'current_kids': sorted(set(h['live'] for h in hosts if h['live'])), 'current_credentials': [],
              'free': [], 'retire': [], 'foreign': [], 'secret_switch': False, 'hosts': hosts}
    errors = result['errors']
    by_kid = {}
    for credential in credentials:
        if credential.get('kid'):
            by_kid.setdefault(credential['kid'], credential)
    method = client.get('authentication_method')
    enabled = [c for c in credentials if c.get('enabled') and c.get('method') == METHOD]
    enabled_kids = set(c.get('kid') for c in enabled)
    current = [by_kid[k] for k in result['current_kids'] if k in by_kid]
    result['current_credentials'] = [view(c) for c in current]

    if not hosts:
        errors.append('no host uses the client')
    if params['credential_name'] is not None and not params['credential_name'].startswith(params['name_prefix']):
        errors.append('the credential name %r does not start with the name prefix %r, the mark by which the role '
                      'recognises the credentials it created' % (params['credential_name'], params['name_prefix']))
    if method in OTHER_METHODS:
        errors.append('the client authenticates with %s; this role only rotates %s keys' % (method, METHOD))

    target = find_resume(hosts)
    spread = None if target else find_spread(hosts, by_kid, enabled_kids, params['name_prefix'])
    if target:
        result['action'] = 'resume'
        result['reasons'].append('a rotation to the key %s is in progress (live on %d of %d hosts, staged on the others)'
                                 % (target, sum(1 for h in hosts if h['live'] == target), len(hosts)))
    elif spread:
        target = spread
        result['action'] = 'resume'
        result['reasons'].append('the hosts hold different keys; the enabled key %s that hosts %s hold (made by an earlier, '
                                 'partial run) is brought to the others' % (target, ', '.join(
                                     h['host'] for h in hosts if h['live'] == target)))
    else:
        due = triggers(params, hosts, current, enabled_kids, now)
        single = result['current_kids'][0] if len(result['current_kids']) == 1 else None
        # Force finishes first: with every host on one enabled key and credentials of earlier keys still there,
        # an earlier rotation is unfinished; it is finished before a new one starts (a new key now would be a
        # third credential, stacking toward Auth0's caps), whatever credential_rotation_force says.
        unfinished = (single in enabled_kids and all(h['live'] == single for h in hosts) and params['retire']
                      and retirable(credentials, by_kid.get(single), hosts, result['current_kids'], params['name_prefix'])[0])
        if due and not unfinished:
            result['reasons'] = due
            result['action'] = 'rotate'
        elif single:
            target = single
            if due:
                result['reasons'].append('an earlier rotation is unfinished (credentials of earlier keys remain), so it is '
                                         'finished first, whatever credential_rotation_force says; the next run rotates '
                                         '(%s)' % '; '.join(due))
    result['target_kid'] = target
    target_credential = by_kid.get(target) if target else None
    result['target_credential'] = view(target_credential) if target_credential else None

    result['retire'], result['foreign'], candidates = retirable(credentials, target_credential, hosts,
                                                                result['current_kids'], params['name_prefix'])

    crowded = [name for name, host in sorted(params['hosts'].items()) if params['keep_backups'] >= 0
               and len((host or {}).get('backups') or []) > params['keep_backups']]
    if result['action'] in ('rotate', 'resume'):
        if method not in (METHOD,) + OTHER_METHODS:
            result['secret_switch'] = True
            if not params['allow_secret_switch']:
                errors.append('the client authenticates with %s (a client secret); enabling a key switches it to %s, '
                              'and every application that still uses the secret stops working at that moment. Set '
                              'credential_rotation_allow_secret_switch: true to do that.' % (method or 'no method', METHOD))
        result['free'] = choose_free(result, credentials, enabled, candidates, target_credential, errors)
    elif result['action'] == 'none' and target and target in enabled_kids and (result['retire'] and params['retire'] or crowded):
        result['action'] = 'finish'
        if result['retire'] and params['retire']:
            result['reasons'].append('every host uses the enabled key %s; %d credential(s) of earlier keys remain'
                                     % (target, len(result['retire'])))
        if crowded:
            result['reasons'].append('hosts %s keep more than %d backups' % (', '.join(crowded), params['keep_backups']))
    elif result['action'] == 'none':
        result['retire'] = []
        result['reasons'].append('every host uses the enabled key %s, which is neither expiring nor too old'
                                 % (target or ', '.join(result['current_kids'])))
    if errors:
        result['action'] = 'blocked'
    return result


def retirable(credentials, target_credential, hosts, current_kids, prefix):
    """(retire, foreign, candidates): the credentials of earlier keys of these hosts or made by this role (to
    retire once every host holds the target), those of others (reported, never touched), and the retirable
    ones no host holds (which may be freed to make room).

    A credential that the client lists anywhere but in its private_key_jwt list (``used_by``: another credential
    method, or signed_request_object for JWT-secured Authorization Requests) is in use elsewhere: it is
    reported with the others' and never retired or freed, whoever made it and whatever the hosts hold.
    """
    held = set(h['live'] for h in hosts if h['live']) | set(h['staged'] for h in hosts if h['staged'])
    previous = set(k for h in hosts for k in h['previous'])
    retire, foreign, candidates = [], [], []
    for credential in credentials:
        kid, ident = credential.get('kid'), credential.get('id')
        if target_credential is not None and ident == target_credential.get('id'):
            continue
        ours_before = kid in previous or kid in current_kids
        created_here = bool(prefix) and str(credential.get('name') or '').startswith(prefix)
        other_method = credential.get('enabled') and credential.get('method') not in (None, METHOD)
        elsewhere = [u for u in credential.get('used_by') or [] if u != METHOD]
        if other_method and credential.get('method') not in elsewhere:
            elsewhere.insert(0, credential.get('method'))
        if elsewhere or not (ours_before or created_here):
            if elsewhere:
                foreign.append(view(credential, 'in use elsewhere: %s' % ', '.join(
                    'signed_request_object (JWT-secured Authorization Requests)' if u == 'signed_request_object'
                    else 'enabled for %s' % u for u in elsewhere)))
            elif kid not in held:
                foreign.append(view(credential, 'not created by this role and not a previous key of these hosts'))
            continue
        reason = 'previous key of these hosts' if ours_before else 'created by this role (name starts with %s)' % prefix
        retire.append(view(credential, reason))
        if kid not in held:
            candidates.append(credential)
    return retire, foreign, candidates


def choose_free(result, credentials, enabled, candidates, target_credential, errors):
    """Credentials to delete first so that the new one can be created and enabled."""
    need_record = target_credential is None
    need_enable = target_credential is None or not target_credential.get('enabled')
    order = sorted(candidates, key=lambda c: (bool(c.get('enabled')), c.get('created_at') or ''))
    free = []
    total, active = len(credentials), len(enabled)
    for credential in order:
        record_full = need_record and total >= MAX_CREDENTIALS
        enabled_full = need_enable and active >= MAX_ENABLED
        if not record_full and not enabled_full:
            break
        if enabled_full and not record_full and not credential.get('enabled'):
            continue
        free.append(view(credential, 'no host uses it and the caps leave no room'))
        total -= 1
        active -= 1 if credential in enabled else 0
    if need_record and total >= MAX_CREDENTIALS or need_enable and active >= MAX_ENABLED:
        errors.append('the client has %d credentials (%d enabled; Auth0 allows %d and %d) and none that may be freed: '
                      'the others are used by the hosts or not made by this role (%s). Delete or detach one of them first.'
                      % (len(credentials), len(enabled), MAX_CREDENTIALS, MAX_ENABLED,
                         ', '.join('%s %s' % (c['id'], c.get('name')) for c in result['foreign']) or 'none'))
        return []
    return free
