# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet decisions of a rotation run: which hosts use which client, whether a client may be rotated
by this play, the promotion batches, and the run's summary.

PRIVATE to the keyops.auth0 collection: names and behaviour may change without notice.
Pure: no call, no file, no Ansible object. The credential_rotation action plugin feeds it what the
inventory, the play and the hosts' key files say, and acts on what it returns.
"""

from __future__ import annotations

#: Settings that are decided once per client: every host of a client must agree on them.
CLIENT_SETTINGS = ('key_size', 'alg', 'expires_in_days', 'name_prefix', 'force', 'rotate_before_days', 'max_age_days',
                   'allow_secret_switch', 'retire', 'keep_backups', 'verify_audience', 'serial', 'allow_partial',
                   'verify_host_token', 'take_over_stale_marker', 'stale_marker_minutes', 'overlap',
                   'consumer_checks')


def _names(hosts):
    return ', '.join(hosts)


def _hosts(hosts, one, many):
    """'Host h1 <one>' or 'Hosts h1, h2 <many>'."""
    return ('Host %s %s' % (hosts[0], one)) if len(hosts) == 1 else ('Hosts %s %s' % (_names(hosts), many))


def serial_error(play_hosts_all, play_batch):
    """The refusal when the play keyword serial splits the play into batches, else None."""
    outside = [h for h in play_hosts_all if h not in set(play_batch)]
    if not outside:
        return None
    return ('The play runs in batches (the play keyword serial): hosts %s are not in this batch. The rotation decides '
            'for every host of a client at once, so nothing was changed. Remove serial from the play and set '
            'credential_rotation_serial to promote the new key a few hosts of each client at a time.' % _names(outside))


def play_order(hosts, order):
    """The hosts in the order the play starts them (the play keyword order); None for shuffle (unknowable)."""
    order = order or 'inventory'
    if order == 'inventory':
        return list(hosts)
    if order == 'sorted':
        return sorted(hosts)
    if order == 'reverse_sorted':
        return sorted(hosts, reverse=True)
    if order == 'reverse_inventory':
        return list(reversed(hosts))
    return None


def client_id(value):
    """A client id as the inventory gives it, without surrounding whitespace (no Auth0 client id has any); None
    when unset or empty. "A " and "A" are one client: as two, the rotation of "A" would retire the key of the
    host that wrote "A "."""
    text = str(value).strip() if value is not None else ''
    return text or None


def host_client(host, reads, inventory_clients):
    """The client a host of the play uses: as its own task saw it, else as the inventory says."""
    settings = (reads.get(host) or {}).get('settings') or {}
    return client_id(settings.get('client_id')) or client_id(inventory_clients.get(host))


def group(inventory, inventory_clients, play_hosts_all, play_hosts, reads, unreadable=None):
    """The clients of the play with their hosts and the reasons a client cannot be rotated.

    ``inventory``: every inventory host, in inventory order; ``inventory_clients``: the client id each
    inventory host has in the inventory (host and group variables, extra variables), None when unset;
    ``play_hosts_all``: the hosts of the play (play order); ``play_hosts``: those still in it (not
    failed, not unreachable); ``reads``: each host's result of the key-file read step, with the
    ``settings`` it was given (``failed`` and ``msg`` when it failed).

    Returns ``{client_id: entry}`` in play order; entry: ``hosts`` (the hosts of the play that use it,
    play order), ``alive`` (those that can take part), ``failed`` ({host: reason}), ``outside`` (hosts
    of the inventory that use it but are not in the play), ``not_in_inventory`` (hosts of the play whose
    client id does not come from the inventory), ``settings`` (of its first alive host), ``errors``.
    ``unreadable``: hosts outside the play whose client id could not be read ({host: reason}): they may
    use any client, so every client is refused unless it allows a partial run.
    """
    alive_set = set(play_hosts)
    play_set = set(play_hosts_all)
    inventory_clients = dict((host, client_id(value)) for host, value in inventory_clients.items())
    clients = {}
    for host in play_hosts_all:
        client = host_client(host, reads, inventory_clients)
        if not client:
            continue
        entry = clients.setdefault(client, {'client_id': client, 'hosts': [], 'alive': [], 'failed': {}, 'outside': [],
                                            'not_in_inventory': [], 'settings': {}, 'errors': []})
        entry['hosts'].append(host)
        read = reads.get(host) or {}
        if host not in alive_set or read.get('failed') or read.get('unreachable'):
            entry['failed'][host] = host_failure(host, read)
        else:
            entry['alive'].append(host)
        if inventory_clients.get(host) != client:
            entry['not_in_inventory'].append(host)
    for host in inventory:
        client = inventory_clients.get(host)
        if client in clients and host not in play_set:
            clients[client]['outside'].append(host)
    whole_inventory = not (set(inventory) - play_set)
    unreadable = dict((h, r) for h, r in (unreadable or {}).items() if h not in play_set)
    for entry in clients.values():
        if entry['alive']:
            entry['settings'] = dict((reads.get(entry['alive'][0]) or {}).get('settings') or {})
        entry['errors'] = (membership_errors(entry, whole_inventory) + unreadable_errors(entry, unreadable)
                           + disagreement_errors(entry, reads) + metadata_errors(entry, reads))
    return clients


def unreadable_errors(entry, unreadable):
    """Hosts outside the play whose client is unknown may hold this client's key: refuse (unless partial)."""
    if not unreadable or entry['settings'].get('allow_partial'):
        return []
    hosts = sorted(unreadable)
    return ['%s not in this play and %s credential_rotation_client_id cannot be read (%s), so %s may use client %s. '
            'Include %s in the play or fix %s variables, or set credential_rotation_allow_partial: true to rotate only '
            'the hosts of the play and retire nothing.' % (
                _hosts(hosts, 'is', 'are'), 'its' if len(hosts) == 1 else 'their',
                '; '.join('%s: %s' % (h, unreadable[h]) for h in hosts), 'it' if len(hosts) == 1 else 'they',
                entry['client_id'], 'it' if len(hosts) == 1 else 'them', 'its' if len(hosts) == 1 else 'their')]


