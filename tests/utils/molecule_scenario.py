#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one molecule scenario in a temporary directory of its own, on a port found free.

Usage: molecule_scenario.py SCENARIO [molecule test options...]   (from the extensions folder)

The scenario's molecule.yml reads KEYOPS_FLEET_DIR (the fleet: emulator state and CA, host key
files, probes, logs) and KEYOPS_FLEET_PORT (the emulator's port, which the scenario's static
AUTH0_DOMAIN needs before the emulator starts); molecule's own working files go to
MOLECULE_EPHEMERAL_DIRECTORY. All three live in a directory made for this run and removed after it,
so runs side by side (two clones, two CI jobs) share no path and no port. The nested runs' times
are printed, and on failure the end of each run's log. KEYOPS_KEEP_WORK=1 keeps the directory.
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile


def free_port():
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def show(path, tail=None):
    """Print a file, or its last TAIL lines."""
    with open(path, encoding='utf-8', errors='replace') as handle:
        lines = handle.readlines()
    print('--- %s%s' % (os.path.basename(path), '' if tail is None or len(lines) <= tail else ' (last %d lines)' % tail))
    sys.stdout.write(''.join(lines if tail is None else lines[-tail:]))


def main():
    """Run the scenario; return molecule's exit code."""
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    scenario = sys.argv[1]
    work = tempfile.mkdtemp(prefix='keyops-molecule-%s-' % scenario)
    # TMPDIR too: what the rotation leaves in the controller's temporary directory when a test kills it on
    # purpose (the switch step's batch records) goes with the run's directory.
    os.makedirs(os.path.join(work, 'tmp'))
    env = dict(os.environ, KEYOPS_FLEET_DIR=os.path.join(work, 'fleet'), KEYOPS_FLEET_PORT=str(free_port()),
               MOLECULE_EPHEMERAL_DIRECTORY=os.path.join(work, 'molecule'), TMPDIR=os.path.join(work, 'tmp'))
    molecule = os.path.join(os.path.dirname(sys.executable), 'molecule')
    try:
        rc = subprocess.call([molecule, 'test', '-s', scenario] + sys.argv[2:], env=env)
        kept = os.path.join(work, 'fleet-last')  # what fleet.py down keeps: run times, probe counters, logs
        if os.path.exists(os.path.join(kept, 'runs.txt')):
            show(os.path.join(kept, 'runs.txt'))
        if rc:
            for path in sorted(glob.glob(os.path.join(kept, 'logs', '*.log'))):
                if not path.endswith('.timed.log'):
                    show(path, tail=60)
        return rc
    finally:
        if os.environ.get('KEYOPS_KEEP_WORK'):
            print('kept for a look (KEYOPS_KEEP_WORK): %s' % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
