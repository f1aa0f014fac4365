# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: write the run's custom statistics (set_stats) as JSON to KEYOPS_TEST_STATS_FILE.

AWX reads the same data (``artifact_data`` of the playbook_on_stats event); the scenarios use this file
to check what a job template would publish.
"""

from __future__ import annotations

DOCUMENTATION = r'''
name: stats_to_file
type: aggregate
short_description: Write the run's custom statistics to a file (tests only)
description:
  - Writes the custom statistics (C(set_stats), aggregated for the run) as JSON to the file named by C(KEYOPS_TEST_STATS_FILE).
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
'''

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    """Dump stats.custom at the end of the run."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'stats_to_file'
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get('KEYOPS_TEST_STATS_FILE')
        if path:
            with open(path, 'w', encoding='utf-8') as handle:
                json.dump(stats.custom.get('_run', {}), handle, indent=1, sort_keys=True, default=str)