def metadata_errors(entry, reads):
    """Hosts whose metadata file says their key belongs to another client (a wrong client id)."""
    wrong = []
    for host in entry['alive']:
        metadata = (((reads.get(host) or {}).get('files') or {}).get('metadata'))
        if isinstance(metadata, dict) and metadata.get('client_id') and metadata['client_id'] != entry['client_id']:
            wrong.append('%s (%s)' % (host, metadata['client_id']))
    if not wrong:
        return []
    return ['The metadata files of hosts %s say their keys belong to another client, not %s: their '
            'credential_rotation_client_id is wrong (an extra variable, or a group of another client), or the files '
            'are stale. Correct the client id, or remove the metadata file if the key really is of client %s.'
            % (', '.join(wrong), entry['client_id'], entry['client_id'])]


def host_failure(host, read):
    """Why a host of the play cannot take part, in one sentence."""
    if read.get('unreachable'):
        return 'unreachable: %s' % (read.get('msg') or 'no connection')
    if read.get('failed') and read.get('invalid'):
        return read.get('msg')
    if read.get('failed'):
        return 'its key files could not be read: %s' % (read.get('msg') or 'unknown error')
    return 'it failed earlier in the play'


def membership_errors(entry, whole_inventory):
    """Why a client may not be rotated by this play (hosts missing from it), as sentences."""
    allow_partial = bool(entry['settings'].get('allow_partial'))
    errors = []
    if entry['not_in_inventory'] and not whole_inventory:
        errors.append('The client id of %s does not come from the inventory (it is set as a play variable or a role '
                      'parameter), so the inventory hosts outside this play that may use client %s cannot be known. '
                      'Set credential_rotation_client_id in host or group variables, or run the play on every '
                      'inventory host.' % (_names(entry['not_in_inventory']), entry['client_id']))
    if allow_partial:
        return errors
    if entry['outside']:
        errors.append('%s client %s (credential_rotation_client_id in the inventory or an extra variable) but %s in '
                      'this play (--limit or the play\'s host pattern); rotating without %s would retire the key %s '
                      'still %s. Include %s in the play, or set credential_rotation_allow_partial: true to rotate only '
                      'the hosts of the play and retire nothing.' % (
                          _hosts(entry['outside'], 'uses', 'use'), entry['client_id'],
                          'is not' if len(entry['outside']) == 1 else 'are not',
                          'it' if len(entry['outside']) == 1 else 'them', 'it' if len(entry['outside']) == 1 else 'they',
                          'uses' if len(entry['outside']) == 1 else 'use', 'it' if len(entry['outside']) == 1 else 'them'))
    if entry['failed']:
        failed = sorted(entry['failed'])
        errors.append('%s of client %s cannot take part (%s). Repair %s and run again, or set '
                      'credential_rotation_allow_partial: true to rotate the other hosts and retire nothing.'
                      % (_hosts(failed, '', '').replace(' ' * 2, ' ').rstrip(), entry['client_id'],
                         '; '.join('%s: %s' % (h, r) for h, r in sorted(entry['failed'].items())),
                         'it' if len(failed) == 1 else 'them'))
    return errors


