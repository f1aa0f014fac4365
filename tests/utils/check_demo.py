#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the demo as a new user would and check what they see.

Usage: check_demo.py -- COMMAND [ARGS...]      (make build-test: check_demo.py -- make demo)

Passes when the command exits 0, stdout has the headings of the dry run, the rotation and the verdict,
in that order, and the verdict that no token request was refused, and stderr has no line matching
(?i)warn|deprecat. Both outputs are printed; every problem found is named.
"""

import re
import subprocess
import sys

HEADINGS = ('=== Dry run:', '=== Rotation:', '=== Verdict ===')
VERDICT = 'Zero token requests refused'
NOISE = re.compile(r'(?i)warn|deprecat')


def problems_of(rc, stdout, stderr):
    """The problems a user would see in this run of the demo (empty when none)."""
    problems = [] if rc == 0 else ['the demo exited with %s' % rc]
    places = [stdout.find(h) for h in HEADINGS]
    for heading, place in zip(HEADINGS, places):
        if place < 0:
            problems.append('stdout has no heading %r' % heading)
    found = [p for p in places if p >= 0]
    if found != sorted(found):
        problems.append('the headings are not in the order dry run, rotation, verdict')
    if VERDICT not in (stdout[max(found):] if found else ''):
        problems.append('stdout has no verdict %r after the headings' % VERDICT)
    problems += ['stderr: %s' % line for line in stderr.splitlines() if NOISE.search(line)]
    return problems


def main(argv=None):
    """Run the command; return 0 when the demo looks as it should."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ['--']:
        argv = argv[1:]
    if not argv:
        sys.exit(__doc__)
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    sys.stdout.write(done.stdout)
    if done.stderr:
        sys.stdout.write('--- stderr of the demo ---\n%s' % done.stderr)
    problems = problems_of(done.returncode, done.stdout, done.stderr)
    for problem in problems:
        print('demo check: %s' % problem)
    if not problems:
        print('demo check: the dry run, the rotation and the verdict, in that order; no warning on stderr')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
