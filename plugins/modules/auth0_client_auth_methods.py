#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: auth0_client_auth_methods
short_description: Choose which credentials an Auth0 application authenticates with
version_added: 1.0.0
description:
  - Sets the list of credentials enabled for Private Key JWT (or mTLS) authentication of an Auth0 application
    (its C(client_authentication_methods)), or switches the application back to a client secret.
  - Auth0 allows at most two credentials per list. With O(state=exact) a rotation swaps a key in one call,
    so the cap is never hit half-way.
  - References are resolved against the credentials of the client before anything is written, and every
    limit is checked before any call when it can be, else before any write.
  - A run reads the client and its credentials (two calls) and writes only when something changes (one
    call).
author:
  - keyops.auth0 contributors (@keyops)
extends_documentation_fragment:
  - keyops.auth0.auth0
  - keyops.auth0.auth0.attributes
  - keyops.auth0.auth0.actiongroup_auth0
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  client_id:
    description:
      - Client ID of the application.
    type: str
    required: true
  method:
    description:
      - The authentication method whose list of credentials is managed.
    type: str
    choices: [private_key_jwt, tls_client_auth, self_signed_tls_client_auth]
    default: private_key_jwt
  credentials:
    description:
      - Credentials of the client, each a string or a dictionary.
      - A string is matched as a credential id, else as a kid, else as a name; a name that several
        credentials share is an error.
      - A dictionary names exactly one of C(id), C(kid) or C(name).
      - With O(state=exact) or O(state=present), a reference that matches no credential is an error. With
        O(state=absent), it is skipped, so that a run after the credential was deleted is unchanged.
      - Mutually exclusive with O(token_endpoint_auth_method).
    type: list
    elements: raw
  state:
    description:
      - V(exact) makes the list of O(method) exactly O(credentials).
      - V(present) adds O(credentials) to the list and keeps the others.
      - V(absent) removes O(credentials) from the list and keeps the others.
      - Order does not matter; a list with the same credentials in another order is unchanged.
    type: str
    choices: [exact, present, absent]
    default: present
  allow_empty:
    description:
      - Allow leaving the list of O(method) empty. The client then has no usable key, so by default such a
        change is refused.
    type: bool
    default: false
  allow_secret_switch:
    description:
      - Allow switching a client that currently authenticates with a client secret (its
        C(token_endpoint_auth_method) is set), or with another of the credential methods, to O(method).
      - Without it such a switch fails, because applications that still use the secret stop working.
      - The switch is one PATCH that also sets C(token_endpoint_auth_method) to V(null), as Auth0 requires.
    type: bool
    default: false
  token_endpoint_auth_method:
    description:
      - Switch the client back to a client secret, sent this way. This disables every credential method
        (C(client_authentication_methods) becomes V(null)); the credentials themselves are kept.
      - Mutually exclusive with O(credentials); O(method) and O(state) are not used.
    type: str
    choices: [client_secret_post, client_secret_basic]
seealso:
  - module: keyops.auth0.auth0_client_credential
  - module: keyops.auth0.auth0_client_credential_info
"""

EXAMPLES = r"""
- name: Rotate in one call - enable the new key next to the current one
  keyops.auth0.auth0_client_auth_methods:
    auth0_domain: acme.eu.auth0.com
    client_id: "{{ app_client_id }}"
    credentials:
      - "{{ old_kid }}"
      - kid: "{{ new_kid }}"
    state: exact

- name: Retire the old key once every instance uses the new one
  keyops.auth0.auth0_client_auth_methods:
    auth0_domain: acme.eu.auth0.com
    client_id: "{{ app_client_id }}"
    credentials:
      - id: "{{ old_credential_id }}"
    state: absent

- name: Move a client that used a secret to Private Key JWT
  keyops.auth0.auth0_client_auth_methods:
    auth0_domain: acme.eu.auth0.com
    client_id: "{{ app_client_id }}"
    credentials: ["{{ new_kid }}"]
    state: exact
    allow_secret_switch: true

- name: Go back to the client secret
  keyops.auth0.auth0_client_auth_methods:
    auth0_domain: acme.eu.auth0.com
    client_id: "{{ app_client_id }}"
    token_endpoint_auth_method: client_secret_post