def disagreement_errors(entry, reads):
    """Settings decided once per client on which its hosts disagree, as one sentence (or none)."""
    differing = []
    for name in CLIENT_SETTINGS:
        values = {}
        for host in entry['alive']:
            value = ((reads.get(host) or {}).get('settings') or {}).get(name)
            values.setdefault(repr(value), []).append(host)
        if len(values) > 1:
            differing.append('credential_rotation_%s (%s)' % (name, '; '.join(
                '%s on %s' % (value, _names(hosts)) for value, hosts in values.items())))
    if not differing:
        return []
    return ['The hosts of client %s disagree on %s. These settings apply to the whole client: set them once for '
            'all its hosts (for example in the group variables of the client).' % (entry['client_id'], ', '.join(differing))]


def read_back_content(registered, client_id):
    """The base64 content of the key read back for ``client_id`` by the role's read-back loop, or None.

    ``registered`` is that loop's registered result (one item per resumed client: client_id, host, path).
    """
    for item in (registered or {}).get('results') or []:
        if isinstance(item, dict) and (item.get('item') or {}).get('client_id') == client_id and item.get('content'):
            return item['content']
    return None


def is_partial(entry):
    """The client is rotated without some of its hosts (credential_rotation_allow_partial)."""
    return bool(entry['outside'] or entry['failed'])


