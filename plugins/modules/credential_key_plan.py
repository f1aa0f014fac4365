#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: credential_key_plan
short_description: Decide what the rotation of one Auth0 client's key must do, from the state in Auth0 and on the hosts
version_added: 1.0.0
description:
  - The decision step of the C(keyops.auth0.credential_rotation) role, as a module so that it can be tested
    alone. It makes no call and changes nothing; it only compares what
    M(keyops.auth0.auth0_client_credential_info) returned for the client with what
    M(keyops.auth0.credential_key_file) read on each host that uses the client.
  - It tells whether to rotate and why, whether a rotation that an earlier run left half done must be
    finished (a key staged or promoted on every host), which credentials must be deleted first to stay
    within Auth0's caps (2 enabled, 4 in all), which ones to retire once every host uses the new key,
    and which ones belong to someone else and are only reported.
  - A credential is deleted only when no host holds its key and either its kid is the kid of a key these
    hosts used before (a backup, or C(previous_kid) in their metadata file) or its name starts with
    O(name_prefix), the mark of the credentials the role creates. Everything else is left alone.
author:
  - keyops.auth0 contributors (@keyops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module changes nothing, so it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
  idempotent:
    description: When run twice with the same arguments, the second run returns the same result and reports no change.
    support: full
options:
  client:
    description:
      - One element of RV(keyops.auth0.auth0_client_credential_info#module:clients).
    type: dict
    required: true
  hosts:
    description:
      - For each host that uses the client and could be read, its name and what M(keyops.auth0.credential_key_file)
        returned for it (C(key), C(staged), C(backups) and C(metadata) are used).
    type: dict
    required: true
  failed_hosts:
    description:
      - Hosts that use the client but could not be read. When there is one, the plan is V(blocked).
    type: list
    elements: str
    default: []
  outside_batch:
    description:
      - Hosts that use the client but are not in the current batch of the play (the play keyword C(serial) split
        them). When there is one, the plan is V(blocked), since every host of a client must take part in the same run.
    type: list
    elements: str
    default: []
  credential_name:
    description: The name the new credential will get; it must start with O(name_prefix).
    type: str
  force:
    description: Rotate even when no other trigger applies.
    type: bool
    default: false
  rotate_before_days:
    description: Rotate when the credential the hosts use expires within this many days.
    type: int
    default: 30
  max_age_days:
    description: Rotate when the credential the hosts use was created this many days ago or more. C(0) disables the check.
    type: int
    default: 0
  name_prefix:
    description: The name prefix of the credentials the role creates.
    type: str
    default: keyops-rotation
  allow_secret_switch:
    description: Whether a client that authenticates with a client secret may be switched to Private Key JWT.
    type: bool
    default: false
  retire:
    description: Whether credentials of earlier keys are retired. When false, remaining ones do not make the plan V(finish).
    type: bool
    default: true
  keep_backups:
    description:
      - How many key backups each host keeps. When a host has more (a run stopped before it pruned them), the plan
        is V(finish). A negative value ignores backups.
    type: int
    default: -1
  now:
    description: The current time (ISO 8601), for tests. Defaults to the clock of the controller.
    type: str
'''

EXAMPLES = r'''
- name: Decide what to do for the client
  keyops.auth0.credential_key_plan:
    client: "{{ client_info.clients[0] }}"
    hosts:
      web1: "{{ key_state }}"
    rotate_before_days: 30
  delegate_to: localhost
  register: plan
'''

RETURN = r'''
action:
  description:
    - V(rotate) to create a new key, V(resume) to finish a rotation whose key is already staged or live on every
      host, V(finish) when every host uses an enabled key but credentials of earlier keys remain to be retired,
      V(none) when there is nothing to do, V(blocked) when nothing may be done (see RV(errors)).
  returned: always
  type: str
  sample: rotate
reasons:
  description: Why, in words.
  returned: always
  type: list
  elements: str
  sample: ["the credential hosts use (cred_1234567890123456789012) expires in 12 days (limit 30)"]
errors:
  description: Why the rotation cannot go on; nothing was changed. Empty unless RV(action) is V(blocked).
  returned: always
  type: list
  elements: str
  sample: []
target_kid:
  description: The kid every host must end up with (null when a new key has to be created).
  returned: always
  type: str
target_credential:
  description: The credential of RV(target_kid) when it already exists in Auth0, else null.
  returned: always
  type: dict
current_kids:
  description: The kids of the keys the hosts use now (live keys), without duplicates.
  returned: always
  type: list
  elements: str
current_credentials:
  description: The credentials of the keys the hosts use now.
  returned: always
  type: list
  elements: dict
free:
  description: Credentials no host uses that must be deleted before the new one is created and enabled.
  returned: always
  type: list
  elements: dict
retire:
  description: Credentials to detach and delete once every host uses the new key (includes RV(free)).
  returned: always
  type: list
  elements: dict
foreign:
  description: Credentials of the client that no host holds and that the role did not create; reported, never changed.
  returned: always
  type: list
  elements: dict
secret_switch:
  description: Whether enabling the new key switches the client from its client secret to Private Key JWT.
  returned: always
  type: bool
hosts:
  description: Per host, its live kid, staged kid and previous kid.
  returned: always
  type: list
  elements: dict
'''

import datetime

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyops.auth0.plugins.module_utils._credentials import parse_datetime

METHOD = 'private_key_jwt'
OTHER_METHODS = ('tls_client_auth', 'self_signed_tls_client_auth')
MAX_ENABLED = 2
MAX_CREDENTIALS = 4


def view(credential, reason=None):
    out = {k: credential.get(k) for k in ('id', 'name', 'kid', 'alg', 'enabled', 'method', 'created_at', 'expires_at')}
    if reason:
        out['reason'] = reason
    return out


def _kid(part):
    return (part or {}).get('kid') if isinstance(part, dict) else None


def host_view(name, host, failed=False):
    backups = [b.get('kid') for b in host.get('backups') or [] if b.get('kid')]
    previous = set(backups)
    metadata = host.get('metadata') or {}
    if isinstance(metadata, dict) and metadata.get('previous_kid'):
        previous.add(metadata['previous_kid'])
    return {'host': name, 'failed': failed, 'live': _kid(host.get('key')),
            'staged': _kid(host.get('staged')), 'previous': sorted(previous),
            'previous_kid': backups[0] if backups else metadata.get('previous_kid') if isinstance(metadata, dict) else None}


def find_resume(hosts):
    """A kid that every host holds, live or staged, and that some host has not promoted yet."""
    for kid in sorted(set(h['staged'] for h in hosts if h['staged'])):
        if all(kid in (h['live'], h['staged']) for h in hosts) and any(h['live'] != kid for h in hosts):
            return kid
    return None


def age_days(value, now):
    try:
        return (now - parse_datetime(value)).total_seconds() / 86400.0
    except (TypeError, ValueError):
        return None


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
        days = credential.get('days_until_expiry')
        if days is not None and days <= params['rotate_before_days']:
            reasons.append('the credential %s expires in %s days (rotate_before_days %d)'
                           % (credential['id'], days, params['rotate_before_days']))
        age = age_days(credential.get('created_at'), now)
        if params['max_age_days'] > 0 and age is not None and age >= params['max_age_days']:
            reasons.append('the credential %s is %d days old (max_age_days %d)' % (credential['id'], int(age), params['max_age_days']))
    return reasons


def plan(params, now):
    client = params['client'] or {}
    credentials = [c for c in client.get('credentials') or [] if isinstance(c, dict)]
    hosts = [host_view(name, params['hosts'][name] or {}) for name in sorted(params['hosts'])]
    hosts += [host_view(name, {}, failed=True) for name in params['failed_hosts'] if name not in params['hosts']]
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

    failed = [h['host'] for h in hosts if h['failed']]
    if failed:
        errors.append('hosts %s of the client could not be read; every host that uses a client must take part'
                      % ', '.join(failed))
    if not hosts:
        errors.append('no host uses the client')
    if params['outside_batch']:
        errors.append('hosts %s use the client but are not in this batch of the play: do not split the hosts of a client '
                      'with the play keyword serial; use credential_rotation_serial to promote the key a few hosts at a '
                      'time' % ', '.join(params['outside_batch']))
    if params['credential_name'] is not None and not params['credential_name'].startswith(params['name_prefix']):
        errors.append('the credential name %r does not start with the name prefix %r, the mark by which the role '
                      'recognises the credentials it created' % (params['credential_name'], params['name_prefix']))
    if method in OTHER_METHODS:
        errors.append('the client authenticates with %s; this role only rotates %s keys' % (method, METHOD))

    target = find_resume(hosts)
    if target:
        result['action'] = 'resume'
        result['reasons'].append('a rotation to the key %s is in progress (live on %d of %d hosts, staged on the others)'
                                 % (target, sum(1 for h in hosts if h['live'] == target), len(hosts)))
    else:
        result['reasons'] = triggers(params, hosts, current, enabled_kids, now)
        if result['reasons']:
            result['action'] = 'rotate'
        elif len(result['current_kids']) == 1:
            target = result['current_kids'][0]
    result['target_kid'] = target
    target_credential = by_kid.get(target) if target else None
    result['target_credential'] = view(target_credential) if target_credential else None

    held = set(h['live'] for h in hosts if h['live']) | set(h['staged'] for h in hosts if h['staged'])
    previous = set(k for h in hosts for k in h['previous'])
    prefix = params['name_prefix']
    candidates = []
    for credential in credentials:
        kid, ident = credential.get('kid'), credential.get('id')
        if target_credential is not None and ident == target_credential.get('id'):
            continue
        ours_before = kid in previous or kid in result['current_kids']
        created_here = bool(prefix) and str(credential.get('name') or '').startswith(prefix)
        other_method = credential.get('enabled') and credential.get('method') not in (None, METHOD)
        if other_method or not (ours_before or created_here):
            if kid not in held:
                result['foreign'].append(view(credential, 'not created by this role and not a previous key of these hosts'
                                              if not other_method else 'enabled for %s' % credential.get('method')))
            continue
        reason = 'previous key of these hosts' if ours_before else 'created by this role (name starts with %s)' % prefix
        result['retire'].append(view(credential, reason))
        if kid not in held:
            candidates.append(credential)

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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            client=dict(type='dict', required=True),
            hosts=dict(type='dict', required=True),
            failed_hosts=dict(type='list', elements='str', default=[]),
            outside_batch=dict(type='list', elements='str', default=[]),
            credential_name=dict(type='str'),
            force=dict(type='bool', default=False),
            rotate_before_days=dict(type='int', default=30),
            max_age_days=dict(type='int', default=0),
            name_prefix=dict(type='str', default='keyops-rotation'),
            allow_secret_switch=dict(type='bool', default=False),
            keep_backups=dict(type='int', default=-1),
            retire=dict(type='bool', default=True),
            now=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    try:
        now = parse_datetime(module.params['now']) if module.params['now'] else datetime.datetime.now(datetime.timezone.utc)
    except ValueError as error:
        module.fail_json(msg='now: %s' % error)
    module.exit_json(changed=False, **plan(module.params, now))


if __name__ == '__main__':
    main()
