# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""coverage_gate.py passes a branch report at or above the minimum and fails anything else."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coverage_gate  # noqa: E402  pylint: disable=wrong-import-position,import-error

BRANCH = """Name                  Stmts   Miss Branch BrPart  Cover   Missing
------------------------------------------------------------------
plugins/a.py             10      1      4      1    {0}%   3
------------------------------------------------------------------
TOTAL                    10      1      4      1    {0}%
"""
LINES_ONLY = """Name            Stmts   Miss  Cover
-----------------------------------
plugins/a.py       10      0   100%
-----------------------------------
TOTAL              10      0   100%
"""


@pytest.mark.parametrize('text, minimum, expected', [
    (BRANCH.format(91), 90, 0),
    (BRANCH.format(90), 90, 0),
    (BRANCH.format(89), 90, 1),
    (LINES_ONLY, 90, 1),
    ('No data to report.\n', 90, 1),
])
def test_gate(tmp_path, capsys, text, minimum, expected):
    report = tmp_path / 'report.txt'
    report.write_text(text)
    assert coverage_gate.main(['--min', str(minimum), str(report)]) == expected
    assert 'coverage gate: ' in capsys.readouterr().out