def batches(hosts, serial):
    """{host: batch number} for the hosts of one client in play order, ``serial`` hosts a batch (0: one batch)."""
    serial = int(serial or 0)
    return dict((host, index // serial if serial > 0 else 0) for index, host in enumerate(hosts))


def partial_plan(plan):
    """Restrict a client's plan for a partial run: retire nothing, free only credentials no key can use."""
    plan = dict(plan)
    plan['retire'] = []
    kept = [c for c in plan.get('free') or [] if c.get('enabled')]
    plan['free'] = [c for c in plan.get('free') or [] if not c.get('enabled')]
    if kept and plan.get('action') in ('rotate', 'resume'):
        plan['action'] = 'blocked'
        plan['errors'] = list(plan.get('errors') or []) + [
            'Making room within Auth0\'s caps would delete enabled credentials (%s), which hosts outside this play may '
            'use; a partial run never does that. Run on every host of the client.' % ', '.join(c['id'] for c in kept)]
    if plan.get('action') == 'finish':
        plan['action'] = 'none'
        plan['reasons'] = list(plan.get('reasons') or []) + [
            'Nothing is retired in a partial run: hosts outside this play may still use the older keys.']
    return plan


def off_target(hosts, files, target_kid, mode):
    """Hosts whose own key file (its kid computed on the host) is not the target key at the asked mode (a key in a
    store, whose view carries ``store``, has no mode),
    or that still hold the target key staged (not promoted); ``files`` maps host to what the host reported
    after the switch. A staged file of another key (left by a run that lost the client's marker) is a
    leftover the next run removes, not a reason to keep the old credential."""
    out = []
    for host in hosts:
        final = files.get(host) or {}
        key = final.get('key') or {}
        staged = final.get('staged') or {}
        # a key in a secret store (key 'store') has no file mode
        if key.get('kid') != target_kid or (not key.get('store') and str(key.get('mode')) != str(mode)) or (
                staged.get('exists') and staged.get('kid') in (target_kid, None)):
            out.append(host)
    return out


def leftovers(action, files, target_kid):
    """What a host that stages nothing this run must clean: None, or {'remove_staged', 'kid'}.

    Temporary files of an interrupted write always go; a staged key goes unless it is the key of the
    rotation under way (``target_kid`` of a resume). A refused client's hosts keep everything.
    """
    if action in ('blocked', 'failed'):
        return None
    staged = files.get('staged') or {}
    remove_staged = bool(staged.get('exists')) and not (action == 'resume' and staged.get('kid') == target_kid)
    if not remove_staged and not files.get('leftovers'):
        return None
    return {'remove_staged': remove_staged, 'kid': staged.get('kid') if remove_staged else None}


OUTCOMES = ('rotated', 'resumed', 'finished', 'unchanged', 'refused', 'failed', 'would_rotate', 'would_finish', 'waiting')


def outcome(action, failed_hosts, error, check_mode, retired_done, waiting=False):
    """One word for what happened to a client: see OUTCOMES. ``waiting``: the old credential waits for the end of
    the overlap window (a rotation that did so says rotated or resumed; a run with nothing else to do, waiting)."""
    if action == 'blocked' or (action in ('none', None) and error):
        return 'refused'
    if error or failed_hosts:
        return 'failed'
    if waiting and action in ('none', 'finish'):
        return 'waiting'
    if action in ('rotate', 'resume'):
        if check_mode:
            return 'would_rotate'
        return 'rotated' if action == 'rotate' else 'resumed'
    if action == 'finish':
        return 'would_finish' if check_mode and not retired_done else 'finished'
    return 'unchanged'


def message(summary):
    """The summary of one client as sentences, naming only what happened."""
    client = summary['client_id']
    word = summary['outcome']
    new = (summary.get('new') or {}).get('kid')
    parts = []
    if word == 'refused':
        parts.append('Client %s: nothing was changed.' % client)
    elif word == 'failed':
        parts.append('Client %s: the rotation stopped%s.' % (client, ' at the key %s' % new if new else ''))
    elif word in ('rotated', 'resumed', 'would_rotate'):
        verb = {'rotated': 'rotated to', 'resumed': 'rotation finished on', 'would_rotate': 'would rotate to'}[word]
        parts.append('Client %s: %s the key %s.' % (client, verb, new or 'a new key'))
    elif word == 'waiting':
        parts.append('Client %s: waiting until %s to retire the earlier credential.' % (client, summary.get('waiting_until')))
    elif word in ('finished', 'would_finish'):
        parts.append('Client %s: %s the earlier rotation.' % (client, 'finished' if word == 'finished' else 'would finish'))
    else:
        parts.append('Client %s: no change.' % client)
    for error in summary.get('errors') or []:
        parts.append(error if error.endswith('.') else error + '.')
    said = ' '.join(summary.get('errors') or [])
    for failure in summary.get('hosts_failed') or []:
        if '%s: %s' % (failure['host'], failure['reason']) not in said and failure['reason'] not in said:
            parts.append('Host %s failed: %s.' % (failure['host'], failure['reason'].rstrip('.')))
    if summary.get('hosts_rolled_back'):
        parts.append('%s previous key back.' % _hosts(summary['hosts_rolled_back'], 'got its', 'got their'))
    for host, paths in sorted((summary.get('leftovers_removed') or {}).items()):
        verb = 'Would remove' if summary.get('check_mode') else 'Removed'
        parts.append('%s on %s what an interrupted run left: %s.' % (verb, host, ', '.join(paths)))
    if summary.get('retired'):
        parts.append('Retired %s.' % ', '.join(c['id'] for c in summary['retired']))
    if summary.get('would_retire'):
        parts.append('Would retire %s.' % ', '.join(c['id'] for c in summary['would_retire']))
    if summary.get('not_retired'):
        parts.append(summary['not_retired'])
    if word in ('failed',) and not summary.get('retired') and 'next run resumes' not in ' '.join(parts):
        parts.append('The old credential is kept; the next run resumes.')
    return ' '.join(parts)