"""

RETURN = r"""
client:
  description:
    - The client and its credentials after the run (in check mode, as they would be), in the form of an element
      of RV(keyops.auth0.auth0_client_credential_info#module:clients).
  returned: always
  type: dict
  contains:
    client_id:
      description: Client ID.
      type: str
      sample: 8Nm2nVPbWBRq2XcBpL0x4TqgC4mR7gVt
    name:
      description: Name of the application.
      type: str
      sample: billing
    authentication_method:
      description: How the application authenticates.
      type: str
      sample: private_key_jwt
    credentials:
      description:
        - The credentials of the application, without PEM, each with C(enabled), C(method), C(in_use), C(used_by)
          and C(days_until_expiry) as in RV(keyops.auth0.auth0_client_credential_info#module:clients[].credentials).
        - C(used_by) lists every client field that lists the credential (the credential methods, and
          C(signed_request_object) for JWT-secured Authorization Requests); C(in_use) is whether one does. A
          credential removed from the enabled list that C(signed_request_object) lists is still in use.
      type: list
      elements: dict
      sample:
        - {id: cred_1m7sfABoNTTKYwTQ8qt6tX, name: billing-2026-07, kid: MvgWaC6Z_8cDHQCyMK7CXlRti2I5gpYQNkFeRl-7YJo,
           alg: RS256, credential_type: public_key, created_at: "2026-07-01T09:00:00.000Z",
           updated_at: "2026-07-01T09:00:00.000Z", expires_at: null, enabled: true, method: private_key_jwt,
           in_use: true, used_by: [private_key_jwt], days_until_expiry: null}
method:
  description: The authentication method after the run (O(method), or O(token_endpoint_auth_method)).
  returned: always
  type: str
  sample: private_key_jwt
before:
  description: The credentials enabled for RV(method) before the run.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Credential ID.
      type: str
      sample: cred_1m7sfABoNTTKYwTQ8qt6tX
    kid:
      description: Key ID.
      type: str
      sample: MvgWaC6Z_8cDHQCyMK7CXlRti2I5gpYQNkFeRl-7YJo
    name:
      description: Name.
      type: str
      sample: billing-2026-07
after:
  description: The credentials enabled for RV(method) after the run (in check mode, as they would be).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Credential ID.
      type: str
      sample: cred_1m7sfABoNTTKYwTQ8qt6tX
    kid:
      description: Key ID.
      type: str
      sample: MvgWaC6Z_8cDHQCyMK7CXlRti2I5gpYQNkFeRl-7YJo
    name:
      description: Name.
      type: str
      sample: billing-2026-07
diff:
  description: The authentication method and its credentials before and after.
  returned: when diff mode is on
  type: dict
  sample:
    before: {method: client_secret_post, credentials: []}
    after: {method: private_key_jwt, credentials: [{id: cred_1m7sfABoNTTKYwTQ8qt6tX, kid: MvgWaC6Z, name: k1}]}
"""

from ansible_collections.keyops.auth0.plugins.module_utils import _credentials as creds
from ansible_collections.keyops.auth0.plugins.module_utils._credentials import CREDENTIAL_METHODS, enabled_credentials
from ansible_collections.keyops.auth0.plugins.module_utils._module import Auth0Module

MAX_PER_LIST = 2


def pre_checks(module):
    """Checks that need no call: reference shapes, the 2-per-list cap, an empty list."""
    p = module.params
    refs = p['credentials'] or []
    for ref in refs:
        if isinstance(ref, dict):
            named = [k for k in ('id', 'kid', 'name') if ref.get(k) not in (None, '')]
            if len(named) != 1 or set(ref) - set(('id', 'kid', 'name')):
                module.fail_json(msg='Each credential reference must name exactly one of id, kid or name, '
                                     'not %r.' % (ref,))
        elif not isinstance(ref, str) or not ref:
            module.fail_json(msg='A credential reference must be a non-empty string or a dictionary, not %r.' % (ref,))
    values = [[v for v in r.values() if v not in (None, '')][0] if isinstance(r, dict) else r for r in refs]
    distinct = len(set(values))
    if p['state'] in ('exact', 'present') and distinct > MAX_PER_LIST:
        module.fail_json(msg='%d credentials were given for %s; Auth0 allows at most %d per list.'
                         % (distinct, p['method'], MAX_PER_LIST))
    if p['state'] == 'exact' and not refs and not p['allow_empty']:
        module.fail_json(msg='An empty %s list leaves client %s without a usable key; set allow_empty=true if '
                             'that is intended, or token_endpoint_auth_method to go back to a secret.'
                         % (p['method'], p['client_id']))


def views(ids, credentials):
    by_id = dict((c.get('id'), c) for c in credentials)
    return [creds.reference_view(by_id.get(i, {'id': i})) for i in ids]


def resolve_all(module, credentials):
    """Resolve the references to ids (order kept, duplicates dropped); unknown ones skipped for absent."""
    ids = []
    for ref in module.params['credentials'] or []:
        try:
            credential = creds.resolve_reference(ref, credentials)
        except creds.CredentialReferenceError as exc:
            if module.params['state'] == 'absent' and 'No credential' in str(exc):
                continue
            module.fail_json(msg='Client %s: %s' % (module.params['client_id'], exc))
        if credential['id'] not in ids:
            ids.append(credential['id'])
    return ids


def desired_ids(module, current_ids, wanted):
    state = module.params['state']
    if state == 'exact':
        return list(wanted)
    if state == 'present':
        return list(current_ids) + [i for i in wanted if i not in current_ids]
    return [i for i in current_ids if i not in wanted]


def switch_to_secret(module, client, credentials):
    p = module.params
    active, ids = enabled_credentials(client)
    current = active or client.get('token_endpoint_auth_method')
    before = views(ids, credentials)
    changed = active is not None or client.get('token_endpoint_auth_method') != p['token_endpoint_auth_method']
    body = {'client_authentication_methods': None, 'token_endpoint_auth_method': p['token_endpoint_auth_method']}
    after_client = dict(client, **body) if changed else client
    if changed and not module.check_mode:
        module.client.update_client(p['client_id'], body)
    return changed, current, before, p['token_endpoint_auth_method'], [], after_client


def set_credentials(module, client, credentials):
    p = module.params
    method = p['method']
    active, ids = enabled_credentials(client)
    secret = client.get('token_endpoint_auth_method')
    current_ids = ids if active == method else []
    before = views(current_ids, credentials)
    desired = desired_ids(module, current_ids, resolve_all(module, credentials))
    switching = active != method
    changed = set(desired) != set(current_ids) or (switching and bool(desired))
    if not changed:
        return False, active or secret, before, method if active == method else (active or secret), before, client
    if len(desired) > MAX_PER_LIST:
        module.fail_json(msg='Client %s would have %d credentials enabled for %s (%s); Auth0 allows at most %d. '
                             'Use state=exact to replace a credential in one call.'
                         % (p['client_id'], len(desired), method, ', '.join(desired), MAX_PER_LIST))
    if not desired and not p['allow_empty']:
        module.fail_json(msg='This would leave the %s list of client %s empty, so no key could authenticate it; '
                             'set allow_empty=true if that is intended.' % (method, p['client_id']))
    if switching and (active or secret) and not p['allow_secret_switch']:
        module.fail_json(msg='Client %s authenticates with %s now; enabling %s would stop that. Set '
                             'allow_secret_switch=true to switch.' % (p['client_id'], active or secret, method))
    body = {'client_authentication_methods': {method: {'credentials': [{'id': i} for i in desired]}}}
    if secret:
        body['token_endpoint_auth_method'] = None
    after_client = dict(client, **body)
    after_client['token_endpoint_auth_method'] = None
    if not module.check_mode:
        module.client.update_client(p['client_id'], body)
    return True, active or secret, before, method, views(desired, credentials), after_client


def read_state(module):
    """The client and its credentials (two GETs)."""
    client_id = module.params['client_id']
    return module.client.get_client(client_id, fields=creds.CLIENT_FIELDS), module.client.list_credentials(client_id)


def run_module(module):
    p = module.params
    pre_checks(module)
    client, credentials = read_state(module)
    if p['token_endpoint_auth_method']:
        changed, method_before, before, method, after, after_client = switch_to_secret(module, client, credentials)
    else:
        changed, method_before, before, method, after, after_client = set_credentials(module, client, credentials)
    result = {'changed': changed, 'method': method, 'before': before, 'after': after,
              'client': creds.describe_client(after_client, credentials)}
    if module._diff:
        result['diff'] = {'before': {'method': method_before, 'credentials': before},
                          'after': {'method': method, 'credentials': after}}
    module.exit_json(**result)


def main():
    module = Auth0Module(
        argument_spec=dict(
            client_id=dict(type='str', required=True),
            method=dict(type='str', default='private_key_jwt', choices=list(CREDENTIAL_METHODS)),
            credentials=dict(type='list', elements='raw'),
            state=dict(type='str', default='present', choices=['exact', 'present', 'absent']),
            allow_empty=dict(type='bool', default=False),
            allow_secret_switch=dict(type='bool', default=False),
            token_endpoint_auth_method=dict(type='str', choices=['client_secret_post', 'client_secret_basic']),
        ),
        mutually_exclusive=[('credentials', 'token_endpoint_auth_method')],
        required_one_of=[('credentials', 'token_endpoint_auth_method')],
        supports_check_mode=True,
    )
    module.run(run_module)


if __name__ == '__main__':
    main()
