# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of keyops.auth0.credential_key_plan: the same decision, made in the controller's worker.

The plan is pure computation over two task arguments, so it needs no module process on any host: the
credential_rotation role makes it once per client, and a module process per client (Python start,
AnsiballZ, imports) cost more than the decision itself. The module stays for documentation and for
use without this plugin; both call module_utils/_plan.py.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.keyops.auth0.plugins.module_utils import _plan


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=_plan.ARGUMENT_SPEC)
        try:
            result.update(_plan.run(args))
        except ValueError as error:
            raise AnsibleActionFail(str(error)) from None
        result['changed'] = False
        return result
