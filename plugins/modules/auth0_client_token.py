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
  - A token proves that Auth0 accepts the key or secret. So does a 403 C(access_denied) whose description names a
    missing client grant, which Auth0 gives only after it authenticated the client; that answer fails the module
    at once (with C(key_accepted=true)), or with O(accept_missing_grant=true) it succeeds without a token.
  - Any other answer proves nothing and is tried again, O(attempts) in all (4 by default), 2, 4 then 8 seconds
    apart (throttled answers always, other refusals only with a private key, whose new credential may take a moment
    to be seen everywhere); the module then fails with a message that says why, naming the throttling when the token
    endpoint throttled the requests (a 429, or a 403 C(Rate limit reached)), with C(throttled) and
    C(key_accepted=false) in the failure.
  - The token is only returned with O(return_token=true).
  - The management access options of the action group (O(auth0_client_id), O(auth0_client_secret),
    O(auth0_client_assertion_private_key)) are used only when O(client_id) is left out; O(auth0_token) is
    accepted, so that group defaults apply, but never used.
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
      - Client ID of the application, given with O(private_key), O(private_key_path) or O(client_secret).
      - When left out, the token is for the management client of the connection options, O(auth0_client_id) with
        O(auth0_client_secret) or O(auth0_client_assertion_private_key) (C(AUTH0_CLIENT_ID) and friends by default),
        so that C(ansible localhost -m keyops.auth0.auth0_client_token -a return_token=true) checks the
        environment's management access and gets its token.
    type: str
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
        enabled credentials. Only with O(client_id).
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
  accept_missing_grant:
    description:
      - Succeed without a token (RV(granted=false)) when Auth0 authenticated the client but refused the token
        because no client grant gives it O(audience) or the scopes asked for - a 403 C(access_denied) whose
        description names the missing grant (C(Client is not authorized to access ...), C(Client has not been
        granted scopes ...)). That answer comes only after Auth0 accepted the key, so it proves the key works.
      - Any other refusal, a 403 C(access_denied) with another description included, still fails.
      - Without it, that answer fails too (no token was obtained).
    type: bool
    default: false
    version_added: 2.0.0
  attempts:
    description:
      - Token requests in all while no answer proves anything, 2, 4, 8 ... seconds apart, 30 seconds at the most
        (14 seconds of waiting with the default 4).
      - V(1) makes one request and fails at once when it is refused, for example to check that a retired key no
        longer works (without waiting for a refusal to turn into a token).
      - Connection failures and server errors are retried within each request, by O(retries).
    type: int
    default: 4
    version_added: 2.0.0
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

- name: Prove the key of a host, for a client that may have no grant for the Management API
  keyops.auth0.auth0_client_token:
    auth0_domain: acme.eu.auth0.com
    client_id: "{{ app_client_id }}"
    private_key_path: /etc/billing/auth0.key
    accept_missing_grant: true
  register: proof

