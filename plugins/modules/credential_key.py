#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: credential_key
short_description: Create an RSA key pair in memory for an Auth0 Private Key JWT credential
version_added: 1.0.0
description:
  - Generates an RSA private key and returns it, its public key and its C(kid), the RFC 7638 JWK
    thumbprint that Auth0 gives a credential registered without an explicit C(kid).
  - Nothing is written to disk. The key only exists in the module's result, so the task that calls
    this module B(must) set C(no_log=true), and should set C(ansible_pipelining=true) (as a task
    variable) so that neither the module's arguments nor its result pass through a temporary file.
  - This module makes no HTTP call and is not part of the C(keyops.auth0.auth0) action group.
    Its action plugin creates the key in the controller's worker process, wherever the task is delegated,
    so the key never passes through a module process; it is only copied to the hosts that need it.
author:
  - keyops.auth0 contributors (@keyops)
requirements:
  - cryptography >= 3.4 (on the controller)
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
      - The module changes nothing anywhere, so it runs the same in check mode and returns a real key,
        which lets a check-mode run of a rotation compute what it would register.
  diff_mode:
    support: none
  platform:
    platforms: posix
  idempotent:
    description: When run twice with the same arguments, the second run returns the same result and reports no change.
    support: none
    details:
      - Every run returns a new key. C(changed) is always C(false) because no system is modified.
options:
  size:
    description:
      - Size of the RSA key in bits. Auth0 accepts 2048 to 4096 bits for Private Key JWT.
    type: int
    default: 3072
'''

EXAMPLES = r'''
- name: Create the next key pair on the controller, in memory only
  keyops.auth0.credential_key:
    size: 3072
  delegate_to: localhost
  run_once: true
  no_log: true
  vars:
    ansible_pipelining: true
  register: next_key

- name: Show only the public facts of the new key
  ansible.builtin.debug:
    msg: "New key {{ next_key.kid }} ({{ next_key.size }} bits)"
'''

RETURN = r'''
private_key:
  description: The unencrypted PKCS#8 PEM private key. Keep the task that registers it in C(no_log).
  returned: success
  type: str
  sample: "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n"
public_key:
  description: The SubjectPublicKeyInfo PEM public key, as C(keyops.auth0.auth0_client_credential) registers it.
  returned: success
  type: str
  sample: "-----BEGIN PUBLIC KEY-----\nMIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA...\n-----END PUBLIC KEY-----\n"
kid:
  description: RFC 7638 JWK thumbprint (SHA-256, base64url without padding) of the public key.
  returned: success
  type: str
  sample: NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs
size:
  description: Size of the key in bits.
  returned: success
  type: int
  sample: 3072
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.keyops.auth0.plugins.module_utils._keys import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    KEY_PAIR_ARGUMENT_SPEC,
    new_key_pair,
)


def main():
    """Generate the key pair and return it."""
    module = AnsibleModule(argument_spec=KEY_PAIR_ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    try:
        pair = new_key_pair(module.params['size'])
    except ValueError as error:
        module.fail_json(msg=str(error))
    module.exit_json(changed=False, **pair)


if __name__ == '__main__':
    main()
