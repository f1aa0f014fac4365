#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: credential_rotation
short_description: The Auth0 steps of the credential_rotation role, for every client of the play at once (internal)
version_added: 2.0.0
description:
  - B(Internal) to the C(keyops.auth0.credential_rotation) role, which runs it with C(run_once); its options and
    results may change in any release. Use the role, or the public modules, instead.
  - Runs in the controller's worker process as an action plugin; no module process is started.
  - O(step=plan) finds the hosts of each client in the inventory (C(credential_rotation_client_id) in host or group
    variables) and refuses a client, before any change, when some of its hosts are not in the play (C(--limit), the
    play's host pattern, unreachable, failed earlier) unless C(credential_rotation_allow_partial) is set; reads each
    client and its credentials, decides whether to rotate, resume, finish or do nothing, and makes the new key pairs
    in memory. It prints a line per client (with the old and new kid and what would be freed and retired in check
    or diff mode). Its result holds the new private keys and the run's management token, so register it with C(no_log).
  - O(step=enable) frees credentials no host uses when Auth0's caps leave no room, registers the new public keys,
    enables them beside the old ones and verifies that each new key obtains a token.
  - O(step=retire) checks that every host of a client holds the new key (its kid computed on the host), then
    disables and deletes the credentials of the previous keys.
  - O(step=summary) builds one summary per client, prints it, publishes it with C(set_stats) under
    C(credential_rotation) and drops the keys and the token from the facts.
  - Clients are handled concurrently (O(concurrency)) over one Auth0 client, so one management token serves the
    run and a rate limit reported by Auth0 (429) pauses every call.
author:
  - keyops.auth0 contributors (@keyops)
extends_documentation_fragment:
  - keyops.auth0.auth0
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
    details:
      - Run it with C(run_once); it reads every host's variables itself.
  check_mode:
    support: full
    details:
      - In check mode nothing is written to Auth0; the plan and summary say what a real run would do.
  diff_mode:
    support: partial
    details:
      - With C(--diff) the plan prints, per client, the old and new kid and the credentials it would free and retire.
  platform:
    platforms: posix
  idempotent:
    description: A run after a finished rotation reports no change.
    support: full
options:
  step:
    description:
      - The step to run.
    type: str
    required: true
    choices: [plan, enable, retire, summary]
  concurrency:
    description:
      - How many clients are handled at once (each of them makes its Auth0 calls one after the other; Auth0's rate
        limit, shared by all, paces them when it is reached).
    type: int
    default: 16
  now:
    description:
      - The current time (ISO 8601), for tests; the controller's clock when not given.
    type: str
'''

EXAMPLES = r'''
- name: Plan every client of the play
  keyops.auth0.credential_rotation:
    step: plan
  run_once: true
  no_log: true
  register: _credential_rotation_plan
'''

RETURN = r'''
credential_rotation:
  description: With O(step=summary), one summary per client, as published with C(set_stats).
  returned: when O(step=summary)
  type: dict
  sample:
    abc123:
      client_id: abc123
      action: rotate
      outcome: rotated
      new: {kid: NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs, credential_id: cred_1234567890123456789012}
      hosts: [web1, web2]
      hosts_switched: [web1, web2]
      hosts_failed: []
      retired: [{id: cred_0987654321098765432109, name: keyops-rotation-20250101T000000Z}]
      message: Client abc123 rotated to the key NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs. Retired cred_0987654321098765432109.
clients:
  description: With O(step=plan), O(step=enable) and O(step=retire), what the step decided or did, per client.
  returned: when O(step) is not summary
  type: dict
'''

from ansible_collections.keyops.auth0.plugins.module_utils._module import Auth0Module


def main():
    """The step runs as an action plugin; run as a module it only says so."""
    module = Auth0Module(argument_spec=dict(
        step=dict(type='str', required=True, choices=['plan', 'enable', 'retire', 'summary']),
        concurrency=dict(type='int', default=16),
        now=dict(type='str'),
    ), supports_check_mode=True)
    module.fail_json(msg='keyops.auth0.credential_rotation runs as an action plugin on the controller, from the '
                         'credential_rotation role; it cannot run as a module.')


if __name__ == '__main__':
    main()