- name: Get one management token for the play (the management client of AUTH0_*), then reuse it
  keyops.auth0.auth0_client_token:
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
client_id:
  description: The client the token was asked for (O(client_id), or the management client's when it is left out).
  returned: always
  type: str
  sample: 8Nm2nVPbWBRq2XcBpL0x4TqgC4mR7gVt
  version_added: 2.0.0
granted:
  description:
    - Whether a token was issued. V(false) only with O(accept_missing_grant=true), when Auth0 accepted the key
      but the client has no grant for O(audience) (see RV(refusal)).
  returned: success
  type: bool
  sample: true
  version_added: 2.0.0
refusal:
  description: Auth0's description of the missing grant, when RV(granted=false).
  returned: when RV(granted=false)
  type: str
  sample: Client is not authorized to access "https://billing.example.com/".
  version_added: 2.0.0
attempts:
  description: The number of token requests made (more than one when an answer proved nothing and was retried).
  returned: always
  type: int
  sample: 1
  version_added: 2.0.0
token_type:
  description: Token type.
  returned: when RV(granted=true)
  type: str
  sample: Bearer
expires_in:
  description: Lifetime of the token in seconds.
  returned: when RV(granted=true)
  type: int
  sample: 86400
scope:
  description: Scopes granted, separated by spaces.
  returned: when RV(granted=true)
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
  returned: when O(return_token=true) and RV(granted=true)
  type: str
  sample: eyJhbGciOi...
"""

import time

from ansible_collections.keyops.auth0.plugins.module_utils import _credentials, _keys
from ansible_collections.keyops.auth0.plugins.module_utils._client import Auth0Error
from ansible_collections.keyops.auth0.plugins.module_utils._module import Auth0Module

#: The first wait between token requests when an answer proves nothing (doubled each time, up to MAX_DELAY;
#: attempts: the option).
DELAY = 2.0
MAX_DELAY = 30.0


def obtain(module, who, private_key, audience):
    """Ask for the token until an answer proves something: (token body or None, refusal description or None,
    attempts made). ``who``: client_id, client_secret, alg, kid. Fails the module, naming the throttling if there
    was some, when no answer does."""
    p = dict(module.params, **who)
    sleep = getattr(module.client, '_sleep', None) or time.sleep
    refusals, last = [], None
    attempts = p['attempts']
    for attempt in range(attempts):
        if attempt:
            sleep(min(MAX_DELAY, DELAY * 2 ** (attempt - 1)))
        try:
            body = module.client.request_token(p['client_id'], client_secret=p['client_secret'],
                                               private_key=private_key, alg=p['alg'], kid=p['kid'], audience=audience)
            return body, None, attempt + 1
        except Auth0Error as error:
            refusal = _credentials.token_refusal(error.status, error.error_code or error.error, error.message)
            if refusal == 'missing_grant' and p['accept_missing_grant']:
                return None, error.message, attempt + 1
            if refusal == 'no_service':
                module.fail_json(msg='No token for client %s: %s' % (p['client_id'], _credentials.no_service_failure(error, audience)),
                                 api_error=error.to_dict(), attempts=attempt + 1, throttled=False, key_accepted=False)
            refusals.append(refusal)
            # A missing grant will not appear by waiting, nor will a wrong secret start to work; a new
            # credential may take a moment to be seen everywhere, and throttling passes.
            if refusal == 'missing_grant' or (refusal == 'refused' and not private_key):
                hint = (' Auth0 authenticated the client (so its key or secret works) but no client grant covers the '
                        'audience or scopes; accept_missing_grant=true counts that as proof.' if refusal == 'missing_grant'
                        else '')
                module.fail_json(msg='No token for client %s: %s.%s' % (p['client_id'], str(error).rstrip('.'), hint),
                                 api_error=error.to_dict(), attempts=attempt + 1, throttled=False,
                                 key_accepted=refusal == 'missing_grant')
            last = error
    module.fail_json(msg='No token for client %s: %s' % (p['client_id'], _credentials.token_failure(refusals, attempts, last)),
                     api_error=last.to_dict(), attempts=attempts, throttled=refusals[-1] == 'throttled', key_accepted=False)
    return None, None, attempts  # not reached: fail_json exits


def identity(module):
    """(who, private key): the client the token is asked for and its credentials. Without client_id, the management
    client of the connection options (auth0_client_id with auth0_client_secret or auth0_client_assertion_private_key,
    AUTH0_* by default)."""
    p = module.params
    given = [name for name in ('private_key', 'client_secret', 'private_key_path') if p[name]]
    if p['client_id']:
        if not given:
            module.fail_json(msg='client_id %s is given without its credentials: add private_key, private_key_path or '
                                 'client_secret (leave out client_id to check the management client of the connection '
                                 'options).' % p['client_id'])
        return {'client_id': p['client_id'], 'client_secret': p['client_secret'], 'alg': p['alg'], 'kid': p['kid']}, None
    if given:
        module.fail_json(msg='%s needs client_id, the application it belongs to.' % given[0])
    if p['kid']:
        module.fail_json(msg='kid is for the key of client_id; without client_id the management client signs with '
                             'auth0_client_assertion_private_key and sends no kid. Leave kid out, or give client_id.')
    if not p['auth0_client_id'] and p['auth0_token']:
        module.fail_json(msg='client_id is not given, so the token is for the management client of the connection '
                             'options; they give auth0_token (AUTH0_API_TOKEN), a Management API token, which names no '
                             'client and cannot be exchanged for one: set auth0_client_id (AUTH0_CLIENT_ID) with '
                             'auth0_client_secret (AUTH0_CLIENT_SECRET) or auth0_client_assertion_private_key '
                             '(AUTH0_CLIENT_ASSERTION_PRIVATE_KEY), or give client_id with its credentials.')
    if not p['auth0_client_id'] or not (p['auth0_client_secret'] or p['auth0_client_assertion_private_key']):
        module.fail_json(msg='client_id is not given, so the token is for the management client of the connection '
                             'options, and they name none: set auth0_client_id (AUTH0_CLIENT_ID) with '
                             'auth0_client_secret (AUTH0_CLIENT_SECRET) or auth0_client_assertion_private_key '
                             '(AUTH0_CLIENT_ASSERTION_PRIVATE_KEY), or give client_id with its credentials.')
    key = p['auth0_client_assertion_private_key'] if not p['auth0_client_secret'] else None
    return {'client_id': p['auth0_client_id'], 'client_secret': p['auth0_client_secret'],
            'alg': p['auth0_client_assertion_signing_alg'] or 'RS256', 'kid': None}, key


def run_module(module):
    p = module.params
    if p['attempts'] < 1:
        module.fail_json(msg='attempts is %d: give 1 or more (1 makes a single token request).' % p['attempts'])
    who, management_key = identity(module)
    result = {'changed': False, 'client_id': who['client_id']}
    # The key stays in a local name: module.params are echoed back (invocation) with only the values
    # known as secrets at parse time masked, and a key read from a file is not one of them.
    private_key = p['private_key'] or management_key
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
        except ValueError as exc:
            module.fail_json(msg='%s: %s' % ('private_key_path' if p['private_key_path'] else 'private_key' if p['private_key']
                                             else 'auth0_client_assertion_private_key', exc))
        if who['kid']:
            try:
                _keys.validate_kid(who['kid'])
            except ValueError as exc:
                module.fail_json(msg='kid: %s' % exc)
        result['kid'] = who['kid'] or _keys.kid_for_public_key(private_key)
    audience = p['audience'] or module.client.management_audience
    body, refusal, attempts = obtain(module, who, private_key, audience)
    result.update(audience=audience, attempts=attempts, granted=body is not None)
    if body is None:
        result['refusal'] = refusal
    else:
        result.update(token_type=body.get('token_type'), expires_in=body.get('expires_in'), scope=body.get('scope'))
        if p['return_token']:
            result['access_token'] = body['access_token']
    module.exit_json(**result)


def main():
    module = Auth0Module(
        argument_spec=dict(
            client_id=dict(type='str'),
            private_key=dict(type='str', no_log=True),
            private_key_path=dict(type='path'),
            alg=dict(type='str', default='RS256', choices=list(_keys.ALGORITHMS)),
            kid=dict(type='str'),
            client_secret=dict(type='str', no_log=True),
            audience=dict(type='str'),
            return_token=dict(type='bool', default=False),
            accept_missing_grant=dict(type='bool', default=False),
            attempts=dict(type='int', default=4),
        ),
        mutually_exclusive=[('private_key', 'client_secret', 'private_key_path')],
        supports_check_mode=True,
    )
    module.run(run_module)


if __name__ == '__main__':
    main()
