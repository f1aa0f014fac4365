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
    and used alone. Its action plugin makes the decision in the controller's worker process, so no module
    process is started, wherever the task is delegated. It makes no call and changes nothing; it only compares what
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keyops.auth0.plugins.module_utils import _plan


def main():
    module = AnsibleModule(argument_spec=_plan.ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = _plan.run(module.params)
    except ValueError as error:
        module.fail_json(msg=str(error))
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
