# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark callback: counts tasks and module invocations, writes JSON to $BENCH_COUNTER_OUT."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
name: bench_counter
type: aggregate
short_description: count tasks and module invocations for benchmarks/bench.py
description:
  - Writes {"tasks", "invocations", "skipped", "failed", "ok", "by_module", "task_seconds", "cpu_seconds"} to
    $BENCH_COUNTER_OUT.
  - cpu_seconds splits the controller's CPU time between the ansible-playbook process itself (the strategy
    loop, which computes variables and handles results) and its worker processes (modules and their forks).
  - task_seconds lists each task (in play order) with the wall time from its start to the next task's start,
    the same measure as ansible.posix's profile_tasks (not installed here), and the controller CPU seconds
    spent in that interval (ansible-playbook plus its reaped workers and modules).
'''

import json
import os
import resource
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_counter'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.counts = {'tasks': 0, 'invocations': 0, 'ok': 0, 'failed': 0, 'skipped': 0, 'unreachable': 0,
                       'by_module': {}, 'task_seconds': []}
        self._current = None

    @staticmethod
    def _cpu_split():
        """CPU seconds so far of this process and of its reaped children (workers and their modules)."""
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return {'main_process': own.ru_utime + own.ru_stime, 'workers': children.ru_utime + children.ru_stime}

    def _cpu(self):
        return sum(self._cpu_split().values())

    def _close_task(self):
        if self._current is not None:
            name, started, cpu = self._current
            self.counts['task_seconds'].append([name, round(time.monotonic() - started, 3), round(self._cpu() - cpu, 3)])
            self._current = None

    def _open_task(self, task):
        self._close_task()
        self._current = (task.get_name(), time.monotonic(), self._cpu())

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.counts['tasks'] += 1
        self._open_task(task)

    def v2_playbook_on_handler_task_start(self, task):
        self.counts['tasks'] += 1
        self._open_task(task)

    def _count(self, result, kind):
        self.counts[kind] += 1
        items = result._result.get('results') if isinstance(result._result, dict) else None
        if isinstance(items, list):
            # a loop: one module invocation per item that was not skipped
            ran = sum(1 for item in items if not (isinstance(item, dict) and item.get('skipped')))
        else:
            ran = 0 if kind == 'skipped' else 1
        action = result._task.action
        self.counts['invocations'] += ran
        self.counts['by_module'][action] = self.counts['by_module'].get(action, 0) + ran

    def v2_runner_on_ok(self, result):
        self._count(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._count(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self.counts['unreachable'] += 1

    def v2_playbook_on_stats(self, stats):
        self._close_task()
        self.counts['cpu_seconds'] = {name: round(value, 2) for name, value in self._cpu_split().items()}
        path = os.environ.get('BENCH_COUNTER_OUT')
        if path:
            with open(path, 'w') as handle:
                json.dump(self.counts, handle, indent=1, sort_keys=True)
