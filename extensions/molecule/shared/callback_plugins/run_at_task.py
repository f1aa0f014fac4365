# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: run a command when a given task is about to start, then let the run go on.

It plays someone who changes the tenant behind the rotation's back at an exact moment (for example
deletes the new credential after it was verified and before the first promotion batch).
``KEYOPS_TEST_RUN_AT`` is a substring of the task name; ``KEYOPS_TEST_RUN_COMMAND`` a JSON list
(argv), run once, synchronously, before the task's first host starts. A failing command ends the
run with code 43, so a test never passes without its interference.
"""

from __future__ import annotations

DOCUMENTATION = r'''
name: run_at_task
type: aggregate
short_description: Run a command when a task starts (tests only)
description:
  - Runs the argv in C(KEYOPS_TEST_RUN_COMMAND) once, when the task named by C(KEYOPS_TEST_RUN_AT) starts.
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
'''

import json
import os
import subprocess
import sys

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    """Run a command at a task boundary."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'run_at_task'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.name = os.environ.get('KEYOPS_TEST_RUN_AT', '')
        self.command = json.loads(os.environ.get('KEYOPS_TEST_RUN_COMMAND') or '[]')
        self.done = False

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self.done or not self.name or self.name not in task.get_name():
            return
        self.done = True
        done = subprocess.run(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        code = done.returncode
        output = done.stdout.decode('utf-8', 'replace')
        sys.stdout.write('\nRAN BY TEST before task %s: rc %s\n%s' % (task.get_name(), code, output))
        sys.stdout.flush()
        if code:
            os._exit(43)  # pylint: disable=protected-access
