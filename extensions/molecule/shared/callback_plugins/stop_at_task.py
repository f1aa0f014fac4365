# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: end ansible-playbook abruptly when a given task is about to start.

It simulates a controller that dies between two steps (a killed AWX job): nothing of the task
named by ``KEYOPS_TEST_STOP_AT`` runs, and the process exits at once with code 42.
``KEYOPS_TEST_STOP_AT`` is a substring of the task name, optionally followed by ``#N`` to stop
at the Nth task whose name matches (counted from 1), or by ``>N`` to stop once that task has
returned N host results (the controller dies in the middle of a task, for example between the
batches of the rotation's switch step).
"""

from __future__ import annotations

DOCUMENTATION = r'''
name: stop_at_task
type: aggregate
short_description: Stop the run when a task starts (tests only)
description:
  - Exits ansible-playbook with code 42 when the task named by C(KEYOPS_TEST_STOP_AT) starts.
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
'''

import os
import sys

from ansible.plugins.callback import CallbackBase

STOP_CODE = 42


class CallbackModule(CallbackBase):
    """Stop the run at a task boundary."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'stop_at_task'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        spec = os.environ.get('KEYOPS_TEST_STOP_AT', '')
        self.after = None
        if '>' in spec:
            spec, dummy, after = spec.partition('>')
            self.after = int(after)
        name, dummy, count = spec.partition('#')
        self.name = name
        self.count = int(count or 1)
        self.seen = 0
        self.results = 0
        self.current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.current = None
        if self.name and self.name in task.get_name():
            self.seen += 1
            if self.seen == self.count:
                if self.after is not None:
                    self.current = task.get_name()
                    return
                sys.stdout.write('\nSTOPPED BY TEST before task: %s\n' % task.get_name())
                sys.stdout.flush()
                os._exit(STOP_CODE)  # pylint: disable=protected-access

    def _result(self, result, *args, **kwargs):
        if self.current is None:
            return
        self.results += 1
        if self.results >= self.after:
            sys.stdout.write('\nSTOPPED BY TEST after %d results of task: %s\n' % (self.results, self.current))
            sys.stdout.flush()
            os._exit(STOP_CODE)  # pylint: disable=protected-access

    v2_runner_on_ok = v2_runner_on_failed = v2_runner_on_skipped = v2_runner_on_unreachable = _result
