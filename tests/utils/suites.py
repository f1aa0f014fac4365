#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run test suites (make targets) side by side and print a table of their times.

Usage: suites.py [--jobs N] [--make-option OPT ...] SUITE [SUITE ...]

Each suite is ``make SUITE``, started in the order given while fewer than N run (list the longest
first), its output kept in a log file of this run's own temporary directory. When a suite ends its
log is printed whole, so interleaved runs stay readable. The exit code is 0 only when every suite
passed; the last lines are the table of suite times (wall and CPU seconds, the suite's processes
together) and ``suites: N passed, N failed``.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def fmt(seconds):
    """Seconds as m:ss."""
    return '%d:%02d' % divmod(int(round(seconds)), 60)


def main():
    """Run the suites; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--jobs', type=int, default=2, help='suites that run at once (default 2)')
    parser.add_argument('--make-option', action='append', default=[], help='passed to every make call, e.g. -o venv')
    parser.add_argument('suites', nargs='+')
    args = parser.parse_args()

    logs = tempfile.mkdtemp(prefix='keyops-suites-')
    env = dict(os.environ)
    for name in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL'):  # each suite is a make of its own, not a sub-make
        env.pop(name, None)
    pending = list(args.suites)
    running = {}  # suite -> (process, log handle, start time)
    results = {}  # suite -> (rc, seconds, CPU seconds)
    started = time.monotonic()

    def start(suite):
        handle = open(os.path.join(logs, suite + '.log'), 'w+', encoding='utf-8')  # pylint: disable=consider-using-with
        proc = subprocess.Popen(['make', '--no-print-directory'] + args.make_option + [suite],  # pylint: disable=consider-using-with
                                stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
        running[suite] = (proc, handle, time.monotonic())
        print('--- %s started (%s after the start)' % (suite, fmt(time.monotonic() - started)), flush=True)

    def finish(suite, rc, usage):
        proc, handle, began = running.pop(suite)
        results[suite] = (rc, time.monotonic() - began, usage.ru_utime + usage.ru_stime)
        handle.seek(0)
        print('\n===== %s: %s in %s =====' % (suite, 'passed' if rc == 0 else 'FAILED (rc %s)' % rc, fmt(results[suite][1])))
        sys.stdout.flush()
        shutil.copyfileobj(handle, sys.stdout)
        handle.close()
        print('===== end of %s =====\n' % suite, flush=True)
        del proc

    try:
        while pending or running:
            while pending and len(running) < args.jobs:
                start(pending.pop(0))
            time.sleep(0.5)
            for suite, (proc, dummy, dummy2) in list(running.items()):
                # wait4 gives the CPU time of the suite's make and every process it waited for
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    finish(suite, proc.returncode, usage)
    except KeyboardInterrupt:
        for suite, (proc, dummy, dummy2) in running.items():
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
        raise
    finally:
        shutil.rmtree(logs, ignore_errors=True)

    total = time.monotonic() - started
    width = max(len(s) for s in args.suites)
    print('Suite times (%d at once):' % args.jobs)
    print('  %-*s  %-6s  %-6s  %s' % (width, 'suite', 'result', 'time', 'CPU s'))
    for suite in args.suites:
        rc, seconds, cpu = results[suite]
        print('  %-*s  %-6s  %-6s  %d' % (width, suite, 'passed' if rc == 0 else 'FAILED', fmt(seconds), cpu))
    print('  %-*s  %-6s  %-6s  %d' % (width, 'wall', '', fmt(total), sum(r[2] for r in results.values())))
    failed = [s for s in args.suites if results[s][0]]
    print('suites: %d passed, %d failed' % (len(args.suites) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
