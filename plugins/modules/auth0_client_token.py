#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: auth0_client_token
short_description: Obtain an Auth0 access token for an application with a private key or a secret
version_added: 1.0.0
description:
  - Runs the client credentials grant at C(/oauth/token) of the tenant for O(client_id), with a Private Key JWT
    client assertion signed by O(private_key), or with O(client_secret).
  - Proves that a key works (for example right after enabling it), and obtains a Management API token once per
    play, to be reused through O(auth0_token) in C(module_defaults).
  - The token is only returned with O(return_token=true).
  - The management access options of the action group (O(auth0_client_id), O(auth0_client_secret),
    O(auth0_client_assertion_private_key), O(auth0_token)) are accepted, so that group defaults apply, but not used.
author:
  - keyops.auth0 contributors (@keyops)
extends_documentation_fragment:
  - keyops.auth0.auth0
  - keyops.auth0.auth0.attributes
  - keyops.auth0.auth0.actiongroup_auth0
attributes:
  check_mode:
    support: full
    details: The token is requested in check mode too; that changes nothing on the tenant.
  diff_mode:
    support: N/A
    details: The module changes nothing.
  idempotent:
    support: full
    details: It always reports no change; every run obtains a new token.
options:
  client_id:
    description:
      - Client ID of the application.
    type: str
    required: true
  private_key:
    description:
      - PEM text of the RSA private key (2048 to 4096 bits) of a credential enabled for Private Key JWT on
        O(client_id). It signs a client assertion and is never sent.
    type: str
  private_key_path:
    description:
      - Path of a PEM private key file on the host where the module runs, used like O(private_key). This
        proves that the key an application reads from that file obtains a token; the key never leaves the host.
    type: path
    version_added: 2.0.0
  alg:
    description:
      - Algorithm the client assertion is signed with; it must be the C(alg) of the credential.
    type: str
    choices: [RS256, RS384, PS256]
    default: RS256
  kid:
    description:
      - Key ID put in the header of the client assertion. When not given, no kid is sent and Auth0 tries the
        enabled credentials.
    type: str
  client_secret:
    description:
      - Client secret of O(client_id), instead of O(private_key).
    type: str
  audience:
    description:
      - Identifier of the API the token is for. Defaults to the Management API of the tenant,
        C(https://DOMAIN/api/v2/).
    type: str
  return_token:
    description:
      - Return the access token as RV(access_token). Use C(no_log) on the task when it is set.
    type: bool
    default: false
seealso:
  - module: keyops.auth0.auth0_client_auth_methods
"""

EXAMPLES = r"""
- name: Prove that the new key of an application works
  keyops.auth0.auth0_client_token:
    auth0_domain: acme.eu.auth0.com
    client_id: "{{ app_client_id }}"
    private_key: "{{ new_private_key_pem }}"
    kid: "{{ new_kid }}"
    audience: https://billing.example.com/
  no_log: true

- name: Get one management token for the play, then reuse it
  keyops.auth0.auth0_client_token:
    auth0_domain: acme.eu.auth0.com
    client_id: "{{ lookup('ansible.builtin.env', 'AUTH0_CLIENT_ID') }}"
    client_secret: "{{ lookup('ansible.builtin.env', 'AUTH0_CLIENT_SECRET') }}"
    return_token: true
  register: management
  no_log: true

- name: Use it for every module of the collection
  module_defaults:
    group/keyops.auth0.auth0:
      auth0_domain: acme.eu.auth0.com
      auth0_token: "{{ management.access_token }}"
  block:
    - name: List the credentials of an application
      keyops.auth0.auth0_client_credential_info:
        client_id: "{{ app_client_id }}"
"""

RETURN = r"""
token_type:
  description: Token type.
  returned: success
  type: str
  sample: Bearer
expires_in:
  description: Lifetime of the token in seconds.
  returned: success
  type: int
  sample: 86400
scope:
  description: Scopes granted, separated by spaces.
  returned: success
  type: str
  sample: read:clients update:clients read:client_credentials
kid:
  description:
    - The kid of the private key, the one given in O(kid), else the RFC 7638 thumbprint of the key.
  returned: when O(private_key) is used
  type: str
  sample: MvgWaC6Z_8cDHQCyMK7CXlRti2I5gpYQNkFeRl-7YJo
audience:
  description: The audience the token was requested for.
  returned: success
  type: str
  sample: https://acme.eu.auth0.com/api/v2/
access_token:
  description: The access token. Keep it out of logs.
  returned: when O(return_token=true)
  type: str
  sample: eyJhbGciOi...
"""

from ansible_collections.keyops.auth0.plugins.module_utils import _keys
from ansible_collections.keyops.auth0.plugins.module_utils._module import Auth0Module


def run_module(module):
    p = module.params
    result = {'changed': False}
    # The key stays in a local name: module.params are echoed back (invocation) with only the values
    # known as secrets at parse time masked, and a key read from a file is not one of them.
    private_key = p['private_key']
    if p['private_key_path']:
        try:
            with open(p['private_key_path'], 'rb') as handle:
                private_key = handle.read().decode('ascii')
        except (OSError, UnicodeDecodeError) as exc:
            module.fail_json(msg='private_key_path: %s cannot be read: %s' % (p['private_key_path'], exc))
        module.no_log_values.add(private_key)
    if private_key:
        try:
            _keys.load_private_key(private_key)
            if p['kid']:
                _keys.validate_kid(p['kid'])
            result['kid'] = p['kid'] or _keys.kid_for_public_key(private_key)
        except ValueError as exc:
            module.fail_json(msg='%s: %s' % ('private_key_path' if p['private_key_path'] else 'private_key', exc))
    audience = p['audience'] or module.client.management_audience
    body = module.client.request_token(p['client_id'], client_secret=p['client_secret'],
                                       private_key=private_key, alg=p['alg'], kid=p['kid'],
                                       audience=audience)
    result.update(token_type=body.get('token_type'), expires_in=body.get('expires_in'),
                  scope=body.get('scope'), audience=audience)
    if p['return_token']:
        result['access_token'] = body['access_token']
    module.exit_json(**result)


def main():
    module = Auth0Module(
        argument_spec=dict(
            client_id=dict(type='str', required=True),
            private_key=dict(type='str', no_log=True),
            private_key_path=dict(type='path'),
            alg=dict(type='str', default='RS256', choices=list(_keys.ALGORITHMS)),
            kid=dict(type='str'),
            client_secret=dict(type='str', no_log=True),
            audience=dict(type='str'),
            return_token=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('private_key', 'client_secret', 'private_key_path')],
        required_one_of=[('private_key', 'client_secret', 'private_key_path')],
        supports_check_mode=True,
    )
    module.run(run_module)


if __name__ == '__main__':
    main()
