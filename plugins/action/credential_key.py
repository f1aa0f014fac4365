# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of keyops.auth0.credential_key: the key pair is made in the controller's worker process.

No module process is started (the rotation role makes one key per client), and the private key never
passes through a module's arguments, its output or a temporary file: it exists in the worker's memory
and in the task result, which the calling task keeps out of the log with no_log.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.keyops.auth0.plugins.module_utils import _keys


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=_keys.KEY_PAIR_ARGUMENT_SPEC)
        try:  # also the error when cryptography is missing on the controller
            result.update(_keys.new_key_pair(args['size']))
        except ValueError as error:
            raise AnsibleActionFail(str(error)) from None
        result['changed'] = False
        return result
