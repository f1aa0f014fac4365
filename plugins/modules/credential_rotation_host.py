#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: credential_rotation_host
short_description: The host steps of the credential_rotation role (internal)
version_added: 2.0.0
description:
  - B(Internal) to the C(keyops.auth0.credential_rotation) role; its options and results may change in any release.
    Use the role, or M(keyops.auth0.credential_key_file), instead.
  - An action plugin that runs M(keyops.auth0.credential_key_file) (and, for the switch, the reload and health check
    commands) on the host, with the host's own C(credential_rotation_*) variables.
  - O(step=read) reads the key files and returns them with the host's settings for the plan.
  - O(step=stage) writes the new key of the host's client beside the live one, or fails the host with its client's
    refusal.
  - O(step=switch) waits until the earlier batches of its client (C(credential_rotation_serial)) have switched,
    promotes the staged key, reloads, checks health and, with C(credential_rotation_verify_host_token), obtains a
    token from the host with its own key file; on failure it puts the previous key back and fails the host, which
    stops the later batches of its client. It needs the linear strategy.
author:
  - keyops.auth0 contributors (@keyops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details:
      - The key file module runs in check mode; reload and health checks are not run.
  diff_mode:
    support: none
  platform:
    platforms: posix
  idempotent:
    description: A step that finds the files as it would leave them reports no change.
    support: full
options:
  step:
    description:
      - The step to run.
    type: str
    required: true
    choices: [read, stage, switch]
'''

EXAMPLES = r'''
- name: Read the key files on each host
  keyops.auth0.credential_rotation_host:
    step: read
  register: _credential_rotation_host
'''

RETURN = r'''
files:
  description: The key files after the step, as M(keyops.auth0.credential_key_file) returns them (never key material).
  returned: when the step touched the files
  type: dict
settings:
  description: With O(step=read), the host's rotation settings the plan uses.
  returned: when O(step=read)
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule


def main():
    """The step runs as an action plugin; run as a module it only says so."""
    module = AnsibleModule(argument_spec=dict(step=dict(type='str', required=True, choices=['read', 'stage', 'switch'])),
                           supports_check_mode=True)
    module.fail_json(msg='keyops.auth0.credential_rotation_host runs as an action plugin, from the credential_rotation '
                         'role; it cannot run as a module.')


if __name__ == '__main__':
    main()
