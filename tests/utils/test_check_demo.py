# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""check_demo.py fails on what a new user would notice: a missing or misplaced heading, a warning."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_demo  # noqa: E402  pylint: disable=wrong-import-position,import-error

GOOD = ('Client x\n=== Dry run: ansible-playbook rotate.yml --check --diff ===\n...\n=== Rotation: ansible-playbook rotate.yml ===\n'
        '...\n=== Verdict ===\nZero token requests refused: every host holds the new key.\n')


def test_a_clean_demo_passes():
    assert check_demo.problems_of(0, GOOD, '') == []


def test_a_warning_or_deprecation_on_stderr_fails():
    problems = check_demo.problems_of(0, GOOD, 'SetuptoolsDeprecationWarning: License classifiers are deprecated.\nok\n')
    assert problems == ['stderr: SetuptoolsDeprecationWarning: License classifiers are deprecated.']
    assert check_demo.problems_of(0, GOOD, '[WARNING]: No inventory was parsed\n')


def test_headings_out_of_order_or_missing_fail():
    swapped = GOOD.replace('=== Dry run:', '=== X:').replace('=== Verdict ===', '=== Dry run: again ===\n=== Verdict ===')
    assert 'the headings are not in the order dry run, rotation, verdict' in check_demo.problems_of(0, swapped, '')
    assert "stdout has no heading '=== Verdict ==='" in check_demo.problems_of(0, GOOD.replace('=== Verdict ===', ''), '')


def test_a_failed_run_or_no_verdict_fails():
    assert 'the demo exited with 1' in check_demo.problems_of(1, GOOD, '')
    assert any('no verdict' in p for p in check_demo.problems_of(0, GOOD.replace('Zero token requests refused', 'x'), ''))
