#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fail when a coverage report's total is below a minimum, or when it holds no branch data.

Usage: coverage_gate.py --min PERCENT REPORT

REPORT is the text of ``ansible-test coverage report`` (coverage.py's table). ansible-test collects
branch coverage (its coverage configuration sets ``branch = True``); the table then has Branch and
BrPart columns and its total counts branches too. The report is printed, then the verdict.
"""

import argparse
import re
import sys


def total_of(text):
    """(percent, has_branches) of a coverage.py text report; ValueError when there is no TOTAL row."""
    header = next((line.split() for line in text.splitlines() if line.split()[:1] == ['Name']), [])
    match = re.search(r'^TOTAL\s.*?(\d+(?:\.\d+)?)%\s*$', text, re.MULTILINE)
    if not match:
        raise ValueError('no TOTAL row in the coverage report')
    return float(match.group(1)), 'Branch' in header and 'BrPart' in header


def main(argv=None):
    """Check the report; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--min', type=float, required=True)
    parser.add_argument('report')
    args = parser.parse_args(argv)
    with open(args.report, encoding='utf-8') as handle:
        text = handle.read()
    sys.stdout.write(text)
    try:
        percent, branches = total_of(text)
    except ValueError as exc:
        print('coverage gate: %s' % exc)
        return 1
    if not branches:
        print('coverage gate: the report has no branch columns; branch coverage was not measured')
        return 1
    if percent < args.min:
        print('coverage gate: total branch coverage %.1f%% is below %.0f%%' % (percent, args.min))
        return 1
    print('coverage gate: total branch coverage %.1f%% (at least %.0f%%)' % (percent, args.min))
    return 0


if __name__ == '__main__':
    sys.exit(main())
